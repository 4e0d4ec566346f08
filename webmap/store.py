"""The store as a Flask resource: built from the sources at start-up, opened once per app,
reopened when the data changes (a GeoPackage rebuild swaps a new file in atomically; a
PostgreSQL database bumps its data version row in the transaction that changes it).

Who is asking decides which view of it a request gets: anonymous readers get the store without
the configured restricted layers and fields (RESTRICTED_LAYERS, RESTRICTED_FIELDS), logged-in
users and the command line get all of it. Every page, API answer and report reads through
`get_store()` / `get_api_store()` and the layer list through `visible_layers()`, so restricted
data is absent for anonymous readers everywhere at once."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, has_request_context
from flask.cli import with_appcontext

from geo import regions as region_table
from geo.errors import LayerNotFound
from geo.ledger.edits import EditLog, EditStore, open_edits, overlay
from geo.sources import LayerData
from geo.store import AttributeTable, FeatureStore, GeoPackageStore, ensure_geopackage
from geo.store.base import Restrictions
from geo.store.memory import CombinedStore, MemoryStore
from geo.store.restricted import restricted_view
from layers import all_layers, get_layer, parse_restrictions
from layers.base import LayerType
from plans import added_indicators
from plans.catalog import TABLE_DESCRIPTIONS, TABLE_FIELDS, Area, catalog_rows, load_catalog
from plans.catalog import inputs as catalog_inputs

_EXTENSION = "lutu_store"
_log = logging.getLogger(__name__)


class _StoreHolder:
    """The open store and the views made of it. Subclasses say how to tell that the data
    changed (`_current`): a new store object is then opened, so everything cached per store
    object (point indexes, indicator values, views) starts afresh."""

    def __init__(self, restrictions: Restrictions) -> None:
        self.restrictions = restrictions
        self._lock = threading.Lock()
        self._store: FeatureStore | None = None
        self._stamp: str = ""
        # Views of the open store, made once each (caches are kept per store object):
        # (public?, with computed collections?) -> store.
        self._views: dict[tuple[bool, bool], FeatureStore] = {}

    def _current(self) -> str:
        """What identifies the data now (a changed value: open the store again)."""
        raise NotImplementedError

    def _open(self) -> FeatureStore:
        raise NotImplementedError

    def _release(self, store: FeatureStore) -> None:
        store.close()

    def get(self) -> FeatureStore:
        stamp = self._current()
        with self._lock:
            if self._store is None or stamp != self._stamp:
                old, self._store, self._stamp = self._store, self._open(), stamp
                self._views = {}  # made from the old store: made again on demand
                if old is not None:
                    self._release(old)
            return self._store

    def view(self, public: bool, api: bool = False) -> FeatureStore:
        """The whole store, or its public view; with `api`, plus the computed `indicators`
        collection (made from that view, so it holds only the indicators the view may show)."""
        from plans.indicators import COLLECTION_ID, collection_features

        store = self.get()
        with self._lock:
            # A store replaced meanwhile: this request gets views of its own, not kept.
            views = self._views if self._store is store else {}
            if (public, False) not in views:
                views[(public, False)] = (
                    restricted_view(store, self.restrictions) if public else store
                )
            base = views[(public, False)]
            if api and (public, True) not in views:
                # Computed on first read (seconds at a million villages): requests for stored
                # layers never wait for it, and the start-up warm-up usually gets there first.
                views[(public, True)] = CombinedStore(
                    base, MemoryStore(loader=lambda: {COLLECTION_ID: collection_features(base)})
                )
            return views[(public, api)]

    def version(self) -> str:
        """Changes whenever the data changes (what ETags are made from)."""
        self.get()
        return self._stamp

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._release(self._store)
            self._store = None


class _GeoPackageHolder(_StoreHolder):
    """The GeoPackage file: a rebuild swaps a new file in, so its inode and mtime tell."""

    def __init__(self, path: Path, restrictions: Restrictions) -> None:
        super().__init__(restrictions)
        self.path = path

    def _current(self) -> str:
        stat = self.path.stat()
        return f"{stat.st_ino}-{stat.st_mtime_ns}"

    def _open(self) -> FeatureStore:
        return GeoPackageStore(self.path)


class _PostGISHolder(_StoreHolder):
    """The PostGIS database: its data version row tells, read at most once per request (a
    change committed by any app server is seen by the next request everywhere). Store objects
    share one connection pool per process, made on first use (after gunicorn forks)."""

    def __init__(self, url: str, restrictions: Restrictions) -> None:
        super().__init__(restrictions)
        self.url = url
        self._pool: Any = None
        self._pool_lock = threading.Lock()

    def pool(self) -> Any:
        with self._pool_lock:
            if self._pool is None:
                from geo.store.postgis import connection_pool

                self._pool = connection_pool(self.url)
            return self._pool

    def _current(self) -> str:
        from flask import g

        if has_request_context() and "lutu_data_version" in g:
            return g.lutu_data_version
        from geo.store.postgis import data_version

        stamp = f"pg-{data_version(self.pool())}"
        if has_request_context():
            g.lutu_data_version = stamp
        return stamp

    def _open(self) -> FeatureStore:
        from geo.store.postgis import PostGISStore

        return PostGISStore(self.url, pool=self.pool())

    def _release(self, store: FeatureStore) -> None:
        pass  # the pool is shared with the next store object; requests may still use this one

    def close(self) -> None:
        super().close()
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
            self._pool = None


def is_database_url(target: str | Path) -> bool:
    """Whether a store target names a PostgreSQL database rather than a GeoPackage file."""
    return str(target).startswith(("postgresql://", "postgres://"))


def store_target(app: Flask) -> str | Path:
    """Where the app's store lives: DATABASE_URL when set, else the GeoPackage file."""
    return app.config.get("DATABASE_URL") or Path(app.config["STORE_PATH"])


