"""What a reviewer corrected in a parsed plan: a list of corrections over the parsed text, kept
as `corrections.json` in the added plan's folder, applied after every parse.

Kinds: `merge` (a measure with its next sibling), `split` (a measure in two where a given text
starts), `mark_target` (a piece of a measure's text becomes a target), `unmark_target` (a
parsed target is not one), `fix_unit` (a target's unit replaced).

A correction names what it changes by things a re-parse keeps, not by list positions: the
measure's id *and* a quote of its text (the text a split starts with, a target's text, the
first characters of a merged measure), with the quote's offset in the measure's text as a hint
when the quote occurs more than once. Applying it finds the quote again; should a better
parser move the text to another measure, a measure holding the quote alone is used. A
correction that no longer applies (its measure or quote gone) is reported as a `Problem`,
never dropped in silence, and the others still apply.

Ids after a correction: a merge keeps the first measure's id and the merged-in one's id
disappears (its children move under the first measure, their ids unchanged); a split keeps the
id for the first part and gives the second part "<id>-b" (-c … if taken), placed after it as
a sibling; the measure's children stay under the first part, whose id their ids extend; both
parts keep the responsible units (a unit statement covers the numbered item as a whole).
Targets and deadlines go with the part their text is in. Marked targets come after the parsed
ones, so the parsed targets keep their catalog ids (`<measure>#<n>`).

Corrections are applied in the order they were made, so one may refer to what an earlier one
made (a split's "-b" part, a marked target).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.files import write_atomically
from plans.added import AddedPlan
from plans.errors import PlanError
from plans.model import Document, Node, ResponsibleUnit, Span, Target
from plans.text import _FULLWIDTH, WHITESPACE, clean_line, squeeze

__all__ = [
    "BOUNDS",
    "CORRECTIONS_FILE",
    "KINDS",
    "Correction",
    "CorrectionError",
    "Problem",
    "add_correction",
    "apply_corrections",
    "clean_quote",
    "make_fix_unit",
    "make_mark",
    "make_merge",
    "make_split",
    "make_unmark",
    "read_corrections",
    "remove_correction",
    "reviewed",
    "reviewed_document",
    "write_corrections",
]

CORRECTIONS_FILE = "corrections.json"
KINDS = {
    "merge": "合并 merge",
    "split": "拆分 split",
    "mark_target": "标为目标 mark target",
    "unmark_target": "取消目标 unmark target",
    "fix_unit": "更正单位 fix unit",
}
# How a marked target's value bounds the outcome → the comparator that says so (Target.bound).
BOUNDS = {"≥": "不低于", "≤": "不超过", ">": "超过", "<": "低于", "≈": "左右", "=": ""}
TARGET_KINDS = ("numeric", "qualitative")
PREFIX = 24  # characters of a measure's text that anchor a merge


class CorrectionError(ValueError):
    """A correction that cannot be made; the message says why, Chinese first."""


@dataclass
class Correction:
    kind: str  # one of KINDS
    measure: str  # the measure's id when the correction was made
    quote: str  # anchor text in the measure's text (see the module docstring)
    offset: int = 0  # where `quote` was in the measure's text (a hint among several)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    next_measure: str | None = None  # merge: the sibling merged in
    next_quote: str = ""  # merge: the first characters of its text
    # mark_target: the target; fix_unit: `unit` is the new unit, `old_unit` the one replaced
    indicator: str = ""
    value: float | None = None
    unit: str = ""
    old_unit: str = ""
    bound: str = ""  # one of BOUNDS
    target_kind: str = "numeric"  # numeric / qualitative
    year: int | None = None  # the target year (deadline), optional
    nth: int = 0  # unmark_target, fix_unit: which of the targets with the same text (0: first)
    by: str = ""
    at: str = ""  # ISO 8601 UTC

    def describe(self) -> str:
        """The correction in words, for the review page and the audit log."""
        what = KINDS.get(self.kind, self.kind)
        if self.kind == "merge":
            return f"{what}：{self.measure} ← {self.next_measure}"
        if self.kind == "split":
            return f"{what}：{self.measure} 自「{self.quote}」起 at '{self.quote}'"
        if self.kind == "mark_target":
            value = "" if self.value is None else f"{self.value:g}"
            year = f"，{self.year}年" if self.year else ""
            return (
                f"{what}：{self.measure}「{self.quote}」 {self.bound}{value} {self.unit}"
                f"（{self.target_kind}{year}）"
            ).replace("  ", " ")
        if self.kind == "fix_unit":
            return f"{what}：{self.measure}「{self.quote}」 {self.old_unit or '—'} → {self.unit}"
        return f"{what}：{self.measure}「{self.quote}」"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Problem:
    """A correction that no longer applies to the parsed text, and why."""

    correction: Correction
    reason: str


# -- the file -------------------------------------------------------------------------------
def _path(folder: Path) -> Path:
    return Path(folder) / CORRECTIONS_FILE


def read_corrections(folder: Path) -> list[Correction]:
    """The corrections kept in a plan's folder (none when there is no file)."""
    path = _path(folder)
    if not path.is_file():
        return []
    names = {f.name for f in fields(Correction)}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Correction(**{k: v for k, v in item.items() if k in names}) for item in data]
    except (OSError, ValueError, TypeError) as exc:
        raise PlanError(str(path), f"更正记录无法读取 unreadable corrections: {exc}") from None


