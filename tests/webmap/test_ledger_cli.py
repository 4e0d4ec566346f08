"""`flask ledger template` and `flask ledger preview`: the dry run of an import from the
command line, over every good ledger format and every file of the bad corpus; the store is
never touched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from support import ROOT, boiler_ledger_bytes, chinese_first, ledger_boiler

from geo.ledger.edits import EditStore

DATA = ROOT / "tests" / "data"
BAD_ROWS = DATA / "bad" / "rows"

# Each faulty ledger, and what the preview must say about it: the words, the row, the column.
BAD_ROW_FILES = {
    "boilers_swapped_lat_lon.csv": ("swapped", 3, "经度"),
    "boilers_outside_city.csv": ("outside", 3, "经度"),
    "boilers_gauss_kruger_no_crs.csv": ("declare", None, None),
    "boilers_value_not_allowed.csv": ("关停", 3, "状态"),
    "boilers_missing_required.csv": ("required", 3, "额定蒸发量（蒸吨/小时）"),
    "boilers_duplicate_ids.csv": ("duplicate id 'GL-9'", 3, "编号"),
    "boilers_formula_name.csv": ("formula", 3, "锅炉名称"),
    "boilers_not_a_number.csv": ("not a number", 3, "额定蒸发量（蒸吨/小时）"),
    "parks_self_intersection.csv": ("self-intersection", 3, "WKT"),
    "parks_empty_geometry.csv": ("empty", 3, "WKT"),
    "parks_line_not_polygon.csv": ("LineString", 3, "WKT"),
}


@pytest.fixture
def ledger_app(make_app, tmp_path: Path):
    return make_app(REPORT_DIR=str(tmp_path))


def digest(path: Path) -> str | None:
    """The file's SHA-256; None while it does not exist (an edits file before any import)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def preview(app, *args: str):
    return app.test_cli_runner().invoke(args=["ledger", "preview", *args])


def test_every_bad_row_file_is_in_the_table() -> None:
    assert sorted(p.name for p in BAD_ROWS.iterdir()) == sorted(BAD_ROW_FILES)


@pytest.mark.parametrize("name", sorted(BAD_ROW_FILES))
def test_bad_rows_are_rejected_with_row_and_column(ledger_app, store_path, name) -> None:
    words, row, column = BAD_ROW_FILES[name]
    layer = name.split("_")[0].replace("boilers", "coal_boilers")
    before = digest(store_path)
    result = preview(ledger_app, layer, str(BAD_ROWS / name), "--json")
    assert digest(store_path) == before  # a preview writes nothing
    if row is None:  # a problem of the whole file
        assert result.exit_code == 1 and words in result.output and name in result.output
        return
    assert result.exit_code == 1, result.output
    plan = json.loads(result.output)
    errors = [e for r in plan["rows"] for e in r["errors"]]
    assert any(
        words in e["message"]
        and e["row"] == row
        and (e["field"] == column or column in (e["field"] or "").split("/"))
        for e in errors
    ), errors
    messages = [e["message"] for e in errors] + plan["notes"]
    messages += [w["message"] for r in plan["rows"] for w in r["warnings"]]
    assert all(chinese_first(m) for m in messages), messages


ROW_FAULTS = sorted(name for name, (_, row, _) in BAD_ROW_FILES.items() if row is not None)


@pytest.mark.parametrize("name", ROW_FAULTS)
def test_a_bad_row_writes_nothing_unless_accepted_only(make_app, tmp_path, name) -> None:
    """All or nothing on every bad-row file: refused, the store and the edits byte-identical;
    with --accepted-only the good row is written and its audit entry says what was left out."""
    app = make_app(own_store=True, REPORT_DIR=str(tmp_path))
    layer = name.split("_")[0].replace("boilers", "coal_boilers")
    store, edits = Path(app.config["STORE_PATH"]), Path(app.config["EDITS_PATH"])
    earlier = tmp_path / "earlier.csv"  # an earlier import, so the edits file has content
    earlier.write_bytes(boiler_ledger_bytes([ledger_boiler("E-1")]))
    args = ["ledger", "import", "coal_boilers", str(earlier), "--yes", "--user", "李工"]
    assert app.test_cli_runner().invoke(args=args).exit_code == 0
    before = (digest(store), digest(edits))
    args = ["ledger", "import", layer, str(BAD_ROWS / name), "--yes", "--user", "张工"]
    refused = app.test_cli_runner().invoke(args=args)
    assert refused.exit_code == 1 and "nothing written" in refused.output, refused.output
    assert (digest(store), digest(edits)) == before
    done = app.test_cli_runner().invoke(args=[*args, "--accepted-only"])
    assert done.exit_code == 0 and "新增 1" in done.output, done.output
    entry, _earlier = EditStore(edits).audit()  # newest first
    assert entry.details["accepted_only"] is True and entry.details["rows_left_out"] == [3]
    assert entry.details["row"] == 2 and digest(store) != before[0]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("boilers_utf8.csv", ()),
        ("boilers_gbk.csv", ()),
        ("boilers.xlsx", ()),
        ("boilers_gbk_nocpg.zip", ()),
        ("boilers_gk_utf8.zip", ()),
        ("boilers.gpkg", ()),
        ("boilers_4490.geojson", ()),
    ],
)
def test_each_format_previews(ledger_app, name, args) -> None:
    result = preview(ledger_app, "coal_boilers", str(DATA / "ledger" / name), "--json", *args)
    plan = json.loads(result.output)
    assert plan["layer"] == "coal_boilers" and len(plan["rows"]) >= 2
    # The reader's sample ledgers use their own column names: mapped where they match.
    assert "名称" in plan["ignored_columns"] or "name" in plan["columns"].values()


