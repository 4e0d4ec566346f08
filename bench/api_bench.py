"""API benchmark: the OGC API – Features endpoints over 1,000,000 villages, under gunicorn with
2 workers on loopback, loaded by `wrk` (Debian: `sudo apt-get install -y wrk`) with 16
connections and a Lua path list per query type.

    .venv/bin/python bench/api_bench.py [--villages 1000000] [--duration 10] [--workers 2]

The demo data and the GeoPackage are generated once (about 3 minutes at 1M) and cached under
/tmp/lutu-api-bench-<villages>/; delete that directory to rebuild. Prints req/s and
p50/p95/p99 per query type as a Markdown table and writes bench/out/api_bench.json.
Goals and pygeoapi's reference figures (issue #5) are in bench/README.md.
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
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.store import GeoPackageStore  # noqa: E402
from layers.demo import generate, write  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

PREFIX = "/ogc/collections/villages/items"
PATHS_PER_TYPE = 2000
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
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    write(generate(counts={"villages": villages}), work / "demo")
    print(f"generated {villages:,} villages in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    t = time.perf_counter()
    build_store_files(store, source_dirs(work), PLANS_DIR, LINKS_PATH)
    print(f"built the store in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    done.write_text("ok\n")
    return store


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

    def box(x: float, y: float, size: float) -> str:
        h = size / 2
        return f"{x - h:.4f},{y - h:.4f},{x + h:.4f},{y + h:.4f}"

    def items(**params: object) -> str:
        return f"{PREFIX}?{urlencode(params)}"

    return {
        "small bbox (0.1°, limit 100)": [items(bbox=box(x, y, 0.1), limit=100) for x, y in centres],
        "single item": [f"{PREFIX}/{i}" for i in ids],
        "offset ≈ 500,000 (limit 100)": [
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
    """gunicorn over the cached store; returns once the landing page answers."""
    env = dict(
        os.environ,
        LUTU_STORE_PATH=str(store),
        LUTU_SOURCE_DIRS=os.pathsep.join(str(p) for p in source_dirs(store.parent)),
        LUTU_BUILD_ON_START="false",
    )
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
        "app:create_app()",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ogc", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit("gunicorn did not answer /ogc within 120 s")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--villages", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per query type")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")
    store = build(args.villages)
    mix = query_paths(store, random.Random(5))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn(store, port, args.workers)
    results: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="lutu-wrk-") as tmp:
            work = Path(tmp)
            (work / "paths.lua").write_text(LUA)
            for name, paths in mix.items():
                run_wrk(base, paths[:50], work, 2, args.connections)  # warm-up
                results[name] = run_wrk(base, paths, work, args.duration, args.connections)
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
    (out / "api_bench.json").write_text(
        json.dumps({**meta, "results": results}, indent=2, ensure_ascii=False)
    )
    print(
        f"{args.villages:,} villages, gunicorn {args.workers} workers, "
        f"wrk {args.connections} connections, {args.duration} s per type\n"
    )
    print("| query | req/s | p50 ms | p95 ms | p99 ms | kB/response | non-2xx | socket errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['req_s']:,} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['kb_per_response']} | {r['non_2xx']} | {r['socket_errors']} |"
        )


if __name__ == "__main__":
    main()
