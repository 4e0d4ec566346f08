"""Tests for plans.cascade: pairing a city plan's measures with the provincial ones it implements.

Small invented documents are built from Node/Document directly (no parser); the seed test runs
the real 营口 000 → 辽宁 003 cascade through plans.parse.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from plans import cascade
from plans.cascade import Cascade, clauses, explain, match, measures, normalize, similarity
from plans.model import Document, Node, Span

ROOT = Path(__file__).resolve().parents[2]


def _node(doc: str, path: tuple[str, ...], heading: str, text: str = "", children=()) -> Node:
    return Node(
        id="/".join((doc, *path)),
        document=doc,
        level=len(path),
        label=path[-1],
        path=path,
        heading=heading,
        text=text,
        span=Span(0, 0),
        children=list(children),
    )


def _doc(doc: str, items: list[tuple[str, str, str]], part: str = "二") -> Document:
    """One part 二、 holding the （N） measures given as (label, heading, text)."""
    kids = [_node(doc, (part, label), heading, text) for label, heading, text in items]
    return Document(
        id=doc,
        path=f"{doc}.txt",
        raw="",
        title=doc,
        nodes=[_node(doc, (part,), "健全绿色低碳循环发展的生产体系", children=kids)],
    )


# Province-style measures (units in （…按职责分工负责）) ...
LOGISTICS = (
    "对标绿色物流先进方向",
    "积极调整运输结构，推进铁水、公铁、公水等多式联运，发展甩挂运输、共同配送。加快港口岸电"
    "设施建设。因地因企加快铁路专用线建设。鼓励城市物流配送、邮政快递等领域优先使用新能源或"
    "清洁能源汽车。（省交通运输厅、省发展改革委等按职责分工负责）",
)
RECYCLING = (
    "加大再生资源回收利用",
    "强化拆解能力建设，建立废旧家电生产、消费、回收、处理全链条回收处理体系。加强废纸、废塑料、"
    "废旧轮胎、废金属、废玻璃等再生资源回收利用，提升资源产出率和回收利用率。（省市场监管局负责）",
)
TRADE = (
    "融入绿色贸易体系",
    "以绿色“一带一路”创建为核心，拓展国际交流合作的广度与深度。充分利用世界银行等国际组织的"
    "扶持资金和政策，加强节能环保产业技术等方面的国际交流合作。（省发展改革委等按职责分工负责）",
)
OVERSEAS = (
    "发挥境外经贸合作区优势",
    "加快印尼镍铁综合产业园、柬埔寨西哈努克辽沈工业园等境外园区建设，支持企业走出去。"
    "（省商务厅负责）",
)
# ... and city-style rewrites (units in 〔责任单位：…〕).
LOGISTICS_CITY = (
    "加快发展绿色物流",
    "优化调整运输结构，推进大宗货物运输“公转铁”，大力发展多式联运。加快港口岸电建设与应用。"
    "因地因企加快铁路专用线建设，打通重要港区、重点园区货运服务最后一公里。鼓励城市物流配送、"
    "邮政快递等领域优先使用新能源或清洁能源汽车。〔责任单位：市交通运输局、市发改委〕",
)
HEALTH_CITY = (
    "推进智慧医疗建设",
    "推进“健康辽宁影像云”建设，实现我市三级医院医疗影像数据互联互通、共享互认。全面开展智能"
    "预约就诊、智能导医等数字健康服务。〔责任单位：市卫健委〕",
)


def test_normalize_strips_units_punctuation_and_spaces() -> None:
    assert normalize("加快港口岸电 设施建设。〔责任单位：市交通运输局、各县（市）区政府〕") == (
        "加快港口岸电设施建设"
    )
    assert normalize("提高处置能力和水平。（省住房城乡建设厅、省卫生健康委等按职责分工负责）") == (
        "提高处置能力和水平"
    )
    # a document number's year bracket is text, not a responsible unit
    assert "2018" in normalize("（辽政发〔2018〕24号）")


def test_similarity_ignores_units_and_punctuation() -> None:
    a = "加快港口岸电设施建设，因地因企加快铁路专用线建设。（省交通运输厅等按职责分工负责）"
    b = "加快港口岸电设施建设；因地因企加快 铁路专用线建设〔责任单位：市交通运输局〕"
    assert similarity(a, b) == pytest.approx(1.0)
    assert similarity(a, "加强黑土地保护，改善黑土地生态环境质量。") < 0.05
    reworded = similarity(a, "加快港口岸电建设与应用，加快铁路专用线建设。")
    assert 0.3 < reworded < 0.95
    assert similarity("", a) == 0.0


def test_identical_measures_pair_with_score_one() -> None:
    parent = _doc("P", [("十", *LOGISTICS), ("十一", *RECYCLING), ("十二", *TRADE)])
    child = _doc("C", [("一", *LOGISTICS), ("二", *RECYCLING), ("三", *TRADE)], part="三")
    c = match(child, parent)
    assert [(p.child_id, p.parent_id) for p in c.pairs] == [
        ("C/三/一", "P/二/十"),
        ("C/三/二", "P/二/十一"),
        ("C/三/三", "P/二/十二"),
    ]
    for p in c.pairs:
        assert p.score == pytest.approx(1.0, abs=1e-3)
        assert p.added == [] and p.dropped == []
        assert p.kept == len(clauses(parent.node(p.parent_id).text))
    assert c.added == [] and c.dropped == []
    assert c.coverage == c.parent_coverage == 1.0


def test_reworded_measure_pairs_and_unrelated_ones_are_added_and_dropped() -> None:
    parent = _doc("P", [("十", *LOGISTICS), ("十一", *RECYCLING), ("十二", *OVERSEAS)])
    child = _doc("C", [("十", *LOGISTICS_CITY), ("十一", *RECYCLING), ("十二", *HEALTH_CITY)])
    c = match(child, parent)
    pair = c.pair_of("C/二/十")
    assert pair is not None and pair.parent_id == "P/二/十"
    assert cascade.THRESHOLD < pair.score < 0.95
    assert c.added == ["C/二/十二"]  # the city's own 智慧医疗 measure
    assert c.dropped == ["P/二/十二"]  # the province's 境外经贸合作区, left out
    assert c.nearest["C/二/十二"][1] < cascade.THRESHOLD
    assert c.coverage == pytest.approx(2 / 3)


def test_heading_breaks_a_tie_between_equal_bodies() -> None:
    body = "加强绿色食品标志市场监察，提高畜禽粪污资源化利用水平。"
    parent = _doc("P", [("四", "加快种养殖业绿色发展进程", body), ("五", "推动产业融合发展", body)])
    child = _doc("C", [("四", "加快种养殖业绿色发展", body)])
    c = match(child, parent)
    assert [(p.child_id, p.parent_id) for p in c.pairs] == [("C/二/四", "P/二/四")]


def test_one_to_one_conflict_resolution() -> None:
    # A city measure mixing logistics with recycling, on its own, implements the province's
    # logistics measure best; next to a closer logistics copy it yields that and falls back to
    # its weaker recycling counterpart instead of sharing (low threshold: both links are weak).
    parent = _doc("P", [("十", *LOGISTICS), ("十一", *RECYCLING)])
    mixed = (
        "推动流通体系绿色转型",
        "推进铁水、公铁、公水等多式联运，加快港口岸电设施建设，因地因企加快铁路专用线建设。"
        "加强废纸、废塑料等再生资源回收利用。",
    )
    alone = match(_doc("C", [("二", *mixed)]), parent, threshold=0.15)
    assert [p.parent_id for p in alone.pairs] == ["P/二/十"]
    child = _doc("C", [("一", *LOGISTICS_CITY), ("二", *mixed)])
    for method in ("hungarian", "greedy"):
        c = match(child, parent, threshold=0.15, method=method)
        assert [(p.child_id, p.parent_id) for p in c.pairs] == [
            ("C/二/一", "P/二/十"),
            ("C/二/二", "P/二/十一"),
        ], method
    # Two copies of one measure: one pairs, the other is reported with its nearest rival.
    twice = _doc("C", [("一", *LOGISTICS), ("二", *LOGISTICS)])
    c = match(twice, parent)
    assert len(c.pairs) == 1 and c.pairs[0].parent_id == "P/二/十"
    assert len(c.added) == 1 and c.nearest[c.added[0]][0] == "P/二/十"
    assert c.dropped == ["P/二/十一"]


def test_hungarian_beats_greedy_when_the_top_pair_blocks_two() -> None:
    # Greedy takes the single best 0.9 and strands the other row; the optimum pairs both.
    w = np.array([[0.9, 0.8], [0.85, 0.0]])
    assert cascade._greedy(w) == [(0, 0), (1, 1)]
    assert cascade._hungarian(w) == [(0, 1), (1, 0)]


def _perms(n: int, k: int) -> Iterator[tuple[int, ...]]:
    return itertools.permutations(range(n), k)


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (4, 4), (1, 4), (0, 3)])
def test_hungarian_is_optimal(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        w = np.where(rng.random(shape) < 0.3, 0.0, rng.random(shape))
        got = cascade._hungarian(w)
        n, m = shape
        assert len(got) == min(n, m)
        assert len({i for i, _ in got}) == len({j for _, j in got}) == len(got)
        wide = w if n <= m else w.T  # rows ≤ columns: try every injective row → column map
        best = max(
            (sum(wide[i, j] for i, j in enumerate(cols)) for cols in _perms(*wide.shape[::-1])),
            default=0.0,
        )
        assert sum(w[i, j] for i, j in got) == pytest.approx(best)


def test_clause_level_kept_added_dropped() -> None:
    parent = _doc(
        "P",
        [
            (
                "八",
                "提升产业园区和产业集群循环化水平",
                "严格准入标准，完善循环产业链条。鼓励化工等产业园区配套建设危险废物集中贮存设施；"
                "利用鞍钢、本钢、凌钢等余热资源为附近工业园区提供供热服务。"
                "（省发展改革委等按职责分工负责）",
            )
        ],
    )
    child = _doc(
        "C",
        [
            (
                "八",
                "提升开发区（园区）循环化水平",
                "科学编制产业园区开发建设规划，严格准入标准，完善循环产业链条。鼓励化工等产业园区"
                "配套建设危险废物集中贮存设施。利用鞍钢、日钢（五矿）等余热资源为附近工业园区、"
                "居民区提供供热服务。〔责任单位：市发改委〕",
            )
        ],
    )
    (pair,) = match(child, parent).pairs
    assert pair.added == ["科学编制产业园区开发建设规划"]
    assert pair.dropped == []  # 鞍钢、本钢、凌钢 → 鞍钢、日钢（五矿）: reworded, still kept
    assert pair.kept == 4
    assert "保留 4 句" in pair.summary and "新增 1 句" in pair.summary
    # Leave the 危险废物 clause out and it shows as dropped.
    child.nodes[0].children[0].text = "严格准入标准，完善循环产业链条。"
    (pair,) = match(child, parent).pairs
    assert pair.kept == 2 and pair.added == []
    assert pair.dropped == [
        "鼓励化工等产业园区配套建设危险废物集中贮存设施",
        "利用鞍钢、本钢、凌钢等余热资源为附近工业园区提供供热服务",
    ]


def test_empty_documents() -> None:
    empty = Document(id="E", path="E.txt", raw="", title="E")
    full = _doc("P", [("十", *LOGISTICS)])
    c = match(empty, full)
    assert c.pairs == [] and c.added == [] and c.dropped == ["P/二/十"]
    assert c.coverage == 0.0 and c.parent_coverage == 0.0
    assert match(full, empty).added == ["P/二/十"]


def test_text_repeating_the_heading_is_the_same_measure() -> None:
    parent = _doc("P", [("十", *LOGISTICS)])
    heading, text = LOGISTICS_CITY
    plain = match(_doc("C", [("十", heading, text)]), parent).pairs[0]
    repeated = match(_doc("C", [("十", heading, f"{heading}。{text}")]), parent).pairs[0]
    assert repeated.score == pytest.approx(plain.score)
    assert repeated.added == plain.added and heading not in repeated.added


def test_measures_level_and_childless_leaves() -> None:
    guide = _node("P", ("一",), "总体要求", "以习近平新时代中国特色社会主义思想为指导。")
    doc = _doc("P", [("一", *LOGISTICS)])
    doc.nodes.insert(0, guide)
    assert [n.id for n in measures(doc)] == ["P/一", "P/二/一"]
    assert [n.id for n in measures(doc, leaves=False)] == ["P/二/一"]
    assert [n.id for n in measures(doc, 1, leaves=False)] == ["P/一", "P/二"]


def test_explain_reports_pairs_added_and_dropped_chinese_first() -> None:
    parent = _doc("P", [("十", *LOGISTICS), ("十二", *OVERSEAS)])
    child = _doc("C", [("十", *LOGISTICS_CITY), ("十二", *HEALTH_CITY)])
    c = match(child, parent)
    text = explain(c)
    first = text.splitlines()[0]
    assert first.startswith("政策传导") and "C" in first and "P" in first
    assert "C/二/十 加快发展绿色物流 ↔ P/二/十 对标绿色物流先进方向" in text
    assert "+ 推进大宗货物运输“公转铁”" in text
    assert "C/二/十二 推进智慧医疗建设" in text.split("新增")[-1]
    assert "P/二/十二 发挥境外经贸合作区优势" in text.split("未落实")[-1]
    empty = explain(Cascade("C", "P", 2, 0.25, [], [], []))
    assert "无 · none" in empty


# --- the seeds: 营口 000 implements 辽宁 003 ---------------------------------------------------

SEED_PAIRS = {
    "000/二/八": "003/二/八",  # 提升开发区（园区）循环化水平 ↔ 提升产业园区和产业集群循环化水平
    "000/五/十八": "003/五/十八",  # 全面提升城乡人居环境 ↔ 改善城乡人居环境
    "000/三/十": "003/三/十",  # 加快发展绿色物流 ↔ 对标绿色物流先进方向
    "000/二/二": "003/二/二",  # 大力推行清洁生产制度 ↔ 健全清洁生产技术支撑体系
    "000/七/二十七": "003/七/二十七",  # 培育绿色交易市场机制 ↔ 培育绿色交易市场
    "000/八/二十八": "003/七/二十八",  # 加强组织领导 ↔ 督促落实形成合力 (part 八 vs 七)
    "000/八/二十九": "003/七/二十九",  # 营造良好氛围
}


def test_seed_000_implements_003() -> None:
    from plans.parse import parse_file

    child, parent = (parse_file(ROOT / "data" / "plans" / f"{d}.txt") for d in ("000", "003"))
    c = match(child, parent)
    got = {p.child_id: p.parent_id for p in c.pairs}
    for kid, par in SEED_PAIRS.items():
        assert got.get(kid) == par, (kid, got.get(kid), c.nearest.get(kid))
    # Every one of 000's 29 numbered measures （一）…（二十九） below 总体要求 pairs with 003's
    # measure of the same number (parts differ: 000 八、 holds what 003 puts under 七、); 000's
    # （一）指导思想 pairs with 003's bare 一、 paragraph; （二）主要目标 (targets gathered from all
    # over 003) is the city's addition; nothing of 003 is dropped: 30 of 31 pair (97%).
    numbered = [p for p in c.pairs if not p.child_id.startswith("000/一/")]
    assert len(numbered) == 29
    assert all(p.child_id.split("/")[-1] == p.parent_id.split("/")[-1] for p in numbered)
    assert got["000/一/一"] == "003/一"
    assert c.added == ["000/一/二"]
    assert c.dropped == []
    assert c.coverage == pytest.approx(30 / 31)
    assert min(p.score for p in c.pairs) > cascade.THRESHOLD + 0.05
    # 000 （八） keeps most of 003's clauses, adds its own planning and 2025 target, and leaves out
    # 推进既有产业园区和产业集群循环化改造.
    parks = c.pair_of("000/二/八")
    assert parks is not None and parks.kept >= 8
    assert "科学编制产业园区开发建设规划" in parks.added
    assert parks.dropped == ["推进既有产业园区和产业集群循环化改造"]
