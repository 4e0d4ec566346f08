"""OGC API – Features (Part 1 core + GeoJSON + HTML + OpenAPI 3.0, Part 2 CRS) as pure logic.

No Flask here: every function takes the store, a base URL (the absolute URL of the API's
landing page, e.g. http://host/ogc) and the query arguments as a mapping of name -> list of
values, and returns an `Answer` (status, headers, body) or raises `QueryError` (400),
`LayerNotFound` / `FeatureNotFound` (404). `webmap/api.py` turns answers into responses.

Collections are the registered layers the store holds, the plan catalog tables (documents,
measures, targets, measure-layer links) as features without geometry, and `indicators`:
every indicator in every area and year with the area's outline (computed, see
`plans.indicators.collection_features`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import get_transformer, transform
from geo.errors import LayerNotFound, QueryError
from geo.store import FeatureStore
from geo.store.base import Feature, LayerInfo, Range
from layers import registry
from layers.base import DEMO_NOTICE_EN, LayerType
from plans.catalog import TABLE_DESCRIPTIONS
from plans.indicators import COLLECTION_ID as INDICATORS_ID

Args = Mapping[str, Sequence[str]]

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
# The plan catalog as features without geometry, and the computed indicators.
TABLE_COLLECTIONS = ("plan_documents", "plan_measures", "plan_targets", "measure_links")
INDICATORS_DESCRIPTION = (
    "指标进展 Indicators: every indicator's value, target, gap and status in every area "
    "(province, city, county outline) and year; id <indicator>/<adcode>/<year>"
)

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# Output CRSs (Part 2): URI -> pyproj name. Storage is lon/lat WGS84 (= CRS84 axis order).
CRS_NAMES: dict[str, str] = {
    CRS84_URI: "OGC:CRS84",
    _EPSG + "4326": "EPSG:4326",
    _EPSG + "4490": "EPSG:4490",
    _EPSG + "4529": "EPSG:4529",
    _EPSG + "4530": "EPSG:4530",
    _EPSG + "4550": "EPSG:4550",
    _EPSG + "4551": "EPSG:4551",
    _EPSG + "3857": "EPSG:3857",
}
SUPPORTED_CRS = tuple(CRS_NAMES)
LAT_LON = frozenset({_EPSG + "4326", _EPSG + "4490"})  # axis order latitude, longitude
# No datum shift between these and the store's lon/lat (see geo/crs.py): only the axis order.
_NO_TRANSFORM = frozenset({CRS84_URI, _EPSG + "4326", _EPSG + "4490"})
STORE_CRS = "EPSG:4326"
STORAGE_CRS = CRS84_URI

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
CSV = "text/csv"

_INT64 = 2**63 - 1  # SQLite integers
_ITEMS_PARAMS = frozenset({"f", "bbox", "bbox-crs", "datetime", "limit", "offset", "sortby", "crs"})
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


@dataclass
class Answer:
    """What an endpoint answers: an HTTP status, extra headers and a JSON-able body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = JSON


