"""Map benchmark: the interactive map with 100,000 villages (and 10,000 boilers) in headless
Chromium, offline. Measures what a planner feels: page size, time until every layer is drawn,
and how long zoom and pan take until the new view is drawn.

    .venv/bin/python bench/map_bench.py [--villages 100000] [--boilers 10000] [--runs 5]

Goals (issue #2): drawn < 2 s, zoom/pan < 0.5 s, page < 1 MB, every village reachable.
Figures go to stdout as a Markdown table and to bench/out/map_bench.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from geo.store import ensure_geopackage  # noqa: E402
from layers import all_layers  # noqa: E402
from layers.demo import generate, write  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ALL_DRAWN = "ids => window.lutu && lutu.pending === 0 && ids.every(id => id in lutu.drawn)"
FIND_MAP = "Object.values(window).find(v => v instanceof L.Map)"


def build(work: Path, villages: int, boilers: int) -> tuple[Path, list[Path], dict]:
    figures = {}
    t = time.perf_counter()
    written = write(generate(counts={"villages": villages, "coal_boilers": boilers}), work / "demo")
    figures["generate_s"] = round(time.perf_counter() - t, 2)
    figures["source_mb"] = round(sum(w.bytes for w in written) / 1e6, 1)
    sources = [ROOT / "data" / "boundaries", work / "demo"]
    t = time.perf_counter()
    store = work / "bench.gpkg"
    ensure_geopackage(store, all_layers(), sources)
    figures["store_build_s"] = round(time.perf_counter() - t, 2)
    figures["store_mb"] = round(store.stat().st_size / 1e6, 1)
    return store, sources, figures


def timed_move(page, js: str) -> float:
    """Run a map move in the page; ms until every layer has drawn the new view."""
    return page.evaluate(
        """async js => {
            const m = FIND_MAP;
            await new Promise(r => setTimeout(r, 50));
            const t0 = performance.now();
            const before = Object.fromEntries(
                Object.entries(lutu.drawn).map(([k, v]) => [k, v.current]));
            new Function('m', js)(m);
            await new Promise(resolve => {
                const check = () => {
                    const done = lutu.pending === 0 && Object.entries(lutu.layers)
                        .filter(([k]) => k !== 'districts')
                        .every(([k]) => lutu.drawn[k] && lutu.drawn[k].current !== before[k]);
                    done ? resolve() : requestAnimationFrame(check);
                };
                check();
            });
            return Math.max(...Object.values(lutu.drawn).map(d => d.current || 0)) - t0;
        }""".replace("FIND_MAP", FIND_MAP),
        js,
    )


def watch(page, base: str, external: list[str], sizes: dict[str, int]) -> None:
    """Block and count requests that leave the app; record response sizes."""

    def route(r) -> None:
        if r.request.url.startswith(base):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)

    def record(response) -> None:
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # the page closed before the body was read (a late tile of data)
            pass

    page.on("response", record)


def measure(base: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    ids = [layer.id for layer in all_layers()]
    figures: dict = {"load_ms": [], "zoom_ms": [], "pan_ms": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            external: list[str] = []
            sizes: dict[str, int] = {}
            watch(page, base, external, sizes)
            page.goto(base + "/")
            page.wait_for_function(ALL_DRAWN, arg=ids, timeout=60_000)
            figures["load_ms"].append(
                page.evaluate("Math.max(...Object.values(lutu.drawn).map(d => d.at || 0))")
            )
            villages = page.evaluate("lutu.drawn.villages")
            figures["villages_total_in_view"] = villages["total"]
            figures["villages_mode_at_start"] = villages["mode"]
            for z in (9, 11, 13, 11, 9):
                figures["zoom_ms"].append(timed_move(page, f"m.setZoom({z})"))
            for dx, dy in ((300, 0), (0, 200), (-300, 0), (0, -200)):
                figures["pan_ms"].append(timed_move(page, f"m.panBy([{dx}, {dy}])"))
            figures["html_bytes"] = sizes.get(base + "/", 0)
            figures["page_bytes_total"] = sum(sizes.values())
            figures["external_requests"] = len(external)
            page.close()
        browser.close()
    for key in ("load_ms", "zoom_ms", "pan_ms"):
        values = figures.pop(key)
        figures[key.replace("_ms", "_median_ms")] = round(statistics.median(values))
        figures[key.replace("_ms", "_max_ms")] = round(max(values))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--villages", type=int, default=100_000)
    parser.add_argument("--boilers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lutu-bench-") as tmp:
        store, sources, figures = build(Path(tmp), args.villages, args.boilers)
        app = create_app(
            {
                "STORE_PATH": str(store),
                "SOURCE_DIRS": [str(s) for s in sources],
                "BUILD_ON_START": False,
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
        for thread in threading.enumerate():  # a server is up well before its first visitor
            if thread.name == "lutu-warm":
                thread.join()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        figures.update(measure(base, args.runs))
        server.shutdown()
    figures.update(villages=args.villages, boilers=args.boilers, runs=args.runs)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "map_bench.json").write_text(json.dumps(figures, indent=2))
    print("| figure | value |\n|---|---|")
    for key, value in figures.items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
