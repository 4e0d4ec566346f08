"""OGC API – Features under /ogc, through Flask's test client (and the pure logic directly)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from pyproj import Transformer
from support import XSS_BOILER_ID, XSS_POSITION

from geo.errors import QueryError
from layers import get_layer, registry
from webmap import ogc

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BOILER = f"/ogc/collections/coal_boilers/items/{XSS_BOILER_ID}"


def _json(client, url: str, status: int = 200, **kwargs) -> dict:
    r = client.get(url, **kwargs)
    assert r.status_code == status, (url, r.get_data(as_text=True))
    return r.get_json(force=True)


def _rel(doc: dict, rel: str) -> dict | None:
    found = [link for link in doc["links"] if link["rel"] == rel]
    return found[0] if found else None


def _path(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_landing_page_links(client) -> None:
    doc = _json(client, "/ogc")
    assert client.get("/ogc").content_type == "application/json"
    rels = {link["rel"]: link for link in doc["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].endswith("/ogc/collections")


def test_conformance_declares_what_is_implemented(client) -> None:
    doc = _json(client, "/ogc/conformance")
    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert set(doc["conformsTo"]) == {
        base + "core",
        base + "geojson",
        base + "html",
        base + "oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    }


def test_collections_cover_every_layer_and_the_catalog(client, store) -> None:
    doc = _json(client, "/ogc/collections")
    ids = [c["id"] for c in doc["collections"]]
    stored = store.layers()
    assert ids == [lid for lid in registry() if lid in stored] + ["plan_measures", "plan_documents"]
    for c in doc["collections"]:
        assert c["itemType"] == "feature"
        items = _rel(c, "items")
        assert items["type"] == "application/geo+json"
        assert items["href"].endswith(f"/ogc/collections/{c['id']}/items")
        assert _rel(c, "http://www.opengis.net/def/rel/ogc/1.0/queryables")
        one = _json(client, f"/ogc/collections/{c['id']}")
        assert one["id"] == c["id"]
        if c["id"] in registry():
            layer = get_layer(c["id"])
            assert c["title"] == layer.name_zh
            assert c["description"].startswith(layer.name_en)
            demo = store.query(c["id"], filters={"is_demo": True}, limit=0).number_matched
            assert ("fictitious" in c["description"]) == bool(demo)
            assert c["extent"]["spatial"]["bbox"] == [list(stored[c["id"]].bbox)]
            assert c["extent"]["spatial"]["crs"] == CRS84
            assert c["storageCrs"] == CRS84
            assert EPSG + "4490" in c["crs"] and EPSG + "4550" in c["crs"]
        else:
            assert "extent" not in c  # measures without geometry


def test_queryables_are_json_schema(client) -> None:
    doc = _json(client, "/ogc/collections/coal_boilers/queryables")
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["type"] == "object"
    layer = get_layer("coal_boilers")
    props = doc["properties"]
    assert set(props) == {f.name for f in layer.fields}
    status = layer.field_map["status"]
    assert props["status"]["enum"] == list(status.allowed)
    assert props["status"]["title"] == status.label_zh
    assert props["capacity_t_per_h"]["type"] == "number"
    assert layer.field_map["capacity_t_per_h"].unit in props["capacity_t_per_h"]["description"]
    assert props["status_year"]["type"] == "integer"
    assert props["is_demo"]["type"] == "boolean"
    assert _json(client, "/ogc/collections/plan_measures/queryables")["properties"]["level"] == {
        "type": "integer",
        "title": "level",
    }


def test_items_default_page(client, store) -> None:
    r = client.get("/ogc/collections/villages/items")
    assert r.content_type == "application/geo+json"
    assert r.headers["Content-Crs"] == f"<{CRS84}>"
    doc = r.get_json(force=True)
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == len(doc["features"]) == ogc.DEFAULT_LIMIT
    assert doc["numberMatched"] == store.layers()["villages"].count
    assert _rel(doc, "collection")["href"].endswith("/ogc/collections/villages")
    assert _rel(doc, "prev") is None
    for f in doc["features"]:
        assert f["properties"]["is_demo"] is True
        assert isinstance(f["id"], str) and f["id"] == f["properties"]["id"]
        self_href = _rel(f, "self")["href"]
        assert "?" not in self_href
        assert self_href.endswith(f"/ogc/collections/villages/items/{f['id']}")


def test_paging_walks_every_village_once(client, store) -> None:
    count = store.layers()["villages"].count
    seen: list[str] = []
    url = "/ogc/collections/villages/items?limit=37&sortby=-households"
    pages = 0
    while url:
        doc = _json(client, url)
        assert doc["numberMatched"] == count
        assert doc["numberReturned"] == len(doc["features"]) <= 37
        seen += [f["id"] for f in doc["features"]]
        nxt = _rel(doc, "next")
        if pages:
            prev = _rel(doc, "prev")
            assert parse_qs(urlsplit(prev["href"]).query)["sortby"] == ["-households"]
        url = _path(nxt["href"]) if nxt else None
        if url:
            assert parse_qs(urlsplit(url).query)["sortby"] == ["-households"]
        pages += 1
    assert pages == -(-count // 37)
    assert len(seen) == len(set(seen)) == count


def test_next_link_keeps_filters(client) -> None:
    doc = _json(client, "/ogc/collections/villages/items?limit=5&sewage_treated=true&offset=5")
    query = parse_qs(urlsplit(_rel(doc, "next")["href"]).query)
    assert query == {"sewage_treated": ["true"], "limit": ["5"], "offset": ["10"]}
    prev = parse_qs(urlsplit(_rel(doc, "prev")["href"]).query)
    assert prev == {"sewage_treated": ["true"], "limit": ["5"], "offset": ["0"]}


def test_limit_zero_and_clamping(client, store) -> None:
    doc = _json(client, "/ogc/collections/villages/items?limit=0")
    assert doc["numberReturned"] == 0 and doc["numberMatched"] == 300
    assert _rel(doc, "next") is None
    doc = _json(client, "/ogc/collections/villages/items?limit=99999")
    assert doc["numberReturned"] == store.layers()["villages"].count
    assert ogc.parse_limit("99999") == ogc.MAX_LIMIT


def test_bbox_in_each_crs(client) -> None:
    lon, lat = XSS_POSITION
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    ids = {
        f["id"]
        for f in _json(client, f"/ogc/collections/coal_boilers/items?bbox={box}")["features"]
    }
    assert XSS_BOILER_ID in ids
    latlon = f"{lat - 0.001},{lon - 0.001},{lat + 0.001},{lon + 0.001}"
    for crs in (EPSG + "4326", EPSG + "4490"):
        doc = _json(client, f"/ogc/collections/coal_boilers/items?bbox={latlon}&bbox-crs={crs}")
        assert {f["id"] for f in doc["features"]} == ids
    # lon/lat order given as lat/lon finds nothing there
    doc = _json(client, f"/ogc/collections/coal_boilers/items?bbox={box}&bbox-crs={EPSG}4490")
    assert XSS_BOILER_ID not in {f["id"] for f in doc["features"]}
    t = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)
    x, y = t.transform(lon, lat)
    gk = f"{x - 50},{y - 50},{x + 50},{y + 50}"
    doc = _json(client, f"/ogc/collections/coal_boilers/items?bbox={gk}&bbox-crs={EPSG}4550")
    assert XSS_BOILER_ID in {f["id"] for f in doc["features"]}
    far = _json(client, "/ogc/collections/coal_boilers/items?bbox=100,10,101,11")
    assert far["numberMatched"] == 0 and far["features"] == []


@pytest.mark.parametrize(
    ("query", "field", "expected"),
    [
        ("status=运行", "status", "运行"),
        ("status_year=2025", "status_year", 2025),
        ("capacity_t_per_h=35", "capacity_t_per_h", 35.0),
        ("is_demo=true", "is_demo", True),
    ],
)
def test_property_filters_are_typed(client, store, query, field, expected) -> None:
    doc = _json(client, f"/ogc/collections/coal_boilers/items?{query}&limit=1000")
    assert doc["numberMatched"] > 0
    assert all(f["properties"][field] == expected for f in doc["features"])
    direct = store.query("coal_boilers", filters={field: expected}, limit=0).number_matched
    assert doc["numberMatched"] == direct


def test_bool_filter_and_repeated_values(client, store) -> None:
    for value, expected in (("false", False), ("0", False), ("1", True)):
        doc = _json(client, f"/ogc/collections/villages/items?sewage_treated={value}&limit=500")
        assert {f["properties"]["sewage_treated"] for f in doc["features"]} == {expected}
    both = _json(client, "/ogc/collections/coal_boilers/items?status=运行&status=停运&limit=0")
    expected = store.query(
        "coal_boilers", filters={"status": ["运行", "停运"]}, limit=0
    ).number_matched
    assert both["numberMatched"] == expected
    doc = _json(client, "/ogc/collections/plan_measures/items?level=1&limit=1000")
    assert doc["numberMatched"] > 0
    assert all(f["properties"]["level"] == 1 and f["geometry"] is None for f in doc["features"])


def test_sortby(client) -> None:
    url = "/ogc/collections/villages/items?limit=300&sortby="
    up = [f["properties"]["households"] for f in _json(client, url + "households")["features"]]
    assert up == sorted(up)
    down = [f["properties"]["households"] for f in _json(client, url + "-households")["features"]]
    assert down == sorted(down, reverse=True)
    plus = _json(client, url + "%2Bhouseholds")["features"]
    assert [f["properties"]["households"] for f in plus] == up
    two = _json(client, url + "county_adcode,-households")["features"]
    keys = [(f["properties"]["county_adcode"], -f["properties"]["households"]) for f in two]
    assert keys == sorted(keys)


def test_crs_output_for_the_known_point(client) -> None:
    lon, lat = XSS_POSITION
    r = client.get(BOILER)
    assert r.headers["Content-Crs"] == f"<{CRS84}>"
    assert r.get_json(force=True)["geometry"]["coordinates"] == pytest.approx([lon, lat])
    for code in ("4326", "4490"):
        r = client.get(f"{BOILER}?crs={EPSG}{code}")
        assert r.status_code == 200
        assert r.headers["Content-Crs"] == f"<{EPSG}{code}>"
        assert r.get_json(force=True)["geometry"]["coordinates"] == pytest.approx([lat, lon])
    for code in ("4550", "4529", "4551", "4530", "3857"):
        r = client.get(f"{BOILER}?crs={EPSG}{code}")
        assert r.headers["Content-Crs"] == f"<{EPSG}{code}>"
        x, y = Transformer.from_crs("EPSG:4326", f"EPSG:{code}", always_xy=True).transform(lon, lat)
        assert r.get_json(force=True)["geometry"]["coordinates"] == pytest.approx([x, y], abs=1e-3)
    x, y = _json(client, f"{BOILER}?crs={EPSG}4550")["geometry"]["coordinates"]
    assert 400_000 < x < 600_000  # CM 123°E, false easting 500 km
    items = client.get(f"/ogc/collections/coal_boilers/items?crs={EPSG}4490&id={XSS_BOILER_ID}")
    assert items.headers["Content-Crs"] == f"<{EPSG}4490>"
    (feature,) = items.get_json(force=True)["features"]
    assert feature["geometry"]["coordinates"] == pytest.approx([lat, lon])
    # back again: the GK point as a bbox in its own CRS finds the boiler (tested above too)
    back = Transformer.from_crs("EPSG:4550", "EPSG:4326", always_xy=True).transform(x, y)
    assert back == pytest.approx((lon, lat), abs=1e-7)


def test_crs_shorthand(client) -> None:
    doc = _json(client, f"{BOILER}?crs=EPSG:4490")
    assert doc["geometry"]["coordinates"] == pytest.approx(list(reversed(XSS_POSITION)))


def test_item_and_table_item(client) -> None:
    doc = _json(client, BOILER)
    assert doc["type"] == "Feature" and doc["id"] == XSS_BOILER_ID
    assert doc["properties"]["is_demo"] is True
    assert "?" not in _rel(doc, "self")["href"]
    assert _rel(doc, "collection")["href"].endswith("/ogc/collections/coal_boilers")
    measure = _json(client, "/ogc/collections/plan_measures/items?limit=1")["features"][0]
    assert "/" in measure["id"]  # measure ids are paths like 000/一
    again = _json(client, _path(_rel(measure, "self")["href"]))
    assert again["id"] == measure["id"] and again["geometry"] is None


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/ogc/collections/coal_boilers/items?bbox=1,2,3", 400),
        ("/ogc/collections/coal_boilers/items?bbox=1,2,3,4,5,6", 400),
        ("/ogc/collections/coal_boilers/items?bbox=a,b,c,d", 400),
        ("/ogc/collections/coal_boilers/items?bbox=3,2,1,4", 400),
        ("/ogc/collections/coal_boilers/items?limit=-1", 400),
        ("/ogc/collections/coal_boilers/items?limit=abc", 400),
        ("/ogc/collections/coal_boilers/items?limit=1.5", 400),
        ("/ogc/collections/coal_boilers/items?offset=-3", 400),
        ("/ogc/collections/coal_boilers/items?offset=100000000000000000000000", 400),
        ("/ogc/collections/coal_boilers/items?status_year=100000000000000000000000", 400),
        ("/ogc/collections/coal_boilers/items?bbox=-180,-90,180,90&bbox-crs=EPSG:4529", 400),
        ("/ogc/collections/coal_boilers/items?crs=EPSG:9999", 400),
        ("/ogc/collections/coal_boilers/items?bbox-crs=urn:nope&bbox=1,2,3,4", 400),
        ("/ogc/collections/coal_boilers/items?sortby=nope", 400),
        ("/ogc/collections/coal_boilers/items?status_year=soon", 400),
        ("/ogc/collections/coal_boilers/items?capacity_t_per_h=nan", 400),
        ("/ogc/collections/coal_boilers/items?is_demo=maybe", 400),
        ("/ogc/collections/coal_boilers/items?colour=red", 400),
        ("/ogc/collections/coal_boilers/items?limit=1&limit=2", 400),
        ("/ogc/collections/coal_boilers/items?f=xml", 400),
        ("/ogc/collections/plan_measures/items?bbox=1,2,3,4", 400),
        (f"{BOILER}?crs=EPSG:1234", 400),
        (f"{BOILER}?limit=3", 400),
        ("/ogc/collections?foo=1", 400),
        ("/ogc/collections/nope", 404),
        ("/ogc/collections/nope/items", 404),
        ("/ogc/collections/plan_targets/items", 404),
        ("/ogc/collections/coal_boilers/items/nope", 404),
        ("/ogc/nothing-here", 404),
    ],
)
def test_errors_are_json_in_one_shape(client, url, status) -> None:
    for headers in ({}, {"Accept": "text/html"}):
        r = client.get(url, headers=headers)
        assert r.status_code == status, r.get_data(as_text=True)
        assert r.content_type == "application/json"
        error = r.get_json()["error"]
        assert error["status"] == status
        assert error["code"] and error["message"]


def test_method_not_allowed_is_json(client) -> None:
    r = client.post("/ogc/collections")
    assert r.status_code == 405 and r.get_json()["error"]["status"] == 405


def test_html_twins(client) -> None:
    pages = {
        "/ogc?f=html": "collections",
        "/ogc/conformance?f=html": "conf/core",
        "/ogc/collections?f=html": get_layer("villages").name_zh,
        "/ogc/collections/villages?f=html": get_layer("villages").name_zh,
        "/ogc/collections/villages/queryables?f=html": "households",
        "/ogc/collections/villages/items?f=html": "匹配",
        f"{BOILER}?f=html": "示例数据",
    }
    for url, text in pages.items():
        r = client.get(url)
        assert r.status_code == 200 and r.content_type.startswith("text/html"), url
        assert text in r.get_data(as_text=True), url
    # the hostile feature stays text
    body = client.get(f"{BOILER}?f=html").get_data(as_text=True)
    assert "<img src=x" not in body
    # Accept: text/html without f, and Accept: JSON
    assert client.get("/ogc", headers={"Accept": "text/html"}).content_type.startswith("text/html")
    r = client.get("/ogc/collections", headers={"Accept": "application/json"})
    assert r.content_type == "application/json"


def test_openapi_is_valid_and_generated_from_the_registry(client, store) -> None:
    r = client.get("/ogc/api")
    assert r.content_type == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.get_json(force=True)
    assert doc["openapi"] == "3.0.3"
    assert '$ref": "http' not in r.get_data(as_text=True)  # self-contained
    for cid in ogc.collection_ids(store):
        items = doc["paths"][f"/collections/{cid}/items"]["get"]
        names = {p.get("name") for p in items["parameters"]}
        assert set(store.layers()[cid].fields) <= names
        assert f"/collections/{cid}/items/{{featureId}}" in doc["paths"]
    boiler = doc["components"]["schemas"]["coal_boilers_Feature"]["properties"]["properties"]
    assert (
        boiler["properties"]["status"]["title"]
        == get_layer("coal_boilers").field_map["status"].label_zh
    )
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


def test_pure_logic_without_http(store) -> None:
    answer = ogc.items(store, "coal_boilers", "http://x/ogc", {"limit": ["2"]})
    assert answer.status == 200 and answer.media_type == "application/geo+json"
    assert answer.body["numberReturned"] == 2
    assert answer.headers == {"Content-Crs": f"<{CRS84}>"}
    with pytest.raises(QueryError):
        ogc.items(store, "coal_boilers", "http://x/ogc", {"bbox": ["1,2,3"]})
    assert ogc.parse_bbox("40,122,41,123", EPSG + "4490") == (122.0, 40.0, 123.0, 41.0)


def test_responses_match_the_openapi_schemas(client, store) -> None:
    validators = pytest.importorskip("openapi_schema_validator")
    components = client.get("/ogc/api").get_json(force=True)["components"]

    def errors(doc: dict, name: str) -> list[str]:
        schema = {"$ref": f"#/components/schemas/{name}", "components": components}
        return [e.message for e in validators.OAS30Validator(schema).iter_errors(doc)]

    for cid in ogc.collection_ids(store):
        doc = _json(client, f"/ogc/collections/{cid}/items?limit=1000")
        assert doc["numberReturned"] == store.layers()[cid].count
        assert errors(doc, f"{cid}_FeatureCollection") == [], cid
    assert errors(_json(client, BOILER), "coal_boilers_Feature") == []
    error = client.get("/ogc/collections/nope").get_json()
    assert errors(error, "Error") == []
