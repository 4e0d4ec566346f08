"""Measures blueprint: the plan catalog, browsable and searchable, with JSON twins."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)

from geo.errors import QueryError
from webmap.catalog import catalog_view, highlight
from webmap.mapdata import extent
from webmap.maps import build_map, render_parts
from webmap.regions import DEFAULT_REGION, region_view, regions_of
from webmap.search import focus_arg
from webmap.store import get_store, visible_layer, visible_layers

bp = Blueprint("measures", __name__, template_folder="templates")

FILTERS = ("document", "part", "unit", "year", "layer", "has_target", "q")


def wants_json() -> bool:
    """The JSON twin: `f=json`, or an Accept header preferring JSON to HTML."""
    f = request.args.get("f")
    if f not in (None, "json", "html"):
        raise QueryError("f 只能是 html 或 json f must be html or json")
    if f is not None:
        return f == "json"
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _filters() -> dict[str, Any]:
    args = request.args
    chosen: dict[str, Any] = {k: args[k].strip() for k in FILTERS if args.get(k, "").strip()}
    if "year" in chosen:
        try:
            chosen["year"] = int(chosen["year"])
        except ValueError:
            raise QueryError(
                "年份须是整数，如 2025 year must be a whole number, e.g. 2025"
            ) from None
    if "has_target" in chosen:
        if chosen["has_target"] not in ("1", "0", "true", "false"):
            raise QueryError("has_target 只能是 1 或 0 has_target must be 1 or 0")
        chosen["has_target"] = chosen["has_target"] in ("1", "true")
    return chosen


def measure_url(measure_id: str) -> str:
    return url_for("measures.measure", measure_id=measure_id)


@bp.get("/measures")
def index() -> Response | str:
    catalog = catalog_view(get_store())
    chosen = _filters()
    if "layer" in chosen:
        visible_layer(chosen["layer"])  # 404 for an unknown (or restricted) layer
    found = catalog.select(**chosen)
    if wants_json():
        return jsonify(
            {
                "documents": list(catalog.documents.values()),
                "filters": chosen,
                "numberMatched": len(found),
                "measures": [
                    m | {"url": measure_url(m["id"]), "targets": catalog.targets.get(m["id"], [])}
                    for m in found
                ],
            }
        )
    return render_template(
        "measures.html",
        catalog=catalog,
        found=found,
        chosen=chosen,
        facets=catalog.facets(),
        layers={lt.id: lt for lt in visible_layers()},
        measure_url=measure_url,
    )


@bp.get("/measures/<path:measure_id>")
def measure(measure_id: str) -> Response | str:
    store = get_store()
    catalog = catalog_view(store)
    m = catalog.measures.get(measure_id)
    if m is None:
        abort(404, description=f"没有措施「{measure_id}」 no measure {measure_id!r}")
    doc = catalog.documents[m["document"]]
    targets = catalog.targets.get(measure_id, [])
    links = catalog.links_of(measure_id)
    children = [c for c in catalog.measures.values() if c["parent_id"] == measure_id]
    implemented_by = [i for i in (m["implemented_by"] or "").split(",") if i]
    if wants_json():
        return jsonify(
            m
            | {
                "url": measure_url(measure_id),
                "document_title": doc["title"],
                "targets": targets,
                "links": links,
                "children": [c["id"] for c in children],
                "implemented_by": implemented_by,
            }
        )
    fmap = None
    if links:
        # the map of the plan's own area (a city or a province), else every city
        region = next(
            (k for k, r in regions_of(store).items() if r.adcode and r.adcode == doc.get("adcode")),
            DEFAULT_REGION,
        )
        linked = {link["layer_id"] for link in links}
        layers = [lt for lt in visible_layers() if lt.id == "districts" or lt.id in linked]
        view = region_view(store, region)
        facilities = [lt for lt in layers if lt.id != "districts"]
        fmap = render_parts(
            build_map(
                view,
                layers,
                url_for=url_for,
                has_demo=True,
                config=current_app.config,
                bounds=extent(store, facilities, view),
                focus=focus_arg(),
            )
        )
    from webmap.indicators import STATUS_COLOURS, indicators_for_measure

    # Only the areas the measure's own plan governs: a 营口 measure shows no 辽源 row.
    indicators = []
    for found in indicators_for_measure(measure_id):
        areas = [a for a in found["areas"] if catalog.governs(m["document"], {"adcode": a.adcode})]
        if areas:
            indicators.append(found | {"areas": areas})
    return render_template(
        "measure.html",
        indicators=indicators,
        colours=STATUS_COLOURS,
        m=m,
        doc=doc,
        targets=targets,
        links=links,
        children=children,
        implemented_by=implemented_by,
        catalog=catalog,
        text=highlight(m["text"], targets),
        layers={lt.id: lt for lt in visible_layers()},
        map=fmap,
        measure_url=measure_url,
    )
