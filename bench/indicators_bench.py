"""Indicator benchmark: every plan indicator (plans/indicators.py) on a province-scale store.

    .venv/bin/python bench/indicators_bench.py [--cache /tmp/lutu-indicators-bench] [--build-only]
        [--postgis]

Builds, once, a synthetic store with the demo generator's scale option (1,000,000 villages,
100,000 coal boilers, 2,000 parks, 500 wastewater plants, 300 rail spurs; about two minutes)
and keeps it under --cache between runs. Then, in this process, times `evaluate(store, year)`
for all indicators: cold (first call: reads the layers and computes the spatial memberships
and distances, which are cached per store) and warm (the other years, served from that
cache), plus peak memory. Goal (issue #4): all indicators in under 2 s on the 2-core machine.
Figures go to stdout and to bench/out/indicators_bench.json. With --postgis the same sources
are loaded into a throwaway PostgreSQL + PostGIS cluster (tests/pgcluster.py, fsync on) and the
indicators are evaluated on the PostGIS store instead: the same vectorised engine, reading the
layers' columns from the database.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.store import GeoPackageStore  # noqa: E402
from geo.store.gpkg import STORE_FORMAT  # noqa: E402
from layers.demo import generate, write  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.indicators import evaluate  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

COUNTS = {
    "villages": 1_000_000,
    "coal_boilers": 100_000,
    "parks": 2000,
    "wastewater_plants": 500,
    "rail_spurs": 300,
}


def _store_format(path: Path) -> int | None:
    """The format a cached store was written with (rebuilt when the code's differs)."""
    store = GeoPackageStore(path)
    try:
        return store._format()
    finally:
        store.close()


def build(cache: Path) -> tuple[Path, dict]:
    """The province-scale store under `cache`, generated and built only when missing."""
    figures: dict = {}
    store = cache / "lutu.gpkg"
    stamp = cache / "counts.json"
    if (
        store.exists()
        and stamp.exists()
        and json.loads(stamp.read_text()) == COUNTS
        and _store_format(store) == STORE_FORMAT
    ):
        figures["store_cached"] = True
    else:
        t = time.perf_counter()
        write(generate(counts=COUNTS), cache / "demo")
        figures["generate_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        sources = [ROOT / "data" / "boundaries", cache / "demo"]
        build_store_files(store, sources, PLANS_DIR, LINKS_PATH)
        figures["store_build_s"] = round(time.perf_counter() - t, 1)
        stamp.write_text(json.dumps(COUNTS))
        figures["store_cached"] = False
    figures["store_mb"] = round(store.stat().st_size / 1e6, 1)
    return store, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/lutu-indicators-bench"))
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--year", type=int, default=2025, help="the cold year")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    parser.add_argument("--postgis", action="store_true", help="evaluate on the PostGIS store")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    path, figures = build(args.cache)
    if args.build_only:
        print(json.dumps(figures, indent=2))
        return 0

    cluster = None
    if args.postgis:
        sys.path.insert(0, str(ROOT / "tests"))
        from pgcluster import Cluster

        from geo.store.postgis import PostGISStore

        cluster = Cluster(durable=True)
        url = cluster.create_database("lutu_indicators")
        t = time.perf_counter()
        sources = [ROOT / "data" / "boundaries", args.cache / "demo"]
        build_store_files(url, sources, PLANS_DIR, LINKS_PATH)
        figures["postgis_load_s"] = round(time.perf_counter() - t, 1)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.tracemalloc:
        tracemalloc.start()
    store = PostGISStore(url) if cluster is not None else GeoPackageStore(path)
    figures["store"] = "postgis" if cluster is not None else "gpkg"
    t, cpu = time.perf_counter(), time.process_time()
    results = evaluate(store, args.year)
    figures["cold_s"] = round(time.perf_counter() - t, 3)
    figures["cold_cpu_s"] = round(time.process_time() - cpu, 3)  # less sensitive to other load
    warm = {}
    for year in range(2020, 2026):
        t = time.perf_counter()
        evaluate(store, year)
        warm[year] = round(time.perf_counter() - t, 3)
    figures["warm_s"] = warm
    figures["warm_max_s"] = max(warm.values())
    t = time.perf_counter()
    size = len(json.dumps([r.to_json() for r in results], ensure_ascii=False))
    figures["to_json_s"] = round(time.perf_counter() - t, 3)
    figures["json_mb"] = round(size / 1e6, 1)
    per = {}
    for result in results:
        t = time.perf_counter()
        evaluate(store, args.year, [result.indicator.id])
        per[result.indicator.id] = round(time.perf_counter() - t, 3)
    figures["warm_per_indicator_s"] = per
    if args.tracemalloc:
        figures["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
        tracemalloc.stop()
    figures["rss_before_mb"] = round(rss_before, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["indicators"] = len(results)
    figures["headline"] = {
        r.indicator.id: {a.adcode: a.value for a in r.areas if a.level != "county"} for r in results
    }
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"indicators_bench{'_postgis' if cluster else ''}.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    store.close()
    if cluster is not None:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
