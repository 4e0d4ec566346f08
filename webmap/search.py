"""Search on the maps: `GET /map/search?q=石山&city=yingkou` answers the features found (JSON,
through the store's search, so a reader finds only what they may see), and `?focus=<layer>/
<id>` on a map page names the feature the page opens on (`focus_arg`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from geo.errors import FeatureNotFound, LayerNotFound, QueryError
from geo.store.search import MAX_QUERY_CHARS, SearchHit, name_field, place
from layers.base import LayerType
from webmap.regions import DEFAULT_REGION, region_view, regions_of
from webmap.store import get_store, visible_layers

bp = Blueprint("search", __name__)

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


def _layer_json(layer: LayerType) -> dict[str, Any]:
    return {
        "layer": layer.id,
        "layer_zh": layer.name_zh,
        "layer_en": layer.name_en,
        "geometry": layer.geometry_type,
    }


def hit_json(layer: LayerType, hit: SearchHit) -> dict[str, Any]:
    """A hit as the map's search box lists it: the layer and matched field named in Chinese
    and English (the box sets every text with textContent)."""
    matched = layer.field_map.get(hit.field)
    return (
        hit.to_json()
        | _layer_json(layer)
        | {
            "field_zh": matched.label_zh if matched else hit.field,
            "field_en": matched.label_en if matched else hit.field,
        }
    )


def _json_error(status: int, message: str) -> tuple[Response, int]:
    code = "InvalidParameterValue" if status == 400 else "NotFound"
    return jsonify({"error": {"status": status, "code": code, "message": message}}), status


@bp.get("/map/search")
def search() -> Response | tuple[Response, int]:
    """Features of the region whose name, id, enterprise or operator contains `q`, best first;
    `layers` (comma-separated) narrows the search to a map's own layers."""
    query = request.args.get("q", "").strip()
    key = request.args.get("city") or request.args.get("region") or DEFAULT_REGION
    regions = regions_of(get_store())
    if key not in regions:
        return _json_error(
            400, f"未知区域 unknown city/region {key!r}; use one of {', '.join(regions)}"
        )
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return _json_error(400, "limit 须为整数 limit must be a whole number")
    limit = max(1, min(limit, MAX_LIMIT))
    layers = {layer.id: layer for layer in visible_layers()}
    asked = [name for name in request.args.get("layers", "").split(",") if name]
    wanted = [name for name in asked if name in layers] if asked else list(layers)
    store = get_store()
    view = region_view(store, key)
    region = (view.filters or {}).get("city_adcode")
    hits = []
    if query and wanted:
        try:
            found = store.search(query[:MAX_QUERY_CHARS], region=region, layers=wanted, limit=limit)
        except QueryError as exc:
            return _json_error(400, str(exc))
        hits = [hit_json(layers[h.layer], h) for h in found]
    return jsonify({"city": key, "hits": hits})  # the query is not echoed: the box has it


def focus_arg() -> dict[str, Any] | None:
    """The feature a map page opens on (`?focus=<layer>/<id>`), where it is for the map's
    script; {"missing": true} when the layer or feature is unknown or not visible to this
    reader (the page then says so instead of failing; the URL's ids are not repeated)."""
    value = request.args.get("focus", "")
    if not value:
        return None
    layer_id, _, feature_id = value.partition("/")
    layers = {layer.id: layer for layer in visible_layers()}
    if layer_id not in layers or not feature_id:
        return {"missing": True}
    store = get_store()
    try:
        feature = store.get(layer_id, feature_id)
    except (FeatureNotFound, LayerNotFound):
        return {"missing": True}
    layer = layers[layer_id]
    lon, lat, bbox = place(feature.geometry)
    title = name_field(store.layer(layer_id).fields)
    return _layer_json(layer) | {
        "id": feature.id,
        "name": feature.properties.get(title) if title else None,
        "lon": lon,
        "lat": lat,
        "bbox": list(bbox),
    }