def write_corrections(folder: Path, corrections: list[Correction]) -> None:
    """Replace the corrections file at once (a temporary file renamed over it)."""
    text = json.dumps([c.to_json() for c in corrections], ensure_ascii=False, indent=1)
    write_atomically(_path(folder), (text + "\n").encode("utf-8"), mode=0o644)


def add_correction(folder: Path, correction: Correction, by: str) -> Correction:
    """Append a correction (stamped with who and when) to a plan's corrections."""
    stamped = replace(correction, by=by, at=datetime.now(UTC).isoformat(timespec="seconds"))
    write_corrections(folder, [*read_corrections(folder), stamped])
    return stamped


def remove_correction(folder: Path, correction_id: str) -> Correction:
    """Take one correction out of a plan's list; KeyError when it is not there."""
    corrections = read_corrections(folder)
    found = next((c for c in corrections if c.id == correction_id), None)
    if found is None:
        raise KeyError(correction_id)
    write_corrections(folder, [c for c in corrections if c.id != correction_id])
    return found


def reviewed(plan: AddedPlan) -> tuple[Document, list[Problem]]:
    """An added plan as reviewed: its text parsed, its corrections applied, and the
    corrections that no longer apply."""
    from plans.parse import parse_file  # the slow part, imported when needed

    doc = parse_file(plan.text_path, plan.id)
    return apply_corrections(doc, read_corrections(plan.text_path.parent))


def reviewed_document(plan: AddedPlan) -> Document:
    """An added plan's document as the catalog takes it: parsed, then corrected."""
    return reviewed(plan)[0]


# -- finding text again ---------------------------------------------------------------------
def _char_class(char: str) -> str:
    """A cleaned character, and what it may have been in the raw text (full-width forms)."""
    forms = {char, *(wide for wide, narrow in _FULLWIDTH.items() if narrow == char)}
    if char == ".":
        forms.add("．")
    return "[" + "".join(re.escape(f) for f in sorted(forms)) + "]"


def _pattern(quote: str, raw: bool = False) -> re.Pattern[str]:
    """The quote with any whitespace (a line break the text joined) between its characters;
    full-width letters and digits read as the cleaned text has them (ASCII)."""
    chars = "".join(_FULLWIDTH.get(c, c) for c in squeeze(quote))
    gap = "[" + re.escape("".join(WHITESPACE)) + "]*"
    return re.compile(gap.join(_char_class(c) if raw else re.escape(c) for c in chars))


def _find(text: str, quote: str) -> list[tuple[int, int]]:
    if not squeeze(quote):
        return []
    return [(m.start(), m.end()) for m in _pattern(quote).finditer(text)]


def _nearest(found: list[tuple[int, int]], offset: int) -> tuple[int, int] | None:
    return min(found, key=lambda f: abs(f[0] - offset)) if found else None


def _raw_span(doc: Document, node: Node, piece: tuple[int, int]) -> Span:
    """The raw span of a piece of a node's text: its n-th occurrence among the node's raw text
    matches the n-th in the cleaned text; the node's span when the raw text hides it."""
    quote = node.text[piece[0] : piece[1]]
    found = _find(node.text, quote)
    nearest = _nearest(found, piece[0])
    if nearest is None:
        return node.span
    nth = found.index(nearest)
    hull = node.span
    raw = [
        (m.start() + hull.start, m.end() + hull.start)
        for m in _pattern(quote, raw=True).finditer(doc.raw[hull.start : hull.end])
    ]
    if nth < len(raw):
        return Span(*raw[nth])
    return hull


