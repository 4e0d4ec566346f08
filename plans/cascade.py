"""The policy cascade: which measure of a parent plan each measure of a child plan implements.

A city plan (营口 000) says it implements a provincial one (辽宁 003); their （N） measures
correspond closely but not one-to-one: the city renames some, merges or moves sentences, adds
local measures and leaves provincial ones out. `match` pairs the measures by text similarity,
`Pair` carries a clause-level diff of what the city kept, added and dropped, and `explain`
renders the result for people. Plain data: no geo or web imports, numpy only.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from plans.model import Document, Node

__all__ = [
    "CLAUSE_THRESHOLD",
    "THRESHOLD",
    "Cascade",
    "Idf",
    "Pair",
    "clauses",
    "explain",
    "match",
    "measures",
    "normalize",
    "similarity",
]

# The pairing threshold, read off the seeds as parsed by plans.parse (scores by `_node_scores`).
# 营口 000 against 辽宁 003: the 30 measures that implement a provincial one score 0.34–0.97 with
# their counterpart (median 0.78; lowest （二）大力推行清洁生产制度, rewritten from the national
# 清洁生产推行方案 and sharing only its last two sentences with 003; next 0.49), while the best
# score of any 000 measure against a *wrong* 003 measure is 0.16 (000's own （二）主要目标, which
# gathers targets from all over 003, against （二十）), and 90% of wrong pairs score < 0.06.
# 0.25 is the middle of that empty 0.16–0.34 band, ~0.09 of margin on either side. For scale,
# plans that do not implement 003 mostly stay below it: 营口's 节能减排 plan 001 passes it only
# with its 总体要求 boilerplate (0.40, the same 以习近平…为指导 paragraph) and one topical
# neighbour (环境基础设施, 0.26), 辽源's circular-economy plan 004 with four (0.31–0.38), while
# 辽源's 002, a sibling built on the same national template as 003, pairs 12 measures at
# 0.26–0.70. So on a plan that does not declare it implements the parent, read pairs below
# ~0.4 as "same topic", not "implements".
THRESHOLD = 0.25

# Clauses (split at ，。；) count as the same phrase from this cosine on. On the 30 000↔003 pairs
# clause scores are a continuum, not two clusters: ≥ 0.95 for the ~220 verbatim clauses,
# 0.40–0.45 for clear rewordings (大力发展多式联运 / 推进铁水、公铁、公水等多式联运; 全市所有
# 宾馆、酒店、民宿不再主动提供一次性塑料用品 / 倡导酒店、餐饮等行业不主动提供一次性用品), and
# below 0.30 mostly for clauses that only share a frequent word (引导银行机构…). 0.40 keeps the
# rewordings; looser rewordings (积极宣传…先进典型和经验 / 积极宣扬先进典型, 0.32) show up as an
# added + dropped couple, which a reader can still see side by side.
CLAUSE_THRESHOLD = 0.40

# A heading is the measure's name: the one line a drafter keeps or rewords on purpose. It is
# short, so inside heading+text it would be swamped by the body: its bigrams count HEADING_WEIGHT
# times there, and HEADING_BONUS of the score is the heading-only cosine. On the seeds, heavier
# heading weights narrowed the gap between right and wrong pairs (renamed headings such as
# 大力推行清洁生产制度 / 健全清洁生产技术支撑体系 then dominate), hence the moderate values.
HEADING_WEIGHT = 2.0
HEADING_BONUS = 0.25

# 〔责任单位：…〕 (city) and （…按职责分工负责） (province) name who is responsible: they differ
# systematically between levels (省厅 vs 市局) and would make measures with the same units look
# alike. One level of nested （…） is allowed inside, e.g. 各县（市）区政府, 市发改委（市能源局）.
# The year bracket of a document number (辽政发〔2018〕24号) is text and stays.
_UNITS = re.compile(
    r"〔(?!\s*\d{4}\s*〕)[^〔〕]*〕"
    r"|（[^（）]*(?:（[^（）]*）[^（）]*)*负责）"
    r"|\([^()]*(?:\([^()]*\)[^()]*)*负责\)"
)
_CLAUSE_SPLIT = re.compile(r"[，。；：！？,;:!?\n]+")
_NOT_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"\s+")


def _strip_units(text: str) -> str:
    return _UNITS.sub("", text)


def normalize(text: str) -> str:
    """Comparable form of a piece of plan text: unit brackets, punctuation and spaces removed.

    Whitespace is deleted (in these texts it is noise: hard line breaks, stray spaces inside
    headings, 到 2025年 from PDF); punctuation becomes one space so that bigrams never straddle
    a clause boundary.
    """
    text = unicodedata.normalize("NFKC", _strip_units(text)).lower()
    return _NOT_WORD.sub(" ", _SPACE.sub("", text)).strip()


def _bigrams(text: str) -> Counter[str]:
    """Character bigrams of the normalized text; a one-character segment counts as itself."""
    grams: Counter[str] = Counter()
    for seg in normalize(text).split():
        if len(seg) == 1:
            grams[seg] += 1
        else:
            grams.update(seg[i : i + 2] for i in range(len(seg) - 1))
    return grams


class Idf:
    """Smoothed inverse document frequency of character bigrams over a set of texts.

    idf(g) = ln((1 + n) / (1 + df(g))) + 1, as in scikit-learn: a bigram in every text (绿色,
    发展) keeps weight 1, a rare one (蛤蜊, 岸电) weighs up to 1 + ln(1 + n). Unseen bigrams get the
    rare weight.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            df.update(set(_bigrams(text)))
        self.n = n
        self._weights = {g: math.log((1 + n) / (1 + c)) + 1.0 for g, c in df.items()}
        self._unseen = math.log(1 + n) + 1.0

    def __getitem__(self, gram: str) -> float:
        return self._weights.get(gram, self._unseen)


