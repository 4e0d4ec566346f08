"""The store as a Flask resource: built from the sources at start-up, opened once per app,
reopened when the file is replaced (a rebuild swaps it in atomically)."""

from __future__ import annotations

import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from geo.store import GeoPackageStore, ensure_geopackage
from layers import all_layers

_EXTENSION = "lutu_store"


class _StoreHolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._store: GeoPackageStore | None = None
        self._stamp: tuple[int, int] | None = None

    def get(self) -> GeoPackageStore:
        stat = self.path.stat()
        stamp = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._store is None or stamp != self._stamp:
                old, self._store, self._stamp = self._store, GeoPackageStore(self.path), stamp
                if old is not None:
                    old.close()
            return self._store


def build_store(app: Flask) -> bool:
    """(Re)build the GeoPackage from the configured sources if they changed."""
    return ensure_geopackage(
        Path(app.config["STORE_PATH"]),
        all_layers(),
        [Path(p) for p in app.config["SOURCE_DIRS"]],
    )


def get_store() -> GeoPackageStore:
    return current_app.extensions[_EXTENSION].get()


def init_app(app: Flask) -> None:
    if app.config["BUILD_ON_START"]:
        if build_store(app):
            app.logger.info("built the store at %s", app.config["STORE_PATH"])
    app.extensions[_EXTENSION] = _StoreHolder(Path(app.config["STORE_PATH"]))
    app.cli.add_command(build_store_command)
    if app.config["WARM_CACHES"]:
        threading.Thread(target=_warm, args=(app,), name="lutu-warm", daemon=True).start()


def _warm(app: Flask) -> None:
    """Read point positions for every region once, in the background, so the first visitor
    does not wait for them (a quarter second per 100,000 features)."""
    from webmap.regions import REGIONS, region_view

    with app.app_context():
        store = get_store()
        for key in REGIONS:
            view = region_view(store, key)
            for layer in all_layers():
                if layer.geometry_type == "Point" and layer.id in store.layers():
                    filters = view.filters if "city_adcode" in layer.field_map else None
                    store.positions(layer.id, filters=filters)


@click.command("build-store")
@with_appcontext
def build_store_command() -> None:
    """Rebuild the GeoPackage store from the source folders if they changed."""
    built = build_store(current_app)
    path = current_app.config["STORE_PATH"]
    click.echo(f"{'built' if built else 'up to date'}: {path}")
