"""OGC API – Features under /ogc: thin views over the pure logic in `webmap.ogc`."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, render_template, request

from webmap import ogc
from webmap.errors import in_api
from webmap.store import get_api_store, has_restrictions, is_public_view, store_version

bp = Blueprint("ogc", __name__, url_prefix="/ogc", template_folder="templates")

# Bump when what the API writes changes for the same data, so cached answers are not reused.
API_VERSION = "1"
CACHE_CONTROL = "public, max-age=60"  # then revalidated with the ETag: cheap 304s
GZIP_MIN_BYTES = 1024
_COMPRESSIBLE = ("json", "html", "csv")


def _etag() -> str:
    """A weak ETag known before any work: the store file's identity, the view (public or
    whole), the request and what it accepts. The data cannot change without the file being
    replaced."""
    view = "public" if is_public_view() else "whole"
    accept = request.headers.get("Accept", "")
    key = "\n".join((API_VERSION, store_version(), view, request.full_path, accept))
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


@bp.before_request
def not_modified() -> Response | None:
    if request.method not in ("GET", "HEAD") or not request.if_none_match:
        return None
    etag = _etag()
    if not request.if_none_match.contains_weak(etag):
        return None
    response = Response(status=304)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@bp.after_app_request
def http_headers(response: Response) -> Response:
    """CORS for read-only use from any web page, caching and gzip for every /ogc answer."""
    if not in_api():
        return response
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = "Content-Crs, ETag, Content-Disposition"
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language, If-None-Match"
        headers["Access-Control-Max-Age"] = "86400"
    response.vary.update(("Accept", "Accept-Encoding"))
    if has_restrictions():  # a logged-in reader sees restricted data: caches must tell apart
        response.vary.update(("Cookie", "Authorization"))
    if response.status_code != 200 or request.method not in ("GET", "HEAD"):
        return response
    response.set_etag(_etag(), weak=True)
    headers["Cache-Control"] = CACHE_CONTROL
    if (
        "gzip" in request.accept_encodings
        and not response.direct_passthrough
        and any(kind in (response.mimetype or "") for kind in _COMPRESSIBLE)
    ):
        body = response.get_data()
        if len(body) >= GZIP_MIN_BYTES:
            # Level 1: JSON still shrinks 5-10x, at a fraction of the CPU of the default 9.
            response.set_data(gzip.compress(body, compresslevel=1, mtime=0))
            headers["Content-Encoding"] = "gzip"
    return response


def _base() -> str:
    return request.url_root.rstrip("/") + bp.url_prefix


def _args() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in request.args}


def _format(args: dict[str, list[str]], formats: tuple[str, ...] = ("json", "html")) -> str:
    offered = [ogc.JSON, ogc.GEOJSON, ogc.SCHEMA_JSON, ogc.HTML]
    if "csv" in formats:
        offered.append(ogc.CSV)
    best = request.accept_mimetypes.best_match(offered, default=ogc.JSON)
    return ogc.output_format(args, best, formats)


def _respond(
    answer_of: Callable[[dict[str, list[str]]], ogc.Answer],
    template: str,
    formats: tuple[str, ...] = ("json", "html"),
    **context: Any,
) -> Response:
    args = _args()
    chosen = _format(args, formats)  # an invalid f is a 400 before any work
    answer = answer_of(args)
    if chosen == "html":
        body = render_template(template, doc=answer.body, base=_base(), **context)
        return Response(body, answer.status, answer.headers, mimetype=ogc.HTML)
    if chosen == "csv":  # only items offer it, and their collection id is known to exist here
        name = context.get("collection_id", "items")
        return Response(
            ogc.items_csv(answer.body),
            answer.status,
            {**answer.headers, "Content-Disposition": f'attachment; filename="{name}.csv"'},
            content_type=f"{ogc.CSV}; charset=utf-8",
        )
    return Response(
        ogc.to_json(answer.body), answer.status, answer.headers, content_type=answer.media_type
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
    answer = ogc.openapi(get_api_store(), _base(), args)
    return Response(ogc.to_json(answer.body), answer.status, content_type=answer.media_type)


@bp.get("/collections")
def collections() -> Response:
    return _respond(lambda a: ogc.collections(get_api_store(), _base(), a), "ogc_collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    return _respond(
        lambda a: ogc.collection(get_api_store(), collection_id, _base(), a), "ogc_collection.html"
    )


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    return _respond(
        lambda a: ogc.queryables(get_api_store(), collection_id, _base(), a), "ogc_queryables.html"
    )


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    return _respond(
        lambda a: ogc.items(get_api_store(), collection_id, _base(), a),
        "ogc_items.html",
        ("json", "html", "csv"),
        collection_id=collection_id,
    )


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    return _respond(
        lambda a: ogc.item(get_api_store(), collection_id, feature_id, _base(), a),
        "ogc_item.html",
        collection_id=collection_id,
    )
