"""The five seed plans against their golden files (tests/plans/golden/<id>.json).

Each golden file pins, for one plan: the metadata, the number of nodes per level (counted by
reading the text), every node with its heading, units (★ = lead) and deadlines, EVERY
quantitative target, and every number in the text that is not a target value or a deadline,
with the reason — so a reviewer can see that no digit was skipped.

After a deliberate parser change, rewrite the golden files and review the diff:

    .venv/bin/python tests/plans/test_parse_seeds.py --write
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":  # run as a script to rewrite the golden files
    sys.path.insert(0, str(ROOT))

from plans.model import Document  # noqa: E402
from plans.parse import accountability, number_uses, parse_file  # noqa: E402
from plans.text import squeeze  # noqa: E402

PLANS = ROOT / "data" / "plans"
GOLDEN = Path(__file__).parent / "golden"
SEEDS = ["000", "001", "002", "003", "004"]

# Counted by reading the texts (not by running the parser): nodes per level 一、/（一）/1./——.
COUNTS = {
    "000": {1: 8, 2: 31, 3: 0, 4: 0},  # （一）（二） under 一、, then （一）…（二十九） run on
    "001": {1: 5, 2: 22, 3: 0, 4: 0},  # （一）…（十） / （一）…（九） / （一）…（三）
    "002": {1: 7, 2: 25, 3: 0, 4: 0},  # （一）…（二十五） run on across the parts
    "003": {1: 7, 2: 29, 3: 0, 4: 0},  # 一、 has no （N）; （一）…（二十九） run on
    "004": {1: 7, 2: 17, 3: 28, 4: 5},  # 5 principles (——), 6+3+6+3+3+7 numbered tasks
}


@cache
def parsed(doc_id: str) -> Document:
    return parse_file(PLANS / f"{doc_id}.txt")


def snapshot(doc: Document) -> dict[str, Any]:
    """What the golden file pins for one document."""
    levels = Counter(n.level for n in doc.walk())
    dropped = Counter(d.reason for d in doc.dropped)
    return {
        "id": doc.id,
        "metadata": {
            "title": doc.title,
            "issuer": doc.issuer,
            "number": doc.number,
            "date": doc.date,
            "status": doc.status,
            "implements": doc.implements,
            "lead_rule": doc.lead_rule,
        },
        "counts": {str(level): levels.get(level, 0) for level in (1, 2, 3, 4)},
        "measures": [
            {
                "id": n.id,
                "heading": n.heading,
                "units": [u.name + ("★" if u.lead else "") for u in n.units],
                "units_inherited": n.units_inherited,
                "deadlines": [
                    f"{d.text} → {d.year}{' (end of year)' if d.end_of_year else ''}"
                    for d in n.deadlines
                ],
            }
            for n in doc.walk()
        ],
        "targets": [
            {
                "node": n.id,
                "indicator": t.indicator,
                "comparator": t.comparator,
                "value": t.value,
                "unit": t.unit,
                "target_year": t.target_year,
                "base_year": t.base_year,
                "aspirational": t.aspirational,
                "text": t.text,
                "kind": t.kind,
                "bound": t.bound,
                "scope": t.scope.label() if t.scope else None,
                "reads": t.reads(),
            }
            for n in doc.walk()
            for t in n.targets
        ],
        # Every run of digits in the raw text, by what it is (label = section number 1. 2. …).
        "number_kinds": dict(sorted(Counter(u.kind for u in number_uses(doc)).items())),
        "numbers_not_targets": [
            {"number": u.text, "where": u.where, "reason": u.reason, "context": u.context}
            for u in number_uses(doc)
            if u.kind not in ("target", "deadline", "label")
        ],
        "dropped": [{"reason": reason, "pieces": count} for reason, count in dropped.items()],
    }


@cache
def snapshot_of(doc_id: str) -> dict[str, Any]:
    return snapshot(parsed(doc_id))


def golden(doc_id: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{doc_id}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc_id", SEEDS)
def test_counts_per_level_match_the_reading(doc_id: str) -> None:
    levels = Counter(n.level for n in parsed(doc_id).walk())
    assert {lv: levels.get(lv, 0) for lv in (1, 2, 3, 4)} == COUNTS[doc_id]
    assert golden(doc_id)["counts"] == {str(k): v for k, v in COUNTS[doc_id].items()}


@pytest.mark.parametrize("doc_id", SEEDS)
@pytest.mark.parametrize(
    "part", ["metadata", "measures", "targets", "number_kinds", "numbers_not_targets"]
)
def test_matches_golden(doc_id: str, part: str) -> None:
    assert snapshot_of(doc_id)[part] == golden(doc_id)[part]


@pytest.mark.parametrize("doc_id", SEEDS)
def test_every_character_is_accounted_for(doc_id: str) -> None:
    doc = parsed(doc_id)
    assert accountability(doc) == []
    assert snapshot_of(doc_id)["dropped"] == golden(doc_id)["dropped"]


@pytest.mark.parametrize("doc_id", SEEDS)
def test_every_number_is_explained_and_spans_hold_their_text(doc_id: str) -> None:
    doc = parsed(doc_id)
    assert [u for u in number_uses(doc) if u.kind == "unexplained"] == []
    for node in doc.walk():
        for t in node.targets:
            assert squeeze(doc.raw[t.span.start : t.span.end]) == t.text
        for d in node.deadlines:
            assert squeeze(doc.raw[d.span.start : d.span.end]) == d.text


@pytest.mark.parametrize("doc_id", ["001", "003"])
def test_the_same_plan_in_gb18030_with_crlf_line_ends_parses_the_same(
    doc_id: str, tmp_path: Path
) -> None:
    text = (PLANS / f"{doc_id}.txt").read_text(encoding="utf-8").replace("\n", "\r\n")
    path = tmp_path / f"{doc_id}.txt"
    path.write_bytes(text.encode("gb18030"))
    again, first = parse_file(path), parsed(doc_id)
    assert [(n.id, n.heading, n.text) for n in again.walk()] == [
        (n.id, n.heading, n.text) for n in first.walk()
    ]
    assert [(t.indicator, t.value, t.text) for n in again.walk() for t in n.targets] == [
        (t.indicator, t.value, t.text) for n in first.walk() for t in n.targets
    ]
    assert (again.title, again.implements) == (first.title, first.implements)


def test_seed_copies_are_byte_identical_to_the_published_files() -> None:
    shared = Path("/work/shared/seeds")
    if not shared.is_dir():
        pytest.skip("the shared seed directory is not on this machine")
    for doc_id in SEEDS:
        (original,) = shared.glob(f"{doc_id}_*.txt")
        assert (PLANS / f"{doc_id}.txt").read_bytes() == original.read_bytes()


def test_known_measures() -> None:
    """A few measures the product is built around, spelled out (the goldens hold the rest)."""
    boilers = parsed("001").node("001/三/八")
    assert boilers.heading == "推动煤炭清洁高效利用"
    assert [(u.name, u.lead) for u in boilers.units][:2] == [
        ("市发改委", False),  # 市发改委（市能源局） by the alias table (plans/units.csv)
        ("市工信局", False),
    ]
    assert boilers.units_inherited
    (t,) = boilers.targets
    # The 35 t/h is the scope (which boilers count); the target is none left (基本淘汰).
    assert (t.comparator, t.value, t.unit, t.target_year) == ("基本淘汰", 0.0, "台", 2025)
    assert t.scope is not None
    assert (t.scope.comparator, t.scope.value, t.scope.unit) == ("≤", 35.0, "蒸吨/小时")
    assert (t.scope.place, t.scope.subject) == ("城市建成区", "燃煤锅炉")
    assert t.reads() == "城市建成区内 ≤35 t/h 燃煤锅炉：基本淘汰 (0 台)"
    assert t.text == "城市建成区基本淘汰35蒸吨/小时及以下燃煤锅炉"
    # A spur line for enterprises of ≥150万吨: the size is the scope, the line the requirement.
    spur = next(t for t in parsed("001").node("001/三/四").targets if t.scope)
    assert spur.scope.label() == "新（迁）建年大宗货物运量 ≥150 万吨的大型工矿企业和物流园区"
    assert (spur.comparator, spur.value) == ("原则上同步规划建设铁路专用线", None)
    big = next(t for t in parsed("001").node("001/三/一").targets if t.scope)
    assert big.reads() == "≥65 t/h 燃煤锅炉：推进超低排放"
    # A share in the middle of a phrase stays a target: 完成全市80%以上钢铁产能超低排放改造.
    assert any(t.value == 80 and not t.scope for t in parsed("001").node("001/三/一").targets)
    assert parsed("000").node("000/二/八").heading == "提升开发区（园区）循环化水平"
    assert parsed("004").node("004/四/一/4").heading == "加快推动园区循环化发展"
    assert [u.name for u in parsed("000").node("000/一/二").units][-2:] == [
        "各县（市）区政府",
        "开发区（园区）管委会",
    ]
    lead = [(u.name, u.lead) for u in parsed("001").node("001/三/五").units][:4]
    assert lead == [
        ("市生态环境局", True),
        ("市农业农村局", True),
        ("市发改委", True),
        ("市工信局", False),
    ]
    # 001 says 牵头 where a unit leads; 000, 002, 003 and 004 never do: their first unit leads.
    assert [parsed(d).lead_rule for d in SEEDS] == ["first listed", "stated"] + ["first listed"] * 3
    assert [(u.name, u.lead) for u in parsed("004").node("004/四/二/1").units][:2] == [
        ("市农业农村局", True),  # 市农业农村 in the text, truncated
        ("市科技局", False),
    ]


def write_goldens() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for doc_id in SEEDS:
        data = snapshot(parse_file(PLANS / f"{doc_id}.txt"))
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        (GOLDEN / f"{doc_id}.json").write_text(text, encoding="utf-8")
        print(f"wrote {GOLDEN / f'{doc_id}.json'}: {len(data['targets'])} targets")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    write_goldens()
