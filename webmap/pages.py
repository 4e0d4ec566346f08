"""Pages blueprint: the map page, and the view-loaded data and popups it fetches."""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from geo.errors import QueryError
from geo.store import FeatureStore
from webmap.auth import current_user
from webmap.catalog import catalog_view
from webmap.indicators import feature_filter, indicator_or_404, year_arg
from webmap.mapdata import view_data
from webmap.maps import MAX_ZOOM, build_map, render_parts
from webmap.regions import DEFAULT_REGION, cities_of, place_names, region_view, regions_of
from webmap.search import focus_arg
from webmap.store import get_store, visible_layer, visible_layers

bp = Blueprint(
    "pages",
    __name__,
    static_folder="static",
    static_url_path="/assets",
    template_folder="templates",
)


def _region_key() -> str:
    key = request.args.get("city") or request.args.get("region") or DEFAULT_REGION
    regions = regions_of(get_store())
    if key not in regions:
        raise QueryError(
            f"没有城市或地区「{key}」 unknown city/region {key!r}; use one of {', '.join(regions)}"
        )
    return key


@lru_cache(maxsize=8)  # a store is immutable while open; counting demo rows scans tables
def has_demo(store: FeatureStore) -> bool:
    """Whether any layer holds demonstration features (the map then says so)."""
    return any(
        store.query(layer_id, filters={"is_demo": True}, limit=0).number_matched
        for layer_id, info in store.layers().items()
        if "is_demo" in info.fields
    )


@bp.get("/")
@bp.get("/map")
def map_page() -> str:
    store = get_store()
    view = region_view(store, _region_key())
    layers = visible_layers()
    stored = store.layers()
    fmap = build_map(
        view,
        layers,
        url_for=url_for,
        has_demo=has_demo(store),
        config=current_app.config,
        counts={layer_id: info.count for layer_id, info in stored.items()},
        focus=focus_arg(),
    )
    return render_template("map.html", map=render_parts(fmap), view=view, regions=regions_of(store))


@bp.get("/map/data/<layer_id>")
def layer_data(layer_id: str) -> Response:
    layer = visible_layer(layer_id)
    view = region_view(get_store(), _region_key())
    try:
        bbox = tuple(float(v) for v in request.args["bbox"].split(","))
        zoom = float(request.args.get("zoom", 8))
    except (KeyError, ValueError):
        raise QueryError("bbox=minx,miny,maxx,maxy and a numeric zoom are required") from None
    if len(bbox) != 4:
        raise QueryError("bbox needs four numbers: minx, miny, maxx, maxy")
    extra = _indicator_filter(layer_id) if request.args.get("indicator") else None
    filters = view.filters_for(layer, extra)
    answer = view_data(
        get_store(),
        layer,
        bbox=bbox,
        zoom=zoom,
        max_zoom=MAX_ZOOM,
        filters=filters,
        feature_limit=current_app.config["MAP_FEATURE_LIMIT"],
        cell_px=current_app.config["MAP_CLUSTER_CELL_PX"],
    )
    return jsonify(answer)


def _indicator_filter(layer_id: str) -> dict[str, list[str]]:
    """Only the features behind an indicator (its drill-down map)."""
    indicator = indicator_or_404(request.args["indicator"])
    if indicator.layer != layer_id:
        return {"id": []}
    return feature_filter(
        indicator.id, year_arg(), _region_key(), request.args.get("county") or None
    )


@bp.get("/map/popup/<layer_id>/<path:feature_id>")
def popup(layer_id: str, feature_id: str) -> Response:
    layer = visible_layer(layer_id)
    store = get_store()
    feature = store.get(layer_id, feature_id)
    ties = catalog_view(store).ties(
        layer_id,
        feature.properties,
        lambda measure_id: url_for("measures.measure", measure_id=measure_id),
    )
    actions = []
    user = current_user()
    if user is not None and user.can("editor") and layer_id != "districts":
        actions.append(
            (
                "✎ 编辑 Edit",
                url_for("ledger.edit_feature", layer_id=layer_id, feature_id=feature_id),
            )
        )
    if layer_id == "districts" and feature.properties.get("level") == "county":
        key = feature.properties["adcode"]
        city = next(
            (
                c
                for c, code in cities_of(get_store()).items()
                if code == feature.properties.get("parent_adcode")
            ),
            None,
        )
        if city:  # the county's figures and the features behind them
            actions.append(
                ("县区指标 Indicators", url_for("indicators.dashboard", city=city, county=key))
            )
        actions += [
            ("⤓ 县区报告 PDF", url_for("reports.download", kind="county", key=key, fmt="pdf")),
            ("地图 PNG", url_for("reports.download", kind="county", key=key, fmt="png")),
        ]
    return Response(
        layer.popup_html(feature.properties, place_names(store), ties, actions),
        mimetype="text/html",
    )
