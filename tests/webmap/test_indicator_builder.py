"""Indicators an administrator adds: `flask indicators …` and the builder form (preview,
save, edit, remove) on an app with a store of its own; a saved indicator is on the
dashboard, its own page, the API and the county report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import TEST_PASSWORD, XSS, csrf, logged_in

from geo.ledger.edits import EditStore
from geo.store import GeoPackageStore
from plans.indicators import SHIPPED_INDICATORS, evaluate, indicators_of
from reports.content import build
from webmap.auth import UserStore

CITED = "推动淘汰供热管网覆盖范围内的燃煤锅炉和散煤"
RECORD = f"""
id = "boilers_outside"
name_zh = "建成区外仍在运行的燃煤锅炉"
name_en = "Coal boilers still running outside built-up areas"
definition_zh = "位于城市建成区外且年底仍在运行的燃煤锅炉台数"
features_zh = "仍在运行的锅炉"
layer = "coal_boilers"
unit = "台"
aggregate = "count"

[spatial]
rule = "outside"
layer = "built_up_areas"

[count]
states = ["运行", "超低排放改造完成"]

[target]
direction = "lower"
areas = ["210800"]
basis_zh = "无量化目标"

[[target.cites]]
measure = "001/三/八"
text = "{CITED}"
"""
COUNTY = "210881"  # 盖州市


@pytest.fixture
def builder_app(make_app):
    app = make_app(own_store=True)
    users = UserStore(app.config["USERS_PATH"])
    users.add("admin1", TEST_PASSWORD, "admin")
    users.add("viewer1", TEST_PASSWORD, "viewer")
    return app


def _store_ids(app) -> list[str]:
    with GeoPackageStore(Path(app.config["STORE_PATH"])) as store:
        return [i.id for i in indicators_of(store)]


def _added_files(app) -> list[str]:
    folder = Path(app.config["ADDED_INDICATORS_DIR"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_cli_add_list_preview_remove(builder_app, tmp_path: Path) -> None:
    runner = builder_app.test_cli_runner()
    file = tmp_path / "mine.toml"
    file.write_text(RECORD, encoding="utf-8")
    shown = runner.invoke(args=["indicators", "preview", str(file), "--year", "2023"])
    assert shown.exit_code == 0, shown.output
    assert "营口市" in shown.output and "盖州市" in shown.output and "boiler" in shown.output
    assert _added_files(builder_app) == []  # a preview writes nothing

    added = runner.invoke(args=["indicators", "add", str(file), "--user", "管理员"])
    assert added.exit_code == 0, added.output
    assert "已添加 added boilers_outside" in added.output
    assert _added_files(builder_app) == ["boilers_outside.json", "boilers_outside.toml"]
    assert _store_ids(builder_app)[-1] == "boilers_outside"
    listed = runner.invoke(args=["indicators", "list"]).output
    line = next(ln for ln in listed.splitlines() if ln.startswith("boilers_outside"))
    assert "添加 added by 管理员" in line
    assert "随附 shipped" in listed

    again = runner.invoke(args=["indicators", "add", str(file)])
    assert again.exit_code != 0 and "已有添加的指标" in again.output
    file.write_text(RECORD.replace("建成区外仍在运行的燃煤锅炉", "建成区外的锅炉（新）"), "utf-8")
    replaced = runner.invoke(args=["indicators", "add", str(file), "--replace", "--user", "管理员"])
    assert replaced.exit_code == 0, replaced.output
    assert "建成区外的锅炉（新）" in runner.invoke(args=["indicators", "list"]).output

    removed = runner.invoke(args=["indicators", "remove", "boilers_outside", "--user", "管理员"])
    assert removed.exit_code == 0, removed.output
    assert _added_files(builder_app) == []
    assert _store_ids(builder_app) == [i.id for i in SHIPPED_INDICATORS]
    shipped = runner.invoke(args=["indicators", "remove", "boilers_small_builtup"])
    assert shipped.exit_code != 0 and "没有添加过指标" in shipped.output

    log = EditStore(Path(builder_app.config["EDITS_PATH"])).audit(layer="indicators")
    assert [(e.action, e.feature_id, e.user) for e in log] == [
        ("remove", "boilers_outside", "管理员"),
        ("change", "boilers_outside", "管理员"),
        ("add", "boilers_outside", "管理员"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            'rule = "outside"',
            'rule = "outside"\n[[filter]]\nfield = "nope"\nop = "<="\nvalue = 1',
            "",
        ),
        ('layer = "coal_boilers"', 'layer = "no_such_layer"', "layer"),
        (CITED, "全部淘汰所有锅炉", "target.cites[0].text"),
    ],
)
def test_cli_refuses_bad_records_and_writes_nothing(
    builder_app, tmp_path: Path, old: str, new: str, key: str
) -> None:
    file = tmp_path / "bad.toml"
    text = RECORD.replace(old, new, 1)
    if not key:  # a [[filter]] after [spatial] would belong to it: put it first
        text = RECORD.replace(
            "[spatial]", '[[filter]]\nfield = "nope"\nop = "<="\nvalue = 1\n\n[spatial]'
        )
        key = "filter[0].field"
    file.write_text(text, encoding="utf-8")
    before = Path(builder_app.config["STORE_PATH"]).stat().st_mtime_ns
    result = builder_app.test_cli_runner().invoke(args=["indicators", "add", str(file)])
    assert result.exit_code != 0
    assert "bad.toml" in result.output and f"键 {key}：" in result.output, result.output
    assert _added_files(builder_app) == []
    assert Path(builder_app.config["STORE_PATH"]).stat().st_mtime_ns == before


FORM = {
    "id": "boilers_outside",
    "name_zh": f"建成区外的锅炉{XSS}",
    "name_en": "Boilers outside built-up areas",
    "definition_zh": "建成区外仍在运行的≤35蒸吨/小时燃煤锅炉台数",
    "features_zh": "锅炉",
    "layer": "coal_boilers",
    "unit": "台",
    "aggregate": "count",
    "filter_field": ["capacity_t_per_h", ""],
    "filter_op": ["<=", "<="],
    "filter_value": ["35", ""],
    "spatial_rule": "outside",
    "spatial_layer": "built_up_areas",
    "count_states": ["运行", "超低排放改造完成"],
    "target": "001/三/八#1",
    "target_value": "0",
    "target_deadline": "2025",
    "direction": "lower",
    "areas": "210800",
    "year": "2025",
}


def test_only_an_admin_uses_the_builder(builder_app) -> None:
    anonymous = builder_app.test_client().get("/admin/indicators/new")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    viewer = logged_in(builder_app, "viewer1")
    assert viewer.get("/admin/indicators/new").status_code == 403
    assert viewer.get("/admin/indicators").status_code == 403
    token = csrf(viewer, "/account")
    refused = viewer.post("/admin/indicators/new", data={**FORM, "csrf_token": token})
    assert refused.status_code == 403 and _added_files(builder_app) == []
    preview = viewer.post("/admin/indicators/preview", data={**FORM, "csrf_token": token})
    assert preview.status_code == 403


def test_a_post_without_csrf_is_refused(builder_app) -> None:
    admin = logged_in(builder_app, "admin1")
    assert admin.post("/admin/indicators/new", data=FORM).status_code == 400
    assert admin.post("/admin/indicators/preview", data=FORM).status_code == 400
    assert _added_files(builder_app) == []


def test_the_form_lists_layers_fields_targets_and_regions(builder_app) -> None:
    admin = logged_in(builder_app, "admin1")
    page = admin.get("/admin/indicators/new?layer=coal_boilers").get_data(as_text=True)
    assert 'name="csrf_token"' in page and "lutu-indicator-builder.js" in page
    assert 'value="coal_boilers"' in page and 'value="capacity_t_per_h"' in page
    assert "城市建成区基本淘汰35蒸吨/小时及以下燃煤锅炉" in page  # a plan target, quoted
    assert 'value="210800"' in page and "营口市" in page
    assert "status_year" in page  # the layer's year rule, in words
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", page.split("<main")[1])
    src = re.search(r'src="([^"]*lutu-indicator-builder.js)"', page)
    assert src, "the builder's script is a local file"
    with admin.get(src.group(1)) as js:
        assert js.status_code == 200 and b"fetch(" in js.get_data()


def test_the_preview_gives_values_per_county_and_features(builder_app) -> None:
    admin = logged_in(builder_app, "admin1")
    token = csrf(admin, "/admin/indicators/new")
    doc = admin.post("/admin/indicators/preview", data={**FORM, "csrf_token": token}).get_json()
    assert doc["ok"] is True, doc
    areas = {a["adcode"]: a for a in doc["areas"]}
    assert areas["210800"]["level"] == "city" and areas["210800"]["target"] == 0
    assert areas[COUNTY]["name"] == "盖州市" and areas[COUNTY]["level"] == "county"
    counted = sum(a["value"] or 0 for a in doc["areas"] if a["parent"] == "210800")
    assert counted == areas["210800"]["value"] > 0
    assert doc["features"] and len(doc["features"]) <= 20
    first = doc["features"][0]
    assert first["url"].startswith("/map?") and f"focus=coal_boilers/{first['id']}" in (
        first["url"].replace("%2F", "/")
    )
    assert 'id = "boilers_outside"' in doc["toml"]
    assert _added_files(builder_app) == []  # a preview writes nothing

    bad = admin.post(
        "/admin/indicators/preview",
        data={**FORM, "filter_field": ["nope", ""], "csrf_token": token},
    ).get_json()
    assert bad["ok"] is False and bad["errors"][0]["key"] == "filter[0].field"
    assert "nope" in bad["errors"][0]["message"]
    missing = admin.post(
        "/admin/indicators/preview", data={**FORM, "name_zh": "", "csrf_token": token}
    ).get_json()
    assert missing["ok"] is False and missing["errors"][0]["key"] == "name_zh"


def test_save_puts_the_indicator_everywhere(builder_app) -> None:
    admin = logged_in(builder_app, "admin1")
    token = csrf(admin, "/admin/indicators/new")
    saved = admin.post("/admin/indicators/new", data={**FORM, "csrf_token": token})
    assert saved.status_code == 303, saved.get_data(as_text=True)[:2000]
    assert "/indicators/boilers_outside" in saved.headers["Location"]
    assert _added_files(builder_app) == ["boilers_outside.json", "boilers_outside.toml"]

    page = admin.get("/indicators/boilers_outside").get_data(as_text=True)
    assert "建成区外的锅炉" in page and XSS not in page and "&lt;" in page
    assert "lutu-map" in page or "leaflet" in page.lower()
    dashboard = admin.get("/dashboard?city=yingkou").get_data(as_text=True)
    assert "建成区外的锅炉" in dashboard and XSS not in dashboard
    listing = admin.get("/admin/indicators").get_data(as_text=True)
    assert "boilers_outside" in listing and XSS not in listing

    items = admin.get(
        "/ogc/collections/indicators/items?indicator_id=boilers_outside&adcode=210800&year=2025"
    ).get_json(force=True)
    assert items["numberMatched"] == 1
    props = items["features"][0]["properties"]
    assert props["indicator_name_zh"] == f"建成区外的锅炉{XSS}" and props["target"] == 0

    with GeoPackageStore(Path(builder_app.config["STORE_PATH"])) as store:
        (result,) = evaluate(store, 2025, ["boilers_outside"])
        county = next(a for a in result.areas if a.level == "county" and a.value)
        report = build(store, "county", county.adcode, 2025)
        labels = [b.name for g in report.pages[0].bar_groups for b in g.bars]
    assert any(label.startswith("建成区外的锅炉") for label in labels), "|".join(labels)

    again = admin.post("/admin/indicators/new", data={**FORM, "csrf_token": token})
    assert again.status_code == 400 and "已有添加的指标" in again.get_data(as_text=True)
    log = EditStore(Path(builder_app.config["EDITS_PATH"])).audit(layer="indicators")
    assert [(e.action, e.user) for e in log] == [("add", "admin1")]


def test_edit_and_remove_an_added_indicator(builder_app) -> None:
    admin = logged_in(builder_app, "admin1")
    token = csrf(admin, "/admin/indicators/new")
    admin.post("/admin/indicators/new", data={**FORM, "csrf_token": token})
    form = admin.get("/admin/indicators/boilers_outside/edit").get_data(as_text=True)
    assert 'value="boilers_outside"' in form and "readonly" in form
    assert XSS not in form and 'value="35"' in form
    changed = admin.post(
        "/admin/indicators/boilers_outside/edit",
        data={**FORM, "name_zh": "建成区外的锅炉（改）", "csrf_token": token},
    )
    assert changed.status_code == 303
    page = admin.get("/indicators/boilers_outside").get_data(as_text=True)
    assert "建成区外的锅炉（改）" in page
    assert admin.get("/admin/indicators/boilers_small_builtup/edit").status_code == 404

    removed = admin.post(
        "/admin/indicators",
        data={"action": "remove", "id": "boilers_outside", "csrf_token": token},
    )
    assert removed.status_code == 200 and "已移除" in removed.get_data(as_text=True)
    assert admin.get("/indicators/boilers_outside").status_code == 404
    actions = [e.action for e in EditStore(Path(builder_app.config["EDITS_PATH"])).audit()]
    assert actions[:3] == ["remove", "change", "add"]


def test_a_bad_save_shows_the_form_again_with_the_error(builder_app) -> None:
    admin = logged_in(builder_app, "admin1")
    token = csrf(admin, "/admin/indicators/new")
    bad = admin.post(
        "/admin/indicators/new",
        data={**FORM, "spatial_layer": "coal_boilers", "csrf_token": token},
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "spatial.layer" in body and "不是面图层" in body
    assert XSS not in body and _added_files(builder_app) == []


def test_a_failed_rebuild_undoes_the_add(make_app, source_dirs, tmp_path: Path) -> None:
    """A source that no longer reads makes the rebuild fail: the record is not kept."""
    broken = tmp_path / "broken-sources"
    broken.mkdir()
    (broken / "coal_boilers.geojson").write_text("{not json", encoding="utf-8")
    app = make_app(own_store=True, SOURCE_DIRS=[str(p) for p in [*source_dirs, broken]])
    file = tmp_path / "mine.toml"
    file.write_text(RECORD, encoding="utf-8")
    before = Path(app.config["STORE_PATH"]).read_bytes()
    result = app.test_cli_runner().invoke(args=["indicators", "add", str(file)])
    assert result.exit_code != 0 and "地图库重建失败" in result.output, result.output
    assert result.output.index("地图库重建失败") < result.output.index("store rebuild failed")
    assert _added_files(app) == []
    assert Path(app.config["STORE_PATH"]).read_bytes() == before
    assert not EditStore(Path(app.config["EDITS_PATH"])).audit(layer="indicators")


def test_a_record_the_store_left_out_is_listed_with_its_reason(builder_app) -> None:
    folder = Path(builder_app.config["ADDED_INDICATORS_DIR"])
    folder.mkdir(parents=True)
    (folder / "boilers_outside.toml").write_text(RECORD.replace(CITED, "规划里没有这句话"), "utf-8")
    built = builder_app.test_cli_runner().invoke(args=["build-store"])
    assert built.exit_code == 0, built.output
    assert _store_ids(builder_app) == [i.id for i in SHIPPED_INDICATORS]  # the others built
    page = logged_in(builder_app, "admin1").get("/admin/indicators").get_data(as_text=True)
    assert "未载入地图库" in page and "boilers_outside" in page and "target.cites[0].text" in page


def test_editing_a_hand_written_record_names_the_keys_the_form_drops(builder_app) -> None:
    folder = Path(builder_app.config["ADDED_INDICATORS_DIR"])
    folder.mkdir(parents=True)
    text = RECORD + '\n[[columns]]\nname = "status"\nsource = "state"\n'
    (folder / "boilers_outside.toml").write_text(text, encoding="utf-8")
    page = logged_in(builder_app, "admin1").get("/admin/indicators/boilers_outside/edit")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "表单不能显示的键" in body and "columns" in body
    assert 'value="outside" selected' in body and 'value="built_up_areas" selected' in body