# -- arguments --------------------------------------------------------------------------------
def _single(args: Args, name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise QueryError(f"parameter '{name}' is given {len(values)} times; give it once")
    return values[0]


def check_params(args: Args, allowed: frozenset[str] | set[str]) -> None:
    """Unknown query parameters are a 400 (OGC API – Features /rec/core/query-param-unknown)."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise QueryError(
            f"unknown query parameter(s): {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def output_format(
    args: Args, accept_best: str | None = None, formats: Sequence[str] = ("json", "html")
) -> str:
    """One of `formats`: `f` wins, else the best Accept match (api.py computes it)."""
    f = _single(args, "f")
    if f is not None:
        if f not in formats:
            choices = " or ".join(f"f={x}" for x in formats)
            raise QueryError(f"unknown format f={f!r}; use {choices}")
        return f
    if accept_best == HTML:
        return "html"
    return "csv" if accept_best == CSV and "csv" in formats else "json"


def parse_crs(value: str | None, name: str = "crs") -> str:
    """A CRS URI (or EPSG:n / OGC:CRS84 / [EPSG:n] shorthand) -> its canonical URI."""
    if value is None or value == "":
        return CRS84_URI
    v = value.strip().strip("[]")
    if v.upper() in ("OGC:CRS84", "CRS84"):
        return CRS84_URI
    if v.upper().startswith("EPSG:"):
        v = _EPSG + v[5:]
    v = v.replace("https://", "http://")
    if v not in CRS_NAMES:
        raise QueryError(f"unsupported {name} {value!r}; supported: {', '.join(SUPPORTED_CRS)}")
    return v


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise QueryError(f"limit must be a whole number, not {value!r}") from None
    if limit < 0:
        raise QueryError("limit must not be negative")
    return min(limit, MAX_LIMIT)  # the standard lets a server clamp a limit above its maximum


def parse_offset(value: str | None) -> int:
    if value is None:
        return 0
    try:
        offset = int(value)
    except ValueError:
        raise QueryError(f"offset must be a whole number, not {value!r}") from None
    if offset < 0:
        raise QueryError("offset must not be negative")
    if offset > _INT64:
        raise QueryError("offset is too large")
    return offset


def parse_bbox(value: str | None, bbox_crs: str) -> tuple[float, float, float, float] | None:
    """`bbox` in `bbox_crs` -> (minlon, minlat, maxlon, maxlat) in the store's CRS."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) == 6:
        raise QueryError("bbox with 6 numbers (3D) is not supported; give 4 numbers")
    if len(parts) != 4:
        raise QueryError("bbox needs 4 comma-separated numbers: minx,miny,maxx,maxy")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise QueryError(f"bbox values must be numbers: {value!r}") from None
    if not all(math.isfinite(n) for n in nums):
        raise QueryError("bbox values must be finite numbers")
    a, b, c, d = nums
    if bbox_crs in LAT_LON:  # lat, lon order
        a, b, c, d = b, a, d, c
    if a > c or b > d:
        raise QueryError("bbox lower corner is above or right of its upper corner")
    if bbox_crs in _NO_TRANSFORM:
        return a, b, c, d
    t = get_transformer(CRS_NAMES[bbox_crs], STORE_CRS)
    try:
        box = t.transform_bounds(a, b, c, d, densify_pts=21)
    except Exception as exc:  # pyproj raises ProjError on impossible boxes
        raise QueryError(f"bbox cannot be transformed from {bbox_crs}: {exc}") from None
    if not all(math.isfinite(n) for n in box):
        raise QueryError(f"bbox lies outside the area of use of {bbox_crs}")
    return box


def parse_value(name: str, kind: str, value: str) -> str | int | float | bool:
    if kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise QueryError(f"{name} must be a whole number, not {value!r}") from None
        if abs(number) > _INT64:
            raise QueryError(f"{name} is out of range")
        return number
    if kind == "float":
        try:
            number = float(value)
        except ValueError:
            raise QueryError(f"{name} must be a number, not {value!r}") from None
        if not math.isfinite(number):
            raise QueryError(f"{name} must be a finite number")
        return number
    if kind == "bool":
        low = value.lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise QueryError(f"{name} must be true or false, not {value!r}")
    return value


def parse_sortby(value: str | None, info: LayerInfo) -> list[tuple[str, bool]]:
    if not value:
        return []
    out = []
    for raw in value.split(","):
        term = raw.strip()  # a '+' in a query string arrives as a space
        ascending = not term.startswith("-")
        name = term.lstrip("+-").strip()
        if name not in info.fields:
            raise QueryError(f"cannot sort by {name!r}: not a property of '{info.id}'")
        out.append((name, ascending))
    return out


def _year_of(text: str) -> int:
    """The year of an RFC 3339 date or date-time."""
    t = text.strip()
    try:
        if len(t) == 10:
            return date.fromisoformat(t).year
        if "T" not in t.upper():
            raise ValueError
        return datetime.fromisoformat(t.upper().replace("Z", "+00:00")).year
    except ValueError:
        raise QueryError(
            f"datetime {text!r} is not an RFC 3339 date or date-time "
            "(e.g. 2023-05-01, 2023-05-01T00:00:00Z)"
        ) from None


def parse_datetime(value: str | None) -> Range | None:
    """`datetime` (an instant or an interval with open ends '..' or '') as a range of years:
    features carry the year of their last status change, so a feature whose year overlaps
    the requested time matches."""
    if value is None:
        return None
    if "/" not in value:
        year = _year_of(value)
        return Range(year, year)
    start, end, *more = value.split("/")
    if more:
        raise QueryError("datetime interval has more than one '/'")
    low = None if start in ("", "..") else _year_of(start)
    high = None if end in ("", "..") else _year_of(end)
    if low is None and high is None:
        raise QueryError("datetime interval needs at least one end")
    if low is not None and high is not None and low > high:
        raise QueryError("datetime interval starts after it ends")
    return Range(low, high)


def temporal_field(collection_id: str) -> str | None:
    """The year field `datetime` filters on, if the collection has one."""
    if collection_id == INDICATORS_ID:
        return "year"
    layer = registry().get(collection_id)
    return layer.temporal_field if layer is not None else None


@lru_cache(maxsize=64)  # a store is immutable while open
def _temporal_extent(store: FeatureStore, collection_id: str) -> list[str | None] | None:
    name = temporal_field(collection_id)
    if name is None:
        return None
    years = []
    for ascending in (True, False):
        found = store.query(
            collection_id,
            filters={name: Range()},
            sortby=[(name, ascending)],
            limit=1,
            properties=[name],
            with_geometry=False,
        ).features
        years.append(found[0].properties[name] if found else None)
    first, last = years
    return [
        None if first is None else f"{first}-01-01T00:00:00Z",
        None if last is None else f"{last}-12-31T23:59:59Z",
    ]


# -- collections ------------------------------------------------------------------------------
def collection_ids(store: FeatureStore) -> list[str]:
    stored = store.layers()
    ids = [layer_id for layer_id in registry() if layer_id in stored]
    return ids + [t for t in (*TABLE_COLLECTIONS, INDICATORS_ID) if t in stored]


def _info(store: FeatureStore, collection_id: str) -> LayerInfo:
    """One collection's description, without asking the store for the others (a computed
    collection is only computed when it is read)."""
    if collection_id not in registry() and collection_id not in (*TABLE_COLLECTIONS, INDICATORS_ID):
        raise LayerNotFound(collection_id)
    return store.layer(collection_id)


@lru_cache(maxsize=64)  # a store is immutable while open
def _demo_count(store: FeatureStore, collection_id: str) -> int:
    if "is_demo" not in store.layer(collection_id).fields:
        return 0
    return store.query(collection_id, filters={"is_demo": True}, limit=0).number_matched


def _titles(store: FeatureStore, collection_id: str) -> tuple[str, str]:
    layer = registry().get(collection_id)
    if layer is not None:
        title, description = layer.name_zh, layer.name_en
    elif collection_id == INDICATORS_ID:
        title, _, description = INDICATORS_DESCRIPTION.partition(" ")
    else:
        text = TABLE_DESCRIPTIONS.get(collection_id, collection_id)
        zh, _, en = text.partition(" ")
        title, description = zh, (en or text) + " (features without geometry)"
    demo = _demo_count(store, collection_id)
    if demo:
        description += f". {demo} feature(s) are {DEMO_NOTICE_EN.lower()} (is_demo: true)."
    return title, description


def collection_doc(store: FeatureStore, collection_id: str, base: str) -> dict[str, Any]:
    info = _info(store, collection_id)
    title, description = _titles(store, collection_id)
    url = f"{base}/collections/{collection_id}"
    doc: dict[str, Any] = {
        "id": collection_id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "links": [
            {"href": url, "rel": "self", "type": JSON, "title": "this collection"},
            {"href": f"{url}?f=html", "rel": "alternate", "type": HTML, "title": "HTML"},
            {"href": f"{url}/items", "rel": "items", "type": GEOJSON, "title": "items"},
            {
                "href": f"{url}/queryables",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": SCHEMA_JSON,
                "title": "queryables",
            },
        ],
    }
    if info.geometry_type is not None:
        if info.bbox is not None:
            doc["extent"] = {"spatial": {"bbox": [list(info.bbox)], "crs": CRS84_URI}}
        interval = _temporal_extent(store, collection_id)
        if interval is not None:
            doc.setdefault("extent", {})["temporal"] = {"interval": [interval], "trs": GREGORIAN}
        doc["crs"] = list(SUPPORTED_CRS)
        doc["storageCrs"] = STORAGE_CRS
    else:
        doc["crs"] = [CRS84_URI]
    return doc


def landing(base: str, args: Args) -> Answer:
    check_params(args, {"f"})
    return Answer(
        200,
        {
            "title": "绿图 Lütu OGC API – Features",
            "description": "绿色低碳规划措施的图层与规划措施目录 · Layers of green low-carbon plan "
            "measures and the plan catalog. Demonstration features are fictitious "
            "(is_demo: true).",
            "links": [
                {"href": base, "rel": "self", "type": JSON, "title": "this document"},
                {"href": f"{base}?f=html", "rel": "alternate", "type": HTML, "title": "HTML"},
                {
                    "href": f"{base}/api",
                    "rel": "service-desc",
                    "type": OPENAPI,
                    "title": "OpenAPI 3.0 definition",
                },
                {
                    "href": f"{base}/conformance",
                    "rel": "conformance",
                    "type": JSON,
                    "title": "conformance classes",
                },
                {
                    "href": f"{base}/collections",
                    "rel": "data",
                    "type": JSON,
                    "title": "collections",
                },
            ],
        },
    )


def conformance(base: str, args: Args) -> Answer:
    check_params(args, {"f"})
    return Answer(200, {"conformsTo": list(CONFORMANCE)})


def collections(store: FeatureStore, base: str, args: Args) -> Answer:
    check_params(args, {"f"})
    url = f"{base}/collections"
    return Answer(
        200,
        {
            "links": [
                {"href": url, "rel": "self", "type": JSON, "title": "collections"},
                {"href": f"{url}?f=html", "rel": "alternate", "type": HTML, "title": "HTML"},
            ],
            "collections": [collection_doc(store, c, base) for c in collection_ids(store)],
            "crs": list(SUPPORTED_CRS),
        },
    )


def collection(store: FeatureStore, collection_id: str, base: str, args: Args) -> Answer:
    check_params(args, {"f"})
    return Answer(200, collection_doc(store, collection_id, base))


def property_schemas(store: FeatureStore, collection_id: str) -> dict[str, dict[str, Any]]:
    """JSON Schema of each property: type, title (zh label), enum, unit in the description."""
    info = _info(store, collection_id)
    layer: LayerType | None = registry().get(collection_id)
    fields = layer.field_map if layer is not None else {}
    out: dict[str, dict[str, Any]] = {}
    for name, kind in info.fields.items():
        schema: dict[str, Any] = {"type": _JSON_TYPES[kind], "title": name}
        f = fields.get(name)
        if f is not None:
            schema["title"] = f.label_zh
            description = f.label_en + (f" [{f.unit}]" if f.unit else "")
            if f.description:
                description += f". {f.description}"
            schema["description"] = description
            if f.allowed:
                schema["enum"] = list(f.allowed)
            if f.minimum is not None:
                schema["minimum"] = f.minimum
            if f.maximum is not None:
                schema["maximum"] = f.maximum
        out[name] = schema
    return out


def queryables(store: FeatureStore, collection_id: str, base: str, args: Args) -> Answer:
    check_params(args, {"f"})
    title, _ = _titles(store, collection_id)
    return Answer(
        200,
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base}/collections/{collection_id}/queryables",
            "type": "object",
            "title": title,
            "properties": property_schemas(store, collection_id),
            "additionalProperties": False,
        },
        media_type=SCHEMA_JSON,
    )


