"""A plan's links page (/admin/plans/<id>/links) and `flask plans links|link …`: keyword
suggestions an editor confirms or rejects, the confirmed links in the store (with who and
when), on the measure page and in the popups of the plan's region, audited; a failed rebuild
leaves the decisions as they were; only editors decide, with the session's CSRF token."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from support import TEST_PASSWORD, assert_offline, chinese_first, csrf, logged_in

from geo.ledger.edits import EditStore
from geo.regions import write_region_source
from geo.store import GeoPackageStore
from plans.links import read_decisions
from webmap.auth import UserStore

# 005/一/一 names coal boilers and the built-up area; its heading carries a <script> once the
# parser decodes the entities (as one pasted from a web page would).
PLAN = """{city}清洁取暖实施方案
为贯彻落实《辽宁省加快建立健全绿色低碳循环发展经济体系任务措施》，结合我市实际，制定本方案。
一、推进清洁取暖
（一）改造燃煤锅炉&lt;script&gt;alert(2)&lt;/script&gt;。到2025年，城市建成区内35蒸吨/小时\
以下燃煤锅炉基本淘汰&lt;script&gt;alert(3)&lt;/script&gt;。〔责任单位：市发改委、市住建局〕
（二）加强农村清洁取暖。实施农村清洁取暖改造2万户以上。〔责任单位：市农业农村局〕
二、加强组织实施
（一）强化督导。各地区各部门加强统筹，实施年度考核。〔责任单位：市生态环境局〕
"""
MEASURE = "005/一/一"
PAGE = "/admin/plans/005/links"
YINGKOU, ANSHAN = "210800", "210300"


@pytest.fixture
def links_app(make_app):
    app = make_app(own_store=True)
    users = UserStore(app.config["USERS_PATH"])
    users.add("editor1", TEST_PASSWORD, "editor")
    users.add("viewer1", TEST_PASSWORD, "viewer")
    return app


def add_plan(app, tmp_path: Path, region: str = YINGKOU, publish: bool = True) -> None:
    city = {YINGKOU: "营口市", ANSHAN: "鞍山市"}[region]
    path = tmp_path / "方案.txt"
    path.write_text(PLAN.format(city=city), encoding="utf-8")
    args = ["plans", "add", str(path), "--region", region, *(["--publish"] if publish else [])]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output


def store_links(app) -> dict[str, dict]:
    with GeoPackageStore(Path(app.config["STORE_PATH"])) as store:
        return {f.id: f.properties for f in store.query("measure_links", limit=None).features}


def decide(client, action: str, layer_id: str, measure_id: str = MEASURE, **form: str):
    data = {"action": action, "measure_id": measure_id, "layer_id": layer_id, "anchor": "m-1"}
    data |= {"csrf_token": csrf(client, PAGE)} | form
    return client.post(PAGE, data=data)


def suggestion_forms(html: str) -> set[tuple[str, str, str]]:
    """(action, measure, layer) of every decision form on the page."""
    found = set()
    for form in re.findall(r"<form method=\"post\".*?</form>", html, re.S):
        values = dict(re.findall(r'name="(action|measure_id|layer_id)" value="([^"]*)"', form))
        if len(values) == 3:
            found.add((values["action"], values["measure_id"], values["layer_id"]))
    return found


def popup_measures(client, layer_id: str, feature_id: str) -> set[str]:
    html = client.get(f"/map/popup/{layer_id}/{feature_id}").get_data(as_text=True)
    return {unquote(m) for m in re.findall(r'href="/measures/([^"?]+)"', html)}


def test_confirm_on_the_page(links_app, tmp_path: Path) -> None:
    add_plan(links_app, tmp_path)
    editor = logged_in(links_app, "editor1")
    page = editor.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert_offline(html)
    assert "<script>alert" not in html and "&lt;script&gt;alert(3)&lt;/script&gt;" in html
    # The suggestions with the layers they hit and the keywords marked.
    forms = suggestion_forms(html)
    assert {("confirm", MEASURE, "coal_boilers"), ("reject", MEASURE, "coal_boilers")} <= forms
    assert ("confirm", MEASURE, "built_up_areas") in forms
    assert ("confirm", "005/一/二", "villages") in forms
    assert '<mark class="lutu-keyword">燃煤锅炉</mark>' in html
    assert "燃煤锅炉</strong> <small>Coal-fired boilers</small>" in html
    assert "本措施涉及的燃煤锅炉（措施提及：燃煤锅炉、锅炉、蒸吨）" in html  # the default rule
    assert MEASURE not in {k.split("|")[0] for k in store_links(links_app)}

    done = decide(editor, "confirm", "coal_boilers", reason="淘汰小锅炉", rule="")
    assert done.status_code == 302 and done.headers["Location"].endswith(PAGE + "#m-1")
    after = editor.get(PAGE).get_data(as_text=True)
    assert "已确认 confirmed 005/一/一" in after
    assert ("confirm", MEASURE, "coal_boilers") not in suggestion_forms(after)
    assert ("remove", MEASURE, "coal_boilers") in suggestion_forms(after)

    row = store_links(links_app)[f"{MEASURE}|coal_boilers"]
    assert (row["reason"], row["source"], row["confirmed_by"]) == ("淘汰小锅炉", "确认", "editor1")
    assert row["rule"] == "本措施涉及的燃煤锅炉（措施提及：燃煤锅炉、锅炉、蒸吨）"
    assert row["confirmed_at"].startswith("20")

    audit = editor.get("/audit?layer=measure_links").get_data(as_text=True)
    assert f"{MEASURE}→coal_boilers" in audit and "确认" in audit and "editor1" in audit

    # The OGC API serves the new columns, typed and filterable.
    reader = links_app.test_client()
    schema = reader.get("/ogc/collections/measure_links/queryables").get_json()["properties"]
    for name in ("source", "confirmed_by", "confirmed_at"):
        assert schema[name]["type"] == "string", schema
    found = reader.get("/ogc/collections/measure_links/items?f=json&source=确认").get_json()
    assert [f["id"] for f in found["features"]] == [f"{MEASURE}|coal_boilers"]
    assert found["features"][0]["properties"]["confirmed_by"] == "editor1"

    # The measure page lists the layer; a 营口 boiler's popup lists the measure.
    measure = reader.get(f"/measures/{MEASURE}").get_data(as_text=True)
    assert "关联图层" in measure and "淘汰小锅炉" in measure
    assert PAGE not in measure  # readers are not offered the links page; editors are
    assert PAGE in editor.get(f"/measures/{MEASURE}").get_data(as_text=True)
    items = reader.get("/ogc/collections/coal_boilers/items?f=json&limit=500").get_json()
    yingkou = next(f["id"] for f in items["features"] if f["properties"]["city_adcode"] == YINGKOU)
    liaoyuan = next(f["id"] for f in items["features"] if f["properties"]["city_adcode"] != YINGKOU)
    assert MEASURE in popup_measures(reader, "coal_boilers", yingkou)
    assert MEASURE not in popup_measures(reader, "coal_boilers", liaoyuan)

    # Rejected: not suggested again, shown greyed with an undo; the undo suggests it again.
    assert decide(editor, "reject", "built_up_areas").status_code == 302
    html = editor.get(PAGE).get_data(as_text=True)
    assert ("confirm", MEASURE, "built_up_areas") not in suggestion_forms(html)
    assert ("remove", MEASURE, "built_up_areas") in suggestion_forms(html)
    assert "已否决 <small>Rejected</small>" in html
    assert f"{MEASURE}|built_up_areas" not in store_links(links_app)
    assert decide(editor, "remove", "built_up_areas").status_code == 302
    html = editor.get(PAGE).get_data(as_text=True)
    assert ("confirm", MEASURE, "built_up_areas") in suggestion_forms(html)
    decisions = read_decisions(Path(links_app.config["ADDED_LINKS_PATH"]))
    assert [(d.measure_id, d.layer_id, d.decision) for d in decisions] == [
        (MEASURE, "coal_boilers", "confirmed")
    ]
    audit = editor.get("/audit?layer=measure_links").get_data(as_text=True)
    assert "否决" in audit and "移除" in audit


def test_bad_decisions_are_refused(links_app, tmp_path: Path) -> None:
    add_plan(links_app, tmp_path)
    editor = logged_in(links_app, "editor1")
    stamp = Path(links_app.config["STORE_PATH"]).stat().st_mtime_ns
    for form, words in (
        ({"action": "confirm", "layer_id": "coal_boilers", "reason": " "}, "请填写理由"),
        ({"action": "confirm", "layer_id": "bike_sheds", "reason": "r"}, "没有图层"),
        ({"action": "remove", "layer_id": "parks"}, "没有可撤销"),
        (
            {"action": "confirm", "layer_id": "parks", "reason": "r", "measure_id": "005/九"},
            "没有措施",
        ),
        (
            {"action": "confirm", "layer_id": "parks", "reason": "r", "measure_id": "001/三/八"},
            "不属于",
        ),
    ):
        answer = decide(editor, **form)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400 and words in text, (form, text[:300])
    error = re.search(r'role="alert">([^<]*)<', text).group(1)
    assert chinese_first(error)
    assert not Path(links_app.config["ADDED_LINKS_PATH"]).exists()
    assert Path(links_app.config["STORE_PATH"]).stat().st_mtime_ns == stamp


def test_a_bad_decisions_file_is_named_on_the_page(links_app) -> None:
    path = Path(links_app.config["ADDED_LINKS_PATH"])
    path.write_text("measure_id,layer_id,reason,rule,decision,by,at\n001/三/八,parks,,,maybe,e,x\n")
    answer = logged_in(links_app, "editor1").get("/admin/plans/001/links")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 500 and "第 2 行" in text and "decision" in text


def test_shipped_plan_links_are_read_only(links_app) -> None:
    editor = logged_in(links_app, "editor1")
    html = editor.get("/admin/plans/001/links").get_data(as_text=True)
    assert "随附 <small>shipped (plans/links.csv)</small>" in html
    forms = suggestion_forms(html)
    assert not any(m == "001/三/八" and lay == "coal_boilers" for _, m, lay in forms)
    data = {"action": "reject", "measure_id": "001/三/八", "layer_id": "coal_boilers"}
    answer = editor.post(
        "/admin/plans/001/links", data=data | {"csrf_token": csrf(editor, "/admin/plans/001/links")}
    )
    assert answer.status_code == 400 and "随附于关联表" in answer.get_data(as_text=True)
    assert editor.get("/admin/plans/042/links").status_code == 404


def test_only_editors_with_the_token_decide(links_app, tmp_path: Path) -> None:
    add_plan(links_app, tmp_path, publish=False)
    path = Path(links_app.config["ADDED_LINKS_PATH"])
    form = {"action": "confirm", "measure_id": MEASURE, "layer_id": "parks", "reason": "r"}
    anonymous = links_app.test_client()
    assert anonymous.get(PAGE).status_code == 302  # to the login page
    assert anonymous.post(PAGE, data=form).status_code in (302, 400)
    viewer = logged_in(links_app, "viewer1")
    assert viewer.get(PAGE).status_code == 403
    assert (
        viewer.post(PAGE, data=form | {"csrf_token": csrf(viewer, "/account")}).status_code == 403
    )
    editor = logged_in(links_app, "editor1")
    assert editor.post(PAGE, data=form).status_code == 400  # no CSRF token
    assert editor.post(PAGE, data=form | {"csrf_token": "forged"}).status_code == 400
    assert not path.exists()


def test_a_drafts_links_wait_for_it_to_be_published(links_app, tmp_path: Path) -> None:
    add_plan(links_app, tmp_path, publish=False)
    editor = logged_in(links_app, "editor1")
    html = editor.get(PAGE).get_data(as_text=True)
    assert "草稿：确认的关联已保存" in html
    answer = decide(editor, "confirm", "coal_boilers", reason="淘汰小锅炉")
    assert answer.status_code == 302
    assert "发布后进入目录" in editor.get(PAGE).get_data(as_text=True)
    assert len(read_decisions(Path(links_app.config["ADDED_LINKS_PATH"]))) == 1
    assert f"{MEASURE}|coal_boilers" not in store_links(links_app)
    check = links_app.test_cli_runner().invoke(args=["plans", "link", "check"])
    assert check.exit_code == 0 and "问题 0 条" in check.output
    published = links_app.test_cli_runner().invoke(args=["plans", "publish", "005"])
    assert published.exit_code == 0, published.output
    assert store_links(links_app)[f"{MEASURE}|coal_boilers"]["confirmed_by"] == "editor1"
    # Removed, the plan leaves the decision behind: the check names it, nothing crashes.
    runner = links_app.test_cli_runner()
    assert runner.invoke(args=["plans", "remove", "005"]).exit_code == 0
    check = runner.invoke(args=["plans", "link", "check"])
    assert check.exit_code == 1 and "没有措施「005/一/一」" in check.output
    assert f"{MEASURE}|coal_boilers" not in store_links(links_app)


def test_failed_rebuild_leaves_the_file_as_it_was(make_app, tmp_path: Path) -> None:
    # A shipped link table naming a measure no plan has: the rebuild fails for real.
    bad = tmp_path / "shipped-links.csv"
    bad.write_text(
        "measure_id,layer_id,reason,rule\n009/一,coal_boilers,理由,规则\n", encoding="utf-8"
    )
    app = make_app(own_store=True, LINKS_PATH=str(bad))
    UserStore(app.config["USERS_PATH"]).add("editor1", TEST_PASSWORD, "editor")
    path = Path(app.config["ADDED_LINKS_PATH"])
    path.write_text(
        "measure_id,layer_id,reason,rule,decision,by,at\n"
        "001/三/八,rail_spurs,,,rejected,someone,2026-01-01T00:00:00+00:00\n",
        encoding="utf-8",
    )
    before = path.read_bytes()
    editor = logged_in(app, "editor1")
    page = "/admin/plans/001/links"
    data = {"action": "confirm", "measure_id": "001/三/八", "layer_id": "parks", "reason": "r"}
    answer = editor.post(page, data=data | {"csrf_token": csrf(editor, page)})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 500 and "地图库重建失败，决定未保存" in text
    assert "009/一" in text
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".links.csv-")] == []
    result = app.test_cli_runner().invoke(
        args=["plans", "link", "confirm", "001/三/八", "parks", "--reason", "r"]
    )
    assert result.exit_code != 0 and "重建失败" in result.output
    assert path.read_bytes() == before


def test_the_commands(links_app) -> None:
    runner = links_app.test_cli_runner()
    listed = runner.invoke(args=["plans", "links", "001"])
    assert listed.exit_code == 0, listed.output
    assert "001/三/八  推动煤炭清洁高效利用" in listed.output
    assert re.search(r"关联 link\s+coal_boilers\s+随附", listed.output)
    assert "待定建议" in listed.output

    confirmed = runner.invoke(
        args=[
            "plans",
            "link",
            "confirm",
            "001/三/八",
            "parks",
            "--reason",
            "园区锅炉",
            "--by",
            "ops",
        ]
    )
    assert confirmed.exit_code == 0, confirmed.output
    assert "已确认 confirmed 001/三/八" in confirmed.output
    row = store_links(links_app)["001/三/八|parks"]
    assert (row["confirmed_by"], row["rule"]) == ("ops", "本措施涉及的园区")
    rejected = runner.invoke(args=["plans", "link", "reject", "001/三/八", "parks"])
    assert rejected.exit_code == 0 and "已否决" in rejected.output
    assert "001/三/八|parks" not in store_links(links_app)
    assert "已否决 rejected parks" in runner.invoke(args=["plans", "links", "001"]).output
    removed = runner.invoke(args=["plans", "link", "remove", "001/三/八", "parks"])
    assert removed.exit_code == 0 and not read_decisions(Path(links_app.config["ADDED_LINKS_PATH"]))
    entries = EditStore(links_app.config["EDITS_PATH"]).audit(layer="measure_links")
    assert sorted(e.action for e in entries) == ["confirm", "reject", "remove"]

    for args, words in (
        (["link", "confirm", "001/三/八", "coal_boilers", "--reason", "r"], ("随附", "shipped")),
        (["link", "confirm", "001/三/八", "parks"], ("--reason",)),
        (["link", "reject", "042/一", "parks"], ("没有规划文件", "no plan")),
        (["links", "042"], ("没有规划文件", "no plan")),
    ):
        failed = runner.invoke(args=["plans", *args])
        assert failed.exit_code != 0 and all(w in failed.output for w in words), failed.output


def test_an_added_citys_plan_links_its_features(
    links_app, tmp_path: Path, anshan_features: list[dict]
) -> None:
    write_region_source(Path(links_app.config["REGIONS_DIR"]), ANSHAN, anshan_features)
    runner = links_app.test_cli_runner()
    assert runner.invoke(args=["build-store"]).exit_code == 0  # 鞍山 in the store
    add_plan(links_app, tmp_path, region=ANSHAN)
    args = ["plans", "link", "confirm", "005/一/二", "districts", "--reason", "各县区落实"]
    assert runner.invoke(args=args).exit_code == 0
    client = links_app.test_client()
    assert "005/一/二" in popup_measures(client, "districts", "210381")  # 海城市, 鞍山
    assert "005/一/二" not in popup_measures(client, "districts", "210802")  # 营口 站前区
    assert "行政区划" in client.get("/measures/005/一/二").get_data(as_text=True)