def _matrix(bags: Sequence[Mapping[str, float]], idf: Idf) -> np.ndarray:
    """Rows of L2-normalized sublinear-tf × idf weights (all-zero rows stay zero)."""
    vocab: dict[str, int] = {}
    for bag in bags:
        for g in bag:
            vocab.setdefault(g, len(vocab))
    m = np.zeros((len(bags), max(len(vocab), 1)))
    for i, bag in enumerate(bags):
        for g, tf in bag.items():
            if tf > 0:
                m[i, vocab[g]] = (1.0 + math.log(tf)) * idf[g]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    np.divide(m, norms, out=m, where=norms > 0)
    return m


def _cosines(
    rows: Sequence[Mapping[str, float]], cols: Sequence[Mapping[str, float]], idf: Idf
) -> np.ndarray:
    """Cosine of every row bag against every column bag (shape len(rows) × len(cols))."""
    if not rows or not cols:
        return np.zeros((len(rows), len(cols)))
    m = _matrix([*rows, *cols], idf)
    return np.clip(m[: len(rows)] @ m[len(rows) :].T, 0.0, 1.0)


def similarity(a: str, b: str, *, idf: Idf | None = None) -> float:
    """Similarity of two pieces of Chinese policy text, 0 (nothing shared) … 1 (same wording).

    Character-bigram TF-IDF cosine. Why: Chinese is written without spaces and word
    segmentation would need a dictionary (a new dependency, and plan jargon such as 散乱污 or
    公转铁 is rarely in one); most Chinese words are two characters, so bigrams approximate
    words and still overlap partially when a drafter rewords (支持→鼓励引导, 全省→全市).
    IDF (fitted over the nodes of both documents by `match`; over just `a` and `b` when not
    given) discounts the boilerplate every measure shares (绿色, 发展, 推进, 加强), sublinear tf
    keeps repeated words from dominating, and the cosine ignores length, since a city's text is
    often longer or shorter than the province's. Responsible-unit brackets, punctuation and
    whitespace are removed first (see `normalize`); bigrams never cross punctuation.
    """
    if idf is None:
        idf = Idf([a, b])
    return float(_cosines([_bigrams(a)], [_bigrams(b)], idf)[0, 0])


