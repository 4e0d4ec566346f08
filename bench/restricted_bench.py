"""Restricted-data benchmark: what the public view (geo/store/restricted.py) costs an anonymous
reader, against the same app with nothing restricted.

    .venv/bin/python bench/restricted_bench.py [--villages 100000] [--requests 200]
        [--cache /tmp/lutu-restricted-bench]

Builds, once, a store with the demo generator's scale option (--villages villages, a tenth as
many coal boilers) under --cache. Then two apps read it in this process through Flask's test
client as an anonymous reader: one with nothing restricted, one with RESTRICTED_LAYERS =
coal_boilers and RESTRICTED_FIELDS = villages.households (so village reads go through the
view's field stripping). Per request type: median and p95 in ms over --requests requests, plus
the first (cold) indicator evaluation of each app. Figures go to stdout (a Markdown table) and
to bench/out/restricted_bench.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from geo.store import GeoPackageStore  # noqa: E402
from layers.demo import generate, write  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

RESTRICTED = {
    "RESTRICTED_LAYERS": ["coal_boilers"],
    "RESTRICTED_FIELDS": ["villages.households"],
}
YINGKOU_BBOX = (121.9, 39.9, 122.9, 40.9)


def build(cache: Path, villages: int) -> Path:
    counts = {"villages": villages, "coal_boilers": max(villages // 10, 1)}
    store, stamp = cache / "lutu.gpkg", cache / "counts.json"
    if not (store.exists() and stamp.exists() and json.loads(stamp.read_text()) == counts):
        write(generate(counts=counts), cache / "demo")
        build_store_files(
            store, [ROOT / "data" / "boundaries", cache / "demo"], PLANS_DIR, LINKS_PATH
        )
        stamp.write_text(json.dumps(counts))
    return store


def urls(store_path: Path, n: int) -> dict[str, list[str]]:
    """The same request mix for both apps (seeded)."""
    rng = random.Random(7)
    with GeoPackageStore(store_path) as store:
        count = store.layer("villages").count
        ids = [
            f.id
            for f in store.query(
                "villages", limit=n, offset=rng.randrange(max(count - n, 1)), properties=[]
            ).features
        ]

    def box(size: float) -> str:
        x = rng.uniform(YINGKOU_BBOX[0], YINGKOU_BBOX[2] - size)
        y = rng.uniform(YINGKOU_BBOX[1], YINGKOU_BBOX[3] - size)
        return f"{x:.4f},{y:.4f},{x + size:.4f},{y + size:.4f}"

    items = "/ogc/collections/villages/items"
    return {
        "items page (limit 100)": [
            f"{items}?limit=100&offset={rng.randrange(count - 100)}" for _ in range(n)
        ],
        "items bbox (limit 100)": [f"{items}?limit=100&bbox={box(0.1)}" for _ in range(n)],
        "item by id": [f"{items}/{i}" for i in ids],
        "map data (zoom 13)": [
            f"/map/data/villages?bbox={box(0.05)}&zoom=13&region=yingkou" for _ in range(n)
        ],
        "popup": [f"/map/popup/villages/{i}" for i in ids],
        "collections": ["/ogc/collections"] * n,
        "indicators (warm)": ["/indicators?year=2025"] * max(n // 10, 5),
    }


def timed(client, paths: list[str]) -> dict[str, float]:
    times = []
    for path in paths:
        t = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code}")
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--villages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/lutu-restricted-bench"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    store_path = build(args.cache, args.villages)
    mix = urls(store_path, args.requests)
    figures: dict = {"villages": args.villages, "requests": args.requests, "runs": {}}
    for label, extra in (("nothing restricted", {}), ("public view", RESTRICTED)):
        app = create_app(
            {
                "STORE_PATH": str(store_path),
                "BUILD_ON_START": False,
                "WARM_CACHES": False,
                "SECRET_KEY": "bench",
                "USERS_PATH": str(args.cache / "users.sqlite"),
                **extra,
            }
        )
        client = app.test_client()
        t = time.perf_counter()
        client.get("/indicators?year=2025")
        run = {"indicators (cold)": {"median_ms": round((time.perf_counter() - t) * 1000, 1)}}
        for name, paths in mix.items():
            client.get(paths[0])  # the first read of a layer opens its indexes: not timed
            run[name] = timed(client, paths)
        figures["runs"][label] = run
    plain, public = figures["runs"]["nothing restricted"], figures["runs"]["public view"]
    print(f"{args.villages:,} villages, {args.requests} requests per type (anonymous reader)\n")
    print("| request | nothing restricted: median / p95 ms | public view: median / p95 ms |")
    print("|---|---|---|")
    for name in plain:
        a, b = plain[name], public[name]
        print(
            f"| {name} | {a['median_ms']} / {a.get('p95_ms', '–')} "
            f"| {b['median_ms']} / {b.get('p95_ms', '–')} |"
        )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "restricted_bench.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
