"""Plan text → `Document`: metadata, the numbered hierarchy, units, deadlines and targets.

The parser works by rule on any plan of this genre, not on the five seeds by name:

* The front matter (everything before the first 一、) is split into a news-site lead that
  repeats the body (dropped), the title block (关于印发…的通知, document number, signature,
  date) and the preamble (为贯彻落实《…》…制定本方案), from which `implements` comes.
* The body is a hierarchy of numbered lines: 一、 (level 1) → （一） (2) → 1. / 1、 (3) →
  —— (4). A numbered line only counts as a heading when its number continues the sequence
  (（N） may restart under each 一、 part or run on across them), so a wrapped line that
  happens to start with "二、" stays text.
* Lines are joined into text: a break is soft (joined without a space) when the line was cut
  mid-sentence, hard ("\\n") after a heading or a finished sentence; a PDF's fixed line width
  is recognised so that full lines ending in "。" are joined too.
* Every character of the raw text ends up in exactly one place: a preamble span, one node's
  pieces (`Node.spans`) or a `Dropped` piece with its reason. `accountability` checks this,
  and `parse_text` refuses a document that fails it.
"""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from plans.errors import PlanError
from plans.model import (
    COMPARATOR_SIGNS,
    Deadline,
    Document,
    Dropped,
    Node,
    ResponsibleUnit,
    Scope,
    Span,
    Target,
)
from plans.text import WHITESPACE, Clean, Line, check_text, decode, is_cjk, split_lines, width

__all__ = [
    "NumberUse",
    "accountability",
    "default_doc_id",
    "number_uses",
    "parse_file",
    "parse_text",
]

# ---------------------------------------------------------------------------------------------
# Public API


def parse_file(path: str | Path, doc_id: str | None = None, *, check: bool = True) -> Document:
    """Parse a plan file (UTF-8 or GB18030); doc_id defaults to the file name's prefix."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(str(path), f"cannot read the file: {exc.strerror or exc}") from exc
    text = decode(data, str(path))
    return parse_text(text, doc_id or default_doc_id(path), str(path), check=check)


def parse_text(text: str, doc_id: str, path: str = "<text>", *, check: bool = True) -> Document:
    """Parse decoded plan text. With check=True (the default) a document whose characters are
    not all accounted for raises PlanError; check=False returns it for a report."""
    doc = _Parser(text, doc_id, path).run().doc
    if check:
        problems = accountability(doc)
        if problems:
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise PlanError(
                path,
                "not every character is accounted for (expected each one in the preamble, in "
                "one node or dropped with a reason), found: " + "; ".join(problems[:5]) + more,
            )
    return doc


def default_doc_id(path: str | Path) -> str:
    """The file name's prefix before the first "_" or ".": 000_3e6d….txt → "000"."""
    name = Path(path).name
    prefix = re.split(r"[_.]", name, maxsplit=1)[0]
    return prefix or Path(path).stem or name


def accountability(doc: Document) -> list[str]:
    """Problems with the claim that every raw character is in exactly one place — gaps,
    overlaps, spans out of range, dropped text that does not match the raw text. Empty when all
    is accounted for."""
    raw = doc.raw
    problems: list[str] = []
    pieces: list[tuple[Span, str]] = [(s, "preamble") for s in doc.preamble_spans]
    for node in doc.walk():
        own = node.spans or [node.span]
        for s in own:
            pieces.append((s, f"node {node.id}"))
            if not (node.span.start <= s.start and s.end <= node.span.end):
                problems.append(f"node {node.id}: piece {_at(raw, s.start)} outside its span")
    for d in doc.dropped:
        pieces.append((d.span, f"dropped ({d.reason})"))
        if 0 <= d.span.start <= d.span.end <= len(raw) and raw[d.span.start : d.span.end] != d.text:
            problems.append(f"dropped piece at {_at(raw, d.span.start)}: text differs from raw")
    pieces.sort(key=lambda p: (p[0].start, p[0].end))
    pos = 0
    for span, owner in pieces:
        if span.start < 0 or span.end > len(raw) or span.end <= span.start:
            problems.append(f"{owner}: bad span {span.start}..{span.end} (raw has {len(raw)})")
            continue
        if span.start > pos:
            problems.append(f"gap at {_at(raw, pos)}: {_snippet(raw, pos, span.start)} not placed")
        elif span.start < pos:
            problems.append(
                f"overlap at {_at(raw, span.start)}: {owner} also covers "
                f"{_snippet(raw, span.start, min(pos, span.end))}"
            )
        pos = max(pos, span.end)
    if pos < len(raw):
        problems.append(f"gap at {_at(raw, pos)}: {_snippet(raw, pos, len(raw))} not placed")
    hulls = sorted((n.span.start, n.span.end, n.id) for n in doc.walk())
    for (_, end_a, id_a), (start_b, _, id_b) in zip(hulls, hulls[1:], strict=False):
        if start_b < end_a:
            problems.append(f"nodes {id_a} and {id_b} overlap at {_at(raw, start_b)}")
    return problems


@dataclass
class NumberUse:
    """What one number (a run of digits) in the raw text is: why it is or is not a target."""

    text: str  # "2025", "15.5"
    span: Span
    where: str  # node id, "preamble" or "dropped"
    kind: str  # target / deadline / base year / label / metadata / dropped / not a target
    reason: str
    context: str  # the cleaned text around it


def number_uses(doc: Document) -> list[NumberUse]:
    """Every number in the raw text and what it is, so a reviewer can see none was skipped."""
    return _Parser(doc.raw, doc.id, doc.path).run().numbers()


# ---------------------------------------------------------------------------------------------
# Patterns

CN_NUM = "〇零一二三四五六七八九十百"
L1_RE = re.compile(rf"^([{CN_NUM}]+)、")
L2_RE = re.compile(rf"^[（(]([{CN_NUM}]+)[）)]")
L3_RE = re.compile(r"^(\d{1,3})[.、](?!\d)")
L4_RE = re.compile(r"^(?:——|--|－－)(?=[^—\-－])")

TERMINAL = "。！？；：!?;:…”」』）)〕】"
PROSE_PUNCT = "，、；,;"

NEWS_LEAD_RE = re.compile(
    r"^.{0,16}?(?:网讯|讯|消息|快讯)[：:]|^(?:据|记者).{0,24}(?:报道|获悉)|^(?:本报|新华社)"
    r"|^(?:近日|日前)[，,].{0,40}(?:印发|发布|出台)"
)
WATERMARK_RE = re.compile(
    r"本文(?:内容)?(?:来自|来源于|转自|转载自|摘自)网络|如有(?:任何)?(?:异议|侵权|疑问).{0,12}联系"
    r"|(?:侵权|侵删)请?联系|版权归原作者|(?:内容|资料)由.{0,16}(?:搜集|收集)整理"
    r"|仅供(?:学习|参考|交流)(?:使用)?[，。！]"
)
# A 专栏 box (专栏1 重点行业节能改造 / 专栏一): a list of projects inside a measure.
BOX_RE = re.compile(r"^专栏\s*[0-9一二三四五六七八九十]+")
BOX_ITEM_RE = re.compile(r"(?<=\n)\d{1,3}[.、](?!\d)")
PAGE_RE = re.compile(r"^[-—–－]*(?:第)?\d{1,3}(?:页)?(?:/\d{1,3}页?)?[-—–－]*$")
KIND = r"(?:方案|措施|规划|意见|办法|计划|纲要|规定|细则|要点|通知|决定|条例|行动|指南|清单)"
STATUS_RE = re.compile(
    r"[（(\[【]\s*(征求意见稿|送审稿|草案|讨论稿|修订稿|代拟稿|审议稿)\s*[）)\]】]"
)
NUMBER_LINE_RE = re.compile(r"^[\u4e00-\u9fff]{1,12}[〔\[［【(（]\d{4}[〕\]］】)）]第?\d{1,4}号$")
DATE_LINE_RE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
CN_DATE_LINE_RE = re.compile(
    r"^([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日$"
)
ORG_END_RE = re.compile(r"(?:政府|办公室|办公厅|委员会|厅|局|委|办|部|中心|院|公司)$")
LEAD_ISSUER_RE = re.compile(
    r"(?P<org>[\u4e00-\u9fff“”]{4,30}?(?:政府办公室|政府办公厅|人民政府|委员会|厅|局|委))"
    r"(?:发布|印发|关于印发|出台)"
)
IMPLEMENTS_RE = re.compile(
    r"(?:深入|全面|认真)?(?:贯彻落实|贯彻|落实|根据|依据|按照)[^，。《》]{0,10}(?=《)"
)

