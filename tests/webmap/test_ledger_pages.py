"""Ledger import on the web: editors upload, preview (map and per-row table) and commit; the
audit log and a feature's history; viewers and anonymous users cannot write; names from a
ledger are escaped everywhere they are shown."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support import TEST_PASSWORD, XSS, assert_offline, csrf, logged_in
from support import boiler_ledger_bytes as ledger_bytes
from support import ledger_boiler as boiler

from geo.ledger.edits import EditStore
from webmap.auth import UserStore

PASSWORD = TEST_PASSWORD


@pytest.fixture
def web_app(make_app, tmp_path: Path):
    app = make_app(own_store=True)
    app.instance_path = str(tmp_path / "instance")  # uploads go here, not into the repo
    users = UserStore(app.config["USERS_PATH"])
    users.add("editor1", PASSWORD, "editor")
    users.add("viewer1", PASSWORD, "viewer")
    return app


def upload(client, rows, layer: str = "coal_boilers", filename: str = "台账.csv"):
    token = csrf(client, "/ledger")
    return client.post(
        "/ledger/preview",
        data={
            "csrf_token": token,
            "layer": layer,
            "crs": "",
            "file": (io.BytesIO(ledger_bytes(rows)), filename),
        },
        content_type="multipart/form-data",
    )


def test_anonymous_and_viewers_cannot_import(web_app) -> None:
    anonymous = web_app.test_client()
    page = anonymous.get("/ledger")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert anonymous.get("/audit", headers={"Accept": "application/json"}).status_code == 401
    assert anonymous.post("/ledger/commit", data={"token": "x" * 20}).status_code in (400, 401)
    viewer = logged_in(web_app, "viewer1")
    assert viewer.get("/ledger").status_code == 403
    assert viewer.get("/audit").status_code == 403


def test_editor_previews_then_commits(web_app) -> None:
    editor = logged_in(web_app, "editor1")
    form = editor.get("/ledger").get_data(as_text=True)
    assert "/ledger/template/coal_boilers.xlsx" in form and 'enctype="multipart/form-data"' in form
    preview = upload(editor, [boiler("W-1"), boiler("W-2"), boiler("W-3", "关停")])
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "新增 2" in html and "拒绝 1" in html and "关停" in html and "状态" in html
    assert 'class="folium-map"' in html or "folium-map" in html  # the preview map
    assert_offline(html)
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []  # nothing written yet
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    form = {"csrf_token": csrf(editor, "/ledger"), "token": token, "layer": "coal_boilers"}
    # All or nothing: with a rejected row, a plain commit writes nothing and says why.
    refused = editor.post("/ledger/commit", data=form)
    assert refused.status_code == 400 and "未写入任何行" in refused.get_data(as_text=True)
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []
    done = editor.post("/ledger/commit", data=form | {"accepted_only": "1"})
    assert done.status_code == 200, done.get_data(as_text=True)[:800]
    assert "新增 2" in done.get_data(as_text=True)
    entries = EditStore(web_app.config["EDITS_PATH"]).audit()
    assert {(e.user, e.feature_id) for e in entries} == {("editor1", "W-1"), ("editor1", "W-2")}
    # the map's data now has the new boilers
    popup = editor.get("/map/popup/coal_boilers/W-1")
    assert popup.status_code == 200 and "W-1号锅炉" in popup.get_data(as_text=True)
    # the upload is gone: committing twice is refused
    again = editor.post(
        "/ledger/commit",
        data={"csrf_token": csrf(editor, "/ledger"), "token": token, "layer": "coal_boilers"},
    )
    assert again.status_code == 404


def test_commit_needs_the_csrf_token(web_app) -> None:
    editor = logged_in(web_app, "editor1")
    html = upload(editor, [boiler("W-1")]).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    forged = editor.post("/ledger/commit", data={"token": token, "layer": "coal_boilers"})
    assert forged.status_code == 400
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []


def test_a_bad_file_says_why_and_keeps_nothing(web_app, tmp_path) -> None:
    editor = logged_in(web_app, "editor1")
    token = csrf(editor, "/ledger")
    response = editor.post(
        "/ledger/preview",
        data={
            "csrf_token": token,
            "layer": "coal_boilers",
            "file": (io.BytesIO(b"PK\x03\x04junk"), "x.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "x.xlsx" in text and "uploads" not in text  # the file's own name, no server folder
    uploads = Path(web_app.instance_path) / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_names_from_a_ledger_are_escaped(web_app) -> None:
    editor = logged_in(web_app, "editor1")
    html = upload(editor, [boiler("W-X", name=XSS)]).get_data(as_text=True)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    editor.post(
        "/ledger/commit",
        data={"csrf_token": csrf(editor, "/ledger"), "token": token, "layer": "coal_boilers"},
    )
    history = editor.get("/audit/coal_boilers/W-X").get_data(as_text=True)
    assert XSS not in history and "&lt;img" in history
    audit = editor.get("/audit?f=csv")
    assert audit.status_code == 200 and audit.data.startswith("\ufeff".encode())
    assert "W-X" in audit.get_data(as_text=True)


def test_audit_pages_say_local_time_layer_and_feature_names(web_app) -> None:
    """The log reads 2026-12-03 19:45 in 北京时间 (said once, in the header), 燃煤锅炉 with the
    English small, and the feature's name beside its id; the CSV keeps ISO 8601 UTC."""
    editor = logged_in(web_app, "editor1")
    html = upload(editor, [boiler("W-T", name="时区锅炉")]).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    editor.post(
        "/ledger/commit",
        data={"csrf_token": csrf(editor, "/ledger"), "token": token, "layer": "coal_boilers"},
    )
    (entry,) = EditStore(web_app.config["EDITS_PATH"]).audit()
    utc = datetime.fromisoformat(entry.at)
    local = utc.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    for url in ("/audit", "/audit/coal_boilers/W-T"):
        page = editor.get(url).get_data(as_text=True)
        assert f">{local}</time>" in page and entry.at not in page.replace(f'"{entry.at}"', "")
        assert page.count("Asia/Shanghai") == 1
        assert re.search(r"燃煤锅炉(</a>)? <small>Coal-fired boilers</small>", page)
        assert "时区锅炉" in page and "W-T" in page
    log = editor.get("/audit").get_data(as_text=True)
    assert ">coal_boilers<" not in log
    history = editor.get("/audit/coal_boilers/W-T").get_data(as_text=True)
    assert "状态 status" in history  # fields by their labels
    exported = editor.get("/audit?f=csv").get_data(as_text=True)
    assert "时间 at (ISO 8601 UTC)" in exported and entry.at in exported