def store_name(app: Flask) -> str:
    """The store's location as told to an operator (a database URL without its password)."""
    target = store_target(app)
    if not is_database_url(target):
        return str(target)
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(str(target))
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, netloc + port, parts.path, "", ""))


def build_store_files(
    target: Path | str,
    source_dirs: list[Path],
    plans_dir: Path,
    links_path: Path,
    edits_path: Path | None = None,
    regions_dir: Path | None = None,
    added_plans_dir: Path | None = None,
    added_links_path: Path | None = None,
    added_indicators_dir: Path | None = None,
) -> bool:
    """(Re)build the store (a GeoPackage file, or a PostgreSQL URL) when the layer sources, the
    added regions, plan texts (shipped and published added ones), link tables (shipped, and the
    links editors confirmed), parser, the planners' edits or the added indicator records
    changed: the layers (edits laid over the sources), plus the plan catalog, the regions (from
    the districts) and the added indicator records (those whose citations the catalog holds;
    one that fails is left out and logged, the others built) as attribute tables."""
    layers = all_layers()
    if is_database_url(target):
        # The edits are in the database, written in place: laid over the sources only when
        # these change and the layers are loaded again; not an input to fingerprint.
        edits, edit_inputs = open_edits(str(target)), []
    else:
        edits = EditStore(edits_path) if edits_path is not None and edits_path.exists() else None
        edit_inputs = [edits.path] if edits else []
    if regions_dir is not None:
        source_dirs = [*source_dirs, *region_table.added_region_dirs(regions_dir)]

    def tables(data: dict[str, LayerData]) -> list[AttributeTable]:
        catalog = load_catalog(
            plans_dir,
            links_path,
            [layer.id for layer in layers],
            added_dir=added_plans_dir,
            added_links_path=added_links_path,
        )
        regions = region_table.regions_table(data["districts"])
        areas = {
            p["adcode"]: Area(p["adcode"], p["name_zh"], p["level"], p.get("parent_adcode"))
            for p in data["districts"].properties
        }
        rows = catalog_rows(catalog, areas, {r["adcode"]: r["key"] for r in regions.rows})
        return [
            *(
                AttributeTable(name, fields, rows[name], TABLE_DESCRIPTIONS[name])
                for name, fields in TABLE_FIELDS.items()
            ),
            regions,
            *_indicator_tables(added_indicators_dir, rows),
        ]

    if is_database_url(target):
        from geo.store.postgis import ensure_postgis

        ensure = ensure_postgis
    else:
        ensure, target = ensure_geopackage, Path(target)
    return ensure(
        target,
        layers,
        source_dirs,
        extra_inputs=[
            *catalog_inputs(plans_dir, links_path, added_plans_dir, added_links_path),
            *added_indicators.inputs(added_indicators_dir),
            Path(region_table.__file__),  # the regions table's code
            *edit_inputs,
        ],
        tables=tables,
        overlay=(lambda data: overlay(edits, data)) if edits else None,
    )


