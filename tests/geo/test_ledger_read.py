"""Reading ledger (台账) files: every format read as the file holds it, Chinese text intact in
every encoding, headers found under title rows and on two lines, and every file of
tests/data/bad/ refused with an error naming the file and, where it applies, the row and the
field. The files come from tests/data/make_ledger_files.py.
"""

from __future__ import annotations

import json
import math
import random
import re
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon
from support import chinese_first

from geo.errors import LedgerChoiceError, LedgerError
from geo.ledger.read import FORMATS, HEADER_SCAN, MAX_BYTES, Table, _extract, read_table

DATA = Path(__file__).resolve().parent.parent / "data"
GOOD = DATA / "ledger"
BAD = DATA / "bad"
MB = 1024 * 1024

HEADER = ["编号", "名称", "单位", "容量(t/h)", "经度", "纬度", "状态"]
NAMES = ["站前区供热站1号炉", "喆盛热力2号炉", "西市区锅炉房"]  # 喆: in GBK, not in GB2312
POINTS = [Point(122.2352, 40.6671), Point(122.2511, 40.6598), Point(122.2103, 40.6689)]


# The layer's field and coordinate names, as the import planner knows them: a bracketed unit
# such as (t/h) is not part of the name.
KNOWN_NAMES = {"名称", "单位", "额定容量", "用途", "状态", "经度", "纬度", "编号", "容量"}


def known(text: str) -> bool:
    return re.sub(r"[（(][^（）()]*[)）]$", "", text).strip() in KNOWN_NAMES


# tests/data/ledger/boilers_title_rows*.xlsx/csv and boilers_two_header_lines.xlsx
TITLED_HEADER = ["名称", "单位", "额定容量(t/h)", "用途", "状态", "经度", "纬度"]
TITLED_NAMES = ["站前区供热站1号炉", "喆盛热力2号炉", "老边区柳树镇锅炉房", "大石桥市热力公司1号炉"]
TITLED_FIRST = {
    "名称": "站前区供热站1号炉",
    "单位": "营口热电有限公司",
    "额定容量(t/h)": 20,
    "用途": "供暖",
    "状态": "运行",
    "经度": 122.2352,
    "纬度": 40.6671,
}


def names(table: Table, column: str = "名称") -> list[str]:
    return [row[column] for row in table.rows]


# --- good files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("boilers_utf8.csv", "utf-8"),
        ("boilers_utf8_bom.csv", "utf-8-sig"),  # ';'-delimited, CRLF
        ("boilers_gbk.csv", "gb18030"),  # CRLF
        ("boilers_tab.csv", "utf-8"),
    ],
)
def test_csv_in_every_encoding_and_delimiter(name: str, encoding: str) -> None:
    table = read_table(GOOD / name)
    assert table.encoding == encoding
    assert table.columns == HEADER
    assert names(table) == NAMES
    assert table.rows[0] == {
        "编号": "GL-001",
        "名称": "站前区供热站1号炉",
        "单位": "营口热电有限公司",
        "容量(t/h)": "20",
        "经度": "122.2352",
        "纬度": "40.6671",
        "状态": "运行",
    }
    assert table.rows[2]["单位"] is None  # an empty cell
    assert (table.geometries, table.crs, table.sheet) == (None, None, None)


def test_csv_line_numbers_count_blank_lines_and_quoted_line_breaks() -> None:
    table = read_table(str(GOOD / "boilers_utf8.csv"))  # a str path is fine too
    # Line 3 is blank; GL-002's status is quoted over lines 4-5.
    assert table.row_numbers == [2, 4, 6]
    assert table.rows[1]["状态"] == "已淘汰,拆除\n2019年"
    assert table.rows[2]["编号"] == "GL-003"  # stripped
    assert table.path == GOOD / "boilers_utf8.csv"
    assert len(table) == 3


def test_csv_in_utf16_as_excel_saves_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "unicode_text.csv"
    path.write_text("编号\t名称\r\nGL-002\t喆盛热力2号炉\r\n", encoding="utf-16")
    table = read_table(path)
    assert (table.encoding, table.rows) == ("utf-16", [{"编号": "GL-002", "名称": "喆盛热力2号炉"}])


