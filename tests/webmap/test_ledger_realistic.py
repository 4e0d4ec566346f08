"""Realistic ledgers (tests/data/realistic/, made by make_realistic_ledgers.py): every one
imports with `flask ledger import LAYER FILE --yes` and with the import API, with its exact
count and the values a planner would check; each case of "never silent" is an error or a
warning naming row and column; markup in a name is text everywhere it is shown."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, TEST_PASSWORD, csrf, logged_in

from geo.ledger.edits import EditStore
from geo.store import GeoPackageStore
from webmap.auth import UserStore

REALISTIC = ROOT / "tests" / "data" / "realistic"
EDGE = REALISTIC / "edge"
GPKG = "营口市园区及专用线.gpkg"

# (file, layer, options) -> rows imported, then {feature name: {field: value}} to check.
# Positions are checked where the file holds them in another CRS (lon, lat in WGS84).
CORPUS: list[tuple[str, str, tuple[str, ...], int, dict[str, dict[str, Any]]]] = [
    (
        "营口市燃煤锅炉台账（2023年）.xlsx",
        "coal_boilers",
        (),
        6,
        {
            "喆盛热力2号炉": {
                "status": "已淘汰",
                "status_year": 2021,
                "use": "供暖",  # 集中供暖, the old value
                "capacity_t_per_h": 10.5,
                "county_adcode": "210802",
                "note": "2021年拆除",
            },
            "大石桥市热力公司1号炉": {
                "status": "已替代",
                "replacement": "未说明",
                "status_year": 2022,
                "use": "生产兼供暖",
                "county_adcode": "210882",
            },
            "老边区柳树镇锅炉房": {
                "status": "运行",  # 在用
                "enterprise": None,
                "status_year": None,
                "county_adcode": "210811",
            },
            "鲅鱼圈某食品厂锅炉": {"status": "超低排放改造完成", "use": "生产"},
        },
    ),
    (
        "大石桥市锅炉台账_GBK.csv",
        "coal_boilers",
        (),
        4,
        {
            "大石桥镁矿1号锅炉": {"capacity_t_per_h": 10.0, "enterprise": "某镁制品有限公司"},
            "大石桥镁矿2号锅炉": {
                "capacity_t_per_h": 15.0,
                "status": "已替代",
                "replacement": "气",
                "status_year": 2023,
            },
            "周家镇供热站锅炉": {"status": "运行", "enterprise": None, "capacity_t_per_h": 40.0},
        },
    ),
    (
        "boilers_english.csv",
        "coal_boilers",
        (),
        3,
        {
            "Xishi heating plant No.2": {
                "status": "已淘汰",
                "status_year": 2020,
                "use": "供暖",
                "enterprise": "Yingkou Heating Co.",
                "county_adcode": "210803",
            },
        },
    ),
    (
        "锅炉_高德坐标.csv",
        "coal_boilers",
        ("--crs", "GCJ-02"),
        3,
        {"宾馆锅炉": {"lonlat": (122.3921, 40.6112), "enterprise": "老边区某宾馆"}},
    ),
    (
        "锅炉_百度坐标.xlsx",
        "coal_boilers",
        ("--crs", "BD-09"),
        2,
        {
            "鲅鱼圈某钢铁公司": {  # 企业名称 the only name column: the boiler's name
                "lonlat": (122.1375, 40.2736),
                "capacity_t_per_h": 75.0,
                "county_adcode": "210804",
            },
            "鲅鱼圈某化工公司": {"status": "超低排放改造完成", "status_year": 2021},
        },
    ),
    (
        "锅炉_高斯克吕格.xlsx",
        "coal_boilers",
        ("--crs", "EPSG:4529"),
        3,
        {"盖州市热源厂1号炉": {"id": "GK-1", "lonlat": (122.351, 40.4), "county_adcode": "210881"}},
    ),
    (
        "锅炉台账_两行表头.xlsx",
        "coal_boilers",
        (),
        2,
        {"站前区某医院锅炉": {"capacity_t_per_h": 4.0, "status": "运行", "enterprise": None}},
    ),
    (
        "老边区村庄人居环境整治台账.xlsx",
        "villages",
        ("--as-of-year", "2023"),
        5,
        {
            "柳树村": {
                "sewage_treated": True,
                "sewage_year": 2023,  # from the 统计年份
                "clean_heating": False,
                "households": 312,
                "township": "柳树镇",
                "toilet_retrofit": None,
            },
            "边城村": {"clean_heating": True, "clean_heating_year": 2023},
            "二道沟村": {"sewage_treated": None, "clean_heating": None},
        },
    ),
    (
        "盖州市村庄名录_GBK.csv",
        "villages",
        (),
        4,
        {
            "东岗村": {"sewage_treated": True, "sewage_year": 2022, "beautiful_village_year": 2021},
            "西岗村": {"sewage_treated": False, "sewage_year": None},
            "南沟村": {"households": 1204, "county_adcode": "210881"},
        },
    ),
    (
        GPKG,
        "parks",
        ("--source-layer", "园区"),
        3,
        {
            "营口沿海产业基地": {
                "level": "国家级",
                "circular_retrofit_status": "实施中",
                "park_type": None,
                "county_adcode": "210804",
            },
            "老边区某产业园": {"managing_body": None, "level": "市级"},
        },
    ),
    (
        GPKG,
        "rail_spurs",
        ("--source-layer", "铁路专用线"),
        2,
        {"鲅鱼圈港区铁路专用线": {"status": "在建", "length_km": 12.5, "serves": None}},
    ),
    (
        "铁路专用线台账.xlsx",
        "rail_spurs",
        (),
        1,
        {
            "西市区物流园铁路专用线": {
                "status": "建成",
                "status_year": 2019,
                "owner": "某物流有限公司",
            }
        },
    ),
    (
        "污水处理厂运行台账.xlsx",
        "wastewater_plants",
        (),
        4,
        {
            "营口市西部污水处理厂": {"lonlat": (122.2003, 40.6689), "influent_bod_mg_l": 62.5},
            "营口市东部污水处理厂": {"capacity_10kt_per_day": 12.5, "status": "运行"},
            "老边区污水处理厂": {"status": "在建", "operator": None, "influent_bod_mg_l": None},
        },
    ),
    (
        "余热资源清单.csv",
        "waste_heat_sources",
        (),
        3,
        {
            "营口某热电厂": {
                "heat_type": "电厂余热",
                "supply_status": "已供热",
                "available_heat_mw": 80.0,
            },
            "大石桥某化工有限公司": {"available_heat_mw": None, "supply_status": "未利用"},
        },
    ),
    (
        "供热范围.geojson",
        "heating_coverage",
        (),
        2,
        {"站前区集中供热范围": {"heat_source": "热电联产", "operator": "营口热电有限公司"}},
    ),
    (
        "建成区.zip",
        "built_up_areas",
        (),
        2,
        {"营口市中心城区建成区": {"area_basis": "国土空间规划"}},
    ),
]
IDS = [f"{layer}:{name}" for name, layer, *_ in CORPUS]


@pytest.fixture
def import_app(make_app, tmp_path: Path):
    app = make_app(own_store=True, REPORT_DIR=str(tmp_path))
    app.instance_path = str(tmp_path / "instance")  # uploads go here, not into the repo
    UserStore(app.config["USERS_PATH"]).add("editor1", TEST_PASSWORD, "editor")
    return app


def by_name(app, layer: str) -> dict[str, Any]:
    with GeoPackageStore(app.config["STORE_PATH"]) as store:
        features = store.query(layer, limit=None).features
    return {f.properties["name"]: f for f in features if not f.properties.get("is_demo")}


def check_values(features: dict[str, Any], expected: dict[str, dict[str, Any]]) -> None:
    for name, values in expected.items():
        feature = features[name]
        for field, value in values.items():
            if field == "lonlat":  # ~1 m: the file's CRS was converted, not guessed
                point = feature.geometry.representative_point()
                assert point.x == pytest.approx(value[0], abs=1e-5), (name, point)
                assert point.y == pytest.approx(value[1], abs=1e-5), (name, point)
            elif field == "id":
                assert feature.id == value, (name, feature.id)
            else:
                assert feature.properties[field] == value, (name, field, feature.properties)


@pytest.mark.parametrize(("name", "layer", "args", "count", "expected"), CORPUS, ids=IDS)
def test_each_realistic_ledger_imports_from_the_command_line(
    import_app, name, layer, args, count, expected
) -> None:
    command = ["ledger", "import", layer, str(REALISTIC / name), *args, "--yes", "--user", "张工"]
    result = import_app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
    assert f"已写入 committed: 新增 {count}，更新 0" in result.output, result.output
    features = by_name(import_app, layer)
    assert len(features) == count
    check_values(features, expected)
    entries = EditStore(import_app.config["EDITS_PATH"]).audit()
    assert len(entries) == count and {e.source for e in entries} == {name}
    assert all(e.details["accepted_only"] is False for e in entries)


@pytest.mark.parametrize(("name", "layer", "args", "count", "expected"), CORPUS, ids=IDS)
def test_each_realistic_ledger_imports_through_the_api(
    import_app, name, layer, args, count, expected
) -> None:
    token = UserStore(import_app.config["USERS_PATH"]).new_token("editor1", "test")
    form = {args[0].lstrip("-").replace("-", "_"): args[1]} if args else {}
    response = import_app.test_client().post(
        f"/ledger/api/{layer}",
        data={"file": (io.BytesIO((REALISTIC / name).read_bytes()), name), "commit": "1", **form},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["counts"]["add"] == count and body["counts"]["reject"] == 0
    assert body["committed"]["added"] == count
    check_values(by_name(import_app, layer), expected)


def test_a_title_row_ledger_tells_its_year_and_the_row_counter(import_app) -> None:
    name = "老边区村庄人居环境整治台账.xlsx"
    result = import_app.test_cli_runner().invoke(
        args=["ledger", "preview", "villages", str(REALISTIC / name)]
    )
    assert result.exit_code == 0, result.output
    assert "两行表头（第 2–3 行）已合并" in result.output
    assert "--as-of-year 2023" in result.output  # the title's 统计年份, offered
    assert "年份未知" in result.output  # without it, 是 rows are undated, and it says so
    boilers = REALISTIC / "营口市燃煤锅炉台账（2023年）.xlsx"
    result = import_app.test_cli_runner().invoke(
        args=["ledger", "preview", "coal_boilers", str(boilers), "--json"]
    )
    plan = json.loads(result.output)
    assert plan["header_row"] == 3 and plan["ignored_columns"] == []  # 序号: a row counter
    assert any("行序号" in n for n in plan["notes"])
    warnings = {(w["row"], w["field"]) for r in plan["rows"] for w in r["warnings"]}
    assert {(5, "用途"), (6, "状态"), (7, "状态"), (8, "状态")} <= warnings


# Section 5 of issue #14: (file, layer) -> the rows imported, then each problem as
# (accepted?, row, column, words).
EDGE_CASES = {
    "string_coordinates.geojson": ("coal_boilers", [(False, 2, "geometry", "not a number")]),
    "z_values.geojson": ("coal_boilers", [(True, 2, "geometry", "kept in 2D")]),
    "one_part_multipoint.geojson": (
        "coal_boilers",
        [(True, 2, "geometry", "one-part MultiPoint read as its Point")],
    ),
    "two_part_multipoint.geojson": ("coal_boilers", [(False, 2, "geometry", "has 2 parts")]),
    "unclosed_ring.geojson": ("parks", [(True, 2, "geometry", "ring not closed: closed")]),
    "dms.csv": (
        "coal_boilers",
        [
            (True, 2, "经度", "read as 122.235200°"),
            (True, 2, "纬度", "read as 40.667100°"),
            (True, 3, "经度", "122度12分37秒"),
        ],
    ),
    "full_width.csv": ("coal_boilers", [(False, 3, "经度", "write a decimal point")]),
    "markup_name.csv": ("coal_boilers", []),
}


def test_every_edge_file_is_in_the_table() -> None:
    assert sorted(p.name for p in EDGE.iterdir()) == sorted(EDGE_CASES)


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_never_silent(make_app, tmp_path, name) -> None:
    layer, problems = EDGE_CASES[name]
    app = make_app(REPORT_DIR=str(tmp_path))
    result = app.test_cli_runner().invoke(
        args=["ledger", "preview", layer, str(EDGE / name), "--json"]
    )
    plan = json.loads(result.output)
    said = [
        (kind == "warnings", p["row"], p["field"], p["message"])
        for r in plan["rows"]
        for kind in ("errors", "warnings")
        for p in r[kind]
        if not (kind == "warnings" and r["action"] == "reject")
    ]
    for accepted, row, column, words in problems:
        assert any((a, r, c) == (accepted, row, column) and words in m for a, r, c, m in said), said
        action = next(r["action"] for r in plan["rows"] if r["row"] == row)
        assert (action == "add") == accepted
    if name == "full_width.csv":  # full-width digits that mean the same: read without a word
        assert plan["rows"][0]["action"] == "add" and plan["rows"][0]["warnings"] == []
    assert result.exit_code == (0 if all(a for a, *_ in problems) else 1)


def test_markup_in_a_name_is_text_everywhere(import_app) -> None:
    """<script> in a ledger's name: imported as text, escaped in the preview table, the popup,
    the audit page and the history, and exported as plain text in the audit CSV."""
    app = import_app
    script = "<script>alert('台账')</script>"
    escaped = "&lt;script&gt;alert(&#39;台账&#39;)&lt;/script&gt;"
    editor = logged_in(app, "editor1")
    data = (EDGE / "markup_name.csv").read_bytes()
    preview = editor.post(
        "/ledger/preview",
        data={
            "csrf_token": csrf(editor, "/ledger"),
            "layer": "coal_boilers",
            "file": (io.BytesIO(data), "markup_name.csv"),
        },
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and escaped in html and script not in html
    result = app.test_cli_runner().invoke(
        args=["ledger", "import", "coal_boilers", str(EDGE / "markup_name.csv"), "--yes"]
    )
    assert result.exit_code == 0, result.output
    feature = by_name(app, "coal_boilers")[script]
    for url in (
        f"/map/popup/coal_boilers/{feature.id}",
        "/audit",
        f"/audit/coal_boilers/{feature.id}",
    ):
        page = editor.get(url)
        text = page.get_data(as_text=True)
        assert page.status_code == 200, url
        assert script not in text and escaped in text, url
    exported = editor.get("/audit?f=csv")
    assert exported.status_code == 200
    assert script in exported.get_data(as_text=True)  # CSV is text: the name as written