# Responsible units
UNIT_LABEL_RE = re.compile(r"^(?:责任单位|牵头单位|负责单位|责任部门|配合单位)\s*[：:]")
UNIT_END_RE = re.compile(r"(?:负责|牵头|落实|配合|不再(?:单独|一一)?列出)[。.]?$")
RULE_RE = re.compile(
    r"以下(?:均|都|各项(?:任务|工作)?)?(?:需|须|由|要)?(?P<units>.+?)(?:负责)?落实[，,]?\s*"
    r"(?:均)?不再(?:单独|一一)?列出"
)
UNIT_SUFFIXES = (
    "按职责分工负责",
    "按职责负责",
    "负责落实",
    "共同负责",
    "分别负责",
    "配合落实",
    "配合",
    "负责",
    "牵头",
    "落实",
)

# Deadlines
DEADLINE_RE = re.compile(
    r"(?P<asp>力争|争取)?(?P<to>到|至|于|在)?(?P<y>(?:19|20)\d{2})年"
    r"(?P<tail>年底前|年底|年末|底前|底|末|前)?"
    r"|(?P<asp2>力争|争取)?(?P<to2>到)?[“\"]?十(?P<fyp>[一二三四五六七八九])五[”\"]?"
    r"(?P<tail2>时期|期间|期末|末)"
)
BASE_BEFORE = ("比", "较", "相比", "与", "同")

# Targets
UNITS = sorted(
    [
        "个百分点",
        "百分点",
        "蒸吨/小时",
        "万吨/日",
        "万吨/年",
        "吨/日",
        "吨/年",
        "立方米/日",
        "万立方米/日",
        "毫克/升",
        "mg/L",
        "吨标准煤/万元",
        "吨标煤/万元",
        "万吨标准煤",
        "吨标准煤",
        "万吨标煤",
        "吨标煤",
        "万千瓦时",
        "亿千瓦时",
        "千瓦时",
        "万千瓦",
        "千瓦",
        "兆瓦",
        "万平方米",
        "平方米",
        "平方公里",
        "万立方米",
        "立方米",
        "万公顷",
        "公顷",
        "万亩",
        "亩",
        "亿吨",
        "万吨",
        "吨",
        "万辆",
        "辆",
        "亿元",
        "万元",
        "元",
        "公里",
        "千米",
        "米",
        "万人",
        "万户",
        "%",
        "‰",
        "个",
        "条",
        "家",
        "座",
        "处",
        "台",
        "套",
        "项",
        "所",
        "户",
        "人",
        "名",
        "倍",
        "艘",
        "根",
        "盏",
        "GW",
        "MW",
        "kW",
    ],
    key=len,
    reverse=True,
)
NUM_RE = re.compile(r"(?<![0-9.])\d+(?:\.\d+)?")
QUALIFIER_RE = re.compile(r"(?:及以上|及以下|以上|以下|左右|以内|之内)")
LEVEL_VERBS = (
    "不超过|不高于|不低于|不少于|不大于|不小于|低于|高于|超过|少于|多于|大于|小于"
    "|达到|达|稳定在|保持在|控制在|为"
)
CHANGE_VERBS = "下降|降低|减少|削减|压减|提高|提升|增长|增加"
ACTION_VERBS = "新增|新建|建成|建设|创建|打造|培育"
MODS = "累计|分别|力争|争取|再|进一步|重点|持续|年均|平均|约|总计|合计|共|基本"
TAIL_RE = re.compile(
    rf"(?P<base>(?:比|较|相比|与)(?P<by>(?:19|20)\d{{2}})年(?:末|底)?(?:相比)?)?"
    rf"(?P<mods>(?:{MODS})*)"
    rf"(?P<verb>{LEVEL_VERBS}|{CHANGE_VERBS}|{ACTION_VERBS})?"
    r"(?P<mods2>(?:到|至|约)*)$"
)
HEAD_VERB_RE = re.compile(rf"^(?:{ACTION_VERBS}|完成|淘汰)")
ASPIRATION_RE = re.compile(r"力争|争取")
LEAD_WORDS_RE = re.compile(r"^(?:力争|争取|确保|努力|力求|预计|其中|并|且|同时|对)+")
TREND_RE = re.compile(
    r"(?:持续|不断|明显|显著|大幅|进一步|稳步|逐步)?(?:降低|下降|提高|提升|减少|增长|优化|改善)$"
)
# An indicator's head noun, to spread a shared suffix over 分别 lists (化学需氧量、氨氮…减排量).
INDICATOR_HEADS = (
    "重点工程减排量",
    "减排量",
    "使用比例",
    "使用量",
    "排放量",
    "利用率",
    "回收率",
    "处理率",
    "覆盖率",
    "占比",
    "比例",
    "比重",
    "强度",
    "总量",
)
PER_UNIT_PREFIX_RE = re.compile(
    r"^(?:单位(?:地区生产总值|国内生产总值|GDP|工业增加值|产品|建筑面积)|万元(?:地区生产总值|GDP|工业增加值)|人均)"
)
POLICY_WORDS = (
    "推进",
    "加强",
    "加快",
    "实施",
    "推动",
    "健全",
    "完善",
    "建立",
    "落实",
    "鼓励",
    "支持",
    "开展",
    "提升",
    "强化",
    "责任单位",
    "负责",
)


# ---------------------------------------------------------------------------------------------
# Small helpers


