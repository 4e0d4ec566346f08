"""Third-party browser assets served by the app itself, from their PyPI packages (offline)."""

from __future__ import annotations

import xstatic.pkg.leaflet
from flask import Blueprint, Response, send_from_directory

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

LEAFLET_VERSION = xstatic.pkg.leaflet.VERSION


@bp.get("/leaflet/<path:filename>", endpoint="leaflet")
def leaflet(filename: str) -> Response:
    return send_from_directory(xstatic.pkg.leaflet.BASE_DIR, filename, max_age=86400)
