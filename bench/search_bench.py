"""Search benchmark: the map's search (FeatureStore.search over the GeoPackage's FTS5 trigram
index, and GET /map/search) against a naive LIKE '%q%' scan of the same store, at scale.

    .venv/bin/python bench/search_bench.py [--villages 1000000] [--searches 200]
        [--cache /tmp/lutu-search-bench-1000000] [--out bench/out]

Generates, once, demo data with the project's generator (`layers.demo`, --villages villages,
the other layers at their defaults) under --cache and builds the store with
`webmap.store.build_store_files`, as bench/api_bench.py and bench/restricted_bench.py do (the
build is skipped while the store's inputs and format are unchanged). Then --searches queries
of a seeded mix — 1 character, 2 characters, 3+ characters (names, enterprises, counties),
ids (whole and partial) and misses, one fifth each — are timed three ways, each first run once
untimed: the store's `search` (limit 10, every layer), the endpoint through Flask's test client
(`/map/search?q=…&city=all`), and a naive ranked scan (`LIKE '%q%'` over every searched field
of every layer, exact before prefix before substring, LIMIT 10). Prints a Markdown table and
writes search_bench.json to --out.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from geo.store import GeoPackageStore  # noqa: E402
from geo.store.search import layer_order, searched_fields  # noqa: E402
from layers.demo import generate, write  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

KINDS = ("1 character", "2 characters", "3+ characters", "id", "miss")
LIMIT = 10


def build(cache: Path, villages: int) -> tuple[Path, dict[str, float]]:
    """The store with `villages` villages: demo data generated once, the store (re)built when
    its inputs or format changed."""
    figures: dict[str, float] = {}
    demo, marker = cache / "demo", cache / f"demo-{villages}.ok"
    if not marker.exists():
        t = time.perf_counter()
        write(generate(counts={"villages": villages}), demo)
        marker.write_text("ok\n")
        figures["generate_s"] = round(time.perf_counter() - t, 1)
    store = cache / "lutu.gpkg"
    t = time.perf_counter()
    if build_store_files(store, [ROOT / "data" / "boundaries", demo], PLANS_DIR, LINKS_PATH):
        figures["store_build_s"] = round(time.perf_counter() - t, 1)
    figures["store_mb"] = round(store.stat().st_size / 1e6, 1)
    return store, figures


def queries(store: GeoPackageStore, n: int) -> list[tuple[str, str]]:
    """A seeded mix of what people type: (kind, query)."""
    rng = random.Random(7)
    count = store.layer("villages").count
    villages = store.query(
        "villages", limit=500, offset=rng.randrange(max(count - 500, 1)), properties=["name"]
    ).features
    boilers = store.query("coal_boilers", limit=None, properties=["enterprise"]).features
    counties = [
        f.properties["name_zh"]
        for f in store.query("districts", limit=None, properties=["name_zh", "level"]).features
        if f.properties["level"] == "county"
    ]
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        village = rng.choice(villages)
        name = village.properties["name"]
        if kind == "1 character":
            q = rng.choice(name)
        elif kind == "2 characters":
            q = name[:2]
        elif kind == "3+ characters":
            q = rng.choice(
                [name, rng.choice(boilers).properties["enterprise"][2:8], rng.choice(counties)]
            )
        elif kind == "id":
            q = village.id if i % 2 else village.id[-9:]  # whole, or its tail
        else:
            q = rng.choice([f"无此地名{i}", f"zq{i}x", "不存在的村庄"])
        out.append((kind, q))
    return out


def naive_search(con: sqlite3.Connection, layers: dict[str, list[str]]) -> Callable[[str], list]:
    """A ranked search without an index: LIKE '%q%' over every searched field of every layer."""
    parts = []
    for layer_id in layer_order(layers):
        for name in layers[layer_id]:
            parts.append(
                f"SELECT '{layer_id}' AS layer, id, CASE WHEN \"{name}\" = :q THEN 0 "
                f'WHEN "{name}" LIKE :prefix THEN 1 ELSE 2 END AS rank '
                f'FROM "{layer_id}" WHERE "{name}" LIKE :any'
            )
    sql = f"SELECT layer, id, min(rank) AS r FROM ({' UNION ALL '.join(parts)}) "
    sql += f"GROUP BY layer, id ORDER BY r, layer != 'districts' LIMIT {LIMIT}"

    def search(q: str) -> list:
        return con.execute(sql, {"q": q, "prefix": f"{q}%", "any": f"%{q}%"}).fetchall()

    return search


def timed(run: Callable[[str], object], mix: list[tuple[str, str]]) -> dict:
    run(mix[0][1])  # not timed: the first read opens the indexes
    by_kind: dict[str, list[float]] = {k: [] for k in KINDS}
    for kind, q in mix:
        t = time.perf_counter()
        run(q)
        by_kind[kind].append((time.perf_counter() - t) * 1000)
    every = sorted(v for times in by_kind.values() for v in times)

    def figures(times: list[float]) -> dict[str, float]:
        times = sorted(times)
        return {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "max_ms": round(times[-1], 2),
        }

    return {"all": figures(every)} | {k: figures(v) for k, v in by_kind.items() if v}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--villages", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    cache = args.cache or Path(f"/tmp/lutu-search-bench-{args.villages}")
    cache.mkdir(parents=True, exist_ok=True)
    store_path, figures = build(cache, args.villages)
    store = GeoPackageStore(store_path)
    mix = queries(store, args.searches)
    app = create_app(
        {
            "STORE_PATH": str(store_path),
            "BUILD_ON_START": False,
            "WARM_CACHES": False,
            "SECRET_KEY": "bench",
            "USERS_PATH": str(cache / "users.sqlite"),
        }
    )
    client = app.test_client()

    def endpoint(q: str) -> None:
        answer = client.get("/map/search", query_string={"q": q, "city": "all"})
        if answer.status_code != 200:
            raise SystemExit(f"/map/search?q={q}: {answer.status_code}")

    con = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    fields = {
        layer_id: [n for n in searched_fields(info.fields) if info.fields[n] == "str"]
        for layer_id, info in store.layers().items()
        if info.geometry_type is not None
    }
    runs = {
        "store.search": timed(lambda q: store.search(q, limit=LIMIT), mix),
        "GET /map/search": timed(endpoint, mix),
        "naive LIKE '%q%' scan": timed(naive_search(con, fields), mix),
    }
    hits = [len(store.search(q, limit=LIMIT)) for _, q in mix]
    figures |= {
        "villages": args.villages,
        "searches": args.searches,
        "queries with hits": sum(1 for h in hits if h),
        "runs": runs,
    }
    index, naive = runs["store.search"]["all"], runs["naive LIKE '%q%' scan"]["all"]
    figures["naive / index p50"] = round(naive["p50_ms"] / max(index["p50_ms"], 1e-6), 1)
    figures["naive / index p95"] = round(naive["p95_ms"] / max(index["p95_ms"], 1e-6), 1)
    print(f"{args.villages:,} villages, {args.searches} searches; store {figures['store_mb']} MB\n")
    print("| queries | " + " | ".join(f"{name}: p50 / p95 ms" for name in runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    for kind in ("all", *KINDS):
        cells = [f"{r[kind]['p50_ms']} / {r[kind]['p95_ms']}" for r in runs.values()]
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print(
        f"\nnaive / index: p50 ×{figures['naive / index p50']}, p95 ×{figures['naive / index p95']}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search_bench.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    con.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
