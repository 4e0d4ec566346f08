"""绿图 Lütu: the application factory, and `python app.py` to serve on 127.0.0.1:5000.

Configuration is layered: defaults below -> instance/config.py -> LUTU_* environment variables
(e.g. LUTU_STORE_PATH, LUTU_BASEMAPS=osm) -> the test config. Nothing is read at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

HERE = Path(__file__).resolve().parent


def default_config(instance_path: str) -> dict[str, Any]:
    return {
        # A PostgreSQL + PostGIS database (postgresql://…) instead of the embedded GeoPackage:
        # layers, edits, audit, users and upload jobs then live there, shared by every app
        # server (README: PostGIS). None: the GeoPackage at STORE_PATH.
        "DATABASE_URL": None,
        # Optional: a streaming replica of DATABASE_URL that map, API, report and indicator
        # reads go to (writes, logins and jobs stay on DATABASE_URL). A change then shows once
        # the replica has replayed it (README: PostGIS, read scale).
        "DATABASE_READ_URL": None,
        "DATABASE_POOL_SIZE": 10,  # connections each app process may hold to it, at most
        # The embedded store, rebuilt from SOURCE_DIRS when they change.
        "STORE_PATH": str(Path(instance_path) / "lutu.gpkg"),
        "SOURCE_DIRS": [str(HERE / "data" / "boundaries"), str(HERE / "data" / "demo")],
        # Regions added with `flask regions add ADCODE`: one source folder each, read with
        # SOURCE_DIRS.
        "REGIONS_DIR": str(Path(instance_path) / "regions"),
        "PLANS_DIR": str(HERE / "data" / "plans"),  # plan texts, parsed into the catalog
        # Plans added with `flask plans add FILE --region ADCODE`: one folder each (text and
        # metadata); the published ones join the catalog.
        "ADDED_PLANS_DIR": str(Path(instance_path) / "plans"),
        "LINKS_PATH": str(HERE / "plans" / "links.csv"),  # curated measure-layer links
        # Links an editor confirmed (or rejected) on a plan's review page, read with LINKS_PATH.
        "ADDED_LINKS_PATH": str(Path(instance_path) / "links.csv"),
        # Indicator records an administrator built (one TOML file each), read with the
        # shipped data/indicators/.
        "ADDED_INDICATORS_DIR": str(Path(instance_path) / "indicators"),
        # Planners' imports and edits with their audit log, laid over the sources.
        "EDITS_PATH": str(Path(instance_path) / "edits.sqlite"),
        # How far (m) outside the city outline a ledger position may lie and still be taken,
        # with a warning: the shipped boundaries are indicative (示意).
        "LEDGER_AREA_TOLERANCE_M": 3000.0,
        "BUILD_ON_START": True,
        "WARM_CACHES": True,  # read map positions in the background at start
        # Basemaps are opt-in: "osm", "tianditu" (needs TIANDITU_KEY), "custom" (BASEMAP_URL).
        "BASEMAPS": "",
        "TIANDITU_KEY": None,
        "BASEMAP_URL": None,
        "BASEMAP_NAME": None,
        "BASEMAP_ATTRIBUTION": None,
        # Map view loading: single features up to this many in view, clusters beyond.
        "MAP_FEATURE_LIMIT": 1500,
        "MAP_CLUSTER_CELL_PX": 80,
        # Printed reports: the footer's attribution and 审图号 (when the boundaries are an
        # approved standard map), a font file instead of the system Noto Sans CJK SC, and the
        # folder the `report` command may write into (None: the current folder).
        "REPORT_ATTRIBUTION": "",
        "REPORT_MAP_REVIEW_NUMBER": "",
        "REPORT_FONT": None,
        "REPORT_DIR": None,
        "REPORT_TILE_TIMEOUT_S": 2.0,  # per tile, when a basemap is configured
        # Access control (webmap/auth.py). Users, roles and API token hashes; `flask users`.
        "USERS_PATH": str(Path(instance_path) / "users.sqlite"),
        "SECRET_KEY": None,  # signs sessions; None: made once and kept in SECRET_KEY_PATH
        "SECRET_KEY_PATH": str(Path(instance_path) / "secret_key"),  # mode 0600, never in git
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,  # seconds a login lasts without activity
        "SESSION_COOKIE_SAMESITE": "Lax",  # the cookie is HttpOnly by Flask's default
        "SESSION_COOKIE_SECURE": False,  # set True when served over HTTPS
        "LOGIN_MAX_FAILURES": 5,  # failed logins per client IP and per user name ...
        "LOGIN_WINDOW_S": 600,  # ... within this many seconds, then 429
        # Restricted data (the plans' non-public annexes): absent for anonymous readers on the
        # map, in the API, reports, indicators and search. Layer ids, and "layer.field" names;
        # a list, or comma-separated in LUTU_RESTRICTED_LAYERS / LUTU_RESTRICTED_FIELDS.
        "RESTRICTED_LAYERS": [],
        "RESTRICTED_FIELDS": [],
    }


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build a 绿图 app; the only place an app is made."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(default_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("LUTU")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if isinstance(app.config["SOURCE_DIRS"], str):
        app.config["SOURCE_DIRS"] = app.config["SOURCE_DIRS"].split(os.pathsep)
    app.json.ensure_ascii = False
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    import webmap

    webmap.init_app(app)
    return app


if __name__ == "__main__":
    host = os.environ.get("LUTU_HOST", "127.0.0.1")
    port = int(os.environ.get("LUTU_PORT", "5000"))
    create_app().run(host=host, port=port, threaded=True)
