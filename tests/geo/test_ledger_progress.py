"""Progress of a ledger import: reading, checking and writing report (stage, done, total) to an
optional callback at their start, every PROGRESS_EVERY rows and at their end, with done
never going back and the last report done == total."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from geo.ledger.edits import EditStore
from geo.ledger.plan import plan_import
from geo.ledger.read import PROGRESS_EVERY, read_table
from layers import get_layer

BOILERS = get_layer("coal_boilers")
HEADERS = ["编号", "锅炉名称", "使用单位", "额定蒸发量（蒸吨/小时）", "用途", "状态", "替代方式"]
HEADERS += ["状态变更年份（年）", "经度", "纬度"]
ROWS = 2 * PROGRESS_EVERY + 345  # reports in the middle and a last one off the stride


def boiler_rows(count: int) -> list[list[object]]:
    """Valid boilers spread over 营口's core (distinct ids and places: every row an add)."""
    return [
        [
            f"P-{n}",
            f"进度测试{n}号炉",
            "某热力公司",
            20,
            "集中供暖",
            "运行",
            None,
            2024,
            round(122.21 + (n % 100) * 0.0008, 6),
            round(40.63 + (n // 100) * 0.0015, 6),
        ]
        for n in range(count)
    ]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.calls.append((stage, done, total))

    def of(self, stage: str) -> list[tuple[int, int | None]]:
        return [(done, total) for s, done, total in self.calls if s == stage]


def assert_reports(reports: list[tuple[int, int | None]], rows: int) -> None:
    """Started, reported along the way, never going back, ended at done == total == rows."""
    assert reports[0][0] == 0
    assert reports[-1] == (rows, rows)
    dones = [done for done, _ in reports]
    assert dones == sorted(dones) and len(set(dones)) == len(dones)  # strictly increasing
    assert len(reports) >= 2 + rows // PROGRESS_EVERY - 1  # along the way, not just start/end
    assert len(reports) <= 3 + rows // PROGRESS_EVERY  # and no more often than the stride
    assert all(total is None or total >= done for done, total in reports)


@pytest.fixture(scope="module")
def xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from openpyxl import Workbook

    path = tmp_path_factory.mktemp("progress") / "台账.xlsx"
    book = Workbook()  # a normal workbook stores its used range, the estimate of the rows
    sheet = book.active
    sheet.append(HEADERS)
    for row in boiler_rows(ROWS):
        sheet.append(row)
    book.save(path)
    return path


def test_reading_excel_reports_rows_against_the_used_range(xlsx: Path) -> None:
    progress = Recorder()
    table = read_table(xlsx, progress=progress)
    assert len(table) == ROWS
    reports = progress.of("read")
    assert_reports(reports, ROWS)
    assert {stage for stage, _, _ in progress.calls} == {"read"}
    assert reports[1] == (PROGRESS_EVERY, ROWS)  # the stored used range, less the header


def test_reading_csv_and_geojson_report_rows(tmp_path: Path) -> None:
    path = tmp_path / "台账.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(boiler_rows(ROWS))
    progress = Recorder()
    read_table(path, progress=progress)
    assert_reports(progress.of("read"), ROWS)

    features = [
        {
            "type": "Feature",
            "properties": {"名称": str(n)},
            "geometry": {"type": "Point", "coordinates": [122.2, 40.6]},
        }
        for n in range(ROWS)
    ]
    path = tmp_path / "台账.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    progress = Recorder()
    read_table(path, progress=progress)
    assert_reports(progress.of("read"), ROWS)
    assert progress.of("read")[1] == (PROGRESS_EVERY, ROWS)


def test_a_file_read_in_one_go_reports_start_and_end() -> None:
    progress = Recorder()
    table = read_table(
        Path(__file__).parent.parent / "data" / "ledger" / "boilers.gpkg", progress=progress
    )
    assert progress.calls == [("read", 0, None), ("read", len(table), len(table))]


def test_checking_and_writing_report_rows(xlsx: Path, store, tmp_path: Path) -> None:
    table = read_table(xlsx)
    existing = store.query("coal_boilers", limit=None).features
    districts = store.query("districts", limit=None).features
    progress = Recorder()
    plan = plan_import(
        table, BOILERS, existing, districts, title_field=BOILERS.title_field, progress=progress
    )
    assert plan.count("add") == ROWS, plan.summary()
    assert_reports(progress.of("check"), ROWS)
    assert all(total == ROWS for _, total in progress.of("check"))

    progress = Recorder()
    done = EditStore(tmp_path / "edits.sqlite").commit(plan, "进度测试", progress=progress)
    assert done.added == ROWS
    assert_reports(progress.of("write"), ROWS)
    assert {stage for stage, _, _ in progress.calls} == {"write"}


def test_a_failed_write_does_not_report_its_end(xlsx: Path, store, tmp_path: Path) -> None:
    """The last "write" report means committed: a write that fails never sends it."""
    plan = plan_import(
        read_table(xlsx),
        BOILERS,
        store.query("coal_boilers", limit=None).features,
        store.query("districts", limit=None).features,
    )
    progress = Recorder()

    def fail(n: int) -> None:
        if n == PROGRESS_EVERY + 1:
            raise RuntimeError("disk full")

    edits = EditStore(tmp_path / "edits.sqlite")
    with pytest.raises(RuntimeError):
        edits.commit(plan, "进度测试", between_rows=fail, progress=progress)
    assert progress.of("write") == [(0, ROWS), (PROGRESS_EVERY, ROWS)]
    assert edits.audit() == []
