"""Corrections over a parsed plan (plans.corrections): each kind, kept in corrections.json,
applied again after a re-parse, a stale one reported, and the catalog taking the corrected
document (marked targets in plan_targets with their quoted text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plans.added import PUBLISHED, set_plan_status, write_added_plan
from plans.catalog import catalog_rows, inputs, load_catalog
from plans.corrections import (
    CORRECTIONS_FILE,
    Correction,
    CorrectionError,
    add_correction,
    apply_corrections,
    clean_quote,
    make_fix_unit,
    make_mark,
    make_merge,
    make_split,
    make_unmark,
    read_corrections,
    remove_correction,
    reviewed,
    reviewed_document,
)
from plans.parse import parse_text

CORPUS = Path(__file__).parent / "corpus"
C1 = (CORPUS / "c1.txt").read_text(encoding="utf-8")


@pytest.fixture
def doc():
    return parse_text(C1, "005", "c1.txt")


def _ids(doc) -> list[str]:
    return [n.id for n in doc.walk()]


def test_merge_joins_texts_targets_and_drops_the_id(doc) -> None:
    c = make_merge(doc, "005/三/一")
    fixed, problems = apply_corrections(doc, [c])
    assert problems == []
    assert "005/三/二" not in _ids(fixed) and "005/三/二" in _ids(doc)  # the parsed one kept
    merged = fixed.node("005/三/一")
    assert merged.text.startswith("加强组织领导。") and merged.text.endswith("税收优惠政策。")
    assert merged.span.end == doc.node("005/三/二").span.end
    with pytest.raises(CorrectionError, match="没有同级措施"):
        make_merge(fixed, "005/三/一")  # the last of its siblings now
    # Targets of both go together.
    two = apply_corrections(doc, [make_merge(doc, "005/二/一")])[0].node("005/二/一")
    assert [t.text for t in two.targets] == [
        "全省规模以上工业单位增加值能耗下降16%",
        "城市新建建筑全部执行绿色建筑标准",
    ]


def test_split_makes_a_b_part_with_its_targets(doc) -> None:
    c = make_split(doc, "005/一/二", "非化石能源消费比重")
    fixed, problems = apply_corrections(doc, [c])
    assert problems == []
    first, second = fixed.node("005/一/二"), fixed.node("005/一/二-b")
    assert _ids(fixed).index("005/一/二-b") == _ids(fixed).index("005/一/二") + 1
    assert first.text.endswith("下降14%，") and second.text.startswith("非化石能源消费比重")
    assert [t.indicator for t in first.targets] == ["全省单位地区生产总值能耗"]
    assert [t.indicator for t in second.targets] == [
        "非化石能源消费比重",
        "县级以上城市建成区生活垃圾分类",
    ]
    assert C1[second.span.start :].startswith("非化石能源消费比重")
    assert second.path == ("一", "二-b") and second.level == 2
    with pytest.raises(CorrectionError, match="开头"):
        make_split(doc, "005/一/二", "主要目标")
    with pytest.raises(CorrectionError, match="没有"):
        make_split(doc, "005/一/二", "不在文中的字")


def test_mark_unmark_and_fix_unit(doc) -> None:
    mark = make_mark(
        doc,
        "005/二/二",
        "15分钟生活圈",
        value=15,
        unit="分钟",
        bound="≤",
        target_kind="numeric",
        indicator="生活圈步行时间",
        year=2025,
    )
    fixed, problems = apply_corrections(doc, [mark])
    assert problems == []
    marked = fixed.node("005/二/二").targets[-1]
    assert (marked.text, marked.value, marked.unit, marked.bound, marked.kind) == (
        "15分钟生活圈",
        15,
        "分钟",
        "≤",
        "numeric",
    )
    assert C1[marked.span.start : marked.span.end] == "15分钟生活圈"
    assert marked.target_year == 2025 and marked.indicator == "生活圈步行时间"
    # A qualitative one with an implied value; the bound comes out as asked.
    q = make_mark(
        fixed,
        "005/三/二",
        "落实节能节水、资源综合利用等税收优惠政策",
        value=None,
        unit="",
        bound="=",
        target_kind="qualitative",
    )
    assert apply_corrections(fixed, [q])[0].node("005/三/二").targets[0].bound == "="
    with pytest.raises(CorrectionError, match="数值目标须有数值"):
        make_mark(doc, "005/二/二", "15分钟", value=None, unit="", bound="≥", target_kind="numeric")
    with pytest.raises(CorrectionError, match="已是"):
        make_mark(
            fixed, "005/二/二", "15分钟生活圈", value=1, unit="", bound="≥", target_kind="numeric"
        )

    unmark = make_unmark(fixed, "005/二/三", 1)
    fix = make_fix_unit(fixed, "005/二/二", 2, "min")
    again, problems = apply_corrections(doc, [mark, unmark, fix])
    assert problems == []
    assert again.node("005/二/三").targets == []
    assert again.node("005/二/二").targets[1].unit == "min"
    with pytest.raises(CorrectionError, match="第 9 个目标"):
        make_unmark(doc, "005/二/三", 9)


def test_ambiguous_quote_and_a_selection_picks_one() -> None:
    text = C1.replace("全省基本淘汰", "全省全省基本淘汰")
    doc = parse_text(text, "005", "c1.txt")
    with pytest.raises(CorrectionError, match="出现 2 次"):
        make_mark(
            doc, "005/二/三", "全省", value=None, unit="", bound="=", target_kind="qualitative"
        )
    second = text.index("全省基本淘汰")
    c = make_mark(
        doc,
        "005/二/三",
        "全省",
        value=None,
        unit="",
        bound="=",
        target_kind="qualitative",
        start=second,
    )
    marked = apply_corrections(doc, [c])[0].node("005/二/三").targets[-1]
    assert marked.span.start == second


def test_corrections_survive_a_reparse_and_stale_ones_are_reported(tmp_path: Path) -> None:
    plan = write_added_plan(
        tmp_path, "005", C1, region="210800", title="t", original_name="c1.txt", added_by="ed"
    )
    doc = parse_text(C1, "005", str(plan.text_path))
    split = make_split(doc, "005/一/二", "非化石能源消费比重")
    add_correction(plan.folder, split, "editor1")
    after_split = apply_corrections(doc, [split])[0]
    fix = make_fix_unit(after_split, "005/一/二-b", 1, "个百分点")
    add_correction(plan.folder, fix, "editor1")
    add_correction(plan.folder, make_merge(after_split, "005/三/一"), "editor1")

    stored = json.loads((plan.folder / CORRECTIONS_FILE).read_text(encoding="utf-8"))
    assert [c["kind"] for c in stored] == ["split", "fix_unit", "merge"]
    assert stored[0]["by"] == "editor1" and stored[0]["at"]
    assert not list(plan.folder.glob(".corrections-*"))  # written by a rename

    # Parsed again from the file (what the catalog does): the same corrected document.
    fixed, problems = reviewed(plan)
    assert problems == []
    assert fixed.node("005/一/二-b").targets[0].unit == "个百分点"
    assert "005/三/二" not in _ids(fixed)

    # The text changes under the corrections (a better parser would move text the same way):
    # the split's quote is gone, so is the fix that needed its part; the merge still applies.
    changed = C1.replace("非化石能源消费比重", "可再生能源消费比重")
    stale_doc = parse_text(changed, "005", "c1.txt")
    fixed, problems = apply_corrections(stale_doc, read_corrections(plan.folder))
    assert [p.correction.kind for p in problems] == ["split", "fix_unit"]
    assert "已没有「非化石能源消费比重」" in problems[0].reason
    assert problems[0].reason.index("已没有") < problems[0].reason.index("no longer")
    assert "005/三/二" not in _ids(fixed)

    # A measure gone from the hierarchy (（四） after （二） is no heading: its text joins
    # 005/二/二): a target's correction finds the one measure that has its quote.
    fix_unit = make_fix_unit(doc, "005/二/三", 1, "台")
    renumbered = parse_text(C1.replace("（三）推进交通", "（四）推进交通"), "005", "c1.txt")
    assert "005/二/三" not in _ids(renumbered)
    fixed, problems = apply_corrections(renumbered, [fix_unit])
    assert problems == []
    assert [t.unit for t in fixed.node("005/二/二").targets if "柴油货车" in t.text] == ["台"]

    removed = remove_correction(plan.folder, stored[2]["id"])
    assert removed.kind == "merge" and len(read_corrections(plan.folder)) == 2
    with pytest.raises(KeyError):
        remove_correction(plan.folder, "nope")


def test_unknown_kind_is_reported(doc) -> None:
    fixed, problems = apply_corrections(doc, [Correction("rename", "005/一", "总体")])
    assert len(problems) == 1 and "unknown" in problems[0].reason
    assert _ids(fixed) == _ids(doc)


def test_clean_quote_reads_a_raw_selection_as_the_parser() -> None:
    raw = "一、推进 工作\n（一）到２０２５年，达到\n50%。"
    assert clean_quote(raw, raw.index("到"), len(raw)) == "到2025年，达到50%。"


def test_catalog_takes_the_reviewed_document(tmp_path: Path) -> None:
    added = tmp_path / "added"
    plan = write_added_plan(
        added, "005", C1, region="210800", title="t", original_name="c1.txt", added_by="ed"
    )
    doc = parse_text(C1, "005", "c1.txt")
    mark = make_mark(
        doc, "005/二/二", "15分钟生活圈", value=15, unit="分钟", bound="≤", target_kind="numeric"
    )
    add_correction(plan.folder, mark, "editor1")
    add_correction(plan.folder, make_unmark(doc, "005/二/三", 1), "editor1")
    set_plan_status(added, "005", PUBLISHED, "editor1")
    assert plan.folder / CORRECTIONS_FILE in inputs(added_dir=added)
    catalog = load_catalog(added_dir=added)
    rows = [r for r in catalog_rows(catalog)["plan_targets"] if r["document"] == "005"]
    by_measure = {r["measure_id"]: r for r in rows}
    marked = [r for r in rows if r["measure_id"] == "005/二/二"][-1]
    assert (marked["text"], marked["value"], marked["unit"], marked["bound"]) == (
        "15分钟生活圈",
        15,
        "分钟",
        "≤",
    )
    assert marked["id"] == "005/二/二#2"  # after the parsed target, whose id is kept
    assert "005/二/三" not in by_measure
    assert reviewed_document(plan).node("005/二/二").targets[-1].text == "15分钟生活圈"


def test_every_shipped_target_can_be_corrected_and_quotes_read_full_width() -> None:
    """Each parsed target of the shipped plans found again by its quote (full-width
    punctuation such as ， stays as the cleaned text has it; full-width digits typed by a
    person read as the ASCII ones the parser made of them)."""
    from plans.catalog import PLANS_DIR, plan_files
    from plans.parse import parse_file

    for path in plan_files(PLANS_DIR):
        doc = parse_file(path)
        for node in doc.walk():
            for number in range(1, len(node.targets) + 1):
                fix = make_fix_unit(doc, node.id, number, "单位X")
                fixed, problems = apply_corrections(doc, [fix])
                assert problems == [], (path.name, node.id, problems)
                assert fixed.node(node.id).targets[number - 1].unit == "单位X"
                unmarked, problems = apply_corrections(doc, [make_unmark(doc, node.id, number)])
                left = [t.indicator for t in unmarked.node(node.id).targets]
                expected = [t.indicator for t in node.targets]
                assert problems == [] and left == expected[: number - 1] + expected[number:]
    doc = parse_text(C1, "005", "c1.txt")
    typed = make_mark(
        doc, "005/二/二", "１５分钟生活圈", value=15, unit="分钟", bound="≤", target_kind="numeric"
    )
    assert typed.quote == "15分钟生活圈"