# -- features ---------------------------------------------------------------------------------
def geometries_out(geoms: Sequence[BaseGeometry | None], crs: str) -> list[BaseGeometry | None]:
    """Stored lon/lat geometries in `crs` (lat/lon order for EPSG:4326/4490), all at once."""
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    if crs not in _NO_TRANSFORM:
        out = transform(STORE_CRS, CRS_NAMES[crs], out)
    if crs in LAT_LON:
        out = shapely.transform(out, lambda c: c[:, ::-1])
    return list(out)


def feature_doc(
    feature: Feature, geometry: BaseGeometry | None, collection_id: str, base: str
) -> dict[str, Any]:
    """One feature with its links; `geometry` is already in the output CRS and stays a
    shapely object until `to_json` writes every geometry of an answer in one call."""
    href = f"{base}/collections/{collection_id}/items/{quote(feature.id, safe='')}"
    return {
        "type": "Feature",
        "id": feature.id,
        "geometry": geometry,
        "properties": feature.properties,
        "links": [
            {"href": href, "rel": "self", "type": GEOJSON, "title": "this feature"},
            {"href": f"{href}?f=html", "rel": "alternate", "type": HTML, "title": "HTML"},
            {
                "href": f"{base}/collections/{collection_id}",
                "rel": "collection",
                "type": JSON,
                "title": "the collection",
            },
        ],
    }


