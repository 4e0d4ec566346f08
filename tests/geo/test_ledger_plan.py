"""The import dry run: ledger rows mapped onto a layer's fields, converted, checked, placed in
their county and matched with stored features; and the Excel template that round-trips."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from support import chinese_first

from geo.errors import LedgerError
from geo.ledger.plan import MATCH_DISTANCE_M, convert, map_columns, plan_import
from geo.ledger.read import read_table
from geo.ledger.template import coordinate_headers, header, template_xlsx
from geo.store import Feature
from layers import get_layer

BOILERS = get_layer("coal_boilers")
HEADERS = ["编号", "锅炉名称", "使用单位", "额定蒸发量（蒸吨/小时）", "用途", "状态", "替代方式"]
HEADERS += ["状态变更年份（年）", "经度", "纬度"]


def write_csv(path: Path, rows: list[list[object]], headers: list[str] = HEADERS) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def stored(store) -> list[Feature]:
    return store.query("coal_boilers", limit=None).features


@pytest.fixture(scope="module")
def districts(store) -> list[Feature]:
    return store.query("districts", limit=None).features


def plan_for(path: Path, stored, districts, **kw):
    return plan_import(
        read_table(path), BOILERS, stored, districts, title_field=BOILERS.title_field, **kw
    )


def a_boiler(stored: list[Feature]) -> Feature:
    return next(f for f in stored if f.properties["status"] == "运行" and not f.id.startswith("t"))


# -- rows ------------------------------------------------------------------------------------
def test_new_changed_and_rejected_rows(tmp_path, stored, districts) -> None:
    old = a_boiler(stored)
    p = old.properties
    lon, lat = old.geometry.x, old.geometry.y
    path = write_csv(
        tmp_path / "台账.csv",
        [
            ["", "新建锅炉", "某热力公司", "20", "集中供暖", "运行", "", "2024", "122.30", "40.66"],
            [
                old.id,
                p["name"],
                p["enterprise"],
                p["capacity_t_per_h"],
                p["use"],
                "已淘汰",
                "",
                "2025",
                lon,
                lat,
            ],
            ["", "坏状态锅炉", "某公司", "10", "集中供暖", "关停", "", "2024", "122.31", "40.67"],
        ],
    )
    plan = plan_for(path, stored, districts)
    added, changed, rejected = plan.outcomes
    assert (added.action, changed.action, rejected.action) == ("add", "change", "reject")
    assert added.row == 2 and changed.row == 3 and rejected.row == 4  # lines as in the file
    assert added.properties["county_adcode"] and added.properties["city_adcode"] == "210800"
    assert added.properties["is_demo"] is False and added.feature_id.startswith("coal_boilers-")
    assert changed.matched_by == "id"
    assert changed.changes["status"] == ("运行", "已淘汰")
    (error,) = rejected.errors
    assert error.row == 4 and error.field == "状态" and "关停" in error.message
    assert "台账.csv" in str(error) and "row 4" in str(error)
    assert plan.count("add") == 1 and plan.count("reject") == 1
    assert "新增 1" in plan.summary()


def test_reimporting_the_same_ledger_changes_nothing(tmp_path, stored, districts) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        [["", "新建锅炉", "某热力公司", "20", "集中供暖", "运行", "", "2024", "122.30", "40.66"]],
    )
    first = plan_for(path, stored, districts)
    (row,) = first.accepted
    imported = Feature(row.feature_id, row.properties, row.geometry)
    again = plan_for(path, [*stored, imported], districts)
    assert [o.action for o in again.outcomes] == ["unchanged"]
    assert again.outcomes[0].feature_id == row.feature_id  # the same id for the same row


def test_a_row_without_id_updates_the_same_name_nearby(tmp_path, stored, districts) -> None:
    old = a_boiler(stored)
    p = old.properties
    near = (old.geometry.x + 0.0005, old.geometry.y)  # ~40 m east
    far = (old.geometry.x + 0.05, old.geometry.y)  # ~4 km east
    rows = [
        ["", p["name"], p["enterprise"], p["capacity_t_per_h"], p["use"], "运行", "", 2024, *xy]
        for xy in (near, far)
    ]
    plan = plan_for(write_csv(tmp_path / "b.csv", rows), stored, districts)
    moved, elsewhere = plan.outcomes
    assert moved.action == "change" and moved.matched_by == "name" and moved.feature_id == old.id
    assert "geometry" in moved.changes
    assert elsewhere.action == "add" and elsewhere.feature_id != old.id
    assert MATCH_DISTANCE_M < 4000


def test_duplicate_ids_in_one_file(tmp_path, stored, districts) -> None:
    row = ["X-1", "甲", "某公司", "10", "集中供暖", "运行", "", "2024", "122.30", "40.66"]
    plan = plan_for(write_csv(tmp_path / "c.csv", [row, row]), stored, districts)
    assert [o.action for o in plan.outcomes] == ["add", "reject"]
    (error,) = plan.outcomes[1].errors
    assert error.field == "编号" and "row 2" in error.message and error.row == 3


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("锅炉名称", "=cmd|' /C calc'!A0", "formula"),
        ("锅炉名称", "@SUM(A1)", "formula"),
        ("锅炉名称", "", "required"),
        ("额定蒸发量（蒸吨/小时）", "很大", "not a number"),
        ("额定蒸发量（蒸吨/小时）", "0", "minimum"),
        ("状态变更年份（年）", "2024.5", "whole number"),
        ("替代方式", "余热", "已替代"),  # a row rule: replacement only when status is 已替代
    ],
)
def test_bad_values_name_row_and_column(tmp_path, stored, districts, column, value, words):
    row = dict(
        zip(
            HEADERS,
            ["", "甲", "某公司", "10", "集中供暖", "运行", "", "2024", "122.3", "40.66"],
            strict=True,
        )
    )
    row[column] = value
    plan = plan_for(write_csv(tmp_path / "d.csv", [list(row.values())]), stored, districts)
    (outcome,) = plan.outcomes
    assert outcome.action == "reject"
    assert any(e.field == column and words in e.message and e.row == 2 for e in outcome.errors), [
        str(e) for e in outcome.errors
    ]
    assert all(chinese_first(e.message) for e in outcome.errors), [
        e.message for e in outcome.errors
    ]
    assert not any(e.field == "编号" for e in outcome.errors)  # 编号 may be empty


def test_an_empty_id_cell_is_accepted_on_good_and_rejected_rows(tmp_path, stored, districts):
    """The template says 编号 may be left empty: an empty cell is no error on any row, and an
    accepted row gets the stable id made from its name and place, the same on every import."""
    good = ["", "空编号炉", "某公司", "10", "集中供暖", "运行", "", "2024", "122.3", "40.66"]
    bad = ["", "坏炉", "某公司", "很大", "集中供暖", "运行", "", "2024", "122.31", "40.66"]
    nameless = ["", "", "某公司", "10", "集中供暖", "运行", "", "2024", "122.32", "40.66"]
    path = write_csv(tmp_path / "e.csv", [good, bad, nameless])
    plan = plan_for(path, stored, districts)
    assert [o.action for o in plan.outcomes] == ["add", "reject", "reject"]
    assert plan.outcomes[0].feature_id.startswith("coal_boilers-")
    assert plan_for(path, stored, districts).outcomes[0].feature_id == plan.outcomes[0].feature_id
    errors = [e for o in plan.outcomes for e in o.errors]
    assert not any(e.field == "编号" for e in errors), [str(e) for e in errors]
    assert [e.field for e in plan.outcomes[2].errors] == ["锅炉名称"]  # no id: a name is needed


def test_html_in_a_name_is_kept_as_text(tmp_path, stored, districts) -> None:
    name = "<script>alert(1)</script>锅炉"
    row = ["", name, "某公司", "10", "集中供暖", "运行", "", "2024", "122.3", "40.66"]
    (outcome,) = plan_for(write_csv(tmp_path / "e.csv", [row]), stored, districts).outcomes
    assert outcome.action == "add" and outcome.properties["name"] == name  # escaped on output


def test_unknown_columns_are_ignored_and_said(tmp_path, stored, districts) -> None:
    headers = [*HEADERS, "联系人"]
    row = ["", "甲", "某公司", "10", "集中供暖", "运行", "", "2024", "122.3", "40.66", "张三"]
    plan = plan_for(write_csv(tmp_path / "f.csv", [row], headers), stored, districts)
    assert plan.ignored_columns == ["联系人"]
    assert any("联系人" in note for note in plan.notes)


# -- values and columns ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field_name", "value", "expected"),
    [
        ("capacity_t_per_h", "1,200", 1200.0),
        ("capacity_t_per_h", "35蒸吨/小时", 35.0),
        ("capacity_t_per_h", 20, 20.0),
        ("status_year", datetime(2023, 6, 30), 2023),
        ("status_year", 2024.0, 2024),
        ("name", 210881.0, "210881"),
        ("name", "  甲锅炉 ", "甲锅炉"),
        ("name", "-", "-"),
        ("name", "", None),
    ],
)
def test_convert(field_name, value, expected) -> None:
    assert convert(BOILERS.field_map[field_name], value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("是", True), ("否", False), ("√", True), ("no", False), (1, True)]
)
def test_convert_yes_no(value, expected) -> None:
    villages = get_layer("villages")
    assert convert(villages.field_map["sewage_treated"], value) is expected


def test_map_columns_by_name_label_and_unit() -> None:
    mapping, leftover = map_columns(
        ["Name", "额定蒸发量(蒸吨/小时)", "status", "经度", "随便"], BOILERS
    )
    assert mapping == {
        "Name": "name",
        "额定蒸发量(蒸吨/小时)": "capacity_t_per_h",
        "status": "status",
    }
    assert leftover == ["经度", "随便"]
    with pytest.raises(LedgerError, match="both mean field 'name'"):
        map_columns(["name", "锅炉名称"], BOILERS)
    assert map_columns(["厂名"], BOILERS, {"厂名": "name"})[0] == {"厂名": "name"}


# -- template ----------------------------------------------------------------------------------
def test_template_round_trips_through_the_dry_run(tmp_path, stored, districts) -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(template_xlsx(BOILERS)))
    sheet = book["台账"]
    headings = [c.value for c in sheet[1]]
    assert headings[-2:] == list(coordinate_headers("Point"))
    assert header(BOILERS.field_map["capacity_t_per_h"]) in headings
    assert "county_adcode" not in str(headings) and "示例数据" not in headings
    lists = {v.formula1 for v in sheet.data_validations.dataValidation}
    assert len(lists) == sum(1 for f in BOILERS.fields if f.allowed)
    values = {h: v for h, v in zip(headings, [None] * len(headings), strict=True)}
    values.update(
        {
            "锅炉名称": "模板锅炉",
            "使用单位": "某公司",
            "额定蒸发量（蒸吨/小时）": 10,
            "用途": "集中供暖",
            "状态": "运行",
            "状态变更年份（年）": 2024,
            "经度": 125.14,
            "纬度": 42.9,
        }
    )
    sheet.append([values[h] for h in headings])
    path = tmp_path / "模板.xlsx"
    book.save(path)
    plan = plan_for(path, stored, districts)
    (outcome,) = plan.outcomes
    assert outcome.action == "add", [str(e) for e in outcome.errors]
    assert outcome.properties["city_adcode"] == "220400"  # 辽源


def test_a_required_field_without_a_column_is_named_as_the_template_heads_it(
    tmp_path, stored, districts
) -> None:
    headers = ["锅炉名称", "额定蒸发量（蒸吨/小时）", "经度", "纬度"]  # no 状态 column
    path = write_csv(tmp_path / "f.csv", [["无状态炉", "10", "122.3", "40.66"]], headers)
    (outcome,) = plan_for(path, stored, districts).outcomes
    (error,) = outcome.errors
    assert error.field == "状态 status" and "必填" in error.message
    assert str(error) == "f.csv 第 2 行 row 2「状态 status」：必填，不能为空 a value is required"