def cn_number(text: str) -> int | None:
    """Chinese numerals up to 999: 一 → 1, 十一 → 11, 二十九 → 29."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    digits["〇"] = 0
    if not text:
        return None
    if all(c in digits for c in text):
        return int("".join(str(digits[c]) for c in text))
    total, current = 0, 0
    for c in text:
        if c in digits:
            current = digits[c]
        elif c == "十":
            total += (current or 1) * 10
            current = 0
        elif c == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _at(raw: str, pos: int) -> str:
    line = raw.count("\n", 0, pos) + 1
    col = pos - (raw.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}:{col} (offset {pos})"


def _snippet(raw: str, a: int, b: int, limit: int = 30) -> str:
    text = raw[a:b]
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)


def _split_top(text: str, seps: str) -> list[str]:
    """Split on any of seps outside brackets (市发改委（市能源局）stays whole)."""
    out, depth, cur = [], 0, []
    for c in text:
        if c in "（(〔【[《":
            depth += 1
        elif c in "）)〕】]》":
            depth = max(0, depth - 1)
        if c in seps and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return out


def _bracket_depths(text: str, opens: str, closes: str) -> list[int]:
    depth, out = 0, []
    for c in text:
        if c in opens:
            depth += 1
            out.append(depth)
        elif c in closes:
            out.append(depth)
            depth = max(0, depth - 1)
        else:
            out.append(depth)
    return out


def _headline_level(text: str) -> tuple[int, str, int] | None:
    """(level, label, number) of a numbered line, None for other lines."""
    if m := L1_RE.match(text):
        n = cn_number(m.group(1))
        return (1, m.group(1), n) if n else None
    if m := L2_RE.match(text):
        n = cn_number(m.group(1))
        return (2, m.group(1), n) if n else None
    if m := L3_RE.match(text):
        return 3, str(int(m.group(1))), int(m.group(1))
    if L4_RE.match(text):
        return 4, "—", 0
    return None


def _label_length(text: str, level: int) -> int:
    pattern = {1: L1_RE, 2: L2_RE, 3: L3_RE}.get(level)
    if pattern is None:
        return len(re.match(r"^(?:——|--|－－)", text).group())  # type: ignore[union-attr]
    return pattern.match(text).end()  # type: ignore[union-attr]


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[，。；：,;:！？\n]", text) if len(c) >= 6]


# ---------------------------------------------------------------------------------------------
# The parser


@dataclass
class _Build:
    """A node while it is being built, with its cleaned text and offsets."""

    level: int
    label: str
    number: int
    lines: list[int]  # indices into _Parser.lines (content lines, noise included)
    parent: _Build | None = None
    children: list[_Build] = field(default_factory=list)
    clean: Clean = field(default_factory=Clean)
    node: Node | None = None


@dataclass
class _Para:
    """A paragraph of the front matter."""

    lines: list[int]
    clean: Clean
    role: str = "preamble"  # title / number / date / signature / preamble


class _Parser:
    def __init__(self, raw: str, doc_id: str, path: str) -> None:
        self.raw = raw
        self.id = doc_id
        self.path = path
        self.lines: list[Line] = []
        self.heads: dict[int, tuple[int, str, int]] = {}
        self.wrapped = False
        self.wrap_width = 0
        self.fragment = False
        self.dropped: list[Dropped] = []
        self.lead: list[int] = []
        self.lead_reason = ""
        self.paras: list[_Para] = []
        self.builds: list[_Build] = []
        self.roots: list[_Build] = []
        self.doc: Document

    # -- driver -----------------------------------------------------------------------------

    def run(self) -> _Parser:
        check_text(self.raw, self.path)
        self.lines = split_lines(self.raw)
        self._mark_noise()
        self._find_heads()
        self._detect_wrapping()
        body = self._body_start()
        self._front(body)
        self._body(body)
        self._trailing_signature()
        self._check_genre()
        self.doc = Document(id=self.id, path=self.path, raw=self.raw, title="")
        self._metadata()
        self._nodes()
        self._spans()
        return self

    # -- lines --------------------------------------------------------------------------------

    def _content(self, i: int) -> bool:
        return self.lines[i].kind in ("text", "heading")

    def _mark_noise(self) -> None:
        counts = Counter(ln.text for ln in self.lines if not ln.blank)
        for ln in self.lines:
            if ln.blank:
                continue
            t = ln.text
            if len(t) <= 80 and WATERMARK_RE.search(t):
                ln.kind = "watermark"
            elif PAGE_RE.match(t):
                ln.kind = "page"
            elif (
                counts[t] >= 3
                and 4 <= len(t) <= 40
                and not any(p in t for p in "，。；：、")
                and not _headline_level(t)
            ):
                ln.kind = "watermark"  # a page header repeated on every page

    def _find_heads(self) -> None:
        in_box = False  # inside a 专栏 box: its own 1. / —— items are text of the measure
        for i, ln in enumerate(self.lines):
            if ln.kind != "text":
                continue
            if BOX_RE.match(ln.text):
                in_box = True
                continue
            if h := _headline_level(ln.text):
                if in_box and h[0] >= 3:
                    continue
                in_box = False  # a 一、 or （N） heading ends the box
                self.heads[i] = h

    def _detect_wrapping(self) -> None:
        """A PDF extraction cuts lines at a fixed width: many long lines end mid-sentence."""
        cut = [
            width(ln.text)
            for i, ln in enumerate(self.lines)
            if ln.kind == "text"
            and i not in self.heads
            and width(ln.text) >= 40
            and ln.text[-1] not in TERMINAL
        ]
        if len(cut) < 10:
            return
        median = statistics.median(cut)
        if sum(1 for w in cut if abs(w - median) <= 6) >= 0.6 * len(cut):
            self.wrapped = True
            self.wrap_width = int(median)

    def _soft_break(self, prev: Line, nxt: Line) -> bool:
        """Is the break between two content lines inside a sentence (join without a space)?"""
        t = prev.text
        if self.wrapped and width(t) >= self.wrap_width - 6:
            return True
        if prev.kind == "heading" and (head := _headline_level(t)):
            t = t[_label_length(t, head[0]) :] or "。"  # the label's 、 is no prose
        if t[-1] in TERMINAL:
            return False
        return any(p in t for p in PROSE_PUNCT)

    def _join(self, indices: list[int], skip_label: int = 0) -> Clean:
        """Cleaned text of content lines (noise lines skipped), hard breaks as "\\n"."""
        out = Clean()
        prev: Line | None = None
        for k, i in enumerate(indices):
            ln = self.lines[i]
            if not self._content(i):
                continue
            part = ln.clean.slice(skip_label, len(ln.clean)) if k == 0 else ln.clean
            if prev is not None and not self._soft_break(prev, ln):
                out.append("\n", prev.end, prev.end + 1)
            out.extend(part)
            prev = ln
        return out

    # -- structure ----------------------------------------------------------------------------

    def _body_start(self) -> int:
        if not self.heads:
            n = sum(1 for ln in self.lines if not ln.blank)
            raise PlanError(
                self.path,
                "not a plan document: expected a numbered hierarchy (lines starting 一、 / （一） "
                f"/ 1. / ——), found no numbered line in {n} lines of text",
            )
        for level in (1, 2, 3):
            for i, (lv, _, n) in sorted(self.heads.items()):
                if lv == level and n == 1:
                    return i
        # A fragment (its numbering starts at, say, （十五）): take its first numbered line.
        self.fragment = True
        return min(self.heads)

    def _body(self, start: int) -> None:
        current: dict[int, _Build | None] = {1: None, 2: None, 3: None}
        last_global = {1: 0, 2: 0, 3: 0}
        open_node: _Build | None = None
        for i in range(start, len(self.lines)):
            ln = self.lines[i]
            if ln.blank:
                continue
            head = self.heads.get(i)
            build = self._accept(head, current, last_global) if head else None
            if build is None:
                if open_node is None:  # text before any heading: cannot happen after _body_start
                    self.paras.append(_Para([i], self._join([i])))
                else:
                    open_node.lines.append(i)
                continue
            build.lines.append(i)
            ln.kind = "heading"
            self.builds.append(build)
            open_node = build

    def _accept(
        self,
        head: tuple[int, str, int],
        current: dict[int, _Build | None],
        last_global: dict[int, int],
    ) -> _Build | None:
        level, label, n = head
        if level == 1:
            if n != last_global[1] + 1 and not (self.fragment and last_global[1] == 0):
                return None
            parent = None
        elif level in (2, 3):
            parent = current[level - 1] if level == 2 else (current[2] or current[1])
            siblings = [c for c in (parent.children if parent else self.roots) if c.level == level]
            if siblings:
                if n != siblings[-1].number + 1:
                    return None
            elif n not in (1, last_global[level] + 1) and not (
                self.fragment and last_global[level] == 0
            ):
                return None
        else:
            parent = current[3] or current[2] or current[1]
            siblings = [c for c in (parent.children if parent else self.roots) if c.level == 4]
            label, n = f"—{len(siblings) + 1}", len(siblings) + 1
        build = _Build(level, label, n, [], parent)
        (parent.children if parent else self.roots).append(build)
        if level <= 3:
            last_global[level] = n
            current[level] = build
            for deeper in range(level + 1, 4):
                current[deeper] = None
        return build

    def _trailing_signature(self) -> None:
        """A signature and date after the last measure (河阳市人民政府 / 2023年8月10日) belong
        to the front matter, not to the last measure's text."""
        if not self.builds:
            return
        last = self.builds[-1]
        content = [i for i in last.lines if self._content(i)]
        if len(content) < 2 or not self._iso_date(self.lines[content[-1]].text):
            return
        moved = [content[-1]]
        before = self.lines[content[-2]].text
        if len(content) >= 3 and ORG_END_RE.search(before) and self._titleish(before):
            moved.insert(0, content[-2])
        for i in moved:
            last.lines.remove(i)
            self.paras.append(_Para([i], self._join([i])))

    def _check_genre(self) -> None:
        if not self.builds:
            raise PlanError(
                self.path,
                "not a plan document: expected a numbered hierarchy starting at 一、 / （一） / "
                "1., found numbered lines that never form a sequence",
            )
        text = "".join(ln.text for ln in self.lines if ln.kind in ("text", "heading"))
        found = [w for w in POLICY_WORDS if w in text]
        if len(found) < 3:
            raise PlanError(
                self.path,
                "not a plan document: expected the vocabulary of a policy text (推进 / 加强 / "
                f"实施 / 责任单位 …) around the numbered headings, found {len(found)} of "
                f"{len(POLICY_WORDS)} such words ({'、'.join(found) or 'none'})",
            )

    # -- front matter -------------------------------------------------------------------------

    def _front(self, body: int) -> None:
        front = [i for i in range(body) if self._content(i)]
        if not front:
            return
        body_text = "".join(self.lines[i].text for i in range(body, len(self.lines)))
        start = 0
        if NEWS_LEAD_RE.search(self.lines[front[0]].text):
            title_at = next(
                (k for k in range(1, len(front)) if self._titleish_start(front[k])), None
            )
            if title_at is not None:
                self.lead = front[:title_at]
            else:
                k = 1
                while k < len(front) and any(
                    c in body_text for c in _clauses(self.lines[front[k]].text)
                ):
                    k += 1
                self.lead = front[:k]
            start = len(self.lead)
            clauses = [c for i in self.lead for c in _clauses(self.lines[i].text)]
            recurring = sum(1 for c in clauses if c in body_text)
            self.lead_reason = (
                "repeated lead: a news site's summary before the document's own title "
                f"({recurring} of {len(clauses)} clauses recur in the body)"
            )
        rest = front[start:]
        # Paragraphs: consecutive content lines joined by soft breaks.
        group: list[int] = []
        for i in rest:
            if group and not self._soft_break(self.lines[group[-1]], self.lines[i]):
                self.paras.append(_Para(group, self._join(group)))
                group = []
            group.append(i)
        if group:
            self.paras.append(_Para(group, self._join(group)))

    def _titleish_start(self, i: int) -> bool:
        t = self.lines[i].text
        return ("关于印发" in t and "。" not in t and "，" not in t) or self._titleish(t, True)

    @staticmethod
    def _titleish(text: str, complete: bool = False) -> bool:
        """A title line: short, no sentence punctuation; complete ones end with 方案/措施 …"""
        if len(text) > 80 or any(p in text for p in "。，；：,;:") or DATE_LINE_RE.match(text):
            return False
        if NUMBER_LINE_RE.match(text):
            return False
        if complete:
            bare = STATUS_RE.sub("", text)
            return bool(re.search(KIND + r"$", bare))
        return True

    def _metadata(self) -> None:
        doc = self.doc
        paras = self.paras
        # Title: "X关于印发Y的通知" (over one or two lines), else a run of title lines.
        title = issuer = None
        for k, p in enumerate(paras):
            t = p.clean.text
            if "关于印发" not in t or not self._titleish(t):
                continue
            combined, used = t, [k]
            j = k + 1
            while not re.search(r"通知$", combined) and j < len(paras) and j - k <= 2:
                if not self._titleish(paras[j].clean.text):
                    break
                combined += paras[j].clean.text
                used.append(j)
                j += 1
            m = re.match(r"^(?P<issuer>.*?)关于印发(?P<title>.+?)的?通知$", combined)
            if m:
                issuer = m.group("issuer") or None
                title = m.group("title").strip("《》")
                for u in used:
                    paras[u].role = "title"
                break
        if title is None:
            run: list[int] = []
            for k, p in enumerate(paras):
                t = p.clean.text
                if self._titleish(t) and not ORG_END_RE.search(t) and t[0] not in "（(":
                    run.append(k)
                    if self._titleish(p.clean.text, complete=True):
                        title = "".join(paras[u].clean.text for u in run)
                        for u in run:
                            paras[u].role = "title"
                        break
                else:
                    run = []
        for p in paras:
            t = p.clean.text
            if self._titleish(t) and (m := STATUS_RE.search(t)):
                doc.status = m.group(1)
                if p.role == "preamble":
                    p.role = "title"
        if title is None:  # the document names itself in 《…》 (现将《…》印发给你们)
            for p in paras:
                if m := re.search(r"《([^》]{4,80}" + KIND + r")》", p.clean.text):
                    title = m.group(1)
                    break
        if title is None and self.lead:
            lead_text = "".join(self.lines[i].text for i in self.lead)
            if m := re.search(r"《([^》]{4,80}?)》", lead_text):
                title = m.group(1)
        doc.title = STATUS_RE.sub("", title or "").strip()
        # Number, date, signature.
        for p in paras:
            t = p.clean.text
            if NUMBER_LINE_RE.match(t) and doc.number is None:
                doc.number, p.role = t, "number"
        for k, p in enumerate(paras):
            t = p.clean.text
            iso = self._iso_date(t)
            if iso:
                doc.date, p.role = iso, "date"
                if k > 0 and self._titleish(paras[k - 1].clean.text):
                    prev = paras[k - 1].clean.text
                    if ORG_END_RE.search(prev) and paras[k - 1].role == "preamble":
                        paras[k - 1].role = "signature"
                        issuer = issuer or prev
        if issuer is None and self.lead:
            lead_text = "".join(self.lines[i].text for i in self.lead)
            if m := LEAD_ISSUER_RE.search(lead_text):
                org = re.sub(r"^.*?近日", "", m.group("org"))
                # News leads put the province before a city body (辽宁省营口市…): the body
                # signs without it.
                issuer = re.sub(r"^[\u4e00-\u9fff]{1,3}省(?=[\u4e00-\u9fff]{1,4}市)", "", org)
        doc.issuer = issuer
        # implements: 为贯彻落实《…》和《…》精神 / 根据《…》《…》等 in the preamble paragraphs.
        for p in paras:
            if p.role != "preamble":
                continue
            for title_ in self._implemented(p.clean.text):
                if title_ not in doc.implements:
                    doc.implements.append(title_)
        doc.preamble = "\n".join(p.clean.text for p in paras)

    @staticmethod
    def _iso_date(text: str) -> str | None:
        if m := DATE_LINE_RE.match(text):
            y, mo, d = (int(g) for g in m.groups())
        elif m := CN_DATE_LINE_RE.match(text):
            y = int(
                "".join(
                    str("〇一二三四五六七八九".index(c.replace("零", "〇"))) for c in m.group(1)
                )
            )
            mo, d = cn_number(m.group(2)) or 0, cn_number(m.group(3)) or 0
        else:
            return None
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            return None
        return f"{y:04d}-{mo:02d}-{d:02d}"

    @staticmethod
    def _implemented(text: str) -> list[str]:
        """Titles in 《》 governed by 贯彻落实/根据/依据/按照, up to the first ，or 。."""
        titles: list[str] = []
        for m in IMPLEMENTS_RE.finditer(text):
            pos, depth = m.end(), 0
            while pos < len(text):
                c = text[pos]
                if c == "《":
                    end = pos + 1
                    nest = 1
                    while end < len(text) and nest:
                        nest += {"《": 1, "》": -1}.get(text[end], 0)
                        end += 1
                    inner = text[pos + 1 : end - 1]
                    # 《X关于印发Y的通知》 transmits Y: Y is the document implemented.
                    if m2 := re.match(r"^.*?关于印发《?(.+?)》?的通知$", inner):
                        inner = m2.group(1)
                    if inner not in titles:
                        titles.append(inner)
                    pos = end
                    continue
                if c in "（(":
                    depth += 1
                elif c in "）)":
                    depth = max(0, depth - 1)
                elif c in "，。；" and depth == 0:
                    break
                pos += 1
        return titles

    # -- nodes ----------------------------------------------------------------------------------

    def _nodes(self) -> None:
        rule: tuple[int, list[str]] | None = None  # (level, units) from 以下均需…不再列出
        first_named: dict[str, ResponsibleUnit] = {}  # node id → its first own unit
        for b in self.builds:
            first = self.lines[b.lines[0]]
            b.clean = self._join(b.lines, _label_length(first.text, b.level))
            path = (*b.parent.node.path, b.label) if b.parent and b.parent.node else (b.label,)
            node = Node(
                id=f"{self.id}/{'/'.join(path)}",
                document=self.id,
                level=b.level,
                label=b.label,
                path=path,
                heading=self._heading(b.clean.text),
                text=b.clean.text,
                span=Span(0, 0),
            )
            b.node = node
            if b.parent and b.parent.node:
                b.parent.node.children.append(node)
            else:
                self.doc.nodes.append(node)
            units, found_rule = _units(b.clean.text, self.id)
            node.units = units
            if units:
                first_named[node.id] = units[0]
            # A rule covers later measures: nodes at its level or deeper that name units or
            # are leaves (not the group headings above them).
            if rule is not None and b.level >= rule[0] and (units or not b.children):
                node.units_inherited = True
                have = {u.name for u in node.units}
                node.units += [ResponsibleUnit(u) for u in rule[1] if u not in have]
            if found_rule:
                rule = (b.level, found_rule)
            node.deadlines = _deadlines(b.clean)
            node.targets = _targets(b.clean)
        # 牵头: where the plan says it (…牵头，…按职责分工负责), only those units lead; a plan
        # that never says it follows the usual order of such lists, the first named leads.
        if not any(u.lead for n in self.doc.walk() for u in n.units):
            self.doc.lead_rule = "first listed"
            for unit in first_named.values():
                unit.lead = True
        seen: Counter[str] = Counter()
        for b in self.builds:  # ids must be unique even for odd numbering
            assert b.node is not None
            seen[b.node.id] += 1
            if seen[b.node.id] > 1:
                b.node.id += f"#{seen[b.node.id]}"

    @staticmethod
    def _heading(text: str) -> str:
        """The heading phrase: the first line of a bare heading, else up to the first 。."""
        first = text.split("\n", 1)[0]
        head = first.split("。", 1)[0]
        # 1.大力发展新能源：推广…，到2025年…: a short phrase before ： is the heading.
        colon = re.search(r"[：:]", head)
        if (
            colon
            and 2 <= colon.start() <= 20
            and not re.search(r"[，,、；;“《]", head[: colon.start()])
        ):
            head = head[: colon.start()]
        return head.rstrip("：:；;，, ").strip()

    # -- spans ----------------------------------------------------------------------------------

    def _spans(self) -> None:
        raw = self.raw
        owned: list[tuple[int, int, str, object]] = []  # (start, end, kind, owner)
        markup = [(s.start, s.end) for ln in self.lines for s in ln.markup]

        def add_drop(a: int, b: int, reason: str) -> None:
            if b > a:
                self.dropped.append(Dropped(Span(a, b), raw[a:b], reason))

        if self.lead:
            a, b = self.lines[self.lead[0]].first, self.lines[self.lead[-1]].last
            assert a is not None and b is not None
            owned.append((a, b, "drop", self.lead_reason))
        for ln in self.lines:
            if ln.kind in ("watermark", "page"):
                assert ln.first is not None and ln.last is not None
                reason = (
                    "watermark: a notice inserted by the site that republished the text"
                    if ln.kind == "watermark"
                    else "page number"
                )
                owned.append((ln.first, ln.last, "drop", reason))
        for p in self.paras:
            a, z = self.lines[p.lines[0]].first, self.lines[p.lines[-1]].last
            assert a is not None and z is not None
            owned.append((a, z, "pre", None))
        for b in self.builds:
            content = [i for i in b.lines if self._content(i)]
            a, z = self.lines[content[0]].first, self.lines[content[-1]].last
            assert a is not None and z is not None
            owned.append((a, z, "node", b))
        owned.sort(key=lambda o: o[0])
        noise = sorted(  # enclosing pieces first: markup inside a watermark line goes with it
            [(o[0], o[1], o[3]) for o in owned if o[2] == "drop"]
            + [
                (a, b, "markup: formatting left over from a web page, markdown or Word")
                for a, b in markup
            ],
            key=lambda n: (n[0], -n[1]),
        )
        pre_spans: list[Span] = []
        node_pieces: dict[int, list[Span]] = {}
        for start, end, kind, owner in owned:
            if kind == "drop":
                add_drop(start, end, str(owner))
                continue
            # Carve noise (markup, watermark lines) out of the range.
            pieces: list[Span] = []
            pos = start
            for na, nb, reason in noise:
                if nb <= start or na >= end or (na, nb) == (start, end):
                    continue
                if not (start <= na and nb <= end) or na < pos:
                    continue
                if str(reason).startswith("markup"):
                    add_drop(na, nb, str(reason))
                if na > pos:
                    pieces.append(Span(pos, na))
                pos = max(pos, nb)
            if end > pos:
                pieces.append(Span(pos, end))
            if kind == "pre":
                pre_spans.extend(pieces)
            else:
                node_pieces[id(owner)] = pieces
        # Gaps between owned ranges: markup or whitespace (anything else stays unplaced).
        covered = sorted(
            [(d.span.start, d.span.end) for d in self.dropped]
            + [(s.start, s.end) for s in pre_spans]
            + [(s.start, s.end) for ps in node_pieces.values() for s in ps]
        )
        pos = 0
        gaps = []
        for a, b in covered:
            if a > pos:
                gaps.append((pos, a))
            pos = max(pos, b)
        if pos < len(raw):
            gaps.append((pos, len(raw)))
        for a, b in gaps:
            cur = a
            for ma, mb in markup:
                if ma >= cur and mb <= b:
                    self._drop_whitespace(cur, ma)
                    add_drop(
                        ma, mb, "markup: formatting left over from a web page, markdown or Word"
                    )
                    cur = mb
            self._drop_whitespace(cur, b)
        self.dropped.sort(key=lambda d: d.span.start)
        self.doc.preamble_spans = pre_spans
        self.doc.dropped = self.dropped
        for b in self.builds:
            assert b.node is not None
            pieces = node_pieces[id(b)]
            b.node.spans = pieces
            b.node.span = Span(pieces[0].start, pieces[-1].end)

    def _drop_whitespace(self, a: int, b: int) -> None:
        """Whitespace runs in [a, b) are dropped; other characters stay unplaced."""
        raw = self.raw
        i = a
        while i < b:
            if raw[i] in WHITESPACE:
                j = i
                while j < b and raw[j] in WHITESPACE:
                    j += 1
                reason = "whitespace: blank lines, indentation and line ends between paragraphs"
                self.dropped.append(Dropped(Span(i, j), raw[i:j], reason))
                i = j
            else:
                i += 1

    # -- numbers ----------------------------------------------------------------------------

    def numbers(self) -> list[NumberUse]:
        """Classify every digit run of the raw text (see number_uses)."""
        uses: list[NumberUse] = []
        raw = self.raw
        for d in self.dropped:
            for m in NUM_RE.finditer(d.text):
                a = d.span.start + m.start()
                uses.append(
                    NumberUse(
                        m.group(),
                        Span(a, a + len(m.group())),
                        "dropped",
                        "dropped",
                        d.reason,
                        d.text[max(0, m.start() - 10) : m.end() + 8],
                    )
                )
        for p in self.paras:
            t = p.clean.text
            for m in NUM_RE.finditer(t):
                reason = _why_not(t, m.start(), m.end())
                kind = "metadata" if p.role in ("number", "date") else "not a target"
                if p.role == "number":
                    reason = "the document's own number"
                elif p.role == "date":
                    reason = "the document's date"
                uses.append(
                    NumberUse(
                        m.group(),
                        p.clean.span(m.start(), m.end()),
                        "preamble",
                        kind,
                        reason,
                        _context(t, m.start(), m.end()),
                    )
                )
        for b in self.builds:
            node = b.node
            assert node is not None
            first = self.lines[b.lines[0]]
            label_len = _label_length(first.text, b.level)
            for m in NUM_RE.finditer(first.text[:label_len]):
                uses.append(
                    NumberUse(
                        m.group(),
                        first.clean.span(m.start(), m.end()),
                        node.id,
                        "label",
                        "section number (part of the node's label)",
                        first.text[:label_len],
                    )
                )
            t = b.clean.text
            for m in NUM_RE.finditer(t):
                span = b.clean.span(m.start(), m.end())
                kind, reason = _classify_in_node(node, t, m, span)
                uses.append(
                    NumberUse(
                        m.group(), span, node.id, kind, reason, _context(t, m.start(), m.end())
                    )
                )
        seen = [(u.span.start, u.span.end) for u in uses]
        for m in re.finditer(r"[0-9０-９]+", raw):  # anything not seen above (should not happen)
            if not any(a <= m.start() < b for a, b in seen):
                uses.append(
                    NumberUse(
                        m.group(),
                        Span(m.start(), m.end()),
                        "?",
                        "unexplained",
                        "not seen by the parser",
                        raw[max(0, m.start() - 10) : m.end() + 8],
                    )
                )
        uses.sort(key=lambda u: u.span.start)
        return uses


