"""OGC API – Features under /ogc, through Flask's test client (and the pure logic directly)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import shapely
from pyproj import Transformer
from support import XSS, XSS_BOILER_ID, XSS_POSITION

from geo.errors import QueryError
from layers import get_layer, registry
from webmap import ogc

pytestmark = pytest.mark.both_stores

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
    tables = ["plan_documents", "plan_measures", "plan_targets", "measure_links"]
    assert ids == [lid for lid in registry() if lid in stored] + tables + ["indicators"]
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
        elif c["id"] in tables:
            assert "extent" not in c  # the catalog has no geometry


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
        assert "links" not in f  # the id is the link: .../items/{id} (lean pages)
    items_link = _rel(_json(client, "/ogc/collections/villages"), "items")["href"]
    assert "?" not in items_link  # GDAL appends /{id} to it
    one = _json(client, _path(items_link) + "/" + doc["features"][0]["id"])
    assert _rel(one, "self")["href"].endswith(f"/ogc/collections/villages/items/{one['id']}")
    assert _rel(one, "alternate")["type"] == "text/html"


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
    quoted = quote(measure["id"], safe="")
    again = _json(client, f"/ogc/collections/plan_measures/items/{quoted}")
    assert _rel(again, "self")["href"].endswith(f"/items/{quoted}")
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
        ("/ogc/collections/lutu_meta/items", 404),
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


# --- datetime, CSV, the indicators collection, HTTP caching, gzip and CORS -----------------


@pytest.mark.parametrize(
    ("datetime", "low", "high"),
    [
        ("2021-05-01", 2021, 2021),
        ("2021-05-01T08:00:00Z", 2021, 2021),
        ("2019-01-01/2021-12-31", 2019, 2021),
        ("../2020-12-31", None, 2020),
        ("2023-01-01/..", 2023, None),
        ("2023-01-01/", 2023, None),
    ],
)
def test_datetime_filters_by_the_status_year(client, store, datetime, low, high) -> None:
    def within(year: int | None) -> bool:
        return year is not None and (low is None or year >= low) and (high is None or year <= high)

    everything = store.query("coal_boilers", limit=None).features
    expected = {f.id for f in everything if within(f.properties["status_year"])}
    assert expected, "the demo boilers should change status in that time"
    doc = _json(client, f"/ogc/collections/coal_boilers/items?datetime={datetime}&limit=1000")
    assert {f["id"] for f in doc["features"]} == expected
    assert doc["numberMatched"] == len(expected)
    nxt = _json(client, f"/ogc/collections/coal_boilers/items?datetime={datetime}&limit=1")
    if len(expected) > 1:
        assert parse_qs(urlsplit(_rel(nxt, "next")["href"]).query)["datetime"] == [datetime]


def test_datetime_errors_and_temporal_extent(client) -> None:
    for bad in ("2021", "yesterday", "2022-01-01/2021-01-01", "../..", "2021-01-01/x/y"):
        r = client.get(f"/ogc/collections/coal_boilers/items?datetime={bad}")
        assert r.status_code == 400, bad
        assert "datetime" in r.get_json()["error"]["message"]
    r = client.get("/ogc/collections/plan_measures/items?datetime=2021-01-01")
    assert r.status_code == 400 and "no date" in r.get_json()["error"]["message"]
    r = client.get("/ogc/collections/coal_boilers/items?datetime=2021-01-01&status_year=2020")
    assert r.status_code == 400
    temporal = _json(client, "/ogc/collections/coal_boilers")["extent"]["temporal"]
    first, last = temporal["interval"][0]
    assert first.endswith("-01-01T00:00:00Z") and last.endswith("-12-31T23:59:59Z")
    assert temporal["trs"] == ogc.GREGORIAN
    assert "temporal" not in _json(client, "/ogc/collections/districts").get("extent", {})
    # declared in the OpenAPI document only where it applies
    paths = _json(client, "/ogc/api")["paths"]

    def names(cid: str) -> set[str]:
        return {p.get("$ref", "").rsplit("/", 1)[-1] for p in paths[cid]["get"]["parameters"]}

    assert "datetime" in names("/collections/coal_boilers/items")
    assert "datetime" not in names("/collections/districts/items")


def test_items_as_csv(client, store) -> None:
    r = client.get("/ogc/collections/coal_boilers/items?f=csv&limit=1000&sortby=id")
    assert r.status_code == 200
    assert r.content_type == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="coal_boilers.csv"'
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads the Chinese as UTF-8
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == store.layers()["coal_boilers"].count
    fields = list(get_layer("coal_boilers").field_map)
    assert list(rows[0]) == fields + ["geometry_wkt"]
    hostile = next(row for row in rows if row["id"] == XSS_BOILER_ID)
    assert hostile["name"] == XSS  # data, not HTML: kept as it is
    assert hostile["is_demo"] == "true"
    point = shapely.from_wkt(hostile["geometry_wkt"])
    assert (point.x, point.y) == pytest.approx(XSS_POSITION)
    # the same page in EPSG:4490 carries lat/lon
    r = client.get(f"/ogc/collections/coal_boilers/items/{XSS_BOILER_ID}?crs=EPSG:4490")
    assert r.get_json()["geometry"]["coordinates"] == pytest.approx(XSS_POSITION[::-1])
    # Accept works too; tables have no geometry column; other endpoints refuse f=csv
    r = client.get("/ogc/collections/plan_measures/items?limit=3", headers={"Accept": "text/csv"})
    header = next(csv.reader(io.StringIO(r.get_data(as_text=True)[1:])))
    assert r.content_type.startswith("text/csv") and "geometry_wkt" not in header
    assert client.get("/ogc/collections?f=csv").status_code == 400
    assert _rel(_json(client, "/ogc/collections/villages/items"), "alternate")


def test_csv_cells_cannot_become_formulas() -> None:
    body = {
        "features": [
            {"properties": {"id": "a", "note": "=HYPERLINK(1)", "n": -3}, "geometry": None},
        ]
    }
    rows = list(csv.reader(io.StringIO(ogc.items_csv(body)[1:])))
    assert rows[1] == ["a", "'=HYPERLINK(1)", "-3"]


def test_indicators_collection(client, store) -> None:
    from plans.indicators import FIRST_YEAR, LAST_YEAR, evaluate

    result = next(r for r in evaluate(store, 2022) if r.id == "beautiful_villages_2022")
    city = result.area("210800")
    doc = _json(
        client,
        "/ogc/collections/indicators/items?indicator_id=beautiful_villages_2022&adcode=210800"
        "&datetime=2022-06-30",
    )
    assert doc["numberMatched"] == 1
    feature = doc["features"][0]
    assert feature["id"] == "beautiful_villages_2022/210800/2022"
    props = feature["properties"]
    assert props["value"] == city.value and props["status"] == city.status
    assert props["target"] == city.target and props["is_demo"] is True
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    one = _json(client, "/ogc/collections/indicators/items/beautiful_villages_2022/210800/2022")
    assert one["properties"] == props
    every_year = _json(
        client,
        "/ogc/collections/indicators/items?indicator_id=beautiful_villages_2022&adcode=210800",
    )
    assert every_year["numberMatched"] == LAST_YEAR - FIRST_YEAR + 1
    counties = _json(client, "/ogc/collections/indicators/items?level=county&year=2025&limit=0")
    assert counties["numberMatched"] > 0
    info = _json(client, "/ogc/collections/indicators")
    assert info["extent"]["temporal"]["interval"] == [
        [f"{FIRST_YEAR}-01-01T00:00:00Z", f"{LAST_YEAR}-12-31T23:59:59Z"]
    ]


def test_etag_and_cache_control(client) -> None:
    url = "/ogc/collections/villages/items?limit=5"
    r = client.get(url)
    etag = r.headers["ETag"]
    assert etag.startswith('W/"')
    assert "max-age" in r.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get(url + "&offset=5", headers={"If-None-Match": etag}).status_code == 200
    html = client.get(url, headers={"If-None-Match": etag, "Accept": "text/html"})
    assert html.status_code == 200  # another representation, another tag
    assert "ETag" not in client.get("/ogc/collections/nope").headers


def test_gzip_when_asked(client) -> None:
    url = "/ogc/collections/villages/items?limit=200"
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == plain.get_data().replace(
        plain.get_json()["timeStamp"].encode(), packed_stamp(packed)
    )
    small = client.get("/ogc/conformance", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # not worth it under 1 kB


def packed_stamp(response) -> bytes:
    return json.loads(gzip.decompress(response.get_data()))["timeStamp"].encode()


def test_cors_for_read_only_use(client) -> None:
    r = client.get("/ogc/collections", headers={"Origin": "http://other.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Crs" in r.headers["Access-Control-Expose-Headers"]
    pre = client.options(
        "/ogc/collections/villages/items",
        headers={"Origin": "http://other.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 200
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert client.post("/ogc/collections").status_code == 405
    assert "Access-Control-Allow-Origin" not in client.get("/measures").headers