def clean_quote(raw: str, start: int, end: int) -> str:
    """A piece of the raw text, cleaned line by line as the parser cleans it (the quote a
    selection in the raw text stands for)."""
    pieces = []
    for m in re.finditer(r"[^\r\n]+", raw[start:end]):
        pieces.append(clean_line(raw, start + m.start(), start + m.end()).text)
    return "".join(pieces)


def _container(doc: Document, node: Node) -> list[Node]:
    """The list a node is in: its parent's children, or the document's top level."""
    for candidate in [doc.nodes, *(n.children for n in doc.walk())]:
        if any(c is node for c in candidate):
            return candidate
    raise KeyError(node.id)


def _node(doc: Document, measure: str) -> Node | None:
    return next((n for n in doc.walk() if n.id == measure), None)


def _locate(doc: Document, c: Correction) -> tuple[Node, tuple[int, int]] | str:
    """The node and the piece of its text a correction's quote stands for, or why not."""
    node = _node(doc, c.measure)
    if node is not None and (piece := _nearest(_find(node.text, c.quote), c.offset)):
        return node, piece
    holders = [n for n in doc.walk() if _find(n.text, c.quote)]
    if len(holders) == 1:
        return holders[0], _nearest(_find(holders[0].text, c.quote), c.offset)  # type: ignore[return-value]
    if node is None:
        return f"措施「{c.measure}」已不在文件中 measure '{c.measure}' is no longer in the document"
    return (
        f"措施「{c.measure}」的文字中已没有「{c.quote}」 the text '{c.quote}' is no longer in "
        f"measure '{c.measure}'"
    )


def _target_at(node: Node, c: Correction) -> Target | str:
    """The target of a node whose text is the correction's quote: of those at the place nearest
    the correction's offset, the `nth` (targets of one 分别 list share their text)."""
    found = [t for t in node.targets if squeeze(t.text) == squeeze(c.quote)]
    if found:
        places = {id(t): node.text.find(t.text) for t in found}
        nearest = min(abs(places[id(t)] - c.offset) for t in found)
        found = [t for t in found if abs(places[id(t)] - c.offset) == nearest]
    if c.nth >= len(found):
        return (
            f"措施「{node.id}」已没有目标「{c.quote}」 measure '{node.id}' has no target "
            f"'{c.quote}' any more"
        )
    return found[c.nth]


# -- applying -------------------------------------------------------------------------------
def apply_corrections(
    doc: Document, corrections: list[Correction]
) -> tuple[Document, list[Problem]]:
    """A corrected copy of `doc` (the parsed one is left as it was) and the corrections that
    no longer apply, with the reason."""
    doc = copy.deepcopy(doc)
    problems: list[Problem] = []
    for c in corrections:
        apply = _APPLY.get(c.kind)
        reason = apply(doc, c) if apply else f"未知的更正类型 unknown correction kind {c.kind!r}"
        if reason:
            problems.append(Problem(c, reason))
    return doc, problems


def _merge(doc: Document, c: Correction) -> str | None:
    node = _node(doc, c.measure)
    if node is None or not node.text.startswith(c.quote):
        node = next((n for n in doc.walk() if c.quote and n.text.startswith(c.quote)), None)
    if node is None:
        return (
            f"措施「{c.measure}」（「{c.quote}」…）已不在文件中 measure '{c.measure}' "
            f"('{c.quote}'…) is no longer in the document"
        )
    siblings = _container(doc, node)
    k = next(i for i, s in enumerate(siblings) if s is node)
    following = siblings[k + 1] if k + 1 < len(siblings) else None
    if following is None or not following.text.startswith(c.next_quote):
        return (
            f"措施「{node.id}」后已没有同级措施「{c.next_measure}」（「{c.next_quote}」…） "
            f"measure '{node.id}' is no longer followed by its sibling '{c.next_measure}'"
        )
    _merge_nodes(node, following)
    siblings.pop(k + 1)
    return None


def _merge_nodes(node: Node, following: Node) -> None:
    node.text = f"{node.text}\n{following.text}"
    node.spans = [*(node.spans or [node.span]), *(following.spans or [following.span])]
    node.span = Span(min(node.span.start, following.span.start), following.span.end)
    units: dict[str, ResponsibleUnit] = {u.name: u for u in node.units}
    for u in following.units:
        units[u.name] = ResponsibleUnit(u.name, u.lead or (u.name in units and units[u.name].lead))
    node.units = list(units.values())
    node.deadlines = [*node.deadlines, *following.deadlines]
    node.targets = [*node.targets, *following.targets]
    node.children = [*node.children, *following.children]