def _context(text: str, a: int, b: int) -> str:
    return text[max(0, a - 12) : b + 8].replace("\n", "⏎")


def _classify_in_node(node: Node, text: str, m: re.Match[str], span: Span) -> tuple[str, str]:
    for t in node.targets:
        if t.span.start <= span.start and span.end <= t.span.end:
            if t.scope and float(m.group()) == t.scope.value and _scope_here(t.scope, text, m):
                return (
                    "scope",
                    f"threshold of a target's scope (which things count): {t.scope.label()}",
                )
            if float(m.group()) == t.value and _value_here(t, text, m):
                return "target", f"{t.indicator} {t.comparator} {m.group()}{t.unit}"
    for d in node.deadlines:
        if d.span.start <= span.start and span.end <= d.span.end:
            return "deadline", f"deadline {d.year}"
    for t in node.targets:
        if t.span.start <= span.start and span.end <= t.span.end:
            if t.base_year is not None and int(float(m.group())) == t.base_year:
                return "base year", f"base year of a target ({t.indicator})"
            return "not a target", "part of a target's indicator (what the target is about)"
    return "not a target", _why_not(text, m.start(), m.end())


def _scope_here(scope: Scope, text: str, m: re.Match[str]) -> bool:
    return text[m.start() : m.start() + len(scope.text)] == scope.text or scope.text.endswith(
        text[m.start() : m.end() + len(scope.unit)]
    )