def test_xlsx_keeps_cell_types_and_sheet_row_numbers() -> None:
    table = read_table(GOOD / "boilers.xlsx")
    assert table.sheet == "台账"
    assert table.columns == [
        "编号",
        "名称",  # " 名称 " in the file
        "容量(t/h)",
        "投运日期",
        "已改造",
        "经度",
        "纬度",
        "二倍容量",
        "备注",
    ]
    # Row 1 and row 5 are empty; the header is row 2.
    assert table.row_numbers == [3, 4, 6]
    first, second, third = table.rows
    assert names(table) == NAMES
    assert first["容量(t/h)"] == 20 and isinstance(first["容量(t/h)"], int)
    assert second["容量(t/h)"] == 10.5
    assert first["投运日期"] == datetime(2005, 10, 1)
    assert (first["已改造"], second["已改造"], third["已改造"]) == (False, True, None)
    assert first["经度"] == 122.2352
    assert first["二倍容量"] == 40  # a formula: its cached value
    assert third["备注"] == "=cmd|' /C calc'!A0"  # text, left for the plan layer to judge
    assert (table.geometries, table.crs, table.encoding) == (None, None, None)


def test_xlsx_sheet_by_name() -> None:
    table = read_table(GOOD / "boilers.xlsx", sheet="说明")
    assert (table.sheet, table.columns, table.row_numbers) == ("说明", ["项目", "内容"], [2])
    assert table.rows == [{"项目": "填报单位", "内容": "营口市生态环境局"}]
    with pytest.raises(LedgerError, match=r"no sheet '汇总' in the workbook \(it has: 台账, 说明"):
        read_table(GOOD / "boilers.xlsx", sheet="汇总")


# --- title rows and two-line headers (Excel, CSV) -------------------------------------------


def test_xlsx_header_found_under_title_rows() -> None:
    table = read_table(GOOD / "boilers_title_rows.xlsx", known=known)
    assert table.columns == TITLED_HEADER
    assert table.row_numbers == [4, 5, 6, 7]  # as the sheet numbers them
    assert table.rows[0] == TITLED_FIRST
    assert names(table) == TITLED_NAMES
    assert table.rows[2]["单位"] is None
    assert (table.header_row, table.header_rows, table.title_year) == (3, 1, 2023)
    assert table.notes == [
        "表头在第 3 行（其上 2 行为标题，已略过） header found in row 3; rows 1–2 (titles) skipped"
    ]
    assert table.sheet == "台账"


def test_xlsx_title_rows_without_known_names_are_refused_as_before() -> None:
    with pytest.raises(LedgerError) as exc:
        read_table(GOOD / "boilers_title_rows.xlsx")
    assert (exc.value.row, exc.value.field) == (3, None)
    assert "a value in column B, which has no name in the header (row 1)" in str(exc.value)
    assert "is the first row a title?" in str(exc.value)


def test_xlsx_header_row_given() -> None:
    table = read_table(GOOD / "boilers_title_rows.xlsx", header_row=3)
    assert (table.columns, table.row_numbers) == (TITLED_HEADER, [4, 5, 6, 7])
    assert table.rows[0] == TITLED_FIRST
    assert table.notes == [
        "表头在第 3 行（按指定，其上 2 行已略过） header in row 3 as given; rows 1–2 skipped"
    ]
    assert table.title_year == 2023
    # Given, it wins over what `known` would find: row 4 is then the header.
    table = read_table(GOOD / "boilers_title_rows.xlsx", header_row=4, known=known)
    assert table.columns[0] == "站前区供热站1号炉" and table.row_numbers == [5, 6, 7]


@pytest.mark.parametrize("row", [1, 99])
def test_header_row_given_that_is_empty(row: int) -> None:
    with pytest.raises(LedgerError) as exc:
        read_table(GOOD / "boilers.xlsx", header_row=row)  # row 1 is empty, row 99 beyond
    assert str(exc.value) == (
        f"boilers.xlsx 第 {row} 行 row {row}：指定的表头行是空行 the row given as the header is "
        "empty"
    )
    assert exc.value.row == row
    with pytest.raises(LedgerError, match="the header row counts from 1, not 0"):
        read_table(GOOD / "boilers.xlsx", header_row=0)


def test_xlsx_two_header_lines_merged() -> None:
    table = read_table(GOOD / "boilers_two_header_lines.xlsx", known=known)
    # 坐标 merged over 经度 | 纬度; 名称 … 状态 merged down over rows 2-3.
    assert table.columns == TITLED_HEADER
    assert table.row_numbers == [4, 5, 6, 7]
    assert table.rows[0] == TITLED_FIRST
    assert (table.header_row, table.header_rows, table.title_year) == (2, 2, 2022)
    assert table.notes == [
        "表头在第 2 行（其上 1 行为标题，已略过） header found in row 2; row 1 (title) skipped",
        "两行表头（第 2–3 行）已合并 two header lines (rows 2–3) merged",
    ]
    # The header row given: the second line is still merged in.
    given = read_table(GOOD / "boilers_two_header_lines.xlsx", header_row=2, known=known)
    assert (given.columns, given.row_numbers, given.header_rows) == (
        TITLED_HEADER,
        [4, 5, 6, 7],
        2,
    )
    # Without the names it cannot be told from data: 纬度 is under no name of row 2.
    with pytest.raises(LedgerError, match=r"a value in column G, which has no name in the hea"):
        read_table(GOOD / "boilers_two_header_lines.xlsx", header_row=2)