def to_json(body: dict[str, Any]) -> bytes:
    """An answer as UTF-8 JSON. Geometries are written by GEOS in one vectorised call and the
    rest by orjson: a page of 1,000 features costs milliseconds, not tens of them."""
    if body.get("type") == "FeatureCollection":
        features = body["features"]
    elif body.get("type") == "Feature":
        features = [body]
    else:
        features = []
    if features:
        geoms = np.empty(len(features), dtype=object)
        geoms[:] = [f["geometry"] for f in features]
        texts = shapely.to_geojson(geoms)
        written = [
            {**f, "geometry": None if t is None else orjson.Fragment(t)}
            for f, t in zip(features, texts, strict=True)
        ]
        body = written[0] if body.get("type") == "Feature" else {**body, "features": written}
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def _page_url(url: str, args: Args, **replace: Any) -> str:
    pairs = [(k, v) for k, values in args.items() if k not in replace for v in values]
    pairs += [(k, str(v)) for k, v in replace.items()]
    return f"{url}?{urlencode(pairs)}" if pairs else url


def items(store: FeatureStore, collection_id: str, base: str, args: Args) -> Answer:
    info = _info(store, collection_id)
    check_params(args, _ITEMS_PARAMS | set(info.fields))
    crs = parse_crs(_single(args, "crs"))
    bbox_crs = parse_crs(_single(args, "bbox-crs"), "bbox-crs")
    bbox = parse_bbox(_single(args, "bbox"), bbox_crs)
    if bbox is not None and info.geometry_type is None:
        raise QueryError(f"'{collection_id}' has no geometry: bbox does not apply")
    limit = parse_limit(_single(args, "limit"))
    offset = parse_offset(_single(args, "offset"))
    sortby = parse_sortby(_single(args, "sortby"), info)
    filters: dict[str, Any] = {}
    for name, kind in info.fields.items():
        values = args.get(name)
        if values:
            parsed = [parse_value(name, kind, v) for v in values]
            filters[name] = parsed[0] if len(parsed) == 1 else parsed
    years = parse_datetime(_single(args, "datetime"))
    if years is not None:
        year_field = temporal_field(collection_id)
        if year_field is None:
            raise QueryError(f"'{collection_id}' has no date: datetime does not apply")
        if year_field in filters:
            raise QueryError(f"give either datetime or {year_field}, not both")
        filters[year_field] = years
    result = store.query(
        collection_id,
        bbox=bbox,
        filters=filters or None,
        limit=limit,
        offset=offset,
        sortby=sortby,
    )
    url = f"{base}/collections/{collection_id}/items"
    page = {k: v for k, v in args.items() if k != "f"}
    links = [
        {"href": _page_url(url, page), "rel": "self", "type": GEOJSON, "title": "this page"},
        {
            "href": _page_url(url, page, f="html"),
            "rel": "alternate",
            "type": HTML,
            "title": "HTML",
        },
        {"href": _page_url(url, page, f="csv"), "rel": "alternate", "type": CSV, "title": "CSV"},
        {
            "href": f"{base}/collections/{collection_id}",
            "rel": "collection",
            "type": JSON,
            "title": "the collection",
        },
    ]
    returned = len(result.features)
    if limit > 0 and offset + returned < result.number_matched:
        links.append(
            {
                "href": _page_url(url, page, limit=limit, offset=offset + limit),
                "rel": "next",
                "type": GEOJSON,
                "title": "next page",
            }
        )
    if offset > 0:
        links.append(
            {
                "href": _page_url(url, page, limit=limit, offset=max(0, offset - limit)),
                "rel": "prev",
                "type": GEOJSON,
                "title": "previous page",
            }
        )
    body = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": f.id, "geometry": g, "properties": f.properties}
            for f, g in zip(
                result.features,
                geometries_out([f.geometry for f in result.features], crs),
                strict=True,
            )
        ],
        "numberMatched": result.number_matched,
        "numberReturned": returned,
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }
    return Answer(200, body, {"Content-Crs": f"<{crs}>"}, GEOJSON)