def _value_here(t: Target, text: str, m: re.Match[str]) -> bool:
    after = text[m.end() : m.end() + len(t.unit)]
    return after == t.unit or not t.unit


# ---------------------------------------------------------------------------------------------
# Responsible units


def _unit_clause(para: str) -> str | None:
    """The content of a responsibility clause ending the paragraph: 〔责任单位：…〕, （…负责）."""
    t = para.rstrip("。. ")
    if not t or t[-1] not in "）)〕】":
        m = re.search(r"(?:责任单位|牵头单位)\s*[：:][^。]*$", t)
        return m.group() if m else None
    close = t[-1]
    opens = {"）": "（(", ")": "（(", "〕": "〔", "】": "【"}[close]
    closes = {"）": "）)", ")": "）)", "〕": "〕", "】": "】"}[close]
    depth = 0
    for k in range(len(t) - 1, -1, -1):
        c = t[k]
        if c in closes:
            depth += 1
        elif c in opens:
            depth -= 1
            if depth == 0:
                content = t[k + 1 : -1].strip()
                if UNIT_LABEL_RE.match(content) or UNIT_END_RE.search(content):
                    return content
                return None
    # No opening bracket: "…。责任单位：市交通运输局、…负责）"
    m = re.search(r"(?:责任单位|牵头单位)\s*[：:][^。]*$", t[:-1])
    return m.group() if m else None