def test_gbk_csv_with_a_title_and_a_blank_line_above_the_header() -> None:
    table = read_table(GOOD / "boilers_title_rows_gbk.csv", known=known)
    assert table.encoding == "gb18030"
    assert table.columns == TITLED_HEADER
    assert table.row_numbers == [4, 5, 6, 7]  # line 2 is blank
    assert names(table) == TITLED_NAMES  # 喆 intact
    assert table.rows[0] == {k: str(v) for k, v in TITLED_FIRST.items()}
    assert (table.header_row, table.header_rows, table.title_year) == (3, 1, 2023)
    assert table.notes == [
        "表头在第 3 行（其上 1 行为标题，已略过） header found in row 3; row 1 (title) skipped"
    ]


def test_title_row_xlsx_reads_with_known_names() -> None:
    """tests/data/bad/title_row.xlsx: refused without the layer's names (BAD_FILES), read
    with them."""
    table = read_table(BAD / "title_row.xlsx", known=known)
    assert table.columns == ["编号", "名称", "容量", "状态"]
    assert table.row_numbers == [3]
    assert table.rows == [{"编号": "GL-001", "名称": "1号炉", "容量": 20, "状态": "运行"}]
    assert (table.header_row, table.title_year) == (2, 2023)
    assert table.notes[0].endswith("header found in row 2; row 1 (title) skipped")


def test_files_without_known_names_read_as_before() -> None:
    for name in ("boilers.xlsx", "boilers_utf8.csv"):
        plain = read_table(GOOD / name)
        assert read_table(GOOD / name, known=lambda _text: False) == plain
        assert read_table(GOOD / name, known=known) == plain
        assert plain.notes == [] and plain.title_year is None and plain.header_rows == 1
    assert read_table(GOOD / "boilers.xlsx").header_row == 2  # row 1 is empty: no note
    assert read_table(GOOD / "boilers_utf8.csv").header_row == 1
    assert read_table(GOOD / "boilers.gpkg").header_row is None


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_header_needs_two_known_names_and_is_looked_for_in_the_first_rows(
    tmp_path: Path,
) -> None:
    data = ["名称,状态,经度,纬度", "1号炉,运行,122.2352,40.6671"]
    # One known name alone (a note reading 状态) is not a header.
    table = read_table(write_csv(tmp_path / "a.csv", ["状态", *data]), known=known)
    assert (table.header_row, table.row_numbers) == (2, [3])
    titles = [f"说明{n}" for n in range(HEADER_SCAN)]
    table = read_table(write_csv(tmp_path / "b.csv", [*titles[1:], *data]), known=known)
    assert (table.header_row, table.row_numbers) == (HEADER_SCAN, [HEADER_SCAN + 1])
    assert table.notes[0].endswith(f"rows 1–{HEADER_SCAN - 1} (titles) skipped")
    # Below HEADER_SCAN non-empty rows it is not looked for: the first row, as without names.
    with pytest.raises(LedgerError, match=r"the row has 4 values, the header has 1 columns"):
        read_table(write_csv(tmp_path / "c.csv", [*titles, *data]), known=known)


def test_a_row_under_the_header_with_numbers_is_data(tmp_path: Path) -> None:
    lines = ["名称,状态,经度,纬度", "经度,运行,122.2352,40.6671", "备注,,,"]
    table = read_table(write_csv(tmp_path / "a.csv", lines), known=known)
    assert (table.header_rows, table.row_numbers) == (1, [2, 3])
    assert table.rows[0]["名称"] == "经度"
    # Text without a known name below the header is data too.
    lines = ["名称,状态,经度,纬度", "1号炉,运行,东,北"]
    table = read_table(write_csv(tmp_path / "b.csv", lines), known=known)
    assert (table.header_rows, table.row_numbers) == (1, [2])
    # A blank line between: the second line is not a continuation.
    lines = ["名称,状态,坐标,", "", ",,经度,纬度", "1号炉,运行,122.2,40.6"]
    with pytest.raises(LedgerError, match="row 3：该行有 4 个值，表头有 3 列"):
        read_table(write_csv(tmp_path / "c.csv", lines), known=known)