def _split(doc: Document, c: Correction) -> str | None:
    found = _locate(doc, c)
    if isinstance(found, str):
        return found
    node, piece = found
    cut = piece[0]
    if cut <= 0:
        return f"措施「{node.id}」的拆分点在其开头 the split of '{node.id}' is at its start"
    raw_at = _raw_span(doc, node, piece).start
    siblings = _container(doc, node)
    suffix = _free_suffix(doc, node)
    second = Node(
        id=f"{node.id}-{suffix}",
        document=node.document,
        level=node.level,
        label=f"{node.label}-{suffix}",
        path=(*node.path[:-1], f"{node.path[-1]}-{suffix}"),
        heading=_heading(node.text[cut:]),
        text=node.text[cut:].lstrip("\n"),
        span=Span(raw_at, node.span.end),
        units=copy.deepcopy(node.units),
        units_inherited=node.units_inherited,
        deadlines=[d for d in node.deadlines if d.span.start >= raw_at],
        targets=[t for t in node.targets if t.span.start >= raw_at],
        spans=_cut_spans(node.spans or [node.span], raw_at, after=True),
    )
    node.text = node.text[:cut].rstrip("\n")
    node.span = Span(node.span.start, raw_at)
    node.spans = _cut_spans(node.spans or [node.span], raw_at, after=False)
    node.deadlines = [d for d in node.deadlines if d.span.start < raw_at]
    node.targets = [t for t in node.targets if t.span.start < raw_at]
    k = next(i for i, s in enumerate(siblings) if s is node)
    siblings.insert(k + 1, second)
    return None


def _free_suffix(doc: Document, node: Node) -> str:
    taken = {n.id for n in doc.walk()}
    return next(s for s in "bcdefghijklmnopqrstuvwxyz" if f"{node.id}-{s}" not in taken)


def _heading(text: str) -> str:
    """A split-off part's heading: its first phrase (up to ，。；： or 30 characters)."""
    first = re.match(r"[^，。；：！？\n]{1,30}", text.lstrip("\n"))
    return first.group() if first else text[:30]


def _cut_spans(spans: list[Span], at: int, after: bool) -> list[Span]:
    out = []
    for s in spans:
        a, b = (max(s.start, at), s.end) if after else (s.start, min(s.end, at))
        if a < b:
            out.append(Span(a, b))
    return out


def _mark(doc: Document, c: Correction) -> str | None:
    found = _locate(doc, c)
    if isinstance(found, str):
        return found
    node, piece = found
    node.targets.append(
        Target(
            indicator=c.indicator or node.text[piece[0] : piece[1]],
            comparator=BOUNDS.get(c.bound, ""),
            value=c.value,
            unit=c.unit,
            text=node.text[piece[0] : piece[1]],
            span=_raw_span(doc, node, piece),
            target_year=c.year,
            kind=c.target_kind,
        )
    )
    return None


def _target_correction(doc: Document, c: Correction) -> tuple[Node, Target] | str:
    found = _locate(doc, c)
    if isinstance(found, str):
        return found
    node = found[0]
    target = _target_at(node, c)
    return target if isinstance(target, str) else (node, target)


def _unmark(doc: Document, c: Correction) -> str | None:
    found = _target_correction(doc, c)
    if isinstance(found, str):
        return found
    node, target = found
    node.targets = [t for t in node.targets if t is not target]
    return None


def _fix_unit(doc: Document, c: Correction) -> str | None:
    found = _target_correction(doc, c)
    if isinstance(found, str):
        return found
    found[1].unit = c.unit
    return None


_APPLY = {
    "merge": _merge,
    "split": _split,
    "mark_target": _mark,
    "unmark_target": _unmark,
    "fix_unit": _fix_unit,
}


# -- making corrections (against the document as corrected so far) ---------------------------
def _measure(doc: Document, measure_id: str) -> Node:
    node = _node(doc, measure_id)
    if node is None:
        raise CorrectionError(f"没有措施「{measure_id}」 no measure '{measure_id}'")
    return node


def _unique(node: Node, quote: str, what: str) -> tuple[int, int]:
    found = _find(node.text, quote)
    if not found:
        raise CorrectionError(
            f"措施「{node.id}」的文字中没有{what}「{quote}」 measure '{node.id}' has no text "
            f"'{quote}'"
        )
    if len(found) > 1:
        raise CorrectionError(
            f"「{quote}」在措施「{node.id}」中出现 {len(found)} 次，请多写几个字 '{quote}' occurs "
            f"{len(found)} times in measure '{node.id}': quote more of it"
        )
    return found[0]