def test_preview_of_a_template_ledger_adds_and_says_so(ledger_app, tmp_path) -> None:
    result = ledger_app.test_cli_runner().invoke(args=["ledger", "template", "coal_boilers"])
    assert result.exit_code == 0, result.output
    (template,) = tmp_path.glob("绿图_台账模板_*_coal_boilers.xlsx")
    book = load_workbook(template)
    sheet = book["台账"]
    headings = [c.value for c in sheet[1]]
    row = dict.fromkeys(headings)
    row.update(
        {
            "锅炉名称": "新锅炉",
            "使用单位": "某公司",
            "额定蒸发量（蒸吨/小时）": 10,
            "用途": "集中供暖",
            "状态": "运行",
            "状态变更年份（年）": 2024,
            "经度": 122.2352,
            "纬度": 40.6671,
        }
    )
    sheet.append([row[h] for h in headings])
    ledger = tmp_path / "新台账.xlsx"
    book.save(ledger)
    result = preview(ledger_app, "coal_boilers", str(ledger))
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output and "第 2 行 新增" in result.output


def test_gauss_kruger_ledger_with_declared_zone(ledger_app) -> None:
    path = BAD_ROWS / "boilers_gauss_kruger_no_crs.csv"
    result = preview(ledger_app, "coal_boilers", str(path), "--crs", "EPSG:4550", "--json")
    plan = json.loads(result.output)
    assert plan["source_crs"] == "EPSG:4550"
    assert [r["action"] for r in plan["rows"]] == ["add"], plan["rows"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["districts", "x.csv"], "not a ledger layer"),
        (["lakes", "x.csv"], "unknown layer"),
        (["coal_boilers", "x.csv", "--crs", "EPSG:3857"], "EPSG:3857"),
        (["coal_boilers", "x.csv", "--column", "名称"], "列名=field"),
    ],
)
def test_preview_refuses_bad_requests(ledger_app, tmp_path, args, words) -> None:
    (tmp_path / "x.csv").write_text("名称,经度,纬度\n甲,122.2,40.6\n", encoding="utf-8")
    args = [str(tmp_path / a) if a == "x.csv" else a for a in args]
    result = preview(ledger_app, *args)
    assert result.exit_code != 0 and words in result.output, result.output


def test_template_refuses_the_districts_and_paths_outside(ledger_app) -> None:
    runner = ledger_app.test_cli_runner()
    assert "not a ledger layer" in runner.invoke(args=["ledger", "template", "districts"]).output
    escape = runner.invoke(args=["ledger", "template", "villages", "--out", "../x.xlsx"])
    assert escape.exit_code != 0 and "outside" in escape.output


def test_an_invalid_polygon_is_repaired_only_when_asked(ledger_app) -> None:
    path = str(BAD_ROWS / "parks_self_intersection.csv")
    refused = json.loads(preview(ledger_app, "parks", path, "--json").output)
    assert [r["action"] for r in refused["rows"]] == ["add", "reject"]
    assert "repair with make_valid is offered" in refused["rows"][1]["errors"][0]["message"]
    repaired = json.loads(preview(ledger_app, "parks", path, "--repair", "--json").output)
    assert [r["action"] for r in repaired["rows"]] == ["add", "add"], repaired["rows"]
    assert any("row 3" in n and "repaired with make_valid" in n for n in repaired["notes"])