def test_two_line_csv_header_keeps_unknown_lower_names(tmp_path: Path) -> None:
    lines = ["名称,基本信息,,坐标,", ",状态,备注,经度,纬度", "1号炉,运行,改造中,122.2,40.6"]
    table = read_table(write_csv(tmp_path / "a.csv", lines), known=known)
    # 备注 is not known: under an empty group cell it is the name all the same.
    assert table.columns == ["名称", "状态", "备注", "经度", "纬度"]
    assert (table.header_row, table.header_rows, table.row_numbers) == (1, 2, [3])
    assert table.notes == ["两行表头（第 1–2 行）已合并 two header lines (rows 1–2) merged"]


def test_tab_csv_with_a_title_line_is_sniffed_as_tab(tmp_path: Path) -> None:
    lines = ["营口市燃煤锅炉台账（2023年）", "名称\t状态\t经度\t纬度", "1号炉\t运行\t122.2\t40.6"]
    table = read_table(write_csv(tmp_path / "tab.csv", lines), known=known)
    assert table.columns == ["名称", "状态", "经度", "纬度"]
    assert (table.row_numbers, table.title_year) == ([3], 2023)


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("营口市燃煤锅炉台账（2023年）", 2023),
        ("统计年份：2021", 2021),
        ("统计年份:2021", 2021),
        ("2024 年度燃煤锅炉清单", 2024),
        ("填报日期：2023-12-31", None),  # a date, not the ledger's year
        ("填报日期：2023年12月31日", None),
        ("编号12023年", None),
    ],
)
def test_title_year(tmp_path: Path, title: str, year: int | None) -> None:
    path = write_csv(tmp_path / "a.csv", [title, "名称,状态", "1号炉,运行"])
    assert read_table(path, known=known).title_year == year


@pytest.mark.parametrize("name", ["boilers_gbk_cpg.zip", "boilers_gbk_nocpg.zip"])
def test_gbk_shapefile_with_and_without_cpg(name: str) -> None:
    table = read_table(GOOD / name)
    assert table.encoding == "gb18030"
    assert table.columns == ["编号", "名称", "容量", "备注"]  # Chinese field names too
    assert names(table) == NAMES
    assert [row["容量"] for row in table.rows] == [20, 10, None]
    assert table.rows[1]["备注"] == "已淘汰"
    assert table.row_numbers == [1, 2, 3]
    assert table.crs == "EPSG:4490"
    assert table.geometries == POINTS


def test_utf8_gauss_kruger_shapefile_in_a_folder() -> None:
    table = read_table(GOOD / "boilers_gk_utf8.zip")  # 台账/锅炉.shp, with a .cpg
    assert table.encoding == "utf-8"
    assert names(table) == NAMES
    assert table.crs == "EPSG:4550"  # CGCS2000 / 3-degree Gauss-Krüger CM 123E, from the .prj
    assert table.geometries is not None
    point = table.geometries[0]
    assert 400_000 < point.x < 500_000 and 4_400_000 < point.y < 4_600_000


def test_cpg_that_does_not_match_the_text_is_overruled(tmp_path: Path) -> None:
    path = tmp_path / "lying_cpg.zip"
    with zipfile.ZipFile(GOOD / "boilers_gbk_nocpg.zip") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("boilers.cpg", "UTF-8")
    table = read_table(path)
    assert (table.encoding, names(table)) == ("gb18030", NAMES)


def test_zip_with_macos_extras_and_a_chosen_shapefile(tmp_path: Path) -> None:
    path = tmp_path / "from_a_mac.zip"
    with zipfile.ZipFile(GOOD / "boilers_gbk_cpg.zip") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
            dst.writestr(f"__MACOSX/._{info.filename}", b"\x00\x05\x16\x07")
    assert names(read_table(path)) == NAMES
    table = read_table(BAD / "two_shapefiles.zip", layer="villages")
    assert names(table) == NAMES


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def test_zip_is_unpacked_to_a_temporary_folder_that_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    read_table(GOOD / "boilers_gbk_cpg.zip")
    # Unpacked, then GDAL cannot read it.
    parts = {f"a{ext}": b"junk" for ext in (".shp", ".shx", ".dbf")}
    junk = write_zip(tmp_path / "junk.zip", parts)
    with pytest.raises(LedgerError, match="junk.zip：无法读取 Shapefile cannot read the Shapefile"):
        read_table(junk)
    # A member whose bytes do not match its checksum fails while it is unpacked.
    damaged = tmp_path / "damaged.zip"
    members = {"a.shp": b"S" * 100, "a.shx": b"X" * 100, "a.dbf": b"A" * 100}
    data = write_zip(damaged, members).read_bytes()
    damaged.write_bytes(data.replace(b"A" * 100, b"B" * 100))
    with pytest.raises(LedgerError, match=r"cannot unpack 'a.dbf' from the zip: Bad CRC-32"):
        read_table(damaged)
    assert list(scratch.iterdir()) == []