def _body(node: Node) -> str:
    """The node's text without a leading copy of its heading: parsers differ on whether
    `Node.text` repeats the heading (实施重点行业绿色化改造。深入贯彻…), and a repeated heading
    would count once more than intended and show up as a clause of its own. A node that is all
    heading (a paragraph the parser took for one) keeps its text."""
    text, heading = node.text, _SPACE.sub("", node.heading)
    i = k = 0
    while i < len(text) and k < len(heading):
        if text[i].isspace():
            i += 1
        elif text[i] == heading[k]:
            i += 1
            k += 1
        else:
            return text
    rest = text[i:]
    return rest if heading and k == len(heading) and normalize(rest) else text


def _node_bag(node: Node) -> Counter[str]:
    bag = Counter(_bigrams(_body(node)))
    for g, c in _bigrams(node.heading).items():
        bag[g] += HEADING_WEIGHT * c
    return bag


def _node_scores(children: Sequence[Node], parents: Sequence[Node], idf: Idf) -> np.ndarray:
    """Measure-to-measure scores: heading-weighted full-text cosine plus a heading-only bonus.

    The bonus is left out (full-text cosine alone) when either heading is empty, so a measure
    without a heading is not penalized.
    """
    full = _cosines([_node_bag(n) for n in children], [_node_bag(n) for n in parents], idf)
    head = _cosines(
        [_bigrams(n.heading) for n in children], [_bigrams(n.heading) for n in parents], idf
    )
    has_c = np.array([bool(normalize(n.heading)) for n in children], dtype=bool)
    has_p = np.array([bool(normalize(n.heading)) for n in parents], dtype=bool)
    both = np.outer(has_c, has_p) if len(children) and len(parents) else np.zeros(full.shape, bool)
    return np.where(both, (1 - HEADING_BONUS) * full + HEADING_BONUS * head, full)


def clauses(text: str) -> list[str]:
    """The clauses of a text: split at ，。；：！？ after removing unit brackets; spaces trimmed."""
    out = []
    for part in _CLAUSE_SPLIT.split(_strip_units(text)):
        part = re.sub(r"\s+", "", part)
        if normalize(part):
            out.append(part)
    return out


def _clause_diff(
    child: Node, parent: Node, idf: Idf, threshold: float
) -> tuple[int, list[str], list[str]]:
    """(kept, added, dropped): child clauses restating a parent clause, the rest of the child's,
    and parent clauses no child clause restates. Many-to-many: a split or merged sentence still
    counts as kept on both sides."""
    c = clauses(_body(child))
    p = clauses(_body(parent))
    sims = _cosines([_bigrams(x) for x in c], [_bigrams(x) for x in p], idf)
    child_hit = sims.max(axis=1) >= threshold if p else np.zeros(len(c), bool)
    parent_hit = sims.max(axis=0) >= threshold if c else np.zeros(len(p), bool)
    added = [x for x, hit in zip(c, child_hit, strict=True) if not hit]
    dropped = [x for x, hit in zip(p, parent_hit, strict=True) if not hit]
    return int(child_hit.sum()), added, dropped


def _hungarian(weights: np.ndarray) -> list[tuple[int, int]]:
    """Rows × columns assignment maximizing the total weight (Kuhn–Munkres with potentials,
    O(n²m)); every row of the smaller side is assigned. Weights must be finite."""
    transposed = weights.shape[0] > weights.shape[1]
    cost = -(weights.T if transposed else weights)
    n, m = cost.shape
    if n == 0:
        return []
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    way = np.zeros(m + 1, dtype=int)
    p = np.zeros(m + 1, dtype=int)  # p[j]: row (1-based) assigned to column j; 0 = free
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            free = ~used[1:]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = [(int(p[j]) - 1, j - 1) for j in range(1, m + 1) if p[j]]
    return sorted((c, r) if transposed else (r, c) for r, c in pairs)


