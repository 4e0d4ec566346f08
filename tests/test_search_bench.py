"""The search benchmark runs (at a tiny size: the real one is bench/search_bench.py's default)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from support import ROOT


def test_the_search_benchmark_runs_at_a_tiny_size(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location(
        "search_bench", ROOT / "bench" / "search_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = ["--villages", "200", "--searches", "10", "--cache", str(tmp_path / "cache")]
    assert bench.main([*args, "--out", str(tmp_path / "out")]) == 0
    figures = json.loads((tmp_path / "out" / "search_bench.json").read_text(encoding="utf-8"))
    assert set(figures["runs"]) == {"store.search", "GET /map/search", "naive LIKE '%q%' scan"}
    assert figures["queries with hits"] > 0 and figures["runs"]["store.search"]["all"]["p95_ms"] > 0
    assert "naive / index" in capsys.readouterr().out