def test_geopackage_with_one_layer() -> None:
    table = read_table(GOOD / "boilers.gpkg")
    assert (table.crs, table.encoding, table.row_numbers) == ("EPSG:4490", "utf-8", [1, 2, 3])
    assert table.columns == ["编号", "名称", "容量", "备注"]
    assert names(table) == NAMES
    assert table.geometries is not None and table.geometries[0] == Point(122.2352, 40.6671)


def test_geopackage_with_two_layers_needs_a_layer() -> None:
    path = GOOD / "two_layers.gpkg"
    with pytest.raises(LedgerChoiceError, match=r"2 layers \(boilers, villages\): choose") as exc:
        read_table(path)
    assert "two_layers.gpkg" in str(exc.value)
    assert (exc.value.option, exc.value.choices) == ("source_layer", ["boilers", "villages"])
    villages = read_table(path, layer="villages")
    assert villages.rows == [{"村名": "老边村", "户数": 312}, {"村名": "柳树村", "户数": 158}]
    assert villages.geometries is not None
    assert all(isinstance(g, Polygon) for g in villages.geometries)
    assert names(read_table(path, layer="boilers")) == NAMES
    with pytest.raises(LedgerError, match=r"no layer '锅炉' in the GeoPackage"):
        read_table(path, layer="锅炉")


def test_geopackage_with_several_spatial_layers_offers_them() -> None:
    path = GOOD / "multi_layer.gpkg"  # boilers, villages and QGIS's layer_styles table
    with pytest.raises(LedgerChoiceError) as exc:
        read_table(path)
    assert str(exc.value) == (
        "multi_layer.gpkg：GeoPackage 含 2 个图层（boilers、villages），请选择要导入的图层 "
        "the GeoPackage has 2 layers (boilers, villages): choose the layer to import"
    )
    assert (exc.value.option, exc.value.choices) == ("source_layer", ["boilers", "villages"])
    assert (exc.value.path, exc.value.row, exc.value.field) == ("multi_layer.gpkg", None, None)
    villages = read_table(path, layer="villages")
    assert villages.rows == [{"村名": "老边村", "户数": 312}, {"村名": "柳树村", "户数": 158}]
    assert names(read_table(path, layer="boilers")) == NAMES
    with pytest.raises(LedgerChoiceError, match=r"no layer '锅炉' in the GeoPackage \(it has: b"):
        read_table(path, layer="锅炉")
    with pytest.raises(LedgerChoiceError, match=r"'layer_styles' in the GeoPackage is a table"):
        read_table(path, layer="layer_styles")


def test_geopackage_with_one_spatial_layer_and_a_style_table() -> None:
    table = read_table(GOOD / "one_spatial_layer.gpkg")
    assert (table.crs, table.row_numbers, table.columns) == (
        "EPSG:4490",
        [1, 2, 3],
        ["编号", "名称", "容量", "备注"],
    )
    assert names(table) == NAMES and table.geometries == POINTS


def test_geopackage_with_only_tables(tmp_path: Path) -> None:
    path = tmp_path / "tables.gpkg"
    frame = pd.DataFrame({"名称": ["1号炉"], "经度": [122.2352], "纬度": [40.6671]})
    pyogrio.write_dataframe(frame, path, layer="台账", driver="GPKG")
    with pytest.raises(LedgerError) as exc:
        read_table(path)
    assert str(exc.value).endswith("the GeoPackage has no spatial layer, only tables: 台账")


def test_zip_with_several_shapefiles_offers_them() -> None:
    with pytest.raises(LedgerChoiceError) as exc:
        read_table(BAD / "two_shapefiles.zip")
    assert str(exc.value) == (
        "two_shapefiles.zip：zip 含 2 个 Shapefile（boilers.shp、villages.shp），"
        "请选择要导入的图层 the zip holds 2 Shapefiles (boilers.shp, villages.shp): "
        "choose the layer to import"
    )
    assert (exc.value.option, exc.value.choices) == ("source_layer", ["boilers", "villages"])
    with pytest.raises(LedgerChoiceError, match=r"no Shapefile '锅炉' in the zip") as exc:
        read_table(BAD / "two_shapefiles.zip", layer="锅炉")
    assert exc.value.choices == ["boilers", "villages"]


