"""Reading ledger (台账) files: every format read as the file holds it, Chinese text intact in
every encoding, and every file of tests/data/bad/ refused with an error naming the file and,
where it applies, the row and the field. The files come from tests/data/make_ledger_files.py.
"""

from __future__ import annotations

import random
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon

from geo.errors import LedgerError
from geo.ledger.read import FORMATS, MAX_BYTES, Table, read_table

DATA = Path(__file__).resolve().parent.parent / "data"
GOOD = DATA / "ledger"
BAD = DATA / "bad"
MB = 1024 * 1024

HEADER = ["编号", "名称", "单位", "容量(t/h)", "经度", "纬度", "状态"]
NAMES = ["站前区供热站1号炉", "喆盛热力2号炉", "西市区锅炉房"]  # 喆: in GBK, not in GB2312
POINTS = [Point(122.2352, 40.6671), Point(122.2511, 40.6598), Point(122.2103, 40.6689)]


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
    with pytest.raises(LedgerError, match="file junk.zip: cannot read the Shapefile"):
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
    with pytest.raises(LedgerError, match=r"2 layers \(boilers, villages\): say which") as exc:
        read_table(path)
    assert "two_layers.gpkg" in str(exc.value)
    villages = read_table(path, layer="villages")
    assert villages.rows == [{"村名": "老边村", "户数": 312}, {"村名": "柳树村", "户数": 158}]
    assert villages.geometries is not None
    assert all(isinstance(g, Polygon) for g in villages.geometries)
    assert names(read_table(path, layer="boilers")) == NAMES
    with pytest.raises(LedgerError, match=r"no layer '锅炉' in the GeoPackage"):
        read_table(path, layer="锅炉")


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
    "zip_bomb.zip": ("zip bomb", None, None),
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
    assert message.startswith(f"file {name}")
    assert (error.path, error.row, error.field) == (name, row, field)
    if row is not None:
        assert f"row {row}" in message
    if field is not None:
        assert f"field '{field}'" in message


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


def test_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * (3 * MB // 4))
    with pytest.raises(LedgerError) as exc:
        read_table(path, max_bytes=2 * MB)
    assert str(exc.value) == "file big.csv: file is 3 MB, the limit is 2 MB"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="file nothing.csv: no such file"):
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
        try:
            read_table(path, layer="boilers" if source.name == "two_layers.gpkg" else None)
        except LedgerError as exc:
            assert str(exc).startswith(f"file {path.name}")