def item(store: FeatureStore, collection_id: str, feature_id: str, base: str, args: Args) -> Answer:
    _info(store, collection_id)
    check_params(args, {"f", "crs"})
    crs = parse_crs(_single(args, "crs"))
    feature = store.get(collection_id, feature_id)
    (geometry,) = geometries_out([feature.geometry], crs)
    body = feature_doc(feature, geometry, collection_id, base)
    return Answer(200, body, {"Content-Crs": f"<{crs}>"}, GEOJSON)


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell that a spreadsheet opens as text, never as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet would run it as a formula (CSV injection)
    return value


def items_csv(body: dict[str, Any]) -> str:
    """A page of features as CSV: id, every property, and the geometry as WKT in the page's
    CRS (no column for tables). A BOM leads, so that Excel reads the Chinese as UTF-8."""
    features = body["features"]
    names = list(features[0]["properties"]) if features else ["id"]
    spatial = any(f["geometry"] is not None for f in features)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names + (["geometry_wkt"] if spatial else []))
    for f in features:
        row = [csv_cell(f["properties"].get(n)) for n in names]
        if spatial:
            row.append(f["geometry"].wkt if f["geometry"] is not None else "")
        writer.writerow(row)
    return out.getvalue()


# -- OpenAPI ----------------------------------------------------------------------------------
def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


