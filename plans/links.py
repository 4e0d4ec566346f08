"""The curated link table (plans/links.csv): which measures tie to which layers, and why.

Keyword matching only suggests links (`suggest`); a person confirms a link by adding its row to
the table, with a one-line reason and the rule the link implies for the layer's features; or,
on a plan's links page, an editor confirms or rejects a suggestion and the decision goes to
the added-links file (the app's ADDED_LINKS_PATH, `read_decisions` / `decide`): the catalog's
links are the shipped table's plus the confirmed ones (`catalog_links`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from geo.files import write_atomically
from plans.model import Document

LINKS_PATH = Path(__file__).with_name("links.csv")
COLUMNS = ("measure_id", "layer_id", "reason", "rule")


class LinkTableError(ValueError):
    """A bad row in a link table: names the file, the row (1-based, header = row 1) and field,
    in Chinese (`zh`) and then in English."""

    def __init__(
        self, message: str, *, path: str, row: int, field: str | None = None, zh: str = ""
    ) -> None:
        self.path, self.row, self.field = path, row, field
        where_zh = f"文件 {path} 第 {row} 行" + (f" 字段「{field}」" if field else "")
        where = f"file {path}, row {row}" + (f", field '{field}'" if field else "")
        super().__init__(f"{where_zh}：{zh or '有误'} {where}: {message}")


SHIPPED = "随附"  # a link of plans/links.csv
CONFIRMED_SOURCE = "确认"  # a link an editor confirmed (the added-links file)


@dataclass(frozen=True)
class Link:
    measure_id: str
    layer_id: str
    reason: str
    rule: str
    source: str = SHIPPED
    confirmed_by: str | None = None
    confirmed_at: str | None = None  # ISO 8601, UTC


@dataclass(frozen=True)
class Suggestion:
    measure_id: str
    layer_id: str
    keywords: tuple[str, ...]


def read_links(
    path: Path = LINKS_PATH,
    *,
    measure_ids: Iterable[str] | None = None,
    layer_ids: Iterable[str] | None = None,
) -> list[Link]:
    """Read and check the table; unknown measures or layers are errors naming the row."""
    known_measures = set(measure_ids) if measure_ids is not None else None
    known_layers = set(layer_ids) if layer_ids is not None else None
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise LinkTableError(
                f"expected the columns {', '.join(COLUMNS)}, found "
                f"{', '.join(reader.fieldnames or ['nothing'])}",
                path=str(path),
                row=1,
                zh=f"表头应为 {','.join(COLUMNS)}",
            )
        links: list[Link] = []
        seen = set()
        for number, row in enumerate(reader, start=2):
            for name in COLUMNS:
                if not (row.get(name) or "").strip():
                    raise LinkTableError("empty", path=str(path), row=number, field=name, zh="为空")
            link = Link(*(row[name].strip() for name in COLUMNS))
            if known_measures is not None and link.measure_id not in known_measures:
                raise LinkTableError(
                    f"no measure {link.measure_id!r} in the catalog",
                    path=str(path),
                    row=number,
                    field="measure_id",
                    zh=f"目录中没有措施「{link.measure_id}」",
                )
            if known_layers is not None and link.layer_id not in known_layers:
                raise LinkTableError(
                    f"no layer {link.layer_id!r}",
                    path=str(path),
                    row=number,
                    field="layer_id",
                    zh=f"没有图层「{link.layer_id}」",
                )
            if (link.measure_id, link.layer_id) in seen:
                raise LinkTableError(
                    "the same link twice", path=str(path), row=number, zh="同一关联出现两次"
                )
            seen.add((link.measure_id, link.layer_id))
            links.append(link)
    return links


def suggest(
    documents: Sequence[Document], keywords: Mapping[str, Sequence[str]], min_level: int = 2
) -> list[Suggestion]:
    """Measures whose heading or text mention a layer's keywords (the person decides)."""
    found = []
    for doc in documents:
        for node in doc.walk():
            if node.level < min_level:
                continue
            text = node.heading + node.text
            for layer_id, words in keywords.items():
                hits = tuple(w for w in words if w in text)
                if hits:
                    found.append(Suggestion(node.id, layer_id, hits))
    return found