def test_geojson_with_a_crs_member() -> None:
    table = read_table(GOOD / "boilers_4490.geojson")
    assert (table.crs, table.encoding) == ("EPSG:4490", "utf-8")
    assert table.columns == ["编号", "名称", "容量", "状态", "tags"]
    assert names(table) == NAMES
    assert table.rows[2]["tags"] == '["燃煤", "待改造"]'  # nested values as JSON text
    assert table.rows[0]["tags"] is None
    assert table.geometries == POINTS


def test_json_without_crs_is_wgs84_and_keeps_feature_ids() -> None:
    table = read_table(GOOD / "villages.json")
    assert table.crs == "EPSG:4326"
    assert table.columns == ["id", "村名", "户数", "备注"]
    assert table.rows[1] == {"id": "V-2", "村名": "柳树村", "户数": None, "备注": "待测绘"}
    assert table.geometries is not None
    assert isinstance(table.geometries[0], Polygon) and table.geometries[1] is None


def test_geojson_coordinates_that_are_not_numbers_fail_their_row_only(tmp_path: Path) -> None:
    square = [[122.2, 40.6], [122.3, 40.6], [122.3, 40.7], [122.2, 40.7]]  # not closed
    geometries = [
        {"type": "Point", "coordinates": [122.2352, 40.6671]},
        {"type": "Point", "coordinates": ["122.1", "40.6"]},
        {"type": "Polygon", "coordinates": [square]},
        {"type": "Point", "coordinates": [True, 40.6]},
        {"type": "LineString", "coordinates": [[122.2, 40.6], [None, 40.7]]},
        {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Point", "coordinates": [122.2, 40.6]},
                {"type": "MultiPoint", "coordinates": [[122.2, {"x": 1}]]},
            ],
        },
        {"type": "MultiPolygon", "coordinates": [[square], [[*square, square[0]]], [square]]},
        {"type": "Point", "coordinates": [float("nan"), 40.6]},
    ]
    features = [
        {"type": "Feature", "properties": {"名称": f"{n}号炉"}, "geometry": g}
        for n, g in enumerate(geometries, start=1)
    ]
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    table = read_table(path)
    assert len(table) == 8 and table.row_numbers == list(range(1, 9))
    assert {i: str(e) for i, e in table.row_errors.items()} == {
        1: "mixed.geojson 第 2 行 row 2「geometry」：坐标不是数字 coordinate is not a "
        "number: '122.1' (a string)",
        3: "mixed.geojson 第 4 行 row 4「geometry」：坐标不是数字 coordinate is not a "
        "number: true (true/false)",
        4: "mixed.geojson 第 5 行 row 5「geometry」：坐标不是数字 coordinate is not a number: null",
        5: "mixed.geojson 第 6 行 row 6「geometry」：坐标不是数字 coordinate is not a "
        'number: {"x": 1} (an object)',
        7: "mixed.geojson 第 8 行 row 8「geometry」：坐标不是有限的数 coordinate is not a "
        "finite number: NaN",
    }
    error = table.row_errors[1]
    assert (error.path, error.row, error.field) == ("mixed.geojson", 2, "geometry")
    assert table.geometries is not None
    assert [i for i, g in enumerate(table.geometries) if g is None] == [1, 3, 4, 5, 7]
    assert table.geometries[0] == Point(122.2352, 40.6671)
    assert table.geometries[2] == Polygon(square)  # closed
    assert table.geometries[2].exterior.coords[-1] == (122.2, 40.6)
    assert isinstance(table.geometries[6], MultiPolygon)
    assert {i: [str(w) for w in ws] for i, ws in table.row_warnings.items()} == {
        2: [
            "mixed.geojson 第 3 行 row 3「geometry」：多边形环未闭合，已闭合 "
            "polygon ring not closed: closed"
        ],
        6: [
            "mixed.geojson 第 7 行 row 7「geometry」：2 个多边形环未闭合，已闭合 "
            "2 polygon rings not closed: closed"
        ],
    }
    assert names(table) == [f"{n}号炉" for n in range(1, 9)]


def test_good_files_have_no_row_errors_and_tables_default_to_none() -> None:
    for name in ("boilers_4490.geojson", "villages.json", "boilers.xlsx", "boilers.gpkg"):
        table = read_table(GOOD / name)
        assert (table.row_errors, table.row_warnings) == ({}, {})
    # Other modules build Tables positionally: the new fields have defaults, not shared.
    first = Table(Path("a.csv"), [], [], [], None, None, None)
    second = Table(Path("b.csv"), [], [], [], None, None, None, "台账")
    first.notes.append("x")
    first.row_errors[0] = LedgerError("x")
    assert (second.sheet, second.notes, second.row_errors, second.row_warnings) == (
        "台账",
        [],
        {},
        {},
    )
    assert (second.header_row, second.header_rows, second.title_year) == (None, 1, None)
    assert not math.isnan(1.0)


