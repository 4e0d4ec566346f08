"""`flask regions add/list/remove` on an app with its own store and regions folder."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from support import TEST_PASSWORD, csrf, logged_in

from geo.regions import read_regions
from geo.store import GeoPackageStore
from webmap import region_sources
from webmap.auth import UserStore


@pytest.fixture
def regions_app(make_app, monkeypatch: pytest.MonkeyPatch, anshan_features: list[dict[str, Any]]):
    """An app with a store of its own; 鞍山 comes from the session's one extraction."""
    real = region_sources.extract_region

    def extract(adcode: str, **options: Any) -> list[dict[str, Any]]:
        if adcode == "210300" and not options.get("with_province"):
            return copy.deepcopy(anshan_features)
        return real(adcode, **options)

    monkeypatch.setattr(region_sources, "extract_region", extract)
    return make_app(own_store=True)


def _store_adcodes(app) -> set[str]:
    with GeoPackageStore(Path(app.config["STORE_PATH"])) as store:
        rows = store.query("districts", limit=None, with_geometry=False).features
        return {f.properties["adcode"] for f in rows}


def test_add_list_remove(regions_app) -> None:
    runner = regions_app.test_cli_runner()
    before = runner.invoke(args=["regions", "list"])
    assert before.exit_code == 0, before.output
    assert "210800" in before.output and "随附 shipped" in before.output
    assert "210300" not in before.output

    added = runner.invoke(args=["regions", "add", "210300"])
    assert added.exit_code == 0, added.output
    assert "鞍山市" in added.output and "7" in added.output
    folder = Path(regions_app.config["REGIONS_DIR"]) / "210300"
    assert (folder / "districts.geojson").is_file()
    assert {"210300", "210302", "210381"} <= _store_adcodes(regions_app)
    with GeoPackageStore(Path(regions_app.config["STORE_PATH"])) as store:
        anshan = {r.adcode: r for r in read_regions(store)}["210300"]
    assert (anshan.key, anshan.gk_epsg, anshan.parent) == ("anshan", "EPSG:4550", "210000")

    listed = runner.invoke(args=["regions", "list"]).output
    line = next(ln for ln in listed.splitlines() if ln.startswith("210300"))
    assert "鞍山市" in line and "EPSG:4550" in line and "添加 added" in line

    again = runner.invoke(args=["regions", "add", "210300"])
    assert again.exit_code != 0
    assert "210300" in again.output and again.output.index("已在") < again.output.index("already")

    removed = runner.invoke(args=["regions", "remove", "210300"])
    assert removed.exit_code == 0, removed.output
    assert not folder.exists()
    assert "210300" not in _store_adcodes(regions_app)
    assert "210300" not in runner.invoke(args=["regions", "list"]).output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["add", "999999"], ("999999", "没有", "no city or province")),
        (["add", "210302"], ("210302", "县级", "county-level")),
        (["add", "210800"], ("210800", "已在", "already present")),
        (["add", "210000"], ("210000", "已在", "already present")),
        (["remove", "210800"], ("210800", "没有添加过", "was not added")),
    ],
)
def test_bad_adcodes_write_nothing(regions_app, args: list[str], words: tuple[str, ...]) -> None:
    store_path = Path(regions_app.config["STORE_PATH"])
    stamp = store_path.stat().st_mtime_ns
    result = regions_app.test_cli_runner().invoke(args=["regions", *args])
    assert result.exit_code != 0
    assert all(w in result.output for w in words), result.output
    assert result.output.index(words[1]) < result.output.index(words[2])
    regions_dir = Path(regions_app.config["REGIONS_DIR"])
    assert not regions_dir.exists() or list(regions_dir.iterdir()) == []
    assert store_path.stat().st_mtime_ns == stamp


def test_an_added_city_is_on_every_surface(regions_app) -> None:
    """One regions table read by every page: once 鞍山 is added it is in the city switch, has
    its map, dashboard, indicator pages, search and reports; removed, it is gone again."""
    runner = regions_app.test_cli_runner()
    assert runner.invoke(args=["regions", "add", "210300"]).exit_code == 0
    client = regions_app.test_client()
    switch = client.get("/map").get_data(as_text=True)
    assert 'href="/map?city=anshan"' in switch and "鞍山市" in switch
    assert client.get("/map?city=anshan").status_code == 200
    dashboard = client.get("/dashboard?city=anshan")
    assert dashboard.status_code == 200 and "鞍山市" in dashboard.get_data(as_text=True)
    assert client.get("/dashboard?city=anshan&county=210381").status_code == 200  # 海城市
    assert client.get("/indicators/boilers_small_builtup?city=anshan").status_code == 200
    assert "鞍山市" in client.get("/reports").get_data(as_text=True)
    hits = client.get("/map/search?q=海城&city=anshan").get_json()
    assert any(h["id"] and h["name"] == "海城市" for h in hits["hits"])
    assert runner.invoke(args=["regions", "remove", "210300"]).exit_code == 0
    assert client.get("/map?city=anshan").status_code == 400


def test_the_admin_page_adds_and_removes_a_region(regions_app) -> None:
    """/admin/regions: only an administrator; adding 210300 puts 鞍山 on the map, a bad code
    is a 400 naming it with nothing written, removing takes it away."""
    users = UserStore(regions_app.config["USERS_PATH"])
    users.add("admin1", TEST_PASSWORD, "admin")
    users.add("editor2", TEST_PASSWORD, "editor")
    anonymous = regions_app.test_client().get("/admin/regions")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    assert logged_in(regions_app, "editor2").get("/admin/regions").status_code == 403

    admin = logged_in(regions_app, "admin1")
    page = admin.get("/admin/regions").get_data(as_text=True)
    assert "营口市" in page and "随附 shipped" in page and 'name="adcode"' in page
    token = csrf(admin, "/admin/regions")
    bad = admin.post("/admin/regions", data={"adcode": "999999", "csrf_token": token})
    assert bad.status_code == 400 and "999999" in bad.get_data(as_text=True)
    assert not (Path(regions_app.config["REGIONS_DIR"]) / "999999").exists()
    added = admin.post("/admin/regions", data={"adcode": "210300", "csrf_token": token})
    assert added.status_code == 200 and "已添加 added 210300 鞍山市" in added.get_data(as_text=True)
    assert 'href="/map?city=anshan"' in admin.get("/map").get_data(as_text=True)
    removed = admin.post(
        "/admin/regions", data={"adcode": "210300", "action": "remove", "csrf_token": token}
    )
    assert removed.status_code == 200 and "已移除" in removed.get_data(as_text=True)
    assert admin.get("/map?city=anshan").status_code == 400