UNIT_ALIASES_PATH = Path(__file__).with_name("units.csv")
UNIT_ALIAS_COLUMNS = ("alias", "name", "documents", "reason")


@cache
def unit_aliases(path: Path = UNIT_ALIASES_PATH) -> dict[tuple[str | None, str], str]:
    """The alias table (plans/units.csv): (document or None for every document, alias) → the
    one name of the unit. A typo or truncation in one plan is fixed for that plan only."""
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != UNIT_ALIAS_COLUMNS:
            columns = ", ".join(UNIT_ALIAS_COLUMNS)
            raise PlanError(str(path), f"列名应为 expected the columns {columns}")
        table: dict[tuple[str | None, str], str] = {}
        for number, row in enumerate(reader, start=2):
            alias, name = (row.get("alias") or "").strip(), (row.get("name") or "").strip()
            if not alias or not name or alias == name or not (row.get("reason") or "").strip():
                where = f"第 {number} 行 row {number}"
                raise PlanError(str(path), f"{where}: 需填 alias、name、reason are needed")
            for doc in (row.get("documents") or "").split() or [None]:
                if (doc, alias) in table:
                    where = f"第 {number} 行 row {number}"
                    raise PlanError(str(path), f"{where}: {alias} 已是别名 is already an alias")
                table[(doc, alias)] = name
    names = set(table.values())
    for _doc, alias in table:
        if alias in names:
            both = "既是别名又是单位名称 is both an alias and a unit's name"
            raise PlanError(str(path), f"{alias} {both}")
    return table


def unit_name(name: str, doc_id: str, aliases: Mapping[tuple[str | None, str], str]) -> str:
    """The one name of a unit as the alias table gives it (the name itself when none)."""
    return aliases.get((doc_id, name)) or aliases.get((None, name)) or name


def _units(
    text: str, doc_id: str = "", aliases: Mapping[tuple[str | None, str], str] | None = None
) -> tuple[list[ResponsibleUnit], list[str]]:
    """Units named in the node's responsibility clauses (one name per unit, by the alias
    table), and units of a 以下均需 rule."""
    aliases = unit_aliases() if aliases is None else aliases
    units: list[ResponsibleUnit] = []
    rule_units: list[str] = []
    for para in text.split("\n"):
        content = _unit_clause(para)
        if content is None:
            continue
        for sentence in _split_top(content, "。"):
            sentence = sentence.strip()
            if not sentence:
                continue
            if m := RULE_RE.search(sentence):
                rule_units += [
                    unit_name(_clean_unit(u), doc_id, aliases)
                    for u in _split_top(m.group("units"), "、，,")
                ]
                sentence = sentence[: m.start()]
            for segment in _split_top(sentence, "，,；;"):
                segment = segment.strip(" 。.")
                lead = False
                if label := UNIT_LABEL_RE.match(segment):
                    lead = label.group().startswith("牵头")
                    segment = segment[label.end() :]
                if segment.endswith("牵头"):
                    lead = True
                segment = _strip_suffixes(segment)
                for name in _split_top(segment, "、"):
                    name = _clean_unit(name)
                    if not name:
                        continue
                    name = unit_name(name, doc_id, aliases)
                    found = next((u for u in units if u.name == name), None)
                    if found:
                        found.lead = found.lead or lead
                    else:
                        units.append(ResponsibleUnit(name, lead))
    return units, [u for u in rule_units if u]


def _strip_suffixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        text = text.strip()
        for suffix in UNIT_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
        if text.endswith("等") and len(text) > 1:
            text, changed = text[:-1], True
    return text


def _clean_unit(name: str) -> str:
    name = UNIT_LABEL_RE.sub("", name.strip(" 。."))
    return _strip_suffixes(name).strip()


# ---------------------------------------------------------------------------------------------
# Deadlines


@dataclass
class _Found:
    """A deadline with its position in the cleaned text and whether it is aspirational."""

    deadline: Deadline
    at: int
    aspirational: bool


def _deadlines(clean: Clean) -> list[Deadline]:
    return [f.deadline for f in _find_deadlines(clean)]


def _find_deadlines(clean: Clean) -> list[_Found]:
    text = clean.text
    titles = _bracket_depths(text, "《〔", "》〕")
    found: list[_Found] = []
    for m in DEADLINE_RE.finditer(text):
        if m.group("y"):
            a = m.start("to") if m.group("to") else m.start("y")
            before = text[max(0, a - 2) : a]
            if any(before.endswith(w) for w in BASE_BEFORE) or before.endswith("第"):
                continue
            if re.match(r"\d{1,2}月", text[m.end("y") + 1 :]) or titles[m.start("y")]:
                continue
            if a > 0 and text[a - 1].isdigit():
                continue
            year = int(m.group("y"))
            tail = m.group("tail") or ""
            eoy = "底" in tail or "末" in tail
            asp = bool(m.group("asp"))
        else:
            a = m.start() + len(m.group("asp2") or "")
            if titles[a]:
                continue
            year = 1955 + 5 * (10 + "一二三四五六七八九".index(m.group("fyp")) + 1)
            eoy = False
            asp = bool(m.group("asp2"))
        b = m.end()
        clause_start = max(text.rfind(c, 0, a) for c in "，。；\n") + 1
        asp = asp or bool(ASPIRATION_RE.search(text[clause_start:a]))
        found.append(_Found(Deadline(year, text[a:b], clean.span(a, b), eoy), a, asp))
    return found


# ---------------------------------------------------------------------------------------------
# Targets


@dataclass
class _Candidate:
    target: Target
    at: int  # position of the value (or of 全部) in the cleaned text


def _why_not(text: str, a: int, b: int) -> str:
    """Why the number text[a:b] is not a target value (for the number report)."""
    before, after = text[max(0, a - 1) : a], text[b : b + 2]
    titles = _bracket_depths(text, "《", "》")
    docno = _bracket_depths(text, "〔", "〕")
    if titles[a]:
        return "inside the title of a cited document 《…》"
    if docno[a] or re.match(r"\s*号", text[b:]) and "〕" in text[max(0, a - 2) : a]:
        return "document number of a cited document (〔year〕N号)"
    if (before and before.isascii() and before.isalpha()) or (
        after[:1].isascii() and after[:1].isalpha()
    ):
        return "part of a name or code (5G, PM2.5, 4C …)"
    if "·" in (before + after[:1]):
        return "a date written month·day (6·5 = 5 June, World Environment Day)"
    if re.match(r"年\d{1,2}月|月\d{1,2}日|日", text[b:]) or re.search(r"\d年$|\d月$", text[:a]):
        return "part of a date (year, month or day of 年月日)"
    if re.match(r"[—\-–~至到]\d{1,2}月|月", text[b:]) or re.search(r"\d[—\-–~至到]$", text[:a]):
        return "a range of months, not a quantity"
    if BOX_ITEM_RE.match(text, a):
        return "the item number of a line in a 专栏 box"
    if EQUIPMENT_SPEC_RE.search(text[max(0, a - 4) : a]):
        return "the rating of a piece of equipment (单机容量5兆瓦), not a level to reach"
    if text[max(0, a - 2) : a] == "专栏":
        return "the number of a 专栏 box"
    if re.match(r"[型代版式]", text[b:]):
        return "part of a model or product name (1.3型, 3.0版)"
    if text.startswith("分钟", b) and "圈" in text[b : b + 6]:
        return "part of a name (15分钟生活圈)"
    if before == "第" or text[max(0, a - 1) : a] == "第":
        return "an ordinal (第N次/届)"
    if re.match(r"年", text[b:]):
        return "a year that is not a deadline (a date or a period)"
    if re.match(r"\s*(?:" + "|".join(map(re.escape, UNITS)) + ")", text[b:]):
        return "a count that describes what the sentence is about, with no comparator"
    return "a bare number with neither unit nor comparator"