def test_coordinate_systems_are_named_as_planners_know_them(web_app) -> None:
    """The upload form's and the preview's CRS drop-downs and the preview's summary name each
    CRS (CGCS2000 经纬度 (EPSG:4490), GCJ-02 高德/腾讯 …), never a bare EPSG code."""
    editor = logged_in(web_app, "editor1")
    form = editor.get("/ledger").get_data(as_text=True)
    preview = upload(editor, [boiler("W-C")]).get_data(as_text=True)
    for page in (form, preview):
        options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', page)
        crs = {value: label for value, label in options if value in ("EPSG:4490", "EPSG:4529")}
        assert crs == {
            "EPSG:4490": "CGCS2000 经纬度 (EPSG:4490)",
            "EPSG:4529": "CGCS2000 3°带 高斯-克吕格 第41带，中央经线 123°E，东坐标带带号 "
            "(EPSG:4529)",
        }
        assert ("GCJ-02", "GCJ-02 高德/腾讯") in options and ("BD-09", "BD-09 百度") in options
    assert "坐标系 CRS CGCS2000 经纬度 (EPSG:4490)" in preview
    assert "未声明坐标系：按 CGCS2000 经纬度 (EPSG:4490) 读取" in preview


def test_templates_download_for_anyone(web_app) -> None:
    response = web_app.test_client().get("/ledger/template/villages.xlsx")
    assert response.status_code == 200 and response.data.startswith(b"PK")
    assert web_app.test_client().get("/ledger/template/districts.xlsx").status_code == 404


