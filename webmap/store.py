"""The store as a Flask resource: built from the sources at start-up, opened once per app,
reopened when the file is replaced (a rebuild swaps it in atomically).

Who is asking decides which view of it a request gets: anonymous readers get the store without
the configured restricted layers and fields (RESTRICTED_LAYERS, RESTRICTED_FIELDS), logged-in
users and the command line get all of it. Every page, API answer and report reads through
`get_store()` / `get_api_store()` and the layer list through `visible_layers()`, so restricted
data is absent for anonymous readers everywhere at once."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import click
from flask import Flask, current_app, has_request_context
from flask.cli import with_appcontext

from geo import regions as region_table
from geo.errors import LayerNotFound
from geo.ledger.edits import EditStore, overlay
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
    def __init__(self, path: Path, restrictions: Restrictions) -> None:
        self.path = path
        self.restrictions = restrictions
        self._lock = threading.Lock()
        self._store: GeoPackageStore | None = None
        self._stamp: tuple[int, int] | None = None
        # Views of the open store, made once each (caches are kept per store object):
        # (public?, with computed collections?) -> store.
        self._views: dict[tuple[bool, bool], FeatureStore] = {}

    def get(self) -> GeoPackageStore:
        stat = self.path.stat()
        stamp = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._store is None or stamp != self._stamp:
                old, self._store, self._stamp = self._store, GeoPackageStore(self.path), stamp
                self._views = {}  # made from the old store: made again on demand
                if old is not None:
                    old.close()
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
        """Changes whenever the store file is replaced (what ETags are made from)."""
        self.get()
        return f"{self._stamp[0]}-{self._stamp[1]}" if self._stamp else ""


def build_store_files(
    path: Path,
    source_dirs: list[Path],
    plans_dir: Path,
    links_path: Path,
    edits_path: Path | None = None,
    regions_dir: Path | None = None,
    added_plans_dir: Path | None = None,
    added_links_path: Path | None = None,
    added_indicators_dir: Path | None = None,
) -> bool:
    """(Re)build the GeoPackage when the layer sources, the added regions, plan texts (shipped
    and published added ones), link tables (shipped, and the links editors confirmed), parser,
    the planners' edits or the added indicator records changed: the layers (edits laid over
    the sources), plus the plan catalog, the regions (from the districts) and the added
    indicator records (those whose citations the catalog holds; one that fails is left out and
    logged, the others built) as attribute tables."""
    layers = all_layers()
    edits = EditStore(edits_path) if edits_path is not None and edits_path.exists() else None
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

    return ensure_geopackage(
        path,
        layers,
        source_dirs,
        extra_inputs=[
            *catalog_inputs(plans_dir, links_path, added_plans_dir, added_links_path),
            *added_indicators.inputs(added_indicators_dir),
            Path(region_table.__file__),  # the regions table's code
            *([edits.path] if edits else []),
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
        Path(app.config["STORE_PATH"]),
        [Path(p) for p in app.config["SOURCE_DIRS"]],
        Path(app.config["PLANS_DIR"]),
        Path(app.config["LINKS_PATH"]),
        edits_path=Path(app.config["EDITS_PATH"]),
        regions_dir=Path(app.config["REGIONS_DIR"]),
        added_plans_dir=Path(app.config["ADDED_PLANS_DIR"]),
        added_links_path=Path(app.config["ADDED_LINKS_PATH"]),
        added_indicators_dir=Path(app.config["ADDED_INDICATORS_DIR"]),
    )


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
            app.logger.info("built the store at %s", app.config["STORE_PATH"])
    restrictions = parse_restrictions(
        _names(app.config["RESTRICTED_LAYERS"]), _names(app.config["RESTRICTED_FIELDS"])
    )
    app.extensions[_EXTENSION] = _StoreHolder(Path(app.config["STORE_PATH"]), restrictions)
    app.cli.add_command(build_store_command)
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
    """Rebuild the GeoPackage store from the source folders if they changed."""
    built = build_store(current_app)
    path = current_app.config["STORE_PATH"]
    click.echo(f"{'已重建 built' if built else '已是最新 up to date'}: {path}")