def _indicator_tables(folder: Path | None, rows: dict[str, list[dict]]) -> list[AttributeTable]:
    """The added indicator records that pass their checks, as the store's table (none when
    no record was added)."""
    from plans.indicators import (
        RECORDS_TABLE,
        RECORDS_TABLE_DESCRIPTION,
        RECORDS_TABLE_FIELDS,
        SHIPPED_RECORDS,
    )

    found, refused = added_indicators.table_rows(
        folder, added_indicators.catalog_texts(rows), SHIPPED_RECORDS
    )
    for reason in refused:
        _log.warning("未载入添加的指标 added indicator left out: %s", reason)
    if not found:
        return []
    return [AttributeTable(RECORDS_TABLE, RECORDS_TABLE_FIELDS, found, RECORDS_TABLE_DESCRIPTION)]


def build_store(app: Flask) -> bool:
    """(Re)build the app's store from its configured inputs if they changed."""
    return build_store_files(
        store_target(app),
        [Path(p) for p in app.config["SOURCE_DIRS"]],
        Path(app.config["PLANS_DIR"]),
        Path(app.config["LINKS_PATH"]),
        edits_path=Path(app.config["EDITS_PATH"]),
        regions_dir=Path(app.config["REGIONS_DIR"]),
        added_plans_dir=Path(app.config["ADDED_PLANS_DIR"]),
        added_links_path=Path(app.config["ADDED_LINKS_PATH"]),
        added_indicators_dir=Path(app.config["ADDED_INDICATORS_DIR"]),
    )


def edit_log() -> EditLog:
    """The planners' edits and the audit log of this app: in its database, written in place
    into the layers (DATABASE_URL), else the edits file EDITS_PATH laid over the sources by
    a rebuild."""
    return open_edits(current_app.config.get("DATABASE_URL") or current_app.config["EDITS_PATH"])


def _holder() -> _StoreHolder:
    return current_app.extensions[_EXTENSION]


def has_restrictions() -> bool:
    """Whether anything is restricted: answers then differ by who asks."""
    return bool(_holder().restrictions)


def is_public_view() -> bool:
    """Whether this request sees the public view: an anonymous reader, while something is
    restricted. The command line (no request) is the operator and sees everything."""
    from webmap.auth import current_user

    return has_restrictions() and has_request_context() and current_user() is None


def get_store(public: bool | None = None) -> FeatureStore:
    """The store as this request may see it (`public` forces a view, e.g. for a CLI report
    meant for the public)."""
    return _holder().view(is_public_view() if public is None else public)


def get_api_store() -> FeatureStore:
    """The store (as this request may see it) plus the computed `indicators` collection
    (every indicator, area and year), made once per opened store: what the OGC API serves."""
    return _holder().view(is_public_view(), api=True)


def store_version() -> str:
    return _holder().version()


def visible_layers() -> list[LayerType]:
    """The layer types this request may see, in registry order."""
    restricted = _holder().restrictions if is_public_view() else Restrictions()
    return [layer for layer in all_layers() if not restricted.hides(layer.id)]


