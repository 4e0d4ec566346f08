"""Report benchmark: the atlas PDFs of 营口 and 辽源 (an overview plus one section per county),
a county report and a measure report, rendered from a store built from the shipped data.

    .venv/bin/python bench/report_bench.py [--repeat 3] [--keep DIR]

For each report: a cold run (a fresh Python process that has imported the modules and opened
the store, then renders its first report: fonts, WeasyPrint and the indicators are loaded on
the way), then, in this process, one warm-up and --repeat timed runs (best and median). The
map drawing is timed apart from the rest (the glyph check and WeasyPrint's layout and PDF)
through `to_pdf`'s progress callback. Goal (issue #6): at most 1.5 s wall per PDF page on the
2-core machine. Figures go to stdout as a Markdown table and to bench/out/report_bench.json;
the verdict is printed, the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.store import GeoPackageStore  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from reports.content import build  # noqa: E402
from reports.document import to_pdf  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

SOURCES = [ROOT / "data" / "boundaries", ROOT / "data" / "demo"]
GOAL_S_PER_PAGE = 1.5
JOBS = [  # (label, kind, key)
    ("营口 yingkou atlas", "atlas", "yingkou"),
    ("辽源 liaoyuan atlas", "atlas", "liaoyuan"),
    ("盖州市 county 210881", "county", "210881"),
    ("001/三/八 measure", "measure", "001/三/八"),
]


def render(store: GeoPackageStore, kind: str, key: str) -> dict:
    """One report, timed: build (content), maps (matplotlib), the rest (glyphs + WeasyPrint)."""
    t0 = time.perf_counter()
    report = build(store, kind, key)
    t_built = time.perf_counter()
    marks: list[float] = []
    pdf = to_pdf(report, progress=lambda _n: marks.append(time.perf_counter()))
    t_end = time.perf_counter()
    return {
        "wall_s": t_end - t0,
        "build_s": t_built - t0,
        "maps_s": (marks[-1] if marks else t_built) - t_built,
        "pdf_s": t_end - (marks[-1] if marks else t_built),
        "sections": len(report.pages),
        "bytes": len(pdf),
        "pdf": pdf,
        "filename": report.filename("pdf"),
    }


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def cold(store_path: Path, kind: str, key: str) -> dict:
    """The first report of a fresh process (modules imported and store opened beforehand)."""
    out = subprocess.run(
        [sys.executable, __file__, "--cold", str(store_path), kind, key],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed warm runs per report")
    parser.add_argument("--keep", type=Path, help="write the PDFs into this folder")
    parser.add_argument("--cold", nargs=3, metavar=("STORE", "KIND", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.cold:  # the child of `cold()`
        store_path, kind, key = args.cold
        store = GeoPackageStore(Path(store_path))
        run = render(store, kind, key)
        print(json.dumps({k: v for k, v in run.items() if k != "pdf"}))
        return 0

    figures: dict = {"machine": machine(), "repeat": args.repeat, "reports": []}
    with tempfile.TemporaryDirectory(prefix="lutu-report-bench-") as tmp:
        store_path = Path(tmp) / "lutu.gpkg"
        t = time.perf_counter()
        build_store_files(store_path, SOURCES, PLANS_DIR, LINKS_PATH)
        figures["store_build_s"] = round(time.perf_counter() - t, 2)
        store = GeoPackageStore(store_path)
        for label, kind, key in JOBS:
            first = cold(store_path, kind, key)
            render(store, kind, key)  # warm-up
            runs = [render(store, kind, key) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["wall_s"])
            pages = page_count(best["pdf"])
            walls = [r["wall_s"] for r in runs]
            row = {
                "report": label,
                "kind": kind,
                "key": key,
                "sections": best["sections"],
                "pages": pages,
                "cold_s": round(first["wall_s"], 2),
                "best_s": round(best["wall_s"], 2),
                "median_s": round(statistics.median(walls), 2),
                "runs_s": [round(w, 2) for w in walls],
                "best_build_s": round(best["build_s"], 2),
                "best_maps_s": round(best["maps_s"], 2),
                "best_pdf_s": round(best["pdf_s"], 2),
                "s_per_page": round(best["wall_s"] / pages, 2),
                "cold_s_per_page": round(first["wall_s"] / pages, 2),
                "bytes": best["bytes"],
            }
            figures["reports"].append(row)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / best["filename"]).write_bytes(best["pdf"])
            print(f"  {label}: {row['runs_s']} s, {pages} pages", file=sys.stderr)
        store.close()

    print(f"Reports, {figures['machine']}; store built in {figures['store_build_s']} s\n")
    print(
        "| report | sections | PDF pages | cold s | best s (median) of "
        f"{args.repeat} | maps / PDF s | s per page (cold) | bytes | ≤ {GOAL_S_PER_PAGE} s/page |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for row in figures["reports"]:
        ok = row["s_per_page"] <= GOAL_S_PER_PAGE
        ok_cold = row["cold_s_per_page"] <= GOAL_S_PER_PAGE
        verdicts.append(ok)
        print(
            f"| {row['report']} | {row['sections']} | {row['pages']} | {row['cold_s']} "
            f"| {row['best_s']} ({row['median_s']}) | {row['best_maps_s']} / "
            f"{row['best_pdf_s']} | {row['s_per_page']} ({row['cold_s_per_page']}) "
            f"| {row['bytes']:,} | {'PASS' if ok else 'FAIL'}"
            f"{'' if ok_cold else ' (cold FAIL)'} |"
        )
    figures["goal_s_per_page"] = GOAL_S_PER_PAGE
    figures["pass"] = all(verdicts)
    print(f"\nGoal ≤ {GOAL_S_PER_PAGE} s wall per page (warm, best run): ", end="")
    print("PASS" if figures["pass"] else "FAIL")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "report_bench.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