_COMMON_PARAMS: dict[str, dict[str, Any]] = {
    "f": _param("f", "Output format 输出格式", {"type": "string", "enum": ["json", "html"]}),
    "bbox": _param(
        "bbox",
        "minx,miny,maxx,maxy in bbox-crs (CRS84 lon/lat by default; lat/lon for EPSG:4326 "
        "and EPSG:4490). 3D boxes are not supported.",
        {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
        style="form",
        explode=False,
    ),
    "bbox-crs": _param(
        "bbox-crs", "CRS of bbox", {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS)}
    ),
    "datetime": _param(
        "datetime",
        "An RFC 3339 date, date-time or interval (open ends '..'), matched by year against the "
        "year of the feature's last status change",
        {"type": "string"},
    ),
    "crs": _param(
        "crs",
        "CRS of the returned geometries (Content-Crs header)",
        {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS)},
    ),
    "limit": _param(
        "limit",
        f"Features per page: default {DEFAULT_LIMIT}, maximum {MAX_LIMIT} (larger values are "
        "clamped)",
        {"type": "integer", "minimum": 0, "default": DEFAULT_LIMIT},
    ),
    "offset": _param(
        "offset", "Features to skip (paging)", {"type": "integer", "minimum": 0, "default": 0}
    ),
    "sortby": _param(
        "sortby",
        "Comma-separated properties, '-' prefix for descending",
        {"type": "string"},
    ),
}

_ERROR_RESPONSE = {
    "description": "Error 错误",
    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in schema.items() if k not in ("title",)}
    out["title"] = schema["title"]
    out["nullable"] = True
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def _json_ok(description: str, media: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "content": {media: {"schema": schema}, HTML: {"schema": {"type": "string"}}},
        },
        "400": _ERROR_RESPONSE,
    }