@pytest.mark.parametrize(
    ("member", "crs"),
    [
        ('{"type": "name", "properties": {"name": "EPSG:4490"}}', "EPSG:4490"),
        ('{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4550"}}', "EPSG:4550"),
        ('{"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}', "EPSG:4326"),
        ('{"type": "EPSG", "properties": {"code": 4490}}', "EPSG:4490"),
        ("null", "EPSG:4326"),
    ],
)
def test_geojson_crs_member_forms(tmp_path: Path, member: str, crs: str) -> None:
    path = tmp_path / "boilers.geojson"
    path.write_text(
        f'{{"type": "FeatureCollection", "crs": {member}, "features": ['
        '{"type": "Feature", "properties": {"名称": "1号炉"}, "geometry": null}]}',
        encoding="utf-8",
    )
    assert read_table(path).crs == crs


def test_formats_and_default_limit() -> None:
    assert FORMATS == (".xlsx", ".csv", ".zip", ".gpkg", ".geojson", ".json")
    assert MAX_BYTES == 50 * MB


# --- bad files -----------------------------------------------------------------------------

# Each file of tests/data/bad/: words its message must hold, and the row and field it names.
BAD_FILES: dict[str, tuple[str, int | None, str | None]] = {
    # not what the extension says
    "csv_renamed.xlsx": ("not an Excel .xlsx file", None, None),
    "html_export.xlsx": ("not an Excel .xlsx file: it looks like a web page", None, None),
    "xls_renamed.xlsx": ("old .xls file", None, None),
    "docx_renamed.xlsx": ("not an Excel .xlsx file", None, None),
    "old_excel.xls": ("save it as an Excel workbook (.xlsx)", None, None),
    "binary_junk.csv": ("not a text file", None, None),
    "xlsx_renamed.csv": ("not a text file: it looks like a zip or Excel .xlsx file", None, None),
    "csv_renamed.zip": ("not a zip file", None, None),
    "csv_renamed.gpkg": ("not a GeoPackage", None, None),
    "plain_sqlite.gpkg": ("not a GeoPackage", None, None),
    "json_array.json": ("not a GeoJSON file", None, None),
    "ledger.txt": ("ledgers can be .xlsx, .csv, .zip, .gpkg, .geojson, .json", None, None),
    "bare.shp": ("zip the .shp with its .shx, .dbf", None, None),
    # Excel sheets
    "duplicate_headers.xlsx": ("column name appears twice (columns B and D)", 1, "名称"),
    "empty_header.xlsx": ("column B of the header has no name", 1, None),
    "title_row.xlsx": ("is the first row a title?", 2, None),
    "header_only.xlsx": ("no rows", None, None),
    # CSV
    "ragged_row.csv": ("the row has 8 values, the header has 7 columns", 3, None),
    "short_row.csv": ("the row has 4 values, the header has 7 columns", 4, None),
    "unclosed_quote.csv": ("never closed", 3, None),
    "not_utf8_or_gbk.csv": ("neither UTF-8 nor GBK/GB18030", 3, None),
    "duplicate_headers.csv": ("column name appears twice (columns 2 and 3)", 1, "名称"),
    "empty.csv": ("no rows", None, None),
    "header_only.csv": ("no rows", None, None),
    "blank_lines.csv": ("no rows", None, None),
    # zipped Shapefiles
    "zip_bomb.zip": ("refused as a zip bomb: 'bomb.shp' is compressed 1", None, None),
    "path_traversal.zip": ("unsafe path in the zip: '../evil.shp'", None, None),
    "absolute_path.zip": ("unsafe path in the zip: '/tmp/evil.shp'", None, None),
    "two_shapefiles.zip": ("2 Shapefiles (boilers.shp, villages.shp)", None, None),
    "missing_dbf.zip": ("'boilers.shp' comes without its .dbf", None, None),
    "no_shapefile.zip": ("no Shapefile (.shp) in the zip; it holds: 台账.csv, 说明", None, None),
    "truncated.zip": ("damaged", None, None),
    # GeoPackage
    "truncated.gpkg": ("damaged or truncated GeoPackage", None, None),
    "no_features.gpkg": ("no rows", None, None),
    # GeoJSON
    "invalid_json.geojson": ("not valid JSON", None, None),
    "not_featurecollection.geojson": ("not a GeoJSON FeatureCollection", None, "type"),
    "not_a_feature.geojson": ("not a GeoJSON Feature", 2, None),
    "bad_geometry.geojson": ("broken geometry", 2, "geometry"),
    "unknown_crs.geojson": ("unknown CRS", None, "crs"),
    "no_features.geojson": ("no rows", None, None),
}


