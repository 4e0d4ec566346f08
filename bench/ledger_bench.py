"""Ledger import benchmark: importing a 100,000-row Excel ledger of coal boilers laid out like
the layer's template into the store built from the shipped data (issue #7): read, place, check
and match every row (the dry run), commit the rows and their audit entries in one transaction,
rebuild the store with them.

    .venv/bin/python bench/ledger_bench.py [--rows 100000] [--csv] [--progress]

With --progress every step reports its progress as a web import job does: the state written
to a JSON file and swapped into place (os.replace) at every report.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.ledger.edits import EditStore  # noqa: E402
from geo.ledger.template import AUTOMATIC, coordinate_headers, header  # noqa: E402
from geo.store import GeoPackageStore  # noqa: E402
from layers import get_layer  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from webmap.ledger import preview  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

SOURCES = [ROOT / "data" / "boundaries", ROOT / "data" / "demo"]


def ledger_rows(count: int) -> tuple[list[str], list[list[object]]]:
    """Boilers scattered over 营口's built-up core, every value valid."""
    layer = get_layer("coal_boilers")
    fields = [f for f in layer.fields if f.name not in AUTOMATIC and f.name != "id"]
    headings = [header(f) for f in fields] + list(coordinate_headers("Point"))
    rng = random.Random(6)
    rows = []
    for n in range(count):
        values = {
            "name": f"测试热力{n}号燃煤锅炉",
            "enterprise": f"测试热力有限公司{n % 977}",
            "capacity_t_per_h": rng.choice([4, 10, 20, 35, 65]),
            "use": "供暖",
            "status": "运行",
            "replacement": None,
            "status_year": 2024,
            "commissioned_year": 2001 + n % 20,
            "note": None,
        }
        row = [values.get(f.name) for f in fields]
        row += [round(122.20 + rng.random() * 0.12, 6), round(40.62 + rng.random() * 0.06, 6)]
        rows.append(row)
    return headings, rows


def write_xlsx(path: Path, headings: list[str], rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    book.save(path)


def write_csv(path: Path, headings: list[str], rows: list[list[object]]) -> None:
    import csv

    with path.open("w", encoding="gb18030", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headings)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--csv", action="store_true", help="also time the same ledger as GBK CSV")
    parser.add_argument(
        "--progress", action="store_true", help="report progress as a web job does (job.json)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store_path = folder / "lutu.gpkg"
        build_store_files(store_path, SOURCES, PLANS_DIR, LINKS_PATH)
        store = GeoPackageStore(store_path)
        headings, rows = ledger_rows(args.rows)
        files = [folder / "台账.xlsx"]
        write_xlsx(files[0], headings, rows)
        if args.csv:
            files.append(folder / "台账.csv")
            write_csv(files[1], headings, rows)
        print("| file | rows | MB | read + check s | commit s | rebuild s | total s | rows/s |")
        print("|---|---|---|---|---|---|---|---|")
        job = folder / "job.json"

        def report(stage: str, done: int, total: int | None) -> None:
            (folder / "job.part").write_text(json.dumps([stage, done, total, time.time()]))
            os.replace(folder / "job.part", job)

        progress = report if args.progress else None
        for path in files:
            edits_path = folder / f"edits{path.suffix}.sqlite"
            t0 = time.perf_counter()
            # The dry run as `flask ledger import` and the web upload make it: the header
            # found by the layer's known names, positions checked against the cities' outlines.
            plan = preview(store, "coal_boilers", path, progress=progress)
            t1 = time.perf_counter()
            assert plan.count("add") == args.rows, plan.summary()
            EditStore(edits_path).commit(plan, "bench", progress=progress)
            t2 = time.perf_counter()
            rebuilt = folder / f"lutu{path.suffix}.gpkg"
            build_store_files(rebuilt, SOURCES, PLANS_DIR, LINKS_PATH, edits_path)
            t3 = time.perf_counter()
            size = path.stat().st_size / 1e6
            print(
                f"| {path.suffix} | {args.rows:,} | {size:.1f} | {t1 - t0:.1f} | {t2 - t1:.1f} "
                f"| {t3 - t2:.1f} | {t3 - t0:.1f} | {args.rows / (t3 - t0):,.0f} |"
            )
        store.close()


if __name__ == "__main__":
    main()