def visible_layer(layer_id: str) -> LayerType:
    """One layer type, or LayerNotFound (a 404) when unknown or restricted for this request."""
    if is_public_view() and _holder().restrictions.hides(layer_id):
        raise LayerNotFound(layer_id)
    return get_layer(layer_id)


def init_app(app: Flask) -> None:
    if app.config["BUILD_ON_START"]:
        if build_store(app):
            app.logger.info("built the store at %s", store_name(app))
    restrictions = parse_restrictions(
        _names(app.config["RESTRICTED_LAYERS"]), _names(app.config["RESTRICTED_FIELDS"])
    )
    target = store_target(app)
    app.extensions[_EXTENSION] = (
        _PostGISHolder(str(app.config.get("DATABASE_READ_URL") or target), restrictions)
        if is_database_url(target)
        else _GeoPackageHolder(Path(target), restrictions)
    )
    app.cli.add_command(build_store_command)
    app.cli.add_command(db_cli)
    if app.config["WARM_CACHES"]:
        threading.Thread(target=_warm, args=(app,), name="lutu-warm", daemon=True).start()


def _names(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """A configured list: a list, or a comma-separated string (an environment variable)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def _warm(app: Flask) -> None:
    """Read point positions for every region and the indicators' year-independent work once,
    in the background, so the first visitor does not wait for them (a quarter second per
    100,000 features; ~13 s for the indicators over a million villages)."""
    from plans.indicators import warm as warm_indicators
    from webmap.regions import region_view, regions_of

    with app.app_context():
        store = get_store()
        for layer in all_layers():  # the API's in-memory point indexes
            if layer.geometry_type == "Point" and layer.id in store.layers():
                store.query(layer.id, limit=0)
        for key in regions_of(store):
            view = region_view(store, key)
            for layer in all_layers():
                if layer.geometry_type == "Point" and layer.id in store.layers():
                    store.positions(layer.id, filters=view.filters_for(layer))
        warm_indicators(store)
        holder = app.extensions[_EXTENSION]
        for public in {False, bool(holder.restrictions)}:
            holder.view(public, api=True).layers()  # computes the indicators collection


@click.command("build-store")
@with_appcontext
def build_store_command() -> None:
    """Rebuild the store (GeoPackage, or the DATABASE_URL) from the sources if they changed."""
    built = build_store(current_app)
    click.echo(f"{'已重建 built' if built else '已是最新 up to date'}: {store_name(current_app)}")


db_cli = click.Group("db", help="PostgreSQL + PostGIS 数据库 the database (DATABASE_URL).")


def _database_url() -> str:
    url = current_app.config.get("DATABASE_URL")
    if not url:
        raise click.ClickException(
            "未配置数据库：请设置 LUTU_DATABASE_URL=postgresql://… "
            "no database configured: set LUTU_DATABASE_URL"
        )
    return str(url)


@db_cli.command("init")
@with_appcontext
def db_init_command() -> None:
    """Create or upgrade the schema (versioned migrations), then load the shipped sources
    (layers, boundaries, plan catalog) unless the database already holds exactly them."""
    from geo.migrations import migrate

    applied = migrate(_database_url())
    for name in applied:
        click.echo(f"已应用迁移 migration applied: {name}")
    built = build_store(current_app)
    click.echo(f"{'已载入 loaded' if built else '已是最新 up to date'}: {store_name(current_app)}")


@db_cli.command("migrate")
@with_appcontext
def db_migrate_command() -> None:
    """Apply the schema migrations the database lacks, and nothing else."""
    from geo.migrations import migrate

    applied = migrate(_database_url())
    lines = [f"已应用迁移 migration applied: {name}" for name in applied]
    click.echo("\n".join(lines) or "已是最新 up to date")


def close_store(app: Flask) -> None:
    """Close the app's store and its connections (tests make many apps)."""
    holder = app.extensions.get(_EXTENSION)
    if holder is not None:
        holder.close()
