"""The app on PostgreSQL + PostGIS (DATABASE_URL): `flask db init` from nothing, imports written
in place and seen at once without a rebuild, and readers hammering the API while a
100,000-row commit goes in."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import requests
from support import ROOT, app_config, boiler_ledger_bytes, gunicorn_served, ledger_boiler

from app import create_app
from geo.ledger.edits import open_edits
from geo.migrations import migrations
from webmap.store import close_store


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("flask")), "--app", "app", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("LUTU_")}, **env},
        timeout=600,
    )


def test_db_init_creates_the_schema_and_loads_the_shipped_sources_once(
    pg_url: str, tmp_path: Path
) -> None:
    env = {
        "LUTU_DATABASE_URL": pg_url,
        "LUTU_BUILD_ON_START": "false",
        "LUTU_WARM_CACHES": "false",
        "LUTU_STORE_PATH": str(tmp_path / "never.gpkg"),
        "LUTU_SECRET_KEY_PATH": str(tmp_path / "secret_key"),
    }
    first = _flask(env, "db", "init")
    assert first.returncode == 0, first.stderr
    assert "已载入 loaded" in first.stdout  # the migrations ran as the app started
    assert "postgresql://postgres@" in first.stdout and "?" not in first.stdout.splitlines()[-1]
    again = _flask(env, "db", "init")
    assert again.returncode == 0 and "已是最新 up to date" in again.stdout, again.stderr
    with psycopg.connect(pg_url) as con:
        layers = dict(con.execute("SELECT id, feature_count FROM lutu.layers").fetchall())
        srid = con.execute("SELECT Find_SRID('lutu', 'villages', 'geom')").fetchone()[0]
        migrated = [v for (v,) in con.execute("SELECT version FROM lutu.schema_migrations")]
    assert layers["villages"] > 0 and layers["districts"] > 0 and "plan_measures" in layers
    assert srid == 4490 and sorted(migrated) == [v for v, _, _ in migrations()]
    assert not (tmp_path / "never.gpkg").exists()


def test_an_import_is_written_in_place_and_seen_at_once(
    pg_copies, source_dirs, tmp_path: Path
) -> None:
    url = pg_copies()
    app = create_app(app_config(tmp_path / "never.gpkg", source_dirs, tmp_path, DATABASE_URL=url))
    try:
        client = app.test_client()
        assert client.get("/ogc/collections/coal_boilers/items/PG-1").status_code == 404
        ledger = tmp_path / "台账.csv"
        ledger.write_bytes(boiler_ledger_bytes([ledger_boiler("PG-1"), ledger_boiler("PG-2")]))
        done = app.test_cli_runner().invoke(
            args=["ledger", "import", "coal_boilers", str(ledger), "--yes", "--user", "王工"]
        )
        assert done.exit_code == 0, done.output
        assert "新增 2" in done.output and "地图库已重建" not in done.output  # no rebuild
        item = client.get("/ogc/collections/coal_boilers/items/PG-1")
        assert item.status_code == 200 and item.get_json()["properties"]["name"] == "PG-1号锅炉"
        popup = client.get("/map/popup/coal_boilers/PG-2")
        assert popup.status_code == 200 and "PG-2号锅炉" in popup.get_data(as_text=True)
        assert {e.feature_id for e in open_edits(url).audit()} == {"PG-1", "PG-2"}
        assert not (tmp_path / "never.gpkg").exists() and not (tmp_path / "edits.sqlite").exists()
    finally:
        close_store(app)


def test_sixteen_readers_see_no_error_during_a_100000_row_commit(
    pg_copies, source_dirs, tmp_path: Path
) -> None:
    url = pg_copies()
    env = {
        "LUTU_DATABASE_URL": url,
        "LUTU_SOURCE_DIRS": os.pathsep.join(str(p) for p in source_dirs),
        "LUTU_STORE_PATH": str(tmp_path / "never.gpkg"),
        "LUTU_BUILD_ON_START": "false",
        "LUTU_WARM_CACHES": "false",
    }
    rows = [ledger_boiler(f"BIG-{i}", lon=122.2 + (i % 500) * 1e-4) for i in range(100_000)]
    ledger = tmp_path / "大台账.csv"
    ledger.write_bytes(boiler_ledger_bytes(rows))
    with gunicorn_served(env, tmp_path / "server") as server:
        stop = threading.Event()
        answers: list[int] = []
        errors: list[str] = []
        paths = [
            "/ogc/collections/coal_boilers/items?limit=50",
            "/ogc/collections/coal_boilers/items?bbox=122.1,40.6,122.3,40.7&limit=20",
            "/ogc/collections/villages/items?limit=10&offset=100",
            "/map/data/coal_boilers?bbox=121,39,124,41&zoom=8",
        ]

        def read(n: int) -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    path = paths[n % len(paths)]
                    try:
                        status = session.get(server.url + path, timeout=60).status_code
                    except requests.RequestException as exc:
                        errors.append(f"{path}: {exc}")
                        continue
                    answers.append(status)
                    if status != 200:
                        errors.append(f"{path}: {status}")

        readers = [threading.Thread(target=read, args=(n,)) for n in range(16)]
        for reader in readers:
            reader.start()
        try:
            command = ["ledger", "import", "coal_boilers", str(ledger), "--yes", "--user", "王工"]
            done = _flask({**env, "LUTU_SECRET_KEY_PATH": str(tmp_path / "key")}, *command)
        finally:
            stop.set()
            for reader in readers:
                reader.join(timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "新增 100000" in done.stdout
        assert not errors, errors[:10]
        assert len(answers) > 16  # the readers did read while it went in
        items = f"{server.url}/ogc/collections/coal_boilers/items?limit=0"
        after = requests.get(items, timeout=60)
        with psycopg.connect(url) as con:
            (count,) = con.execute("SELECT count(*) FROM lutu.coal_boilers").fetchone()
        assert after.json()["numberMatched"] == count and count >= 100_000
