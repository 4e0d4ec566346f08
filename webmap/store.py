"""The store as a Flask resource: built from the sources at start-up, opened once per app,
reopened when the file is replaced (a rebuild swaps it in atomically)."""

from __future__ import annotations

import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from geo.ledger.edits import EditStore, overlay
from geo.store import AttributeTable, FeatureStore, GeoPackageStore, ensure_geopackage
from geo.store.memory import CombinedStore, MemoryStore
from layers import all_layers
from plans.catalog import TABLE_DESCRIPTIONS, TABLE_FIELDS, catalog_rows, load_catalog
from plans.catalog import inputs as catalog_inputs

_EXTENSION = "lutu_store"


class _StoreHolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._store: GeoPackageStore | None = None
        self._stamp: tuple[int, int] | None = None
        self._api: FeatureStore | None = None  # the store plus computed collections

    def get(self) -> GeoPackageStore:
        stat = self.path.stat()
        stamp = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._store is None or stamp != self._stamp:
                old, self._store, self._stamp = self._store, GeoPackageStore(self.path), stamp
                self._api = None  # computed from the old store: made again on demand
                if old is not None:
                    old.close()
            return self._store

    def get_api(self) -> FeatureStore:
        from plans.indicators import COLLECTION_ID, collection_features

        store = self.get()
        with self._lock:
            if self._api is None or self._store is not store:
                # Computed on first read (seconds at a million villages): requests for stored
                # layers never wait for it, and the start-up warm-up usually gets there first.
                indicators = MemoryStore(loader=lambda: {COLLECTION_ID: collection_features(store)})
                self._api = CombinedStore(store, indicators)
            return self._api

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
) -> bool:
    """(Re)build the GeoPackage when the layer sources, plan texts, link table, parser or the
    planners' edits changed: the layers (edits laid over the sources), plus the plan catalog
    as attribute tables."""
    layers = all_layers()
    edits = EditStore(edits_path) if edits_path is not None and edits_path.exists() else None

    def tables() -> list[AttributeTable]:
        catalog = load_catalog(plans_dir, links_path, layer_ids=[layer.id for layer in layers])
        rows = catalog_rows(catalog)
        return [
            AttributeTable(name, fields, rows[name], TABLE_DESCRIPTIONS[name])
            for name, fields in TABLE_FIELDS.items()
        ]

    return ensure_geopackage(
        path,
        layers,
        source_dirs,
        extra_inputs=[*catalog_inputs(plans_dir, links_path), *([edits.path] if edits else [])],
        tables=tables,
        overlay=(lambda data: overlay(edits, data)) if edits else None,
    )


def build_store(app: Flask) -> bool:
    """(Re)build the app's store from its configured inputs if they changed."""
    return build_store_files(
        Path(app.config["STORE_PATH"]),
        [Path(p) for p in app.config["SOURCE_DIRS"]],
        Path(app.config["PLANS_DIR"]),
        Path(app.config["LINKS_PATH"]),
        Path(app.config["EDITS_PATH"]),
    )


def get_store() -> GeoPackageStore:
    return current_app.extensions[_EXTENSION].get()


def store_version() -> str:
    return current_app.extensions[_EXTENSION].version()


def get_api_store() -> FeatureStore:
    """The store plus the computed `indicators` collection (every indicator, area and year),
    made once per opened store: what the OGC API serves."""
    return current_app.extensions[_EXTENSION].get_api()


def init_app(app: Flask) -> None:
    if app.config["BUILD_ON_START"]:
        if build_store(app):
            app.logger.info("built the store at %s", app.config["STORE_PATH"])
    app.extensions[_EXTENSION] = _StoreHolder(Path(app.config["STORE_PATH"]))
    app.cli.add_command(build_store_command)
    if app.config["WARM_CACHES"]:
        threading.Thread(target=_warm, args=(app,), name="lutu-warm", daemon=True).start()


def _warm(app: Flask) -> None:
    """Read point positions for every region and the indicators' year-independent work once,
    in the background, so the first visitor does not wait for them (a quarter second per
    100,000 features; ~13 s for the indicators over a million villages)."""
    from plans.indicators import warm as warm_indicators
    from webmap.regions import REGIONS, region_view

    with app.app_context():
        store = get_store()
        for layer in all_layers():  # the API's in-memory point indexes
            if layer.geometry_type == "Point" and layer.id in store.layers():
                store.query(layer.id, limit=0)
        for key in REGIONS:
            view = region_view(store, key)
            for layer in all_layers():
                if layer.geometry_type == "Point" and layer.id in store.layers():
                    filters = view.filters if "city_adcode" in layer.field_map else None
                    store.positions(layer.id, filters=filters)
        warm_indicators(store)
        get_api_store().layers()  # computes the indicators collection


@click.command("build-store")
@with_appcontext
def build_store_command() -> None:
    """Rebuild the GeoPackage store from the source folders if they changed."""
    built = build_store(current_app)
    path = current_app.config["STORE_PATH"]
    click.echo(f"{'built' if built else 'up to date'}: {path}")
