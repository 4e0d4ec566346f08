"""`flask ledger import`: accepted rows and their audit entries in one transaction, the store
rebuilt with them; a re-import updates; a kill mid-import leaves everything as it was; the
audit log shows who changed what, and exports for Excel."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import ROOT, boiler_ledger_bytes
from support import ledger_boiler as boiler

from geo.ledger.edits import EditStore
from geo.store import GeoPackageStore


def write_ledger(path: Path, rows: list[list[object]]) -> Path:
    path.write_bytes(boiler_ledger_bytes(rows))
    return path


@pytest.fixture
def import_app(make_app, tmp_path: Path):
    return make_app(own_store=True, REPORT_DIR=str(tmp_path))


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["ledger", *args])


def stored(app, fid: str) -> dict:
    with GeoPackageStore(app.config["STORE_PATH"]) as store:
        return store.get("coal_boilers", fid).properties


def test_import_writes_rows_and_audit_and_rebuilds_the_store(import_app, tmp_path) -> None:
    ledger = write_ledger(
        tmp_path / "台账.csv", [boiler("T-1"), boiler("T-2"), boiler("T-3", "关停")]
    )
    args = ["import", "coal_boilers", str(ledger), "--yes", "--user", "张工"]
    store = Path(import_app.config["STORE_PATH"])
    before = store.read_bytes()
    refused = run(import_app, *args)  # all or nothing: one rejected row, nothing written
    assert refused.exit_code == 1 and "nothing written" in refused.output
    assert "--accepted-only" in refused.output and "拒绝 1" in refused.output
    assert store.read_bytes() == before and not Path(import_app.config["EDITS_PATH"]).exists()
    result = run(import_app, *args, "--accepted-only")
    assert result.exit_code == 0, result.output
    assert (
        "新增 2" in result.output and "拒绝 1" in result.output and "store rebuilt" in result.output
    )
    assert stored(import_app, "T-1")["status"] == "运行"
    assert stored(import_app, "T-1")["county_adcode"] == "210802"  # 站前区, from the position
    entries = EditStore(import_app.config["EDITS_PATH"]).audit()
    assert {(e.user, e.action, e.feature_id, e.source) for e in entries} == {
        ("张工", "add", "T-1", "台账.csv"),
        ("张工", "add", "T-2", "台账.csv"),
    }

    # The office updates its ledger: one boiler eliminated. A re-import changes just that.
    write_ledger(ledger, [boiler("T-1", "已淘汰"), boiler("T-2")])
    result = run(import_app, "import", "coal_boilers", str(ledger), "--yes", "--user", "李工")
    assert result.exit_code == 0, result.output
    assert "更新 1" in result.output and "不变 1" in result.output
    assert stored(import_app, "T-1")["status"] == "已淘汰"
    history = run(import_app, "history", "coal_boilers", "T-1")
    assert history.exit_code == 0
    heading, *lines = history.output.splitlines()
    assert heading.startswith("燃煤锅炉 Coal-fired boilers T-1 T-1号锅炉") and "北京时间" in heading
    assert "李工" in lines[0] and "status: '运行' → '已淘汰'" in history.output
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d 李工 更新", lines[0])  # local time, no zone
    assert any("张工" in line for line in lines[1:])


def test_import_reports_its_progress_on_stderr_when_asked(import_app, tmp_path) -> None:
    ledger = write_ledger(tmp_path / "台账.csv", [boiler(f"P-{n}") for n in range(3)])
    quiet = run(import_app, "preview", "coal_boilers", str(ledger), "--json")
    assert quiet.stderr == ""  # not a terminal: no progress unless asked
    args = ["import", "coal_boilers", str(ledger), "--yes", "--user", "张工", "--progress"]
    result = run(import_app, *args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    for stage in ("读取 read", "校验与匹配 check", "写入 write", "重建地图库 rebuild"):
        assert any(line.startswith(stage) for line in lines), (stage, lines)
    assert "写入 write: 3 / 3 行 rows" in lines
    assert "已写入" in result.stdout and "已写入" not in result.stderr


def test_edits_are_laid_over_the_sources_in_every_build(import_app, tmp_path) -> None:
    from plans.catalog import PLANS_DIR
    from plans.links import LINKS_PATH
    from webmap.store import build_store_files

    ledger = write_ledger(tmp_path / "a.csv", [boiler("T-9")])
    assert run(import_app, "import", "coal_boilers", str(ledger), "--yes").exit_code == 0
    fresh = tmp_path / "fresh.gpkg"  # a store built anew from the sources and the edits
    sources = [Path(p) for p in import_app.config["SOURCE_DIRS"]]
    edits = Path(import_app.config["EDITS_PATH"])
    assert build_store_files(fresh, sources, PLANS_DIR, LINKS_PATH, edits) is True
    with GeoPackageStore(fresh) as store:
        assert store.get("coal_boilers", "T-9").properties["name"] == "T-9号锅炉"
    assert build_store_files(fresh, sources, PLANS_DIR, LINKS_PATH, edits) is False  # no change


def test_nothing_accepted_writes_nothing(import_app, tmp_path) -> None:
    ledger = write_ledger(tmp_path / "bad.csv", [boiler("T-1", "关停")])
    before = Path(import_app.config["STORE_PATH"]).read_bytes()
    result = run(import_app, "import", "coal_boilers", str(ledger), "--yes", "--accepted-only")
    assert result.exit_code != 0 and "nothing to import" in result.output
    assert not Path(import_app.config["EDITS_PATH"]).exists()
    assert Path(import_app.config["STORE_PATH"]).read_bytes() == before


def test_confirmation_declined_writes_nothing(import_app, tmp_path) -> None:
    ledger = write_ledger(tmp_path / "a.csv", [boiler("T-1")])
    result = import_app.test_cli_runner().invoke(
        args=["ledger", "import", "coal_boilers", str(ledger)], input="n\n"
    )
    assert result.exit_code != 0
    assert EditStore(import_app.config["EDITS_PATH"]).audit() == []


def test_a_killed_import_leaves_the_edits_as_they_were(import_app, tmp_path) -> None:
    """An earlier import stands; a second one is killed (SIGKILL) after 3 of its 5 rows are
    written inside the transaction: afterwards the edits file holds the first import only."""
    first = write_ledger(tmp_path / "first.csv", [boiler("K-0")])
    assert run(import_app, "import", "coal_boilers", str(first), "--yes").exit_code == 0
    edits = EditStore(import_app.config["EDITS_PATH"])
    before = (edits.features("coal_boilers"), [e.seq for e in edits.audit()])
    second = write_ledger(tmp_path / "second.csv", [boiler(f"K-{n}") for n in range(1, 6)])
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from geo.ledger.edits import EditStore
        from geo.ledger.plan import plan_import
        from geo.ledger.read import read_table
        from geo.store import GeoPackageStore
        from layers import get_layer
        layer = get_layer("coal_boilers")
        store = GeoPackageStore({import_app.config["STORE_PATH"]!r})
        plan = plan_import(
            read_table({str(second)!r}), layer, store.query("coal_boilers", limit=None).features,
            store.query("districts", limit=None).features,
        )
        assert plan.count("add") == 5, plan.summary()
        def die(n):
            if n == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        EditStore({import_app.config["EDITS_PATH"]!r}).commit(plan, "kill-test", between_rows=die)
        print("not killed")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stdout + proc.stderr
    after = (edits.features("coal_boilers"), [e.seq for e in edits.audit()])
    assert [f[0] for f in after[0]] == ["K-0"] and after == before


def test_audit_exports_as_csv_for_excel(import_app, tmp_path) -> None:
    ledger = write_ledger(tmp_path / "a.csv", [boiler("T-1", name="-3号炉<b>")])
    assert (
        run(import_app, "import", "coal_boilers", str(ledger), "--yes", "--user", "张工").exit_code
        == 0
    )
    result = run(import_app, "audit", "--out", "留痕.csv")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "留痕.csv").read_text(encoding="utf-8")
    assert text.startswith("\ufeff时间")
    rows = list(csv.reader(text.splitlines()))
    name_row = next(r for r in rows if r[5] == "name")
    assert name_row[1] == "张工" and name_row[7] == "'-3号炉<b>"  # never run as a formula
    listed = run(import_app, "audit")
    heading, line = listed.output.splitlines()
    assert heading == "时间 times: 北京时间 Asia/Shanghai, UTC+8"
    assert re.fullmatch(r"\S+ \d\d:\d\d 张工 新增 燃煤锅炉 T-1 -3号炉<b> \(a.csv\)", line)