def _targets(clean: Clean) -> list[Target]:
    text = clean.text
    found_deadlines = _find_deadlines(clean)
    in_deadline = [False] * len(text)
    for f in found_deadlines:
        for k in range(f.at, f.at + len(f.deadline.text)):
            in_deadline[k] = True
    blocked = _blocked_numbers(text, in_deadline)
    candidates: list[_Candidate] = []
    used: set[int] = set()
    candidates += _respectively(clean, blocked, used)
    for m in NUM_RE.finditer(text):
        if m.start() in used or m.start() in blocked:
            continue
        cand = _single(clean, m, blocked)
        if cand:
            candidates.append(cand)
    candidates += _all_of(clean, blocked)
    _years(text, candidates, found_deadlines)
    candidates.sort(key=lambda c: c.at)
    return [c.target for c in candidates]


def _blocked_numbers(text: str, in_deadline: list[bool]) -> set[int]:
    """Start positions of numbers that cannot be target values (years, codes, document nos.)."""
    blocked = set()
    for m in NUM_RE.finditer(text):
        a, b = m.start(), m.end()
        if in_deadline[a]:
            blocked.add(a)
            continue
        reason = _why_not(text, a, b)
        if reason.startswith(
            ("inside", "document", "part of", "a date", "a month", "an ordinal", "a year")
        ):
            blocked.add(a)
    return blocked


def _unit_at(text: str, pos: int) -> str:
    for unit in UNITS:
        if text.startswith(unit, pos):
            return unit
    # 1.7万个 / 1.5万盏 / 2亿千瓦时: 万 and 亿 scale any unit; value and unit stay as written.
    if text[pos : pos + 1] in ("万", "亿") and (scaled := _unit_at(text, pos + 1)):
        if scaled[0] not in "万亿":
            return text[pos] + scaled
    return ""


def _clause_bounds(text: str, a: int, b: int) -> tuple[int, int]:
    start = max(text.rfind(c, 0, a) for c in "，。；：！？\n,;") + 1
    if (item := BOX_ITEM_RE.match(text, start)) and item.end() <= a:
        start = item.end()  # the 1. of a 专栏 item numbers the line, it is not the subject
    ends = [text.find(c, b) for c in "，。；！？\n,;"]
    end = min([e for e in ends if e >= 0], default=len(text))
    return start, end


def _cut_list(text: str, start: int, a: int) -> int:
    """Start the indicator after a 、 that ends a long item or one with a number."""
    cut = start
    k = start
    for pos in range(start, a):
        if text[pos] == "、":
            item = text[k:pos]
            if len(item) >= 8 or re.search(r"\d", item):
                cut = pos + 1
            k = pos + 1
    return cut


def _indicator_core(prefix: str) -> str:
    """The words before a value without deadlines (base years stay) and lead-in words."""
    for m in reversed(list(DEADLINE_RE.finditer(prefix))):
        if m.group("y") and any(prefix[: m.start()].endswith(w) for w in BASE_BEFORE):
            continue
        if m.group("y") and m.group("asp"):  # 力争到2025年: keep the 力争 for aspiration
            prefix = prefix[: m.start("to") if m.group("to") else m.start("y")] + prefix[m.end() :]
        else:
            prefix = prefix[: m.start()] + prefix[m.end() :]
    return LEAD_WORDS_RE.sub("", prefix).rstrip("的")


def _single(clean: Clean, m: re.Match[str], blocked: set[int]) -> _Candidate | None:
    text = clean.text
    a, b = m.start(), m.end()
    unit = _unit_at(text, b)
    after_unit = b + len(unit)
    c_start, c_end = _clause_bounds(text, a, b)
    start = _cut_list(text, c_start, a)
    prefix = text[start:a]
    q = QUALIFIER_RE.match(text, after_unit)
    qual = q.group() if q else ""
    rest_start = after_unit + len(qual)
    rest_end = c_end
    # The rest of the clause after the value, cut before a further list item.
    for pos in range(rest_start, c_end):
        if text[pos] == "、":
            tail = text[pos + 1 : c_end]
            if re.search(r"\d", tail) or len(tail) >= 8:
                rest_end = pos
                break
    rest = text[rest_start:rest_end]
    rest_clean = rest.lstrip("的")
    if re.search(r"\d", rest):
        other = [n for n in NUM_RE.finditer(text, rest_start, rest_end) if n.start() not in blocked]
        if other and not qual:
            tail_m = TAIL_RE.search(_indicator_core(prefix))
            if not (tail_m and tail_m.group("verb")):
                return None  # a count describing the subject of another number's target
    core = _indicator_core(prefix)
    tail = TAIL_RE.search(core)
    assert tail is not None
    verb = tail.group("verb") or ""
    base = int(tail.group("by")) if tail.group("by") else None
    core_before = core[: tail.start()]
    head = None if verb else HEAD_VERB_RE.match(core_before)
    if qual:
        comparator = {"及以上": "以上", "及以下": "以下", "之内": "以内"}.get(qual, qual)
        keep = (
            tail.group("mods") + verb
            if re.fullmatch(rf"{CHANGE_VERBS}|{ACTION_VERBS}", verb)
            else ""
        )
        indicator = core_before + keep
    elif verb:
        comparator = verb
        indicator = core_before
    elif head:
        comparator = head.group()
        indicator = core_before[head.end() :]
    elif not rest_clean and core_before and (is_cjk(core_before[-1]) or core_before[-1].isalnum()):
        comparator = ""  # a bare indicator–value pair: 废旧农膜回收率85%
        indicator = core_before
    else:
        return None
    if not unit and not (verb and re.fullmatch(LEVEL_VERBS, verb)) and comparator != "":
        return None
    text_start, text_end = start, rest_start if not rest_clean else rest_end
    if rest_clean and indicator:
        indicator = f"{indicator}…{rest_clean}"
    elif rest_clean:
        indicator = rest_clean
    if not indicator:  # 能源消费强度持续降低，较2020年下降15.5%: the subject is one clause back
        prev_end = c_start - 1
        if prev_end > 0 and text[prev_end] in "，,":
            p_start, _ = _clause_bounds(text, prev_end, prev_end)
            indicator = TREND_RE.sub("", _indicator_core(text[p_start:prev_end]))
            text_start = p_start
    aspirational = bool(ASPIRATION_RE.search(text[start:a]))
    value: float | None = float(m.group())
    scope = None
    if EQUIPMENT_SPEC_RE.search(text[max(0, a - 4) : a]):
        return None  # 单机容量5兆瓦及以上风电机组: which equipment, not a level to reach
    if rest_clean and unit not in SHARE_UNITS:
        found = _scope(text, core_before, comparator, value, unit, (a, rest_start), rest, c_end)
        if found is not None:
            scope, comparator, value, unit, text_end = found
            indicator = scope.label()
    target = Target(
        indicator=indicator,
        comparator=comparator,
        value=value,
        unit=unit,
        text=text[text_start:text_end],
        span=clean.span(text_start, text_end),
        base_year=base,
        aspirational=aspirational,
        scope=scope,
        # A scoped target's number says which things count; its requirement has none written.
        kind="qualitative" if scope is not None else "numeric",
    )
    return _Candidate(target, a)


# The rating of a piece of equipment before its value: a specification, not a target.
EQUIPMENT_SPEC_RE = re.compile(r"(?:单机容量|单机功率|额定功率|额定容量|单台容量)$")


# A value with a unit of size in the middle of a phrase (…35蒸吨/小时及以下燃煤锅炉…) is a
# threshold saying which things count, not what to reach: shares stay targets
# (完成全市80%以上钢铁产能超低排放改造).
SHARE_UNITS = ("", "%", "‰", "个百分点")
# The verb before a threshold that is the requirement itself: 城市建成区基本淘汰35蒸吨/小时…
SCOPE_ACTION_RE = re.compile(
    r"(?:基本|全面|全部|逐步|有序|加快|持续)?(?:淘汰|关停|推进|推动|完成|实施|改造)$"
)
# Head nouns that end the things a threshold picks out; what follows is the requirement.
SCOPE_HEADS = ("锅炉", "机组", "企业", "园区", "项目", "片区", "处理厂", "设施", "车辆", "工程")
# The measure word of a count of things left (基本淘汰 → 0 台).
COUNTERS = (("锅炉", "台"), ("机组", "台"), ("车", "辆"), ("车辆", "辆"), ("企业", "家"))