def openapi(store: FeatureStore, base: str, args: Args) -> Answer:
    check_params(args, {"f"})
    f_ref = {"$ref": "#/components/parameters/f"}
    link = {
        "type": "object",
        "required": ["href"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    }
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["status", "code", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                }
            },
        },
        "Link": link,
        "Links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
        "Geometry": {"type": "object", "nullable": True, "required": ["type"]},
        "AnyObject": {"type": "object"},
    }
    any_doc = {"$ref": "#/components/schemas/AnyObject"}
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "summary": "Landing page 首页",
                "operationId": "landing",
                "parameters": [f_ref],
                "responses": _json_ok("Landing page", JSON, any_doc),
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "operationId": "conformance",
                "parameters": [f_ref],
                "responses": _json_ok("Conformance", JSON, any_doc),
            }
        },
        "/api": {
            "get": {
                "summary": "This OpenAPI document",
                "operationId": "api",
                "parameters": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.0",
                        "content": {"application/vnd.oai.openapi+json;version=3.0": {}},
                    }
                },
            }
        },
        "/collections": {
            "get": {
                "summary": "Collections 图层与表",
                "operationId": "collections",
                "parameters": [f_ref],
                "responses": _json_ok("Collections", JSON, any_doc),
            }
        },
    }
    for cid in collection_ids(store):
        info = store.layers()[cid]
        title, _ = _titles(store, cid)
        props = property_schemas(store, cid)
        feature = f"{cid}_Feature"
        schemas[feature] = {
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"type": "string"},
                "geometry": {"$ref": "#/components/schemas/Geometry"},
                "properties": {
                    "type": "object",
                    "properties": {name: _nullable(s) for name, s in props.items()},
                },
                "links": {"$ref": "#/components/schemas/Links"},
            },
        }
        schemas[f"{cid}_FeatureCollection"] = {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"$ref": f"#/components/schemas/{feature}"}},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
                "timeStamp": {"type": "string", "format": "date-time"},
                "links": {"$ref": "#/components/schemas/Links"},
            },
        }
        filters = [
            _param(name, s.get("description", s["title"]), {k: v for k, v in s.items()})
            for name, s in props.items()
        ]
        names = ["f", "limit", "offset", "sortby", "crs"]
        if temporal_field(cid) is not None:
            names[1:1] = ["datetime"]
        if info.geometry_type is not None:
            names[1:1] = ["bbox", "bbox-crs"]
        common = [{"$ref": f"#/components/parameters/{n}"} for n in names]
        url = f"/collections/{cid}"
        paths[url] = {
            "get": {
                "summary": f"{title} collection",
                "operationId": f"describe_{cid}",
                "parameters": [f_ref],
                "responses": {**_json_ok(title, JSON, any_doc), "404": _ERROR_RESPONSE},
            }
        }
        paths[f"{url}/queryables"] = {
            "get": {
                "summary": f"{title} queryables",
                "operationId": f"queryables_{cid}",
                "parameters": [f_ref],
                "responses": {**_json_ok(title, SCHEMA_JSON, any_doc), "404": _ERROR_RESPONSE},
            }
        }
        paths[f"{url}/items"] = {
            "get": {
                "summary": f"{title} features",
                "operationId": f"items_{cid}",
                "parameters": common + filters,
                "responses": {
                    **_json_ok(
                        title, GEOJSON, {"$ref": f"#/components/schemas/{cid}_FeatureCollection"}
                    ),
                    "404": _ERROR_RESPONSE,
                },
            }
        }
        paths[f"{url}/items/{{featureId}}"] = {
            "get": {
                "summary": f"One {title} feature",
                "operationId": f"item_{cid}",
                "parameters": [
                    {
                        "name": "featureId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    f_ref,
                    {"$ref": "#/components/parameters/crs"},
                ],
                "responses": {
                    **_json_ok(title, GEOJSON, {"$ref": f"#/components/schemas/{feature}"}),
                    "404": _ERROR_RESPONSE,
                },
            }
        }
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "绿图 Lütu OGC API – Features",
            "version": "1.0.0",
            "description": "OGC API – Features Part 1 (core, GeoJSON, HTML, OpenAPI 3.0) and "
            "Part 2 (CRS). Demonstration features (is_demo: true) are fictitious.",
            "license": {"name": "MIT"},
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {"parameters": dict(_COMMON_PARAMS), "schemas": schemas},
    }
    return Answer(200, doc, media_type=OPENAPI)
