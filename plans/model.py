"""What a parsed plan document is: plain dataclasses, JSON-ready, shared by parser and catalog.

Offsets (`Span`) index the document's decoded raw text (`Document.raw`), so every character can
be accounted for: it belongs to the metadata/preamble, to exactly one node, or to a dropped
piece of noise with the reason it was dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive

    def __len__(self) -> int:
        return self.end - self.start


@dataclass
class ResponsibleUnit:
    name: str  # 市发改委（市能源局）
    lead: bool = False  # 牵头


@dataclass
class Deadline:
    year: int
    text: str  # 到2025年 / 2025年底前 / 2022年
    span: Span
    end_of_year: bool = False  # 年底前 / 年底 / 年年底前


# How a planner writes a threshold, and units shortened where the catalog shows them.
COMPARATOR_SIGNS = {
    "以上": "≥",
    "不低于": "≥",
    "不少于": "≥",
    "不小于": "≥",
    "达到": "≥",
    "以下": "≤",
    "以内": "≤",
    "不超过": "≤",
    "不高于": "≤",
    "不大于": "≤",
    "低于": "<",
    "少于": "<",
    "小于": "<",
    "超过": ">",
    "高于": ">",
    "多于": ">",
    "大于": ">",
}
SHORT_UNITS = {"蒸吨/小时": "t/h"}


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass
class Scope:
    """Which things a target is about, when the text sets a size or scope threshold: in
    城市建成区基本淘汰35蒸吨/小时及以下燃煤锅炉 the 35 says which boilers count (≤35 t/h, in
    the built-up area); the target is that none are left."""

    subject: str  # 燃煤锅炉 / 大型工矿企业和物流园区
    comparator: str  # ≤ ≥ < > (COMPARATOR_SIGNS)
    value: float
    unit: str
    text: str  # the threshold as written: 35蒸吨/小时及以下
    quantity: str = ""  # what the threshold measures when the text names it: 年综合能耗
    place: str = ""  # where: 城市建成区

    def label(self, short_units: bool = False) -> str:
        """城市建成区内 ≤35 t/h 燃煤锅炉 / 年综合能耗 ≥5 万吨标准煤的“两高一低”项目."""
        unit = SHORT_UNITS.get(self.unit, self.unit) if short_units else self.unit
        threshold = f"{self.comparator}{_number(self.value)} {unit}".strip()
        where = f"{self.place}内 " if self.place and not self.place.endswith("内") else ""
        where = where or (f"{self.place} " if self.place else "")
        if self.quantity:
            return f"{where}{self.quantity} {threshold}的{self.subject}"
        return f"{where}{threshold} {self.subject}"


@dataclass
class Target:
    """One target: 到2025年，清洁能源发电装机占比达到50%. A target with a `scope` is about the
    things inside a threshold; its own requirement is `comparator` (基本淘汰 → value 0 left,
    推进超低排放 → no number: `value` None)."""

    indicator: str  # 清洁能源发电装机占比
    comparator: str  # 达到 / 以上 / 以下 / 不超过 / 低于 / 下降 / 左右 / 力争 / 新增 / 基本淘汰 …
    value: float | None  # None: a qualitative requirement (of a scoped target)
    unit: str  # % / 个 / 万亩 / 吨 / 万吨/日 / 蒸吨/小时 / 毫克/升 / 台 …
    text: str  # the exact source text of this target
    span: Span
    target_year: int | None = None
    base_year: int | None = None
    aspirational: bool = False  # 力争 / 争取
    scope: Scope | None = None
    # numeric: the value is written (85%); qualitative: the text states a requirement without a
    # number (全覆盖, 基本淘汰, 实现…零增长), `value` is the one it implies (100 %, 0 left) or None.
    kind: str = "numeric"

    @property
    def bound(self) -> str:
        """How `value` bounds the outcome: ≥ ≤ < > (a threshold), ≈ (左右), = (a stated level
        or an implied one). A change or an amount to add (下降14%, 新增1.5万盏) is a minimum."""
        return target_bound(self.comparator, self.kind)

    def reads(self, short_units: bool = True) -> str:
        """The target as a planner reads it: 城市建成区内 ≤35 t/h 燃煤锅炉：基本淘汰 (0 台) /
        全市农村生活污水处理率：≥35 %."""
        return target_reads(
            self.indicator,
            self.comparator,
            self.value,
            self.unit,
            self.scope.label(short_units) if self.scope else None,
        )


# Qualitative requirements that state the outcome exactly (nothing above or below it).
EXACT_COMPARATORS = ("全部", "全覆盖", "基本淘汰", "基本消除", "零增长", "")


def target_bound(comparator: str, kind: str = "numeric") -> str:
    """See `Target.bound`."""
    if sign := COMPARATOR_SIGNS.get(comparator):
        return sign
    if comparator == "左右":
        return "≈"
    if kind == "qualitative" or comparator in EXACT_COMPARATORS:
        return "="
    return "≥"


def target_reads(
    indicator: str, comparator: str, value: float | None, unit: str, scope: str | None
) -> str:
    """See `Target.reads` (also for the catalog's rows, where the scope is a label already)."""
    if scope:
        number = f" ({_number(value)} {unit})".rstrip() if value is not None else ""
        return f"{scope}：{comparator}{number}"
    sign = COMPARATOR_SIGNS.get(comparator)
    amount = f"{_number(value)} {unit}".strip() if value is not None else ""
    if sign:
        return f"{indicator}：{sign}{amount}"
    return f"{indicator}：{comparator} {amount}".rstrip().replace("： ", "：")


@dataclass
class Node:
    """One numbered item of the hierarchy: 一、 (level 1) → （一） (2) → 1. (3) → —— (4)."""

    id: str  # stable: document + path, e.g. "001/三/八"
    document: str  # "001"
    level: int
    label: str  # "三" / "八" / "1" / "—1"
    path: tuple[str, ...]  # ("三", "八")
    heading: str  # 推动煤炭清洁高效利用
    text: str  # the node's own text (children excluded), hard line breaks joined
    span: Span  # the node's own text in Document.raw (children excluded)
    units: list[ResponsibleUnit] = field(default_factory=list)
    units_inherited: bool = False  # from an "以下均需…落实，不再单独列出" rule
    deadlines: list[Deadline] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    # `span` minus the noise carved out of it (a watermark line, markup), which is in
    # Document.dropped instead: these pieces, the preamble spans and the dropped pieces tile raw.
    spans: list[Span] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Dropped:
    """Text left out of every node, and why (watermark, repeated lead, markup …)."""

    span: Span
    text: str
    reason: str


@dataclass
class Document:
    id: str  # the seed file prefix: "000"
    path: str
    raw: str  # the decoded file text every Span indexes
    title: str
    issuer: str | None = None
    number: str | None = None  # 营政办发〔2022〕19号
    date: str | None = None  # ISO 2022-08-18
    status: str | None = None  # 征求意见稿
    implements: list[str] = field(default_factory=list)  # titles in 《…》
    # How the plan marks lead units: "stated" (…牵头) or, when it never says 牵头, "first
    # listed" (the usual order of 责任单位 lists: the first named leads).
    lead_rule: str = "stated"
    preamble: str = ""
    preamble_spans: list[Span] = field(default_factory=list)  # title block, 为…制定本方案
    nodes: list[Node] = field(default_factory=list)  # top level
    dropped: list[Dropped] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        for node in self.nodes:
            yield from node.walk()

    def node(self, node_id: str) -> Node:
        for n in self.walk():
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (the raw text is left out; spans still index it)."""
        data = asdict(self)
        data.pop("raw")
        return data
