"""PostGIS API benchmark (issue #16): 绿图, tipg 1.6 and pygeoapi 0.21's PostgreSQL provider,
one after the other on the SAME PostgreSQL database, with the query mix of bench/api_bench.py.

    .venv/bin/python bench/postgis_bench.py [--villages 1000000] [--boilers N] [--duration 10]
        [--warmup 3] [--workers 2] [--servers lutu,tipg,pygeoapi] [--peers-venv VENV]
    .venv/bin/python bench/postgis_bench.py --quick     # 100,000 villages, 3 s per query type

It starts a throwaway durable cluster with TCP (tests/pgcluster.py), generates the villages and
coal boilers with the demo generator (cached under /tmp/lutu-postgis-bench-<villages>-<boilers>/),
loads them into schema `lutu` in the layout of issue #16 (with geo.store.postgis.ensure_postgis
when this checkout has it, else with `load_for_bench` below), then serves that database in turn
with (a) our app under gunicorn with the README's production command and LUTU_DATABASE_URL,
(b) tipg under uvicorn, (c) pygeoapi under gunicorn, all with the same worker count, the peers
from the venv bench/peers/setup.sh makes. Before timing, the first answers of every query type
are checked against SQL on the database (status 200, the number of features, numberMatched, the
item asked for), so a server answering a wrong or empty page fast cannot win; a query type that
fails is reported, not timed. Each server's trivial endpoint is measured as its ceiling. Prints
a Markdown table and writes bench/out/postgis_bench.json. Stops every server and removes the
cluster at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from api_bench import (  # noqa: E402
    LUA,
    PATHS_PER_TYPE,
    PREFIX,
    PYGEOAPI_PREFIX,
    RESERVED,
    ServerNotUp,
    free_port,
    generate_demo,
    measure,
    query_mix,
    serve_pygeoapi,
    source_dirs,
    stop,
    wait_until_up,
)

from geo.migrations import SCHEMA, migrate  # noqa: E402
from geo.sources import load_sources  # noqa: E402
from layers import all_layers  # noqa: E402
from tests.pgcluster import Cluster  # noqa: E402

PEERS_DIR = ROOT / "bench" / "peers"
PEERS_VENV = Path(os.environ.get("LUTU_PEERS_VENV", "/tmp/lutu-peers-venv"))
SERVERS = ("lutu", "tipg", "pygeoapi")
TITLES = {"lutu": "绿图", "tipg": "tipg 1.6", "pygeoapi": "pygeoapi 0.21"}
TIPG_PREFIX = f"/collections/{SCHEMA}.villages/items"
CEILING = "trivial endpoint (ceiling)"
CEILING_PATHS = {"lutu": "/ogc", "tipg": "/healthz", "pygeoapi": "/"}
CHECKED_PER_TYPE = 5  # answers of each query type compared with SQL before it is timed
DATABASE = "lutu"
# The same server settings for every peer: room for the whole 1M-village table in shared
# buffers, and no JIT, which would add its compile time to every plan costed over 100,000
# (the peers' COUNT(*)s over a million rows), as it is usually turned off for such serving.
PG_SETTINGS = ("shared_buffers=1GB", "jit=off")
PG_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean"}
INDEXED_FIELDS = ("city_adcode", "county_adcode")
SRID = 4490


# ------------------------------------------------------------------------------ loading
def load(url: str, work: Path) -> str:
    """Load the cached demo into the database at `url`; names the loader used."""
    try:
        from geo.store.postgis import ensure_postgis
    except ImportError:
        ensure_postgis = None
    t = time.perf_counter()
    if ensure_postgis is not None:
        load_with_app_loader(url, work, ensure_postgis)
        used = "geo.store.postgis.ensure_postgis"
    else:
        load_for_bench(url, work / "demo")
        used = "bench load_for_bench"
    print(f"loaded the database with {used} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return used


def load_with_app_loader(url: str, work: Path, ensure_postgis: Callable) -> None:
    """The app's own load: webmap.store.build_store_files with its call to ensure_geopackage
    pointed at ensure_postgis(url, ...), so the layers and the plan catalog tables are made
    exactly as the app makes them, without a copy of that code here."""
    from unittest import mock

    import webmap.store
    from plans.catalog import PLANS_DIR
    from plans.links import LINKS_PATH

    def into_database(_path: Path, schemas, dirs, **options):
        return ensure_postgis(url, schemas, dirs, **options)

    migrate(url)
    with mock.patch.object(webmap.store, "ensure_geopackage", into_database):
        webmap.store.build_store_files(
            work / "unused.gpkg", source_dirs(work), PLANS_DIR, LINKS_PATH
        )


def load_for_bench(url: str, data_dir: Path) -> None:
    """Every layer of the registry from the shipped boundaries and the demo in `data_dir`, in
    the agreed layout (schema lutu: the catalog row, one table per layer named by its id with
    fid, id, the fields in registry order and geom in EPSG:4490, GiST and b-tree indexes),
    loaded with COPY. The stand-in until geo.store.postgis.ensure_postgis exists; no plan
    catalog tables, which no query of this benchmark reads."""
    import psycopg
    from psycopg import sql
    from psycopg.types.json import Jsonb

    migrate(url)
    data = load_sources(all_layers(), [ROOT / "data" / "boundaries", data_dir])
    with psycopg.connect(url) as con:
        for position, (layer_id, layer) in enumerate(data.items()):
            fields = [f for f in layer.schema.fields if f.name != "id"]
            names = [f.name for f in fields]
            table = sql.Identifier(SCHEMA, layer_id)
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            con.execute(
                sql.SQL(
                    "CREATE TABLE {} (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                    "id text NOT NULL, {}, geom geometry({}, {}))"
                ).format(
                    table,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(PG_TYPES[f.type]))
                        for f in fields
                    ),
                    sql.SQL(layer.schema.geometry_type),
                    sql.Literal(SRID),
                )
            )
            geoms = np.array(layer.geometries, dtype=object)
            ewkb = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True)
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                table, sql.SQL(", ").join(map(sql.Identifier, ["id", *names, "geom"]))
            )
            with con.cursor().copy(copy_sql) as copy:
                for fid_order, (feature_id, props) in enumerate(
                    zip(layer.ids, layer.properties, strict=True)
                ):
                    copy.write_row((feature_id, *(props.get(n) for n in names), ewkb[fid_order]))
            # Indexes after the rows: one sort each instead of a tree grown row by row.
            con.execute(sql.SQL("ALTER TABLE {} ADD UNIQUE (id)").format(table))
            con.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(table))
            for name in INDEXED_FIELDS:
                if name in names:
                    con.execute(
                        sql.SQL("CREATE INDEX ON {} ({})").format(table, sql.Identifier(name))
                    )
            con.execute(sql.SQL("ANALYZE {}").format(table))
            bbox = con.execute(
                sql.SQL(
                    "SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] "
                    "FROM (SELECT ST_Extent(geom) AS e FROM {}) x WHERE e IS NOT NULL"
                ).format(table)
            ).fetchone()
            con.execute(
                f"INSERT INTO {SCHEMA}.layers (id, geometry_type, fields, description, "
                "feature_count, bbox, position) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET geometry_type = EXCLUDED.geometry_type, "
                "fields = EXCLUDED.fields, description = EXCLUDED.description, "
                "feature_count = EXCLUDED.feature_count, bbox = EXCLUDED.bbox, "
                "position = EXCLUDED.position",
                (
                    layer_id,
                    layer.schema.geometry_type,
                    Jsonb([[f.name, f.type] for f in layer.schema.fields]),
                    f"{layer.schema.name_zh} {layer.schema.name_en}",
                    len(layer),
                    bbox[0] if bbox else None,
                    position,
                ),
            )
        con.execute(f"UPDATE {SCHEMA}.data_version SET version = version + 1, changed_at = now()")


# ------------------------------------------------------------------------------ the query mix
def sample_mix(url: str, rng: random.Random) -> tuple[dict[str, list[str]], dict[str, int]]:
    """api_bench's query mix drawn from the database: box centres on random villages, 20 runs
    of 100 consecutive ids, every county. Also the fid of each sampled id (tipg's item ids are
    the table's primary key)."""
    import psycopg

    table = f'{SCHEMA}."villages"'
    with psycopg.connect(url) as con:
        count, low, high = con.execute(
            f"SELECT count(*), min(fid), max(fid) FROM {table}"
        ).fetchone()
        picks = [rng.randint(low, high) for _ in range(PATHS_PER_TYPE)]
        found = {
            fid: (x, y)
            for fid, x, y in con.execute(
                f"SELECT fid, ST_X(geom), ST_Y(geom) FROM {table} WHERE fid = ANY(%s)", (picks,)
            )
        }
        centres = [found[f] for f in picks if f in found]
        fid_of: dict[str, int] = {}
        for _ in range(PATHS_PER_TYPE // 100):
            start = rng.randint(low, max(low, high - 100))
            rows = con.execute(
                f"SELECT id, fid FROM {table} WHERE fid >= %s ORDER BY fid LIMIT 100", (start,)
            )
            fid_of.update(dict(rows))
        counties = [
            c for (c,) in con.execute(f"SELECT DISTINCT county_adcode FROM {table} ORDER BY 1")
        ]
    return query_mix(count, centres, list(fid_of), counties, rng), fid_of


def expected_answers(url: str, mix: dict[str, list[str]]) -> dict[str, list[dict]]:
    """For the first paths of each query type, what a correct server answers, from SQL: the
    number of features returned and matched, or the id of the one feature."""
    import psycopg

    table = f'{SCHEMA}."villages"'
    found: dict[str, list[dict]] = {}
    with psycopg.connect(url) as con:
        for name, paths in mix.items():
            found[name] = []
            for path in paths[:CHECKED_PER_TYPE]:
                parts = urlsplit(path)
                if parts.path != PREFIX:
                    feature_id = parts.path.rsplit("/", 1)[1]
                    x, y = con.execute(
                        f"SELECT ST_X(geom), ST_Y(geom) FROM {table} WHERE id = %s", (feature_id,)
                    ).fetchone()
                    found[name].append({"path": path, "id": feature_id, "lon_lat": [x, y]})
                    continue
                params = dict(parse_qsl(parts.query))
                where, args = ["true"], []
                if "bbox" in params:
                    where.append(f"ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, {SRID}))")
                    args += [float(v) for v in params["bbox"].split(",")]
                for key, value in params.items():
                    if key not in RESERVED:
                        where.append(f'"{key}" = %s')  # keys are api_bench's own field names
                        args.append({"true": True, "false": False}.get(value, value))
                (matched,) = con.execute(
                    f"SELECT count(*) FROM {table} WHERE {' AND '.join(where)}", args
                ).fetchone()
                offset, limit = int(params.get("offset", 0)), int(params.get("limit", 10))
                returned = max(0, min(limit, matched - offset))
                found[name].append({"path": path, "matched": matched, "returned": returned})
    return found


def check_answer(base: str, path: str, want: dict, id_key: str | None = None) -> str | None:
    """None when `base + path` answers as `want` says; else what is wrong with it.
    `id_key`: the feature's id as this server names it, when it is not our id."""
    try:
        with urllib.request.urlopen(base + path, timeout=60) as r:
            body = json.loads(r.read())
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code} for {path}"
    except (OSError, ValueError) as e:
        return f"no JSON answer for {path} ({e})"
    if "id" in want:
        got = {str(body.get("id")), str((body.get("properties") or {}).get("id"))}
        wanted = {want["id"], *([id_key] if id_key is not None else [])}
        if body.get("type") != "Feature" or not got & wanted:
            return f"{path}: not feature {want['id']} (got id {body.get('id')!r})"
        # Catches a server that swaps the axes (lat/lon for an EPSG geographic CRS).
        coordinates = (body.get("geometry") or {}).get("coordinates") or []
        if len(coordinates) < 2 or not np.allclose(coordinates[:2], want["lon_lat"], atol=1e-5):
            return f"{path}: coordinates {coordinates}, lon/lat {want['lon_lat']} expected"
        return None
    returned = len(body.get("features") or [])
    if returned != want["returned"]:
        return f"{path}: {returned} features, {want['returned']} expected"
    if "numberMatched" in body and body["numberMatched"] != want["matched"]:
        return f"{path}: numberMatched {body['numberMatched']}, {want['matched']} expected"
    return None


# ------------------------------------------------------------------------------ the servers
def tipg_path(path: str, fid_of: dict[str, int]) -> str:
    """Our request as the same request to tipg: the collection is `lutu.villages`, an item is
    addressed by the table's primary key (fid); bbox, limit, offset and property filters are
    spelled alike."""
    parts = urlsplit(path)
    rest = parts.path.removeprefix(PREFIX)
    if rest:
        rest = f"/{fid_of[rest.removeprefix('/')]}"
    return TIPG_PREFIX + rest + (f"?{parts.query}" if parts.query else "")


def pygeoapi_path(path: str) -> str:
    """Our request as the same request to pygeoapi's PostgreSQL provider: only the prefix
    differs (its id_field is our id, and PostgreSQL reads 'true' as a boolean)."""
    return PYGEOAPI_PREFIX + path.removeprefix(PREFIX)


def start_lutu(url: str, port: int, workers: int, cache: Path, work: Path) -> subprocess.Popen:
    """Our app with the README's production command and LUTU_DATABASE_URL. The GeoPackage path
    points at nothing and no build runs, so an app that does not serve PostGIS cannot answer
    from a GeoPackage instead; caches are not warmed at start, as in api_bench."""
    env = dict(
        os.environ,
        LUTU_DATABASE_URL=url,
        LUTU_STORE_PATH=str(work / "no-geopackage.gpkg"),
        LUTU_SOURCE_DIRS=os.pathsep.join(str(p) for p in source_dirs(cache)),
        LUTU_BUILD_ON_START="false",
        LUTU_WARM_CACHES="false",
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    cmd = [str(gunicorn), "-w", str(workers), "--timeout", "120", "-b", f"127.0.0.1:{port}"]
    with (work / "lutu.log").open("ab") as log:
        proc = subprocess.Popen(
            [*cmd, "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    # Any answer will do: one without a PostGIS store answers 500, and the checks say so.
    return wait_until_up(proc, f"http://127.0.0.1:{port}/ogc", timeout=90, any_status=True)


def start_tipg(url: str, port: int, workers: int, venv: Path, work: Path) -> subprocess.Popen:
    """tipg under uvicorn with the same worker count, publishing schema lutu (collection ids
    `lutu.<table>`), without an access log."""
    uvicorn = venv / "bin" / "uvicorn"
    if not uvicorn.exists():
        raise ServerNotUp(f"no tipg in {venv}: bash bench/peers/setup.sh {venv}")
    env = dict(os.environ, DATABASE_URL=url, TIPG_DB_SCHEMAS=json.dumps([SCHEMA]))
    cmd = [str(uvicorn), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with (work / "tipg.log").open("ab") as log:
        # cwd: tipg reads a .env file from its working directory.
        proc = subprocess.Popen(
            cmd, cwd=work, env=env, stdout=log, stderr=log, start_new_session=True
        )
    return wait_until_up(proc, f"http://127.0.0.1:{port}{TIPG_PREFIX}?limit=1", timeout=90)


def pygeoapi_view(url: str) -> None:
    """The view pygeoapi reads lutu.villages through (bench/peers/pygeoapi.yml says why): the
    same rows with geom labelled SRID 4326, and a GiST index on that expression so its bbox
    filter is an index scan as on the table."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as con:
        columns = [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'villages' AND column_name <> 'geom' ORDER BY ordinal_position",
                (SCHEMA,),
            )
        ]
        crs84 = sql.SQL("(ST_SetSRID(geom, 4326)::geometry(Point, 4326))")
        con.execute("CREATE SCHEMA IF NOT EXISTS pygeoapi")
        con.execute(
            sql.SQL(
                "CREATE OR REPLACE VIEW pygeoapi.villages AS SELECT {}, {} AS geom FROM {}"
            ).format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                crs84,
                sql.Identifier(SCHEMA, "villages"),
            )
        )
        con.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS villages_geom_crs84 ON {} USING gist ({})").format(
                sql.Identifier(SCHEMA, "villages"), crs84
            )
        )
        con.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, "villages")))


def start_pygeoapi(
    url: str, cluster: Cluster, port: int, workers: int, venv: Path, work: Path
) -> subprocess.Popen:
    """pygeoapi (bench/peers/pygeoapi.yml) under gunicorn on the cluster's database."""
    pygeoapi_view(url)
    settings = {"LUTU_PG_PORT": str(cluster.port), "LUTU_PG_DBNAME": DATABASE}
    return serve_pygeoapi(
        PEERS_DIR / "pygeoapi.yml", settings, port, workers, venv, work, work / "pygeoapi.log"
    )


def bench_server(
    name: str,
    start: Callable[[int], subprocess.Popen],
    translate: Callable[[str], str],
    mix: dict[str, list[str]],
    expected: dict[str, list[dict]],
    fid_of: dict[str, int],
    work: Path,
    args: argparse.Namespace,
) -> dict:
    """One server: start it, check its answers, time each query type that answered right and
    its trivial endpoint, stop it. {"skipped": why} when it did not start or got nothing right."""
    port = free_port()
    try:
        proc = start(port)
    except ServerNotUp as e:
        return {"skipped": str(e)}
    except subprocess.CalledProcessError as e:  # pygeoapi's OpenAPI document failed
        return {"skipped": f"{' '.join(e.cmd)} failed: {(e.stderr or b'').decode()[-500:]}"}
    base = f"http://127.0.0.1:{port}"
    try:
        wrong: dict[str, str] = {}
        for query, wants in expected.items():
            for want in wants:
                fid = fid_of.get(want["id"]) if "id" in want else None
                id_key = str(fid) if fid is not None else None
                problem = check_answer(base, translate(want["path"]), want, id_key)
                if problem:
                    wrong[query] = problem
                    break
        if len(wrong) == len(expected):
            return {"skipped": f"no query answered right, e.g. {next(iter(wrong.values()))}"}
        timed = {q: [translate(p) for p in paths] for q, paths in mix.items() if q not in wrong}
        print(f"{name}: timing {len(timed)} query types on {base}", file=sys.stderr)
        results = measure(base, timed, work, args.duration, args.connections, args.warmup)
        ceiling = measure(
            base, {CEILING: [CEILING_PATHS[name]]}, work, args.duration, args.connections
        )
        return {"results": results, "wrong": wrong, "ceiling": ceiling[CEILING]}
    finally:
        stop(proc)


# ------------------------------------------------------------------------------ the report
def cell(server: dict, query: str) -> str:
    if "skipped" in server:
        return "skipped"
    if query in server.get("wrong", {}):
        return "wrong answer"
    r = server["ceiling"] if query == CEILING else server["results"][query]
    if not r["requests"]:
        return "none finished"  # wrk counts only answers that arrive within the run
    text = f"{r['req_s']:,} ({r['p50_ms']} / {r['p99_ms']})"
    if r["non_2xx"] or r["socket_errors"]:
        text += f" ⚠ {r['non_2xx']:,} non-2xx, {r['socket_errors']:,} socket errors"
    return text


def req_s(server: dict, query: str) -> float | None:
    if "skipped" in server or query in server.get("wrong", {}):
        return None
    r = server["ceiling"] if query == CEILING else server["results"][query]
    return r["req_s"] if r["requests"] and not r["non_2xx"] else None


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def fraction(server: dict, query: str) -> str:
    mine, top = req_s(server, query), req_s(server, CEILING)
    return f"{mine / top:.2f}" if mine and top else "–"


def print_report(report: dict, queries: list[str]) -> None:
    servers = report["servers"]
    print(
        f"{report['villages']:,} villages + {report['boilers']:,} boilers on PostgreSQL "
        f"{report['postgres']}, {report['workers']} workers each, wrk {report['connections']} "
        f"connections, {report['duration_s']} s per query type; loader: {report['loader']}\n"
    )
    names = [n for n in SERVERS if n in servers]
    head = [f"{TITLES[n]} req/s (p50 / p99 ms)" for n in names]
    head += [f"绿图 ÷ {TITLES[n]}" for n in names if n != "lutu"]
    head += ["of own ceiling: " + " / ".join(TITLES[n] for n in names)]
    print("| query | " + " | ".join(head) + " |")
    print("|---|" + "---:|" * len(head))
    lutu = servers.get("lutu", {"skipped": "not run"})
    for query in [*queries, CEILING]:
        row = [cell(servers[n], query) for n in names]
        row += [ratio(req_s(lutu, query), req_s(servers[n], query)) for n in names if n != "lutu"]
        row.append(" / ".join(fraction(servers[n], query) for n in names))
        print(f"| {query} | " + " | ".join(row) + " |")
    for n in names:
        if "skipped" in servers[n]:
            print(f"\n{TITLES[n]}: skipped: {servers[n]['skipped']}")
        for query, problem in servers[n].get("wrong", {}).items():
            print(f"\n{TITLES[n]}: {query} not timed, wrong answer: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 villages, 3 s per type")
    parser.add_argument("--villages", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--boilers", type=int, default=None, help="default villages / 10")
    parser.add_argument("--duration", type=int, default=None, help="s per query type (10)")
    parser.add_argument(
        "--warmup", type=int, default=3, help="s of wrk warm-up per query type, as api_bench"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated")
    parser.add_argument("--peers-venv", type=Path, default=PEERS_VENV)
    args = parser.parse_args()
    args.villages = args.villages or (100_000 if args.quick else 1_000_000)
    args.boilers = args.boilers if args.boilers is not None else args.villages // 10
    args.duration = args.duration or (3 if args.quick else 10)
    wanted = [s.strip() for s in args.servers.split(",") if s.strip()]
    if unknown := set(wanted) - set(SERVERS):
        raise SystemExit(f"unknown server(s) {', '.join(sorted(unknown))}; known: {SERVERS}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")

    cache = Path(tempfile.gettempdir()) / f"lutu-postgis-bench-{args.villages}-{args.boilers}"
    generate_demo(cache, {"villages": args.villages, "coal_boilers": args.boilers})
    cluster = Cluster(tcp=True, durable=True, settings=PG_SETTINGS)
    servers: dict[str, dict] = {}
    try:
        cluster.create_database(DATABASE)
        url = f"postgresql://{cluster.user}@{cluster.host}:{cluster.port}/{DATABASE}"
        loader = load(url, cache)
        import psycopg

        with psycopg.connect(url) as con:
            postgres = con.execute("SHOW server_version").fetchone()[0].split()[0]
            postgis = con.execute("SELECT postgis_lib_version()").fetchone()[0]
        mix, fid_of = sample_mix(url, random.Random(5))
        expected = expected_answers(url, mix)
        with tempfile.TemporaryDirectory(prefix="lutu-pgbench-") as tmp:
            work = Path(tmp)
            (work / "paths.lua").write_text(LUA)
            starts: dict[str, tuple[Callable[[int], subprocess.Popen], Callable[[str], str]]] = {
                "lutu": (
                    lambda port: start_lutu(url, port, args.workers, cache, work),
                    lambda p: p,
                ),
                "tipg": (
                    lambda port: start_tipg(url, port, args.workers, args.peers_venv, work),
                    lambda p: tipg_path(p, fid_of),
                ),
                "pygeoapi": (
                    lambda port: start_pygeoapi(
                        url, cluster, port, args.workers, args.peers_venv, work
                    ),
                    pygeoapi_path,
                ),
            }
            # One server at a time, so they never compete for the cores.
            for name in wanted:
                start, translate = starts[name]
                servers[name] = bench_server(
                    name, start, translate, mix, expected, fid_of, work, args
                )
                if name == "lutu" and "skipped" in servers[name]:
                    servers[name]["skipped"] = (
                        f"no PostGIS store in this checkout ({servers[name]['skipped']})"
                    )
                if "skipped" in servers[name]:
                    print(f"{name}: skipped: {servers[name]['skipped']}", file=sys.stderr)
                    for log in work.glob(f"{name}.log"):
                        # gunicorn's own [INFO] lines about stopping would hide the error.
                        lines = log.read_text(errors="replace").strip().splitlines()
                        tail = [line for line in lines if "] [INFO] " not in line][-8:]
                        print("  " + "\n  ".join(tail), file=sys.stderr)
    finally:
        cluster.stop()
    report = {
        "villages": args.villages,
        "boilers": args.boilers,
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "postgres": f"{postgres}, PostGIS {postgis}, {', '.join(PG_SETTINGS)}",
        "loader": loader,
        "servers": servers,
    }
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "postgis_bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_report(report, list(mix))


if __name__ == "__main__":
    main()
