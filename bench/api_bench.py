"""API benchmark: the OGC API – Features endpoints over 1,000,000 villages, under gunicorn with
2 workers on loopback, loaded by `wrk` (Debian: `sudo apt-get install -y wrk`) with 16
connections and a Lua path list per query type.

    .venv/bin/python bench/api_bench.py [--villages 1000000] [--duration 10] [--workers 2]
        [--pygeoapi [--pygeoapi-venv /tmp/lutu-pygeoapi-venv]]

The demo data and the GeoPackage are generated once (about 3 minutes at 1M) and cached under
/tmp/lutu-api-bench-<villages>/; delete that directory to rebuild. Prints req/s and
p50/p95/p99 per query type as a Markdown table and writes bench/out/api_bench.json.
With --pygeoapi it then serves the same GeoPackage with pygeoapi 0.21 (OGR provider, gunicorn,
same worker count; its venv made by bench/pygeoapi/setup.sh) and runs the same query mix against
it, so both land in one table. Goals and pygeoapi's reference figures (issue #5) are in
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.store import GeoPackageStore  # noqa: E402
from layers.demo import generate, write  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

PREFIX = "/ogc/collections/villages/items"
PATHS_PER_TYPE = 2000
PYGEOAPI_DIR = ROOT / "bench" / "pygeoapi"
PYGEOAPI_PREFIX = "/collections/villages/items"
PYGEOAPI_VENV = Path(os.environ.get("LUTU_PYGEOAPI_VENV", "/tmp/lutu-pygeoapi-venv"))
# Query parameters that are not property filters (OGC API – Features Part 1 and 3).
RESERVED = {"bbox", "bbox-crs", "crs", "datetime", "f", "limit", "offset", "properties", "sortby"}
# Reads the path list named by the first argument after `--`; each thread starts elsewhere in
# it; prints one JSON line with the counts and latency percentiles (microseconds).
LUA = """
local paths = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = (tid or 0) * 997
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "p50": %d, "p95": %d,' ..
    ' "p99": %d, "non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def build(villages: int) -> Path:
    """The cached store with `villages` villages (generated and built when missing)."""
    work = Path(tempfile.gettempdir()) / f"lutu-api-bench-{villages}"
    store, done = work / "lutu.gpkg", work / "built.ok"
    if done.exists() and store.exists():
        return store
    generate_demo(work, {"villages": villages})
    t = time.perf_counter()
    build_store_files(store, source_dirs(work), PLANS_DIR, LINKS_PATH)
    print(f"built the store in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    done.write_text("ok\n")
    return store


def generate_demo(work: Path, counts: dict[str, int]) -> None:
    """The demo layers with these totals (layers.demo.generate) written to `work`/demo, once:
    a `generated.ok` beside them marks a finished run."""
    done = work / "generated.ok"
    if done.exists():
        return
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    write(generate(counts=counts), work / "demo")
    shown = ", ".join(f"{n:,} {layer}" for layer, n in counts.items())
    print(f"generated {shown} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    done.write_text("ok\n")


def source_dirs(work: Path) -> list[Path]:
    return [ROOT / "data" / "boundaries", work / "demo"]


def query_paths(store_path: Path, rng: random.Random) -> dict[str, list[str]]:
    """Request paths per query type, drawn around real villages so no box is empty."""
    store = GeoPackageStore(store_path)
    try:
        count = store.layers()["villages"].count
        pos = store.positions("villages")
        picks = [rng.randrange(len(pos)) for _ in range(PATHS_PER_TYPE)]
        centres = [(float(pos.x[k]), float(pos.y[k])) for k in picks]
        ids = [
            f.id
            for k in range(0, PATHS_PER_TYPE, 100)
            for f in store.query(
                "villages", limit=100, offset=rng.randrange(count - 100), with_geometry=False
            ).features
        ]
        counties = sorted(
            {
                f.properties["county_adcode"]
                for f in store.query(
                    "villages", limit=5000, properties=["county_adcode"], with_geometry=False
                ).features
            }
        )
    finally:
        store.close()
    return query_mix(count, centres, ids, counties, rng)


def query_mix(
    count: int,
    centres: list[tuple[float, float]],
    ids: list[str],
    counties: list[str],
    rng: random.Random,
) -> dict[str, list[str]]:
    """The request paths of each query type, from `count` villages, box centres on real
    villages, village ids and county adcodes (whatever store they were drawn from)."""

    def box(x: float, y: float, size: float) -> str:
        h = size / 2
        return f"{x - h:.4f},{y - h:.4f},{x + h:.4f},{y + h:.4f}"

    def items(**params: object) -> str:
        return f"{PREFIX}?{urlencode(params)}"

    return {
        "small bbox (0.1°, limit 100)": [items(bbox=box(x, y, 0.1), limit=100) for x, y in centres],
        "single item": [f"{PREFIX}/{i}" for i in ids],
        f"offset ≈ {count // 2:,} (limit 100)": [
            items(offset=count // 2 + rng.randrange(-5000, 5000), limit=100)
            for _ in range(PATHS_PER_TYPE)
        ],
        "property filter (limit 100)": [
            items(
                county_adcode=rng.choice(counties),
                clean_heating=rng.choice(["true", "false"]),
                limit=100,
            )
            for _ in range(PATHS_PER_TYPE)
        ],
        "large bbox (1°, limit 1000)": [items(bbox=box(x, y, 1.0), limit=1000) for x, y in centres],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(store: Path, port: int, workers: int) -> subprocess.Popen:
    """Our app under gunicorn over the cached store; returns once the landing page answers."""
    env = dict(
        os.environ,
        LUTU_STORE_PATH=str(store),
        LUTU_SOURCE_DIRS=os.pathsep.join(str(p) for p in source_dirs(store.parent)),
        LUTU_BUILD_ON_START="false",
        # The warm-up thread would compete with the load for the first half minute; the
        # wrk warm-up per query type builds what a query type needs instead.
        LUTU_WARM_CACHES="false",
    )
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
        "app:create_app()",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    return wait_until_up(proc, f"http://127.0.0.1:{port}/ogc")


def start_pygeoapi(
    store: Path, port: int, workers: int, venv: Path, work: Path
) -> subprocess.Popen:
    """pygeoapi (bench/pygeoapi/config.yml) under gunicorn over the same store. Its log (one
    GDAL warning per request about the GeoPackage version) goes to pygeoapi.log beside the
    store rather than the terminal."""
    return serve_pygeoapi(
        PYGEOAPI_DIR / "config.yml",
        {"LUTU_PYGEOAPI_GPKG": str(store)},
        port,
        workers,
        venv,
        work,
        store.parent / "pygeoapi.log",
    )


def serve_pygeoapi(
    config: Path,
    settings: dict[str, str],
    port: int,
    workers: int,
    venv: Path,
    work: Path,
    log_path: Path,
) -> subprocess.Popen:
    """pygeoapi with `config` under gunicorn from `venv`; `settings` are the environment
    variables the config refers to (its port is LUTU_PYGEOAPI_PORT). Returns once the villages
    collection answers.

    pygeoapi reads its OpenAPI document from a file at start-up, so it is generated first with
    the same settings."""
    if not (venv / "bin" / "gunicorn").exists() or not (venv / "bin" / "pygeoapi").exists():
        raise ServerNotUp(f"no pygeoapi venv at {venv}: see bench/README.md for its setup.sh")
    openapi = work / "pygeoapi-openapi.yml"
    env = dict(
        os.environ,
        PYGEOAPI_CONFIG=str(config),
        PYGEOAPI_OPENAPI=str(openapi),
        LUTU_PYGEOAPI_PORT=str(port),
        **settings,
    )
    subprocess.run(
        [str(venv / "bin" / "pygeoapi"), "openapi", "generate", env["PYGEOAPI_CONFIG"]]
        + ["--output-file", str(openapi)],
        env=env,
        check=True,
        capture_output=True,
    )
    cmd = [
        str(venv / "bin" / "gunicorn"),
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
        "pygeoapi.flask_app:APP",
    ]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd, cwd=work, env=env, stdout=log, stderr=log, start_new_session=True
        )
    return wait_until_up(proc, f"http://127.0.0.1:{port}{PYGEOAPI_PREFIX}?limit=1")


class ServerNotUp(SystemExit):
    """A server that exited or never answered; a SystemExit, so a script that does not catch
    it stops with the message."""


def wait_until_up(
    proc: subprocess.Popen, url: str, timeout: float = 120, any_status: bool = False
) -> subprocess.Popen:
    """`proc` once `url` answers 200 (with `any_status`, once it answers at all: the caller
    checks the answers itself); stops it and raises ServerNotUp if it exits first or does not
    answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerNotUp(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return proc
        except urllib.error.HTTPError:
            if any_status:
                return proc
            time.sleep(0.5)
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise ServerNotUp(f"{proc.args[0]} did not answer {url} within {timeout:.0f} s")


def pygeoapi_path(path: str) -> str:
    """Our request path as the same query to pygeoapi.

    Only the prefix and the spelling of booleans differ: the OGR provider compares a property
    filter's value as a string literal with the GeoPackage's BOOLEAN column (stored as an
    integer), so `clean_heating=true` would match nothing; `1`/`0` match what `true`/`false`
    match here."""
    parts = urlsplit(path)
    rest = parts.path.removeprefix(PREFIX)
    params = [
        (k, {"true": "1", "false": "0"}.get(v, v) if k not in RESERVED else v)
        for k, v in parse_qsl(parts.query)
    ]
    return PYGEOAPI_PREFIX + rest + (f"?{urlencode(params)}" if params else "")


def stop(proc: subprocess.Popen) -> None:
    """Stop gunicorn (its own process group) and wait for it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_wrk(base: str, paths: list[str], work: Path, duration: int, connections: int) -> dict:
    """One wrk run over `paths`; its counts, req/s and latency percentiles in ms."""
    (work / "paths.txt").write_text("\n".join(paths) + "\n")
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout=10s",
        "-s",
        str(work / "paths.lua"),
        base,
        "--",
        str(work / "paths.txt"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    r = json.loads(line.removeprefix("RESULT "))
    return {
        "req_s": round(r["requests"] / (r["duration_us"] / 1e6), 1),
        "p50_ms": round(r["p50"] / 1000, 1),
        "p95_ms": round(r["p95"] / 1000, 1),
        "p99_ms": round(r["p99"] / 1000, 1),
        "kb_per_response": round(r["bytes"] / max(r["requests"], 1) / 1000, 1),
        "requests": r["requests"],
        "non_2xx": r["non_2xx"],
        "socket_errors": r["socket_errors"],
    }


def probe(base: str, path: str) -> str:
    """The status and feature count of one request, to show both servers answer alike."""
    try:
        with urllib.request.urlopen(base + path, timeout=30) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except OSError as e:  # a timeout or a dropped connection is an answer worth reporting too
        return f"no answer ({e})"
    try:
        body = json.loads(raw)
    except ValueError:
        return f"HTTP {status}, not JSON"
    count = len(body["features"]) if "features" in body else int(body.get("type") == "Feature")
    return f"HTTP {status}, {count} feature(s)"


def measure(
    base: str,
    mix: dict[str, list[str]],
    work: Path,
    duration: int,
    connections: int,
    warmup: int = 3,
) -> dict[str, dict]:
    """Each query type: a short warm-up (`warmup` seconds), then the measured wrk run."""
    results: dict[str, dict] = {}
    for name, paths in mix.items():
        run_wrk(base, paths[:50], work, warmup, connections)
        results[name] = {
            **run_wrk(base, paths, work, duration, connections),
            "first_path": paths[0],
            "first_answer": probe(base, paths[0]),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--villages", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per query type")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pygeoapi", action="store_true", help="also measure pygeoapi on the same data and mix"
    )
    parser.add_argument("--pygeoapi-venv", type=Path, default=PYGEOAPI_VENV)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")
    store = build(args.villages)
    mix = query_paths(store, random.Random(5))
    pygeoapi: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lutu-wrk-") as tmp:
        work = Path(tmp)
        (work / "paths.lua").write_text(LUA)
        # One server at a time, so the two never compete for the cores.
        port = free_port()
        proc = start_gunicorn(store, port, args.workers)
        try:
            results = measure(
                f"http://127.0.0.1:{port}", mix, work, args.duration, args.connections
            )
        finally:
            stop(proc)
        if args.pygeoapi:
            port = free_port()
            proc = start_pygeoapi(store, port, args.workers, args.pygeoapi_venv, work)
            try:
                pg_mix = {name: [pygeoapi_path(p) for p in paths] for name, paths in mix.items()}
                pygeoapi = measure(
                    f"http://127.0.0.1:{port}", pg_mix, work, args.duration, args.connections
                )
            finally:
                stop(proc)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    meta = {
        "villages": args.villages,
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
    }
    report = {**meta, "results": results}
    if args.pygeoapi:
        report["pygeoapi"] = pygeoapi
    (out / "api_bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(
        f"{args.villages:,} villages, gunicorn {args.workers} workers, "
        f"wrk {args.connections} connections, {args.duration} s per type\n"
    )
    if args.pygeoapi:
        print_comparison(results, pygeoapi)
    else:
        print_table(results)


def print_table(results: dict[str, dict]) -> None:
    print("| query | req/s | p50 ms | p95 ms | p99 ms | kB/response | non-2xx | socket errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['req_s']:,} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['kb_per_response']} | {r['non_2xx']} | {r['socket_errors']} |"
        )


def print_comparison(ours: dict[str, dict], theirs: dict[str, dict]) -> None:
    """Both servers in one table, then any query type whose sample answers differ."""

    def cells(r: dict) -> str:
        errors = f"{r['non_2xx']:,}"
        if r["socket_errors"]:
            errors += f" (+{r['socket_errors']:,} socket errors)"
        if not r["requests"]:
            # wrk counts only answers that arrive within the run: slower than that reads as 0.
            return f"none finished | – | {errors}"
        return f"{r['req_s']:,} | {r['p50_ms']} / {r['p95_ms']} / {r['p99_ms']} | {errors}"

    print(
        "| query | 绿图 req/s | 绿图 p50 / p95 / p99 ms | 绿图 non-2xx "
        "| pygeoapi req/s | pygeoapi p50 / p95 / p99 ms | pygeoapi non-2xx |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in ours.items():
        print(f"| {name} | {cells(r)} | {cells(theirs[name])} |")
    for name, r in ours.items():
        if r["first_answer"] != theirs[name]["first_answer"]:
            print(
                f"\nnote: {name}: 绿图 answered {r['first_path']} with {r['first_answer']}, "
                f"pygeoapi answered {theirs[name]['first_path']} with "
                f"{theirs[name]['first_answer']}"
            )


if __name__ == "__main__":
    main()