def test_every_bad_file_is_in_the_table() -> None:
    assert sorted(p.name for p in BAD.iterdir() if p.is_file()) == sorted(BAD_FILES)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused_naming_file_row_and_field(name: str) -> None:
    words, row, field = BAD_FILES[name]
    with pytest.raises(LedgerError) as exc:
        read_table(BAD / name)
    error = exc.value
    message = str(error)
    assert words in message
    assert message.startswith(name)
    assert chinese_first(error.message), error.message
    assert (error.path, error.row, error.field) == (name, row, field)
    if row is not None:
        assert f"第 {row} 行 row {row}" in message
    if field is not None:
        assert f"「{field}」" in message


def test_invalid_json_says_where() -> None:
    with pytest.raises(LedgerError, match=r"line 8, column 4"):
        read_table(BAD / "invalid_json.geojson")


def test_zip_bomb_made_at_run_time(tmp_path: Path) -> None:
    """60 MB of zeros packed into about 60 KB: refused from the sizes the zip declares."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("bomb.shp", "w") as member:
            chunk = bytes(MB)
            for _ in range(60):
                member.write(chunk)
        zf.writestr("bomb.shx", b"")
        zf.writestr("bomb.dbf", b"")
    assert path.stat().st_size < MB
    with pytest.raises(LedgerError, match=r"zip bomb or too large: it unpacks to 60 MB") as exc:
        read_table(path, max_bytes=MB)
    assert "more than 4 MB (4 × the 1 MB file limit)" in str(exc.value)
    assert str(exc.value).endswith("the largest member is 'bomb.shp' (60 MB)")


def test_xlsx_over_the_unpacked_limit_names_its_largest_member(tmp_path: Path) -> None:
    path = tmp_path / "big_sheet.xlsx"
    book = openpyxl.Workbook()
    for n in range(3000):
        book.active.append(["GL-001", "站前区供热站1号炉", 20, 122.2352, 40.6671, n])
    book.save(path)
    with pytest.raises(LedgerError, match="refused as a zip bomb or too large") as exc:
        read_table(path, max_bytes=path.stat().st_size)
    assert re.search(
        r"the largest member is 'xl/worksheets/sheet1.xml' \([\d.]+ MB\)$", str(exc.value)
    )


def test_a_member_unpacking_past_the_budget_is_named(tmp_path: Path) -> None:
    """The declared sizes are checked first; this guards a zip whose sizes lie."""
    path = write_zip(tmp_path / "lying.zip", {"台账/a.shp": b"S" * 5000})
    with zipfile.ZipFile(path) as zf, pytest.raises(LedgerError) as exc:
        _extract(zf, zf.infolist()[0], tmp_path / "out.shp", 4096, "lying.zip")
    assert str(exc.value) == (
        "lying.zip：「台账/a.shp」解压后过大，已拒绝 refused as a zip bomb: '台账/a.shp' unpacks "
        "to too much "
        "(more than 0.0039 MB)"
    )


def test_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * (3 * MB // 4))
    with pytest.raises(LedgerError) as exc:
        read_table(path, max_bytes=2 * MB)
    assert str(exc.value) == "big.csv：文件 3 MB，超过上限 2 MB file is 3 MB, the limit is 2 MB"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="nothing.csv：文件不存在 no such file"):
        read_table(tmp_path / "nothing.csv")


def test_damaged_copies_of_good_files_fail_only_with_ledger_errors(tmp_path: Path) -> None:
    """Seeded byte flips, cuts and insertions: a file either reads or raises LedgerError."""
    rng = random.Random(7)
    sources = sorted(GOOD.iterdir())
    for number in range(150):
        source = sources[number % len(sources)]
        data = bytearray(source.read_bytes())
        kind = number // len(sources) % 3
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            data = data[: rng.randrange(len(data))]
        else:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 50))
        path = tmp_path / f"damaged{number}{source.suffix}"
        path.write_bytes(bytes(data))
        layer = "boilers" if source.name in ("two_layers.gpkg", "multi_layer.gpkg") else None
        try:
            read_table(path, layer=layer, known=known if number % 2 else None)
        except LedgerError as exc:
            assert str(exc).startswith(path.name)
