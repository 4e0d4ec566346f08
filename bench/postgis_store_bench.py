"""PostGIS store benchmark, in process (no HTTP): load time and the API's query types on
`PostGISStore` over 1,000,000 villages + 100,000 coal boilers, with the point index and in
SQL alone; plus which geometry encoding decodes fastest (ST_AsBinary, the column's own
binary EWKB, ST_AsGeoJSON).

    .venv/bin/python bench/postgis_store_bench.py [--villages 1000000] [--boilers 100000]
        [--repeat 50] [--keep]

Starts a throwaway cluster (tests/pgcluster.py); the generated sources are cached under
/tmp/lutu-postgis-store-bench-<villages>-<boilers>/. Prints a Markdown table (median and p95
per query, milliseconds).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import psycopg  # noqa: E402
import shapely  # noqa: E402
from pgcluster import Cluster  # noqa: E402

from geo.store.postgis import PostGISStore, ensure_postgis  # noqa: E402
from layers import all_layers  # noqa: E402
from layers.demo import generate, write  # noqa: E402


def sources(villages: int, boilers: int) -> list[Path]:
    work = Path(tempfile.gettempdir()) / f"lutu-postgis-store-bench-{villages}-{boilers}"
    done = work / "generated.ok"
    if not done.exists():
        t = time.perf_counter()
        write(generate(counts={"villages": villages, "coal_boilers": boilers}), work / "demo")
        done.write_text("ok\n")
        print(f"generated in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return [ROOT / "data" / "boundaries", work / "demo"]


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 in milliseconds (after one warm-up run)."""
    run()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def decoders(url: str, repeat: int) -> dict[str, tuple[float, float]]:
    """1,000 villages of a 1° box, fetched and decoded to shapely three ways."""
    box = "ST_MakeEnvelope(122.0, 40.0, 123.0, 41.0, 4490)"
    where = f"FROM lutu.villages WHERE geom && {box} ORDER BY fid LIMIT 1000"
    out = {}
    with psycopg.connect(url) as con:

        def binary(column: str) -> Callable[[], object]:
            def run() -> object:
                with con.cursor(binary=True) as cur:
                    rows = cur.execute(f"SELECT {column} {where}").fetchall()
                return shapely.from_wkb([r[0] for r in rows])

            return run

        def text_wkb() -> object:
            rows = con.execute(f"SELECT ST_AsBinary(geom) {where}").fetchall()
            return shapely.from_wkb([r[0] for r in rows])

        def geojson() -> object:
            rows = con.execute(f"SELECT ST_AsGeoJSON(geom) {where}").fetchall()
            return shapely.from_geojson([r[0] for r in rows])

        out["ST_AsBinary, binary protocol"] = timed(binary("ST_AsBinary(geom)"), repeat)
        out["geom as is (EWKB), binary protocol"] = timed(binary("geom"), repeat)
        out["ST_AsBinary, text protocol (hex)"] = timed(text_wkb, repeat)
        out["ST_AsGeoJSON + shapely.from_geojson"] = timed(geojson, repeat)
    return out


def queries(store: PostGISStore, repeat: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(1)
    count = store.layer("villages").count
    sample = store.query("villages", limit=2000, offset=count // 3, with_geometry=True).features
    centres = [(f.geometry.x, f.geometry.y) for f in sample]
    ids = [f.id for f in sample]
    counties = sorted({f.properties["county_adcode"] for f in sample})

    def box(size: float) -> tuple[float, float, float, float]:
        x, y = rng.choice(centres)
        return (x - size / 2, y - size / 2, x + size / 2, y + size / 2)

    def filtered() -> object:
        filters = {"county_adcode": rng.choice(counties), "clean_heating": rng.random() < 0.5}
        return store.query("villages", filters=filters, limit=100)

    return {
        "small bbox (0.1°, limit 100)": timed(
            lambda: store.query("villages", bbox=box(0.1), limit=100), repeat
        ),
        "single item": timed(lambda: store.get("villages", rng.choice(ids)), repeat),
        "offset ≈ 500,000 (limit 100)": timed(
            lambda: store.query(
                "villages", offset=count // 2 + rng.randrange(-5000, 5000), limit=100
            ),
            repeat,
        ),
        "property filter (limit 100)": timed(filtered, repeat),
        "large bbox (1°, limit 1000)": timed(
            lambda: store.query("villages", bbox=box(1.0), limit=1000), repeat
        ),
        "search 石山": timed(lambda: store.search("石山"), max(5, repeat // 5)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--villages", type=int, default=1_000_000)
    parser.add_argument("--boilers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    dirs = sources(args.villages, args.boilers)
    with Cluster(settings=["shared_buffers=512MB"]) as cluster:
        url = cluster.create_database("bench")
        t = time.perf_counter()
        ensure_postgis(url, all_layers(), dirs)
        print(f"| load (sources read + COPY + indexes) | {time.perf_counter() - t:.1f} s |")
        with PostGISStore(url) as store:
            t = time.perf_counter()
            store.positions("villages")
            print(f"| positions of every village (cold) | {time.perf_counter() - t:.2f} s |")
            t = time.perf_counter()
            store.columns("villages", ["county_adcode", "households", "clean_heating"])
            print(f"| columns of every village (3 fields) | {time.perf_counter() - t:.2f} s |")
            # Steady state: the point index read at once (a server builds it in the
            # background after each change), then every query in SQL, as while it builds.
            store.background_points_above = 10**9
            t = time.perf_counter()
            store.query("villages", bbox=(122.0, 40.0, 122.1, 40.1), limit=1)
            print(f"| point index of every village | {time.perf_counter() - t:.2f} s |")
            ours = queries(store, args.repeat)
            store.background_points_above = None
            in_sql = queries(store, args.repeat)
            print("\n| query | point index: median ms | p95 ms | SQL only: median ms | p95 ms |")
            print("|---|---|---|---|---|")
            for name, (p50, p95) in ours.items():
                s50, s95 = in_sql[name]
                print(f"| {name} | {p50:.1f} | {p95:.1f} | {s50:.1f} | {s95:.1f} |")
        print("\n| decoding 1,000 points | median ms | p95 ms |\n|---|---|---|")
        for name, (p50, p95) in decoders(url, args.repeat).items():
            print(f"| {name} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
