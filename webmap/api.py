"""OGC API – Features under /ogc: thin views over the pure logic in `webmap.ogc`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, json, render_template, request

from webmap import ogc
from webmap.store import get_store

bp = Blueprint("ogc", __name__, url_prefix="/ogc", template_folder="templates")


def _base() -> str:
    return request.url_root.rstrip("/") + bp.url_prefix


def _args() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in request.args}


def _wants_html(args: dict[str, list[str]]) -> bool:
    best = request.accept_mimetypes.best_match(
        [ogc.JSON, ogc.GEOJSON, ogc.SCHEMA_JSON, ogc.HTML], default=ogc.JSON
    )
    return ogc.output_format(args, best) == "html"


def _respond(
    answer_of: Callable[[dict[str, list[str]]], ogc.Answer], template: str, **context: Any
) -> Response:
    args = _args()
    html = _wants_html(args)  # an invalid f is a 400 before any work
    answer = answer_of(args)
    if html:
        body = render_template(template, doc=answer.body, base=_base(), **context)
        return Response(body, answer.status, answer.headers, mimetype=ogc.HTML)
    return Response(
        json.dumps(answer.body, ensure_ascii=False),
        answer.status,
        answer.headers,
        content_type=answer.media_type,
    )


@bp.get("")
@bp.get("/")
def landing() -> Response:
    return _respond(lambda a: ogc.landing(_base(), a), "ogc_landing.html")


@bp.get("/conformance")
def conformance() -> Response:
    return _respond(lambda a: ogc.conformance(_base(), a), "ogc_conformance.html")


@bp.get("/api")
def api() -> Response:
    args = _args()
    ogc.output_format(args)  # f=json|html are accepted; the document itself is always JSON
    answer = ogc.openapi(get_store(), _base(), args)
    return Response(
        json.dumps(answer.body, ensure_ascii=False), answer.status, content_type=answer.media_type
    )


@bp.get("/collections")
def collections() -> Response:
    return _respond(lambda a: ogc.collections(get_store(), _base(), a), "ogc_collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    return _respond(
        lambda a: ogc.collection(get_store(), collection_id, _base(), a), "ogc_collection.html"
    )


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    return _respond(
        lambda a: ogc.queryables(get_store(), collection_id, _base(), a), "ogc_queryables.html"
    )


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    return _respond(
        lambda a: ogc.items(get_store(), collection_id, _base(), a),
        "ogc_items.html",
        collection_id=collection_id,
    )


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    return _respond(
        lambda a: ogc.item(get_store(), collection_id, feature_id, _base(), a),
        "ogc_item.html",
        collection_id=collection_id,
    )