# -- the added-links file: an editor's decisions on suggestions ------------------------------
DECISION_COLUMNS = ("measure_id", "layer_id", "reason", "rule", "decision", "by", "at")
CONFIRMED = "confirmed"
REJECTED = "rejected"
DECISION_ZH = {CONFIRMED: "确认", REJECTED: "否决"}


@dataclass(frozen=True)
class Decision:
    """An editor's decision on one measure–layer link: confirmed (with a reason and a rule) or
    rejected (not suggested again)."""

    measure_id: str
    layer_id: str
    reason: str
    rule: str
    decision: str  # CONFIRMED or REJECTED
    by: str
    at: str  # ISO 8601, UTC

    @property
    def key(self) -> tuple[str, str]:
        return (self.measure_id, self.layer_id)

    def link(self) -> Link:
        return Link(
            self.measure_id,
            self.layer_id,
            self.reason,
            self.rule,
            CONFIRMED_SOURCE,
            self.by,
            self.at,
        )

    def to_json(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_decisions(path: Path | None, *, layer_ids: Iterable[str] | None = None) -> list[Decision]:
    """The added-links file's decisions (none when there is no file), read generously (UTF-8
    with or without a BOM, blank lines skipped) and checked strictly: a bad row is an error
    naming the file, the row and the field. Measures are not checked here (`check_decisions`):
    a decision on a draft's measure waits for its plan to be published."""
    if path is None or not Path(path).is_file():
        return []
    known_layers = set(layer_ids) if layer_ids is not None else None
    name = str(path)
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        found = tuple(reader.fieldnames or ())
        if found != DECISION_COLUMNS:
            raise LinkTableError(
                f"expected the columns {', '.join(DECISION_COLUMNS)}, found "
                f"{', '.join(found) or 'nothing'}",
                path=name,
                row=1,
                zh=f"表头应为 {','.join(DECISION_COLUMNS)}",
            )
        decisions: dict[tuple[str, str], Decision] = {}
        for number, row in enumerate(reader, start=2):
            if None in row:  # more cells than columns
                raise LinkTableError(
                    "more cells than columns", path=name, row=number, zh="单元格多于列数"
                )
            values = {k: (row.get(k) or "").strip() for k in DECISION_COLUMNS}
            if not any(values.values()):
                continue
            verdict = values["decision"]
            if verdict not in DECISION_ZH:
                raise LinkTableError(
                    f"must be {CONFIRMED} or {REJECTED}, not {verdict!r}",
                    path=name,
                    row=number,
                    field="decision",
                    zh=f"应为 {CONFIRMED}（确认）或 {REJECTED}（否决），而非「{verdict}」",
                )
            needed = ["measure_id", "layer_id", "by", "at"]
            if verdict == CONFIRMED:
                needed += ["reason", "rule"]
            for field in needed:
                if not values[field]:
                    raise LinkTableError("empty", path=name, row=number, field=field, zh="为空")
            try:
                datetime.fromisoformat(values["at"])
            except ValueError:
                raise LinkTableError(
                    f"not an ISO 8601 time: {values['at']!r}",
                    path=name,
                    row=number,
                    field="at",
                    zh=f"不是 ISO 8601 时间：「{values['at']}」",
                ) from None
            if known_layers is not None and values["layer_id"] not in known_layers:
                raise LinkTableError(
                    f"no layer {values['layer_id']!r}",
                    path=name,
                    row=number,
                    field="layer_id",
                    zh=f"没有图层「{values['layer_id']}」",
                )
            found_one = Decision(**values)
            if found_one.key in decisions:
                raise LinkTableError(
                    "the same link twice", path=name, row=number, zh="同一关联出现两次"
                )
            decisions[found_one.key] = found_one
    return list(decisions.values())


def write_decisions(path: Path, decisions: Sequence[Decision]) -> None:
    """Write the added-links file at once: a temporary file beside it, renamed over it."""
    path = Path(path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DECISION_COLUMNS)
    for d in decisions:
        writer.writerow([getattr(d, c) for c in DECISION_COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, out.getvalue().encode("utf-8"), mode=0o644)


def decide(path: Path, decision: Decision) -> Decision | None:
    """Record a decision, replacing an earlier one on the same measure and layer (returned)."""
    decisions = read_decisions(path)
    before = next((d for d in decisions if d.key == decision.key), None)
    kept = [decision if d.key == decision.key else d for d in decisions]
    if before is None:
        kept.append(decision)
    write_decisions(path, kept)
    return before


def remove_decision(path: Path, measure_id: str, layer_id: str) -> Decision | None:
    """Remove the decision on a measure and layer (an undo); returns it, None if there was none
    (the file is then left as it is)."""
    decisions = read_decisions(path)
    before = next((d for d in decisions if d.key == (measure_id, layer_id)), None)
    if before is not None:
        write_decisions(path, [d for d in decisions if d is not before])
    return before


def catalog_links(
    shipped: Sequence[Link], decisions: Sequence[Decision], measure_ids: Iterable[str]
) -> list[Link]:
    """The catalog's links: the shipped table's, then the confirmed decisions on measures the
    catalog has (a draft's wait for it to be published) that the table does not have already."""
    known = set(measure_ids)
    taken = {(k.measure_id, k.layer_id) for k in shipped}
    confirmed = [
        d.link()
        for d in decisions
        if d.decision == CONFIRMED and d.measure_id in known and d.key not in taken
    ]
    return [*shipped, *confirmed]


def check_decisions(
    decisions: Sequence[Decision],
    shipped: Sequence[Link],
    measure_ids: Iterable[str],
    draft_ids: Iterable[str] = (),
) -> list[str]:
    """What is wrong with the decisions, in words (Chinese, then English): a decision on a
    measure no plan has (any more), or a confirmed link the shipped table has too. A decision
    on a draft's measure (`draft_ids`) is fine: it joins the catalog when the plan is
    published."""
    known, drafts = set(measure_ids), set(draft_ids)
    taken = {(k.measure_id, k.layer_id) for k in shipped}
    problems = []
    for d in decisions:
        verb = DECISION_ZH[d.decision]
        if d.measure_id not in known and d.measure_id not in drafts:
            problems.append(
                f"{verb}的关联 {d.measure_id}→{d.layer_id}：没有措施「{d.measure_id}」（规划已"
                f"移除或已更正？） the {d.decision} link {d.measure_id}→{d.layer_id}: no "
                f"measure {d.measure_id!r} (plan removed or corrected?)"
            )
        elif d.decision == CONFIRMED and d.key in taken:
            problems.append(
                f"确认的关联 {d.measure_id}→{d.layer_id} 已在随附的关联表中，以随附的为准 the "
                f"confirmed link {d.measure_id}→{d.layer_id} is in the shipped table too: the "
                "shipped one counts"
            )
    return problems


def make_decision(
    measure_id: str,
    layer_id: str,
    verdict: str,
    by: str,
    *,
    reason: str = "",
    rule: str = "",
    at: str | None = None,
) -> Decision:
    """A decision made now (one-line reason and rule: line breaks become spaces)."""
    return Decision(
        measure_id,
        layer_id,
        " ".join(reason.split()),
        " ".join(rule.split()),
        verdict,
        by,
        at or now(),
    )


def default_rule(layer_name: str, keywords: Sequence[str]) -> str:
    """The rule a confirm form starts with: which features the measure concerns, and why."""
    if keywords:
        return f"本措施涉及的{layer_name}（措施提及：{'、'.join(keywords)}）"
    return f"本措施涉及的{layer_name}"