def make_merge(doc: Document, measure_id: str) -> Correction:
    node = _measure(doc, measure_id)
    siblings = _container(doc, node)
    k = next(i for i, s in enumerate(siblings) if s is node)
    if k + 1 >= len(siblings):
        raise CorrectionError(
            f"措施「{node.id}」后没有同级措施可合并 measure '{node.id}' has no next sibling to "
            "merge with"
        )
    following = siblings[k + 1]
    return Correction(
        "merge",
        node.id,
        node.text[:PREFIX],
        next_measure=following.id,
        next_quote=following.text[:PREFIX],
    )


def make_split(doc: Document, measure_id: str, starts_with: str) -> Correction:
    node = _measure(doc, measure_id)
    starts_with = starts_with.strip()
    if not squeeze(starts_with):
        raise CorrectionError("请写明拆分处的文字 give the text the second part starts with")
    piece = _unique(node, starts_with, "拆分处文字")
    if piece[0] == 0:
        raise CorrectionError(
            f"拆分处不能是措施「{node.id}」的开头 the split cannot be at the start of measure "
            f"'{node.id}'"
        )
    return Correction("split", node.id, node.text[piece[0] : piece[1]], offset=piece[0])


def make_mark(
    doc: Document,
    measure_id: str,
    quote: str,
    *,
    value: float | None,
    unit: str,
    bound: str,
    target_kind: str,
    indicator: str = "",
    year: int | None = None,
    start: int | None = None,
) -> Correction:
    """A target marked on a quote of the measure's text; `start` (the quote's raw offset, from
    a selection in the text) picks among several occurrences."""
    node = _measure(doc, measure_id)
    if bound not in BOUNDS:
        raise CorrectionError(
            f"未知的比较方式「{bound}」，应为 {' '.join(BOUNDS)} unknown bound {bound!r}"
        )
    if target_kind not in TARGET_KINDS:
        raise CorrectionError(
            f"未知的目标类型「{target_kind}」 unknown kind {target_kind!r}: numeric or qualitative"
        )
    if target_kind == "numeric" and value is None:
        raise CorrectionError("数值目标须有数值 a numeric target needs a value")
    quote = quote.strip()
    found = _find(node.text, quote)
    if start is not None and found:
        spans = [(_raw_span(doc, node, f).start, f) for f in found]
        piece = min(spans, key=lambda s: abs(s[0] - start))[1]
    else:
        piece = _unique(node, quote, "")
    text = node.text[piece[0] : piece[1]]
    if any(squeeze(t.text) == squeeze(text) for t in node.targets):
        raise CorrectionError(
            f"「{text}」已是措施「{node.id}」的目标 '{text}' is a target of '{node.id}' already"
        )
    return Correction(
        "mark_target",
        node.id,
        text,
        offset=piece[0],
        indicator=indicator.strip(),
        value=value,
        unit=unit.strip(),
        bound=bound,
        target_kind=target_kind,
        year=year,
    )


def _target(doc: Document, measure_id: str, number: int) -> tuple[Node, Target]:
    node = _measure(doc, measure_id)
    if not 1 <= number <= len(node.targets):
        raise CorrectionError(
            f"措施「{node.id}」没有第 {number} 个目标 measure '{node.id}' has no target #{number}"
        )
    return node, node.targets[number - 1]


def _same_text(node: Node, target: Target) -> int:
    """How many targets before `target` share its text (a 分别 list's)."""
    before = node.targets[: next(k for k, t in enumerate(node.targets) if t is target)]
    return sum(squeeze(t.text) == squeeze(target.text) for t in before)


def make_unmark(doc: Document, measure_id: str, number: int) -> Correction:
    """Unmark the measure's target number `number` (1-based, as the page lists them)."""
    node, target = _target(doc, measure_id, number)
    return Correction(
        "unmark_target",
        node.id,
        target.text,
        offset=max(0, node.text.find(target.text)),
        nth=_same_text(node, target),
    )


def make_fix_unit(doc: Document, measure_id: str, number: int, unit: str) -> Correction:
    node, target = _target(doc, measure_id, number)
    unit = unit.strip()
    if unit == target.unit:
        raise CorrectionError(f"单位未变：{unit or '（空）'} the unit is unchanged")
    return Correction(
        "fix_unit",
        node.id,
        target.text,
        offset=max(0, node.text.find(target.text)),
        unit=unit,
        old_unit=target.unit,
        nth=_same_text(node, target),
    )
