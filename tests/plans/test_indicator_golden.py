"""Every indicator's numbers over the shipped data, pinned before the engine is rewritten (#15).

The golden file (tests/plans/golden/indicators.json) holds, for every indicator and every year
2020–2025, what each area (city, county, province) computes: value, target, gap, status,
baseline, expected value, trend, details and the features behind the number with their
values — everything but the wording. Indicators becoming records instead of functions must
leave it unchanged. After a deliberate change of what an indicator counts, rewrite it and
review the diff:

    .venv/bin/python tests/plans/test_indicator_golden.py --write
"""

from __future__ import annotations

import json
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":  # run as a script to rewrite the golden file
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))

from support import SHIPPED_SOURCES  # noqa: E402

from geo.store.gpkg import GeoPackageStore  # noqa: E402
from plans.catalog import PLANS_DIR  # noqa: E402
from plans.indicators import FIRST_YEAR, LAST_YEAR, SHIPPED_INDICATORS, evaluate  # noqa: E402
from plans.links import LINKS_PATH  # noqa: E402
from webmap.store import build_store_files  # noqa: E402

GOLDEN = Path(__file__).parent / "golden" / "indicators.json"
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
# Words (names, reasons, rules) may be reworded; these are the numbers and the features.
WORDING = {"name_zh", "status_reason"}


def numbers(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "params": result["params"],
        "areas": [{k: v for k, v in a.items() if k not in WORDING} for a in result["areas"]],
        "outside": result["outside"],
    }


@cache
def snapshot() -> dict[str, dict[str, Any]]:
    """indicator id -> year -> its numbers, from a store built of the shipped data only."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lutu.gpkg"
        build_store_files(path, SHIPPED_SOURCES, PLANS_DIR, LINKS_PATH)
        with GeoPackageStore(path) as store:
            by_year = {year: evaluate(store, year) for year in YEARS}
    return {
        ind.id: {
            str(year): numbers(next(r for r in by_year[year] if r.id == ind.id).to_json())
            for year in YEARS
        }
        for ind in SHIPPED_INDICATORS
    }


@cache
def golden() -> dict[str, dict[str, Any]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_every_indicator_is_pinned() -> None:
    assert sorted(golden()) == sorted(ind.id for ind in SHIPPED_INDICATORS)
    assert len(golden()) == 14


@pytest.mark.parametrize("indicator_id", [ind.id for ind in SHIPPED_INDICATORS])
@pytest.mark.parametrize("year", [str(y) for y in YEARS])
def test_indicator_numbers_match_golden(indicator_id: str, year: str) -> None:
    assert snapshot()[indicator_id][year] == golden()[indicator_id][year]


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.write_text(
        "{\n"
        + ",\n".join(
            f"{json.dumps(ind_id)}: {{\n"
            + ",\n".join(
                f"  {json.dumps(year)}: {json.dumps(numbers_, ensure_ascii=False, sort_keys=True)}"
                for year, numbers_ in years.items()
            )
            + "\n}"
            for ind_id, years in snapshot().items()
        )
        + "\n}\n",
        encoding="utf-8",
    )
    print(f"wrote {GOLDEN.relative_to(ROOT)}")
