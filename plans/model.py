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


@dataclass
class Target:
    """One quantitative target: 到2025年，清洁能源发电装机占比达到50%."""

    indicator: str  # 清洁能源发电装机占比
    comparator: str  # 达到 / 以上 / 以下 / 不超过 / 低于 / 下降 / 左右 / 力争 / 新增 …
    value: float
    unit: str  # % / 个 / 万亩 / 吨 / 万吨/日 / 蒸吨/小时 / 毫克/升 …
    text: str  # the exact source text of this target
    span: Span
    target_year: int | None = None
    base_year: int | None = None
    aspirational: bool = False  # 力争 / 争取


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