def test_an_oversized_upload_is_refused_before_reading(web_app) -> None:
    web_app.config["MAX_CONTENT_LENGTH"] = 2048
    editor = logged_in(web_app, "editor1")
    response = editor.post(
        "/ledger/preview",
        data={"layer": "coal_boilers", "file": (io.BytesIO(b"x" * 10_000), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


# -- editing one feature -------------------------------------------------------------------------
def a_running_boiler(web_app) -> str:
    from geo.store import GeoPackageStore

    with GeoPackageStore(web_app.config["STORE_PATH"]) as store:
        rows = store.query("coal_boilers", filters={"status": ["运行"]}, limit=50).features
    return next(f.id for f in rows if f.properties.get("replacement") is None)


def edit_form(client, url: str) -> dict[str, str]:
    """The form's current values, as a browser would send them back."""
    html = client.get(url).get_data(as_text=True)
    values = dict(re.findall(r'<input id="f-[^"]+" name="([^"]+)" value="([^"]*)"', html))
    values.update(re.findall(r'name="([^"]+)" value="([^"]*)" size', html))
    for name, body in re.findall(r'<select id="f-[^"]+" name="([^"]+)">(.*?)</select>', html):
        chosen = re.search(r"<option selected>([^<]*)</option>", body)
        values[name] = chosen.group(1) if chosen else ""
    values.update(re.findall(r'type="number" step="[^"]+" name="([^"]+)" value="([^"]*)"', html))
    values["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return values


def test_editor_edits_status_from_the_popup(web_app) -> None:
    editor = logged_in(web_app, "editor1")
    fid = a_running_boiler(web_app)
    popup = editor.get(f"/map/popup/coal_boilers/{fid}").get_data(as_text=True)
    url = f"/edit/coal_boilers/{fid}"
    assert f'href="{url}"' in popup  # an editor's popup links to the form
    form = edit_form(editor, url)
    form.update({"status": "已淘汰", "status_year": "2025"})
    saved = editor.post(url, data=form)
    assert saved.status_code == 200, saved.get_data(as_text=True)[:1000]
    assert "已保存" in saved.get_data(as_text=True)
    (entry,) = EditStore(web_app.config["EDITS_PATH"]).audit()
    assert (entry.user, entry.action, entry.feature_id) == ("editor1", "change", fid)
    assert entry.before["properties"]["status"] == "运行"
    assert entry.after["properties"]["status"] == "已淘汰"
    from geo.store import GeoPackageStore

    with GeoPackageStore(web_app.config["STORE_PATH"]) as store:  # the store was rebuilt
        assert store.get("coal_boilers", fid).properties["status"] == "已淘汰"


def test_an_invalid_edit_is_refused_and_nothing_is_written(web_app) -> None:
    editor = logged_in(web_app, "editor1")
    fid = a_running_boiler(web_app)
    url = f"/edit/coal_boilers/{fid}"
    form = edit_form(editor, url)
    form.update({"status": "已替代", "replacement": "", "capacity_t_per_h": "很大"})
    refused = editor.post(url, data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "未保存" in html and "not a number" in html
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []


def test_viewers_see_no_edit_link_and_cannot_post(web_app) -> None:
    viewer = logged_in(web_app, "viewer1")
    fid = a_running_boiler(web_app)
    assert "/edit/" not in viewer.get(f"/map/popup/coal_boilers/{fid}").get_data(as_text=True)
    assert viewer.get(f"/edit/coal_boilers/{fid}").status_code == 403
    anonymous = web_app.test_client()
    assert "/edit/" not in anonymous.get(f"/map/popup/coal_boilers/{fid}").get_data(as_text=True)
    assert anonymous.get(f"/edit/coal_boilers/{fid}").status_code == 302


# -- programmatic import with an API token ----------------------------------------------------
def api_post(web_app, token: str | None, **fields: str):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = {
        "file": (io.BytesIO(ledger_bytes([boiler("API-1"), boiler("API-2", "关停")])), "台账.csv")
    }
    data.update(fields)
    return web_app.test_client().post(
        "/ledger/api/coal_boilers", data=data, headers=headers, content_type="multipart/form-data"
    )


def test_a_script_imports_with_an_api_token(web_app) -> None:
    token = UserStore(web_app.config["USERS_PATH"]).new_token("editor1", "nightly")
    dry = api_post(web_app, token)
    assert dry.status_code == 200
    body = dry.get_json()
    assert body["counts"] == {"add": 1, "change": 0, "unchanged": 0, "reject": 1}
    assert body["rows"][1]["errors"][0]["field"] == "状态"
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []  # a dry run
    refused = api_post(web_app, token, commit="1")  # all or nothing
    assert refused.status_code == 422
    assert "nothing written" in refused.get_json()["error"]["message"]
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []
    done = api_post(web_app, token, commit="1", accepted_only="1")
    assert done.status_code == 200 and done.get_json()["committed"]["added"] == 1
    (entry,) = EditStore(web_app.config["EDITS_PATH"]).audit()
    assert (entry.user, entry.feature_id) == ("editor1", "API-1")
    assert entry.details["accepted_only"] is True and entry.details["rows_left_out"] == [3]


def test_the_import_api_refuses_who_may_not_write(web_app) -> None:
    viewer_token = UserStore(web_app.config["USERS_PATH"]).new_token("viewer1")
    assert api_post(web_app, None).status_code in (400, 401)  # no token: no CSRF, no login
    assert api_post(web_app, viewer_token).status_code == 403
    assert api_post(web_app, "not-a-token").status_code == 401
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []


# -- deleting one feature ------------------------------------------------------------------------
def stored_ids(app, layer: str = "coal_boilers") -> set[str]:
    from geo.store import GeoPackageStore

    with GeoPackageStore(app.config["STORE_PATH"]) as store:
        return {f.id for f in store.query(layer, limit=None, properties=[]).features}


def delete_form(client, fid: str, **fields: str):
    token = csrf(client, f"/edit/coal_boilers/{fid}")
    data = {"csrf_token": token, "confirm": "1", "reason": "已拆除"} | fields
    return client.post(f"/edit/coal_boilers/{fid}/delete", data=data)


def test_editor_deletes_a_feature_and_the_log_keeps_it(web_app) -> None:
    editor = logged_in(web_app, "editor1")
    fid = a_running_boiler(web_app)
    before = editor.get(f"/ogc/collections/coal_boilers/items/{fid}").get_json()
    page = editor.get(f"/edit/coal_boilers/{fid}").get_data(as_text=True)
    assert f'action="/edit/coal_boilers/{fid}/delete"' in page
    done = delete_form(editor, fid)
    assert done.status_code == 200 and "已删除" in done.get_data(as_text=True)
    assert fid not in stored_ids(web_app)  # the store was rebuilt without it
    assert editor.get(f"/ogc/collections/coal_boilers/items/{fid}").status_code == 404
    (entry,) = EditStore(web_app.config["EDITS_PATH"]).audit()
    assert (entry.user, entry.action, entry.feature_id, entry.source) == (
        "editor1",
        "delete",
        fid,
        "已拆除",
    )
    assert entry.after is None
    assert entry.before["properties"]["name"] == before["properties"]["name"]
    history = editor.get(f"/audit/coal_boilers/{fid}").get_data(as_text=True)
    assert "删除" in history and before["properties"]["name"] in history
    assert "删除" in editor.get("/audit").get_data(as_text=True)
    exported = editor.get("/audit?f=csv").get_data(as_text=True)
    assert "delete" in exported and fid in exported


def test_a_deletion_needs_confirmation_an_editor_and_the_csrf_token(web_app) -> None:
    fid = a_running_boiler(web_app)
    editor = logged_in(web_app, "editor1")
    assert delete_form(editor, fid, confirm="").status_code == 400
    token = csrf(editor, f"/edit/coal_boilers/{fid}")
    forged = editor.post(f"/edit/coal_boilers/{fid}/delete", data={"confirm": "1"})
    assert forged.status_code == 400 and token  # no CSRF token: refused
    viewer = logged_in(web_app, "viewer1")
    assert delete_form(viewer, fid).status_code == 403
    anonymous = web_app.test_client()
    assert anonymous.post(f"/edit/coal_boilers/{fid}/delete").status_code in (302, 400)
    assert delete_form(editor, "no-such-boiler").status_code == 404
    assert fid in stored_ids(web_app)
    assert EditStore(web_app.config["EDITS_PATH"]).audit() == []


def test_a_deleted_feature_imported_again_is_back(web_app, tmp_path: Path) -> None:
    editor = logged_in(web_app, "editor1")
    assert delete_form(editor, "yk-boiler-0001").status_code == 200
    assert "yk-boiler-0001" not in stored_ids(web_app)
    runner = web_app.test_cli_runner()
    deleted = runner.invoke(args=["ledger", "delete", "coal_boilers", "yk-boiler-0002", "--yes"])
    assert deleted.exit_code == 0 and "已删除" in deleted.output, deleted.output
    assert "yk-boiler-0002" not in stored_ids(web_app)
    ledger = tmp_path / "again.csv"
    ledger.write_bytes(ledger_bytes([boiler("yk-boiler-0001")]))
    again = runner.invoke(
        args=["ledger", "import", "coal_boilers", str(ledger), "--user", "张工", "--yes"]
    )
    assert again.exit_code == 0, again.output
    ids = stored_ids(web_app)
    assert "yk-boiler-0001" in ids and "yk-boiler-0002" not in ids
    actions = [(e.action, e.feature_id) for e in EditStore(web_app.config["EDITS_PATH"]).audit()]
    assert actions == [
        ("add", "yk-boiler-0001"),
        ("delete", "yk-boiler-0002"),
        ("delete", "yk-boiler-0001"),
    ]
    history = runner.invoke(args=["ledger", "history", "coal_boilers", "yk-boiler-0002"])
    assert "删除" in history.output
    unknown = runner.invoke(args=["ledger", "delete", "coal_boilers", "nope", "--yes"])
    assert unknown.exit_code != 0 and "nope" in unknown.output