def _greedy(weights: np.ndarray) -> list[tuple[int, int]]:
    """Highest weight first, each row and column used once (ties: lower index first)."""
    order = sorted(np.ndindex(*weights.shape), key=lambda ij: (-weights[ij], ij))
    rows: set[int] = set()
    cols: set[int] = set()
    out = []
    for i, j in order:
        if i not in rows and j not in cols:
            rows.add(i)
            cols.add(j)
            out.append((i, j))
    return sorted(out)


def measures(doc: Document, level: int = 2, *, leaves: bool = True) -> list[Node]:
    """The nodes of `doc` compared by `match`: every node at `level`, plus (with `leaves`) any
    childless node above it that has text, since a bare 一、 paragraph stands where another plan
    has （一）…（二） (辽宁 003's 一、 is 营口 000's （一）指导思想)."""
    return [
        n
        for n in doc.walk()
        if n.level == level or (leaves and n.level < level and not n.children and n.text.strip())
    ]


@dataclass
class Pair:
    """A child measure and the parent measure it implements, with a clause-level diff."""

    child_id: str
    parent_id: str
    score: float
    kept: int  # child clauses that restate a parent clause
    added: list[str] = field(default_factory=list)  # child clauses with no parent counterpart
    dropped: list[str] = field(default_factory=list)  # parent clauses the child left out

    @property
    def summary(self) -> str:
        """保留 9 句 · 新增 4 句 · 删去 2 句 (kept / added / dropped clauses)."""
        return f"保留 {self.kept} 句 · 新增 {len(self.added)} 句 · 删去 {len(self.dropped)} 句"


@dataclass
class Cascade:
    """How a child plan implements a parent plan, measure by measure."""

    child: str  # document ids
    parent: str
    level: int
    threshold: float
    pairs: list[Pair]
    added: list[str]  # child measure ids with no parent (what the child added)
    dropped: list[str]  # parent measure ids with no child (what the child dropped)
    headings: dict[str, str] = field(default_factory=dict)  # every compared node id → heading
    nearest: dict[str, tuple[str, float]] = field(default_factory=dict)  # unpaired → best, score

    @property
    def coverage(self) -> float:
        """Fraction of the child's measures that implement a parent measure."""
        n = len(self.pairs) + len(self.added)
        return len(self.pairs) / n if n else 0.0

    @property
    def parent_coverage(self) -> float:
        """Fraction of the parent's measures the child implements."""
        n = len(self.pairs) + len(self.dropped)
        return len(self.pairs) / n if n else 0.0

    def pair_of(self, node_id: str) -> Pair | None:
        """The pair a child or parent node id belongs to, if any."""
        return next((p for p in self.pairs if node_id in (p.child_id, p.parent_id)), None)