def _scope(
    text: str,
    before: str,
    comparator: str,
    value: float,
    unit: str,
    threshold: tuple[int, int],
    rest: str,
    c_end: int,
) -> tuple[Scope, str, float | None, str, int] | None:
    """The scope of a thresholded target and its own requirement: (scope, requirement, value,
    unit, end of the target text). None when no requirement can be found (left as it was)."""
    sign = COMPARATOR_SIGNS.get(comparator)
    if sign is None:
        return None
    action_m = SCOPE_ACTION_RE.search(before)
    place, action, quantity = "", "", before
    if action_m:
        place, action, quantity = before[: action_m.start()], action_m.group(), ""
    things = rest.lstrip("的")
    cut = max((things.rfind(h) + len(h) for h in SCOPE_HEADS if h in things), default=-1)
    subject, predicate = (things[:cut], things[cut:]) if cut > 0 else (things, "")
    text_end = threshold[1] + len(rest)
    if not (action or predicate) and c_end < len(text) and text[c_end] in "，,":
        # 对…低于100毫克/升的城市污水处理厂服务片区，实施管网系统化整治: the next clause
        _, next_end = _clause_bounds(text, c_end + 1, c_end + 1)
        following = text[c_end + 1 : next_end]
        if following and not re.search(r"\d", following):
            predicate, text_end = following, next_end
    requirement = action + predicate
    if not requirement or not subject:
        return None
    scope = Scope(
        subject=subject,
        comparator=sign,
        value=value,
        unit=unit,
        text=text[threshold[0] : threshold[1]],
        quantity=quantity,
        place=place,
    )
    if "淘汰" in requirement or "关停" in requirement:
        counter = next((c for head, c in COUNTERS if subject.endswith(head)), "个")
        return scope, requirement, 0.0, counter, text_end
    return scope, requirement, None, "", text_end


VALUE_LIST_RE = re.compile(
    r"分别(?P<verb>" + LEVEL_VERBS + "|" + CHANGE_VERBS + "|" + ACTION_VERBS + r")?"
    r"(?P<vals>\d+(?:\.\d+)?[^\d，。；、和及与]{0,6}(?:[、和及与,]\d+(?:\.\d+)?[^\d，。；、和及与]{0,6})+)"
)


def _respectively(clean: Clean, blocked: set[int], used: set[int]) -> list[_Candidate]:
    """分别达到3472吨、35吨… / 分别降低15%和18%: one target per value, indicators paired."""
    text = clean.text
    out: list[_Candidate] = []
    for m in VALUE_LIST_RE.finditer(text):
        values = [n for n in NUM_RE.finditer(text, m.start("vals"), m.end("vals"))]
        if any(n.start() in blocked for n in values):
            continue
        units = [_unit_at(text, n.end()) for n in values]
        for k in range(len(units) - 2, -1, -1):  # 10、20万吨: the last unit is shared
            units[k] = units[k] or units[k + 1]
        last = values[-1]
        end = last.end() + len(units[-1])
        q = QUALIFIER_RE.match(text, end)
        qual = q.group() if q else ""
        end += len(qual)
        c_start, _ = _clause_bounds(text, m.start(), m.start())
        subject_raw = text[c_start : m.start()]
        core = _indicator_core(subject_raw)
        tail = TAIL_RE.search(core)
        assert tail is not None
        base = int(tail.group("by")) if tail.group("by") else None
        subject = core[: tail.start()]
        verb = m.group("verb") or tail.group("verb") or ""
        items = _pair_items(subject, len(values))
        comparator = {"及以上": "以上", "及以下": "以下"}.get(qual, qual) or verb
        aspirational = bool(ASPIRATION_RE.search(subject_raw))
        for n, unit, item in zip(values, units, items, strict=True):
            used.add(n.start())
            out.append(
                _Candidate(
                    Target(
                        indicator=item,
                        comparator=comparator,
                        value=float(n.group()),
                        unit=unit,
                        text=text[c_start:end],
                        span=clean.span(c_start, end),
                        base_year=base,
                        aspirational=aspirational,
                    ),
                    n.start(),
                )
            )
    return out


def _pair_items(subject: str, count: int) -> list[str]:
    """化学需氧量、氨氮…重点工程减排量 with 4 values → 4 indicators sharing the suffix."""
    for seps in ("、和及与", "、"):
        items = [s for s in _split_top(subject, seps) if s]
        if len(items) == count:
            break
    else:
        return [subject] * count
    last = items[-1]
    heads = [(last.find(h), h) for h in INDICATOR_HEADS if last.find(h) > 0]
    if heads:
        pos = min(heads)[0]
        suffix = last[pos:]
        items = [
            it + suffix if len(it) <= 7 and not it.endswith(tuple(INDICATOR_HEADS)) else it
            for it in items[:-1]
        ] + [last]
    if prefix := PER_UNIT_PREFIX_RE.match(items[0]):
        items = [items[0]] + [
            it if PER_UNIT_PREFIX_RE.match(it) or len(it) > 10 else prefix.group() + it
            for it in items[1:]
        ]
    return items


ALL_RE = re.compile(r"全部(?!门)")
# Requirements without a digit that still say what to reach (kind "qualitative"): 全覆盖 at the
# end of its clause (坚持全覆盖提升… is a way of working, not a target), 基本淘汰/基本消除 X or
# X基本消除 (none left), 实现X零增长 (a growth of 0 %).
QUALITATIVE_RE = re.compile(r"全覆盖(?=[，。；,;！？\n]|$)|基本(?:淘汰|消除)|零增长")
QUALITATIVE_LEAD_RE = re.compile(r"^(?:基本|全面)?(?:实现|做到|推进|推动|实施)")


def _all_of(clean: Clean, blocked: set[int]) -> list[_Candidate]:
    """Targets without a digit: 全部实施循环化改造 (100 %), …全覆盖 (100 %), 基本淘汰/基本消除
    (0 left), 实现…零增长 (0 %)."""
    text = clean.text
    out = []
    for m in (*ALL_RE.finditer(text), *QUALITATIVE_RE.finditer(text)):
        c_start, c_end = _clause_bounds(text, m.start(), m.end())
        # 基本消除…空白区、城市生活污水集中收集率力争达到70%: the list item ends at the 、
        cut = next(
            (p for p in range(m.end(), c_end) if text[p] == "、" and NUM_RE.search(text, p, c_end)),
            c_end,
        )
        c_end = cut
        if any(n.start() not in blocked for n in NUM_RE.finditer(text, c_start, c_end)):
            continue  # a number in the clause: the target (or its scope) is that number's
        before = _indicator_core(text[c_start : m.start()])
        before = re.sub(r"(?:力争|争取)$", "", before)
        after = text[m.end() : c_end]
        word = m.group()
        if word.startswith("全部"):
            comparator, value, unit, indicator = "全部", 100.0, "%", before + after
        elif word == "全覆盖":
            comparator, value, unit = word, 100.0, "%"
            indicator = QUALITATIVE_LEAD_RE.sub("", before)
        elif word == "零增长":
            comparator, value, unit = word, 0.0, "%"
            indicator = QUALITATIVE_LEAD_RE.sub("", before)
        else:  # 基本淘汰 X / X 基本消除: what is left is counted in its measure word
            comparator, value = word, 0.0
            indicator = after or before
            unit = next((c for head, c in COUNTERS if indicator.endswith(head)), "个")
        if not indicator:
            continue
        out.append(
            _Candidate(
                Target(
                    indicator=indicator,
                    comparator=comparator,
                    value=value,
                    unit=unit,
                    text=text[c_start:c_end],
                    span=clean.span(c_start, c_end),
                    aspirational=bool(ASPIRATION_RE.search(text[c_start : m.start()])),
                    kind="qualitative",
                ),
                m.start(),
            )
        )
    return out


def _years(text: str, candidates: list[_Candidate], deadlines: list[_Found]) -> None:
    """Target year: the last deadline before the value in its sentence; a deadline also covers
    the sentences of targets that directly follow it (到2025年，…。Y达到60%。)."""
    bounds = [0] + [k + 1 for k, c in enumerate(text) if c in "。！？\n"] + [len(text) + 1]
    scope: int | None = None
    for s, e in zip(bounds, bounds[1:], strict=False):
        dls = [d for d in deadlines if s <= d.at < e]
        tgs = sorted((c for c in candidates if s <= c.at < e), key=lambda c: c.at)
        for c in tgs:
            prior = [d for d in dls if d.at < c.at]
            if prior:
                c.target.target_year = prior[-1].deadline.year
                c.target.aspirational = c.target.aspirational or prior[-1].aspirational
            elif scope is not None:
                c.target.target_year = scope
        if dls:
            scope = dls[-1].deadline.year
        elif not tgs:
            scope = None
