"""The parser on a corpus of plans written for it (tests/plans/corpus/): documents of the genre
that the five seeds do not cover — a provincial 实施意见, a city 实施方案 with half-width
punctuation and 牵头单位/配合单位 pairs, a “十四五”节能减排综合工作方案 with 专栏 boxes, a news
paste with a lead that repeats the body, a GBK file without responsible units, a provincial
plan with 万/亿 values and a size threshold. Each has a hand-written expectation (<id>.json).

The five seeds are held to their goldens by test_parse_seeds.py; here they are scored the same
way as the corpus, so the figures in bench/README.md cover both.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from plans.corpus import load_expectation, markdown_table, score, target_matches
from plans.model import target_bound
from plans.parse import accountability, number_uses, parse_file

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.stem for p in CORPUS.glob("*.json"))
ROOT = Path(__file__).resolve().parents[2]
SEEDS = ["000", "001", "002", "003", "004"]


def case(doc_id: str) -> tuple:
    doc = parse_file(CORPUS / f"{doc_id}.txt")
    return doc, load_expectation(CORPUS / f"{doc_id}.json")


def test_the_corpus_has_six_to_eight_documents_one_of_them_gbk() -> None:
    assert 6 <= len(CASES) <= 8
    assert [c for c in CASES if (CORPUS / f"{c}.txt").exists()] == CASES
    raw = [(CORPUS / f"{c}.txt").read_bytes() for c in CASES]
    not_utf8 = []
    for c, data in zip(CASES, raw, strict=True):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8.append(c)
    assert not_utf8 == ["c5"]


@pytest.mark.parametrize("doc_id", CASES)
def test_structure_counts_are_exact(doc_id: str) -> None:
    doc, expected = case(doc_id)
    want = Counter(m[0].count("/") for m in expected["measures"])
    found = Counter(n.id.count("/") for n in doc.walk())
    assert found == want
    assert [(n.id, n.heading) for n in doc.walk()] == [(m[0], m[1]) for m in expected["measures"]]


@pytest.mark.parametrize("doc_id", CASES)
def test_metadata_and_the_repeated_lead(doc_id: str) -> None:
    doc, expected = case(doc_id)
    meta = expected["metadata"]
    assert {k: getattr(doc, k) for k in meta if k != "lead_dropped"} == {
        k: v for k, v in meta.items() if k != "lead_dropped"
    }
    lead = [d for d in doc.dropped if d.reason.startswith("repeated lead")]
    assert bool(lead) == meta["lead_dropped"]


@pytest.mark.parametrize("doc_id", CASES)
def test_responsible_units_and_leads(doc_id: str) -> None:
    doc, expected = case(doc_id)
    found = {n.id: [u.name + ("★" if u.lead else "") for u in n.units] for n in doc.walk()}
    assert found == {m[0]: m[2] for m in expected["measures"]}


@pytest.mark.parametrize("doc_id", CASES)
def test_every_expected_target_is_found_and_nothing_else(doc_id: str) -> None:
    doc, expected = case(doc_id)
    s = score(doc, expected)
    assert s.missed_targets == []
    assert s.extra_targets == []
    assert (s.target_precision, s.target_recall) == (1.0, 1.0)


@pytest.mark.parametrize("doc_id", CASES)
def test_no_distractor_becomes_a_target(doc_id: str) -> None:
    doc, expected = case(doc_id)
    assert expected["distractors"], "each document names the numbers that are no targets"
    assert score(doc, expected).distractors_taken == []


@pytest.mark.parametrize("doc_id", CASES)
def test_every_character_and_number_is_accounted_for(doc_id: str) -> None:
    doc, _ = case(doc_id)
    assert accountability(doc) == []
    assert [u for u in number_uses(doc) if u.kind == "unexplained"] == []


def test_qualitative_targets_carry_their_implied_value() -> None:
    by_comparator = {t.comparator: t for c in CASES for n in case(c)[0].walk() for t in n.targets}
    assert {k: (by_comparator[k].value, by_comparator[k].unit) for k in ("全覆盖", "全部")} == {
        "全覆盖": (100.0, "%"),
        "全部": (100.0, "%"),
    }
    assert (by_comparator["基本淘汰"].value, by_comparator["基本消除"].value) == (0.0, 0.0)
    (zero,) = [t for t in case("c3")[0].node("c3/一").targets if t.comparator == "零增长"]
    assert (zero.indicator, zero.value, zero.unit) == ("煤炭消费总量", 0.0, "%")
    assert {
        by_comparator[k].kind for k in ("全覆盖", "全部", "基本淘汰", "基本消除", "零增长")
    } == {"qualitative"}
    assert by_comparator["全覆盖"].reads().endswith("全覆盖 100 %")


def test_ten_thousands_keep_value_unit_and_bound() -> None:
    doc, _ = case("c2")
    piles = next(t for t in doc.node("c2/一").targets if t.unit == "万个")
    assert (piles.value, piles.unit, piles.bound) == (1.7, "万个", "≥")
    total = next(t for t in doc.node("c2/一").targets if t.unit == "万千瓦")
    assert (total.value, total.comparator, total.bound) == (950.0, "", "=")


def test_box_items_are_text_of_their_measure_not_measures() -> None:
    doc, _ = case("c3")
    node = doc.node("c3/二/三")
    assert node.children == [] and "专栏2农村环境整治重点\n1.完成7个乡镇污水管网延伸。" in node.text
    assert "c3/二/三/1" not in {n.id for n in doc.walk()}


def test_score_counts_a_wrong_target_as_missed_and_extra() -> None:
    doc, expected = case("c4")
    broken = json.loads(json.dumps(expected))
    broken["targets"][0]["value"] = 87
    s = score(doc, broken)
    assert (s.targets_matched, len(s.missed_targets), len(s.extra_targets)) == (
        len(expected["targets"]) - 1,
        1,
        1,
    )
    assert s.target_precision < 1 and s.target_recall < 1
    assert "| c4 |" in markdown_table([s])


def seed_expectation(doc_id: str) -> dict:
    """A seed's golden file in the corpus format (its targets carry kind and bound)."""
    golden = json.loads((Path(__file__).parent / "golden" / f"{doc_id}.json").read_text("utf-8"))
    return {
        "measures": [[m["id"], m["heading"], m["units"]] for m in golden["measures"]],
        "targets": [
            {
                "node": t["node"],
                "value": t["value"],
                "unit": t["unit"],
                "bound": t["bound"],
                "kind": t["kind"],
                "comparator": t["comparator"],
            }
            for t in golden["targets"]
        ],
        "distractors": [],
    }


@pytest.mark.parametrize("doc_id", SEEDS)
def test_the_seeds_score_fully_against_their_goldens(doc_id: str) -> None:
    expected = seed_expectation(doc_id)
    s = score(parse_file(ROOT / "data" / "plans" / f"{doc_id}.txt"), expected)
    figures = (s.structure_precision, s.structure_recall, s.target_precision, s.target_recall)
    assert figures == (1.0, 1.0, 1.0, 1.0)
    for t in expected["targets"]:  # the bound is the one the comparator and kind imply
        assert t["bound"] == target_bound(t["comparator"], t["kind"])


def test_target_matching_needs_value_unit_bound_and_kind() -> None:
    doc, _ = case("c6")
    t = next(t for t in doc.node("c6/二/二").targets if t.unit == "万盏")
    good = {"value": 1.5, "unit": "万盏", "bound": "≥", "kind": "numeric"}
    assert target_matches(t, good)
    for key, wrong in (("value", 15), ("unit", "盏"), ("bound", "="), ("kind", "qualitative")):
        assert not target_matches(t, good | {key: wrong})