def match(
    child: Document,
    parent: Document,
    *,
    level: int | None = None,
    threshold: float = THRESHOLD,
    clause_threshold: float = CLAUSE_THRESHOLD,
    method: Literal["hungarian", "greedy"] = "hungarian",
    leaves: bool = True,
) -> Cascade:
    """Pair each measure of `child` (the implementing plan) with the `parent` measure it
    implements.

    Measures are the nodes at `level` (default 2, the （N） items; see `measures` for
    `leaves`). Every child × parent pair is scored (`_node_scores`, IDF over all nodes of both
    documents); pairs below `threshold` are impossible; the rest are assigned one-to-one,
    maximizing the total score (Hungarian method) so that two measures competing for one
    parent measure are resolved globally, or highest score first (`method="greedy"`).
    """
    level = 2 if level is None else level
    idf = Idf(f"{n.heading}。{_body(n)}" for d in (child, parent) for n in d.walk())
    kids = measures(child, level, leaves=leaves)
    pars = measures(parent, level, leaves=leaves)
    scores = _node_scores(kids, pars, idf)
    allowed = scores >= threshold
    weights = np.where(allowed, scores, 0.0)
    assign = _hungarian(weights) if method == "hungarian" else _greedy(weights)
    chosen = [(i, j) for i, j in assign if allowed[i, j]]

    pairs = []
    for i, j in chosen:
        kept, added, dropped = _clause_diff(kids[i], pars[j], idf, clause_threshold)
        pairs.append(
            Pair(kids[i].id, pars[j].id, round(float(scores[i, j]), 4), kept, added, dropped)
        )
    paired_c = {i for i, _ in chosen}
    paired_p = {j for _, j in chosen}
    nearest: dict[str, tuple[str, float]] = {}
    for i, n in enumerate(kids):
        if i not in paired_c and pars:
            j = int(np.argmax(scores[i]))
            nearest[n.id] = (pars[j].id, round(float(scores[i, j]), 4))
    for j, n in enumerate(pars):
        if j not in paired_p and kids:
            i = int(np.argmax(scores[:, j]))
            nearest[n.id] = (kids[i].id, round(float(scores[i, j]), 4))
    return Cascade(
        child=child.id,
        parent=parent.id,
        level=level,
        threshold=threshold,
        pairs=pairs,
        added=[n.id for i, n in enumerate(kids) if i not in paired_c],
        dropped=[n.id for j, n in enumerate(pars) if j not in paired_p],
        headings={n.id: n.heading for n in (*kids, *pars)},
        nearest=nearest,
    )


def _title(cascade: Cascade, node_id: str, limit: int = 24) -> str:
    heading = cascade.headings.get(node_id, "")
    return f"{node_id} {heading if len(heading) <= limit else heading[:limit] + '…'}".rstrip()


def _shorten(items: list[str], limit: int) -> list[str]:
    if len(items) <= limit:
        return items
    return [*items[:limit], f"…另 {len(items) - limit} 句 ({len(items) - limit} more)"]


def explain(cascade: Cascade, *, clauses_shown: int = 3) -> str:
    """A plain-text report, Chinese first: the pairs with their clause diff (+ added by the
    child, − dropped from the parent, at most `clauses_shown` each), then the unpaired
    measures with the nearest candidate and its score."""
    c = cascade
    lines = [
        f"政策传导：{c.child} 落实 {c.parent}（第 {c.level} 级措施，阈值 {c.threshold:.2f}）",
        f"Policy cascade: {c.child} implements {c.parent} "
        f"(level-{c.level} measures, threshold {c.threshold:.2f})",
        f"对应 {len(c.pairs)} 对；{c.child} 措施 {c.coverage:.0%} 有上级对应，"
        f"{c.parent} 措施 {c.parent_coverage:.0%} 被落实。",
        f"{len(c.pairs)} pairs; {c.coverage:.0%} of {c.child}'s measures implement one of "
        f"{c.parent}'s, {c.parent_coverage:.0%} of {c.parent}'s are implemented.",
        "",
        "对应措施 · pairs (score; kept / added / dropped clauses):",
    ]
    for p in c.pairs:
        lines.append(
            f"  {_title(c, p.child_id)} ↔ {_title(c, p.parent_id)}  {p.score:.2f}  {p.summary}"
        )
        lines += [f"      + {x}" for x in _shorten(p.added, clauses_shown)]
        lines += [f"      − {x}" for x in _shorten(p.dropped, clauses_shown)]
    for title, ids in (
        (f"{c.child} 新增（无上级对应）· added by {c.child}:", c.added),
        (f"{c.child} 未落实（上级措施无对应）· dropped from {c.parent}:", c.dropped),
    ):
        lines += ["", title]
        if not ids:
            lines.append("  无 · none")
        for node_id in ids:
            near = c.nearest.get(node_id)
            hint = f"（最接近 nearest: {_title(c, near[0])} {near[1]:.2f}）" if near else ""
            lines.append(f"  {_title(c, node_id)}{hint}")
    return "\n".join(lines)
