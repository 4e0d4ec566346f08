"""The map's search endpoint (/map/search) and `?focus=` on map pages, through the test client."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from support import XSS, XSS_BOILER_ID, app_users, logged_in

pytestmark = pytest.mark.both_stores


def search(client, query: str, **args: str) -> list[dict]:
    answer = client.get("/map/search", query_string={"q": query, **args})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json"
    return answer.get_json()["hits"]


def test_a_partial_chinese_name_finds_the_village_with_its_layer_and_county(client) -> None:
    first = search(client, "石山", city="yingkou")[0]
    assert first["name"] == "石山村" and first["id"] == "yk-village-0001"
    assert (first["layer"], first["layer_zh"], first["layer_en"]) == ("villages", "村", "Villages")
    assert first["county"] == "鲅鱼圈区" and first["match"] == "prefix"
    assert first["field"] == "name" and first["field_zh"] == "村名"
    assert first["geometry"] == "Point" and len(first["bbox"]) == 4
    assert 121 < first["lon"] < 123 and 39 < first["lat"] < 41


def test_ids_operators_and_counties(client) -> None:
    (boiler, *_) = search(client, "yk-boiler-0012")
    assert (boiler["layer"], boiler["field"], boiler["match"]) == ("coal_boilers", "id", "exact")
    plant = search(client, "西市区某水务")[0]
    assert (plant["id"], plant["field"], plant["field_zh"]) == (
        "yk-wwtp-0001",
        "operator",
        "运营单位",
    )
    county = search(client, "盖州")[0]
    assert (county["layer"], county["name"], county["layer_zh"]) == (
        "districts",
        "盖州市",
        "行政区划",
    )
    assert county["geometry"] == "MultiPolygon" and county["bbox"][0] < county["bbox"][2]


def test_the_city_the_layers_and_the_limit_narrow_the_search(client) -> None:
    assert all(h["id"] != "yk-village-0001" for h in search(client, "石山", city="liaoyuan"))
    assert search(client, "石山", city="all")[0]["id"] == "yk-village-0001"
    parks = search(client, "村", layers="parks,no_such_layer", limit="50")
    assert parks and {h["layer"] for h in parks} == {"parks"}
    assert len(search(client, "村", limit="3")) == 3
    assert len(search(client, "村", limit="1000")) <= 50
    assert search(client, "") == [] and search(client, "不存在的地名") == []


def test_bad_arguments_answer_json_errors(client) -> None:
    for args in ({"q": "石山", "city": "nowhere"}, {"q": "石山", "limit": "x"}):
        answer = client.get("/map/search", query_string=args)
        assert answer.status_code == 400 and answer.mimetype == "application/json"
        assert answer.get_json()["error"]["status"] == 400


def test_hostile_text_comes_back_as_json_data_only(client) -> None:
    """A name that is markup is data in JSON (the box sets it with textContent)."""
    answer = client.get("/map/search", query_string={"q": XSS})
    assert answer.mimetype == "application/json"
    hits = answer.get_json()["hits"]
    assert hits[0]["id"] == XSS_BOILER_ID and hits[0]["name"] == XSS
    assert json.loads(answer.get_data(as_text=True))["hits"][0]["text"] == XSS


def test_restricted_layers_and_fields_are_not_found_by_anonymous_readers(make_app) -> None:
    app: Flask = make_app(
        RESTRICTED_LAYERS=["coal_boilers"], RESTRICTED_FIELDS=["wastewater_plants.operator"]
    )
    app_users(app).add("王工", "restricted annex reader", "viewer")
    anonymous, viewer = app.test_client(), logged_in(app, "王工", "restricted annex reader")
    assert search(anonymous, "yk-boiler-0012") == []
    assert search(anonymous, "锅炉", layers="coal_boilers") == []
    assert all(h["field"] != "operator" for h in search(anonymous, "西市区某水务", limit="50"))
    assert search(anonymous, "营口市示例第一污水处理厂")[0]["id"] == "yk-wwtp-0001"
    assert search(viewer, "yk-boiler-0012")[0]["layer"] == "coal_boilers"
    assert search(viewer, "西市区某水务")[0]["field"] == "operator"
    url = "/map?city=yingkou&focus=coal_boilers/yk-boiler-0012"
    assert focus_of(anonymous.get(url).get_data(as_text=True)) == {"missing": True}
    assert focus_of(viewer.get(url).get_data(as_text=True))["layer"] == "coal_boilers"


def focus_of(html: str) -> dict | None:
    match = re.search(r"L\.lutu\.searchControl\((\{.*?\})\)\.addTo", html, re.S)
    assert match, "no search control on the page"
    return json.loads(match.group(1))["focus"]


def test_every_map_page_has_the_search_box(client) -> None:
    for url in (
        "/map?city=yingkou",
        "/",
        "/measures/001/三/八",
        "/indicators/boilers_small_builtup?city=yingkou&year=2025",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
        html = answer.get_data(as_text=True)
        assert "/assets/lutu-search.js" in html and "/assets/lutu-search.css" in html, url
        assert focus_of(html) is None
    options = json.loads(
        re.search(
            r"L\.lutu\.searchControl\((\{.*?\})\)",
            client.get("/map?city=liaoyuan").get_data(as_text=True),
            re.S,
        ).group(1)
    )
    assert options["url"] == "/map/search?city=liaoyuan" and "villages" in options["layers"]
    with client.get("/assets/lutu-search.js") as script:
        assert script.status_code == 200 and b"lutu.focus = function" in script.data


def test_focus_names_where_the_feature_is(client) -> None:
    focus = focus_of(
        client.get("/map?city=yingkou&focus=villages/yk-village-0001").get_data(as_text=True)
    )
    assert (focus["layer"], focus["id"], focus["name"]) == ("villages", "yk-village-0001", "石山村")
    assert 121 < focus["lon"] < 123 and focus["geometry"] == "Point"
    county = focus_of(client.get("/map?focus=districts/210881").get_data(as_text=True))
    assert county["name"] == "盖州市" and county["bbox"][0] < county["bbox"][2]
    for wrong in ("villages/nope", "nope/1", "villages"):
        html = client.get(f"/map?focus={wrong}").get_data(as_text=True)
        assert focus_of(html)["missing"] is True
    page = client.get("/measures/001/三/八?focus=coal_boilers/yk-boiler-0012")
    assert focus_of(page.get_data(as_text=True))["id"] == "yk-boiler-0012"
