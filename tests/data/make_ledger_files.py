"""Regenerate the ledger (台账) test files: good ones in tests/data/ledger/, the corpus of files
that cannot be read in tests/data/bad/. Run from the repository root:

    .venv/bin/python tests/data/make_ledger_files.py

Output is byte-for-byte the same on every run with the pinned libraries: zip members, workbook
properties, DBF headers and GeoPackage timestamps get fixed dates, and random bytes a fixed seed.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sqlite3
import sys
import tempfile
import warnings
import zipfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
from shapely.geometry import Point, Polygon, mapping

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
GOOD = HERE / "ledger"
BAD = HERE / "bad"
BAD_ROWS = BAD / "rows"  # readable files whose rows an import must reject
FIXED_DATE = (2024, 1, 1, 0, 0, 0)
FIXED_ISO = "2024-01-01T00:00:00Z"

# Coal boilers in 营口 (the demo city), as a planner's ledger lists them.
HEADER = ["编号", "名称", "单位", "容量(t/h)", "经度", "纬度", "状态"]
BOILERS = [
    ["GL-001", "站前区供热站1号炉", "营口热电有限公司", "20", "122.2352", "40.6671", "运行"],
    ["GL-002", "喆盛热力2号炉", "营口喆盛热力", "10.5", "122.2511", "40.6598", "已淘汰"],
    ["GL-003", "西市区锅炉房", "", "4", "122.2103", "40.6689", "运行"],
]

# The same kind of ledger as county offices keep it: title rows above the header.
TITLED_HEADER = ["名称", "单位", "额定容量(t/h)", "用途", "状态", "经度", "纬度"]
TITLED_BOILERS = [
    ["站前区供热站1号炉", "营口热电有限公司", 20, "供暖", "运行", 122.2352, 40.6671],
    ["喆盛热力2号炉", "营口喆盛热力", 10.5, "供暖", "已淘汰", 122.2511, 40.6598],
    ["老边区柳树镇锅炉房", None, 4, "生产", "运行", 122.3821, 40.6012],
    ["大石桥市热力公司1号炉", "大石桥市热力公司", 35, "供暖", "运行", 122.5093, 40.6445],
]
FILED_BY = "填报单位：某某区生态环境分局  填报日期：2023-12-31"


def main() -> None:
    for folder in (GOOD, BAD, BAD_ROWS):
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
    warnings.simplefilter("ignore")  # GDAL's notes on field types it writes differently
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_ISO})
    good_csvs()
    good_xlsx()
    good_shapefiles()
    good_gpkgs()
    good_geojson()
    bad_files()
    bad_rows()
    for folder in (GOOD, BAD, BAD_ROWS):
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            print(f"{path.relative_to(HERE)}  {path.stat().st_size} bytes")


# --- good files ----------------------------------------------------------------------------


def csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


def good_csvs() -> None:
    # UTF-8, with a quoted value holding a comma and a line break, a blank line and padding.
    rows = [HEADER, *BOILERS]
    rows[2] = [*rows[2][:6], "已淘汰,拆除\n2019年"]
    text = csv_text(rows[:2]) + "\n" + csv_text(rows[2:]).replace("GL-003", "  GL-003 ")
    (GOOD / "boilers_utf8.csv").write_bytes(text.encode("utf-8"))
    # Excel's "CSV UTF-8" in locales that use ';'.
    text = csv_text([HEADER, *BOILERS], delimiter=";", newline="\r\n")
    (GOOD / "boilers_utf8_bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    # Excel's "CSV" on Chinese Windows: GBK, CRLF; 喆 is in GBK but not in GB2312.
    text = csv_text([HEADER, *BOILERS], newline="\r\n")
    (GOOD / "boilers_gbk.csv").write_bytes(text.encode("gbk"))
    text = csv_text([HEADER, *BOILERS], delimiter="\t")
    (GOOD / "boilers_tab.csv").write_bytes(text.encode("utf-8"))
    # GBK with a title line and a blank line above the header (line 3), data from line 4.
    rows = [["2023 年度营口市燃煤锅炉台账"], [], TITLED_HEADER]
    rows += [["" if v is None else str(v) for v in row] for row in TITLED_BOILERS]
    text = csv_text(rows, newline="\r\n")
    (GOOD / "boilers_title_rows_gbk.csv").write_bytes(text.encode("gbk"))


def good_xlsx() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    # Row 1 left empty: the header is the first non-empty row (row 2).
    ws.append([])
    header = ["编号", " 名称 ", "容量(t/h)", "投运日期", "已改造", "经度", "纬度"]
    ws.append([*header, "二倍容量", "备注"])
    ws.append(["GL-001", "站前区供热站1号炉 ", 20, datetime(2005, 10, 1), False, 122.2352, 40.6671])
    ws.append(["GL-002", "喆盛热力2号炉", 10.5, datetime(2012, 6, 15), True, 122.2511, 40.6598])
    ws.append([])  # row 5: an empty row, skipped
    ws.append(["GL-003", "西市区锅炉房", 4, None, None, 122.2103, 40.6689])
    ws["H3"] = "=C3*2"  # a formula; its cached value is written in by _normalise_zip
    ws["I6"] = "=cmd|' /C calc'!A0"
    ws["I6"].data_type = "s"  # text that looks like a formula, as a hostile ledger holds it
    notes = wb.create_sheet("说明")
    notes.append(["项目", "内容"])
    notes.append(["填报单位", "营口市生态环境局"])
    save_workbook(wb, GOOD / "boilers.xlsx", cached={"C3*2": "40"})

    # A merged title in row 1, who filed it and when in row 2, the header in row 3.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["营口市燃煤锅炉台账（2023年）"])
    ws.merge_cells("A1:G1")
    ws.append([FILED_BY])
    ws.merge_cells("A2:G2")
    ws.append(TITLED_HEADER)
    for row in TITLED_BOILERS:
        ws.append(row)
    save_workbook(wb, GOOD / "boilers_title_rows.xlsx")

    # A title, then a header on two lines (rows 2-3): 坐标 merged over 经度 | 纬度, the other
    # names merged down over both lines.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["营口市燃煤锅炉台账（统计年份：2022）"])
    ws.merge_cells("A1:G1")
    ws.append([*TITLED_HEADER[:5], "坐标", None])
    ws.append([None] * 5 + TITLED_HEADER[5:])
    for column in "ABCDE":
        ws.merge_cells(f"{column}2:{column}3")
    ws.merge_cells("F2:G2")
    for row in TITLED_BOILERS:
        ws.append(row)
    save_workbook(wb, GOOD / "boilers_two_header_lines.xlsx")


def save_workbook(wb: openpyxl.Workbook, path: Path, cached: dict[str, str] | None = None) -> None:
    wb.properties.creator = "绿图 tests"
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_normalise_zip(buffer.getvalue(), cached or {}))


def _normalise_zip(data: bytes, cached: dict[str, str]) -> bytes:
    """The same workbook with fixed dates; formulas get the cached values Excel would store."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", FIXED_ISO.encode(), content)
            for formula, value in cached.items():
                content = content.replace(
                    f"<f>{formula}</f><v></v>".encode(), f"<f>{formula}</f><v>{value}</v>".encode()
                )
            write_member(dst, info.filename, content)
    return out.getvalue()


def write_member(zf: zipfile.ZipFile, name: str, content: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, content)


def boilers_frame(crs: str = "EPSG:4490") -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "编号": [b[0] for b in BOILERS],
            "名称": [b[1] for b in BOILERS],
            "容量": [20, 10, None],
            "备注": ["", "已淘汰", None],
        },
        geometry=[Point(float(b[4]), float(b[5])) for b in BOILERS],
        crs="EPSG:4490",
    )
    return frame.to_crs(crs)


def shapefile_parts(frame: gpd.GeoDataFrame, encoding: str) -> dict[str, bytes]:
    """The files of a Shapefile written by GDAL, with the DBF's last-update date fixed."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "boilers.shp"
        frame.to_file(path, encoding=encoding)
        parts = {p.suffix: p.read_bytes() for p in Path(tmp).iterdir()}
    dbf = bytearray(parts[".dbf"])
    dbf[1:4] = bytes([FIXED_DATE[0] - 1900, FIXED_DATE[1], FIXED_DATE[2]])
    parts[".dbf"] = bytes(dbf)
    return parts


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            write_member(zf, name, content)


def good_shapefiles() -> None:
    gbk = shapefile_parts(boilers_frame(), "GBK")
    assert gbk[".cpg"] == b"GBK", gbk[".cpg"]
    write_zip(GOOD / "boilers_gbk_cpg.zip", {f"boilers{ext}": b for ext, b in gbk.items()})
    # ArcGIS on Chinese Windows often writes no .cpg: GDAL alone would read Latin-1.
    write_zip(
        GOOD / "boilers_gbk_nocpg.zip",
        {f"boilers{ext}": b for ext, b in gbk.items() if ext != ".cpg"},
    )
    # CGCS2000 / 3-degree Gauss-Krüger CM 123E, UTF-8, in a folder with Chinese names.
    gk = shapefile_parts(boilers_frame("EPSG:4550"), "UTF-8")
    write_zip(GOOD / "boilers_gk_utf8.zip", {f"台账/锅炉{ext}": b for ext, b in gk.items()})


def write_gpkg(
    path: Path, layers: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame] | None = None
) -> None:
    """A GeoPackage without spatial index, then compacted to small pages to stay a few KB;
    `tables` are written as tables without geometry (GeoPackage "attributes")."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / path.name
        for name, frame in layers.items():
            frame.to_file(work, layer=name, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"})
        for name, table in (tables or {}).items():
            pyogrio.write_dataframe(table, work, layer=name, driver="GPKG")
        con = sqlite3.connect(work)
        try:
            con.execute("PRAGMA page_size = 512")
            con.execute("VACUUM")
        finally:
            con.close()
        path.write_bytes(work.read_bytes())


def villages_frame() -> gpd.GeoDataFrame:
    square = Polygon([(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)])
    return gpd.GeoDataFrame(
        {"村名": ["老边村", "柳树村"], "户数": [312, 158]},
        geometry=[
            Polygon([(122.18 + x, 40.62 + y) for x, y in square.exterior.coords]),
            Polygon([(122.20 + x, 40.63 + y) for x, y in square.exterior.coords]),
        ],
        crs="EPSG:4490",
    )


def layer_styles(*layers: str) -> pd.DataFrame:
    """The style table QGIS adds to a GeoPackage it saves styles in (a table, no geometry)."""
    return pd.DataFrame(
        {
            "f_table_catalog": [""] * len(layers),
            "f_table_schema": [""] * len(layers),
            "f_table_name": list(layers),
            "f_geometry_column": ["geom"] * len(layers),
            "styleName": [f"{name} 默认样式" for name in layers],
            "styleQML": ["<qgis/>"] * len(layers),
            "useAsDefault": [True] * len(layers),
        }
    )


def good_gpkgs() -> None:
    write_gpkg(GOOD / "boilers.gpkg", {"boilers": boilers_frame()})
    write_gpkg(GOOD / "two_layers.gpkg", {"boilers": boilers_frame(), "villages": villages_frame()})
    write_gpkg(
        GOOD / "multi_layer.gpkg",
        {"boilers": boilers_frame(), "villages": villages_frame()},
        {"layer_styles": layer_styles("boilers", "villages")},
    )
    write_gpkg(
        GOOD / "one_spatial_layer.gpkg",
        {"boilers": boilers_frame()},
        {"layer_styles": layer_styles("boilers")},
    )


def feature(props: dict, geometry: dict | None, **extra: object) -> dict:
    return {"type": "Feature", **extra, "properties": props, "geometry": geometry}


def write_json(path: Path, doc: object) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def good_geojson() -> None:
    features = [
        feature(
            {"编号": b[0], "名称": b[1], "容量": float(b[3]), "状态": b[6]},
            {"type": "Point", "coordinates": [float(b[4]), float(b[5])]},
        )
        for b in BOILERS
    ]
    features[2]["properties"]["tags"] = ["燃煤", "待改造"]
    write_json(
        GOOD / "boilers_4490.geojson",
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
            "features": features,
        },
    )
    # RFC 7946 GeoJSON, no crs member; Feature ids, a feature without geometry.
    villages = villages_frame()
    write_json(
        GOOD / "villages.json",
        {
            "type": "FeatureCollection",
            "features": [
                feature(
                    {"村名": "老边村", "户数": 312},
                    mapping(villages.geometry[0]),
                    id="V-1",
                ),
                feature({"村名": "柳树村", "户数": None, "备注": " 待测绘 "}, None, id="V-2"),
            ],
        },
    )


# --- the bad corpus ------------------------------------------------------------------------


def bad_files() -> None:
    csv_bytes = csv_text([HEADER, *BOILERS]).encode("utf-8")
    # Excel and its look-alikes
    (BAD / "csv_renamed.xlsx").write_bytes(csv_bytes)
    (BAD / "old_excel.xls").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an OLE2 header, as .xls files start
    )
    (BAD / "xls_renamed.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    html = "<html><head><meta charset='utf-8'></head><body><table>" + "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in [HEADER, *BOILERS]
    )
    (BAD / "html_export.xlsx").write_text(html + "</table></body></html>\n", encoding="utf-8")
    write_zip(BAD / "docx_renamed.xlsx", {"word/document.xml": b"<w:document/>"})
    wb = openpyxl.Workbook()
    wb.active.append(["编号", "名称", "容量", "名称"])
    wb.active.append(["GL-001", "1号炉", 20, "重复"])
    save_workbook(wb, BAD / "duplicate_headers.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["编号", None, "容量"])
    wb.active.append(["GL-001", "1号炉", 20])
    save_workbook(wb, BAD / "empty_header.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["营口市燃煤锅炉台账（2023年）"])
    wb.active.merge_cells("A1:D1")
    wb.active.append(["编号", "名称", "容量", "状态"])
    wb.active.append(["GL-001", "1号炉", 20, "运行"])
    save_workbook(wb, BAD / "title_row.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["编号", "名称", "容量"])
    save_workbook(wb, BAD / "header_only.xlsx")

    # CSV
    junk = bytearray(random.Random(7).randbytes(1024))
    junk[100] = 0  # make sure: a binary file has NUL bytes
    (BAD / "binary_junk.csv").write_bytes(bytes(junk))
    (BAD / "xlsx_renamed.csv").write_bytes((GOOD / "boilers.xlsx").read_bytes())
    ragged = csv_text([HEADER, *BOILERS]).splitlines(keepends=True)
    ragged[2] = ragged[2].replace("营口喆盛热力", "营口喆盛热力,西市区")  # an unquoted comma
    (BAD / "ragged_row.csv").write_text("".join(ragged), encoding="utf-8")
    short = csv_text([HEADER, *BOILERS]).splitlines(keepends=True)
    short[3] = "GL-003,西市区锅炉房,,4\n"
    (BAD / "short_row.csv").write_text("".join(short), encoding="utf-8")
    (BAD / "empty.csv").write_bytes(b"")
    (BAD / "header_only.csv").write_text(",".join(HEADER) + "\r\n", encoding="gbk")
    (BAD / "blank_lines.csv").write_text("\r\n \r\n\r\n", encoding="utf-8")
    (BAD / "duplicate_headers.csv").write_text("编号,名称,名称 \nGL-001,a,b\n", encoding="utf-8")
    (BAD / "unclosed_quote.csv").write_text(
        '编号,名称,备注\nGL-001,1号炉,ok\nGL-002,"2号炉,ok\nGL-003,3号炉,ok\n', encoding="utf-8"
    )
    # UTF-8 up to line 3, then a byte neither UTF-8 nor GB18030 allows.
    (BAD / "not_utf8_or_gbk.csv").write_bytes(
        "编号,名称\nGL-001,1号炉\n".encode() + b"GL-002,\xff\xfe2\n"
    )

    # Zipped Shapefiles
    gbk = shapefile_parts(boilers_frame(), "GBK")
    # 4 MB of zeros packed about 1000 to 1; the test makes a 60 MB one at run time.
    with zipfile.ZipFile(BAD / "zip_bomb.zip", "w") as zf:
        write_member(zf, "bomb.shp", bytes(4 * 1024 * 1024))
        for ext in (".shx", ".dbf"):
            write_member(zf, f"bomb{ext}", gbk[ext])
    write_zip(BAD / "path_traversal.zip", {f"../evil{ext}": gbk[ext] for ext in gbk})
    write_zip(BAD / "absolute_path.zip", {f"/tmp/evil{ext}": gbk[ext] for ext in gbk})
    write_zip(
        BAD / "two_shapefiles.zip",
        {f"{stem}{ext}": b for stem in ("boilers", "villages") for ext, b in gbk.items()},
    )
    write_zip(BAD / "missing_dbf.zip", {f"boilers{e}": gbk[e] for e in (".shp", ".shx", ".prj")})
    write_zip(BAD / "no_shapefile.zip", {"台账.csv": csv_bytes, "说明.txt": "见附件".encode()})
    (BAD / "csv_renamed.zip").write_bytes(csv_bytes)
    (BAD / "truncated.zip").write_bytes((GOOD / "boilers_gbk_cpg.zip").read_bytes()[:700])
    (BAD / "bare.shp").write_bytes(gbk[".shp"])

    # GeoPackage
    data = (GOOD / "boilers.gpkg").read_bytes()
    (BAD / "truncated.gpkg").write_bytes(data[: len(data) // 2])
    (BAD / "csv_renamed.gpkg").write_bytes(csv_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.sqlite"
        con = sqlite3.connect(plain)
        try:
            con.execute("CREATE TABLE boilers (id TEXT, name TEXT)")
            con.execute("INSERT INTO boilers VALUES ('GL-001', '1号炉')")
            con.commit()
        finally:
            con.close()
        (BAD / "plain_sqlite.gpkg").write_bytes(plain.read_bytes())
    write_gpkg(BAD / "no_features.gpkg", {"boilers": boilers_frame().iloc[:0]})

    # GeoJSON
    point = {"type": "Point", "coordinates": [122.2352, 40.6671]}
    text = json.dumps(
        {"type": "FeatureCollection", "features": [feature({"编号": "GL-001"}, point)]},
        ensure_ascii=False,
        indent=1,
    )
    (BAD / "invalid_json.geojson").write_text(
        text.replace('"GL-001"', '"GL-001",'), encoding="utf-8"
    )  # a trailing comma, as hand edits leave them
    write_json(BAD / "not_featurecollection.geojson", feature({"编号": "GL-001"}, point))
    write_json(BAD / "json_array.json", [{"编号": "GL-001", "经度": 122.2352, "纬度": 40.6671}])
    write_json(
        BAD / "bad_geometry.geojson",
        {
            "type": "FeatureCollection",
            "features": [
                feature({"编号": "GL-001"}, point),
                feature(
                    {"编号": "V-2"},
                    {"type": "Polygon", "coordinates": [[[122.2, 40.6], [122.3, 40.7]]]},
                ),
            ],
        },
    )
    write_json(
        BAD / "not_a_feature.geojson",
        {"type": "FeatureCollection", "features": [feature({"编号": "GL-001"}, point), point]},
    )
    write_json(
        BAD / "unknown_crs.geojson",
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:LOCAL::1"}},
            "features": [feature({"编号": "GL-001"}, point)],
        },
    )
    write_json(BAD / "no_features.geojson", {"type": "FeatureCollection", "features": []})

    # Neither a ledger format nor a look-alike
    (BAD / "ledger.txt").write_bytes(csv_bytes)


# --- rows an import must reject ------------------------------------------------------------


def bad_rows() -> None:
    """One fault per file, in ledgers laid out like the layer's template (CSV, UTF-8 with BOM),
    after a good row (line 2) so that all-or-nothing can be seen: tests/webmap/test_ledger_cli.py
    previews each and expects the row and column named, and imports each (nothing written by
    default, the good row with --accepted-only)."""
    sys.path.insert(0, str(ROOT))
    from geo.ledger.template import AUTOMATIC, header
    from layers import get_layer

    def demo(layer_id: str, city: str = "210800") -> dict:
        doc = json.loads((ROOT / "data" / "demo" / f"{layer_id}.geojson").read_text("utf-8"))
        return next(
            f["properties"]
            for f in doc["features"]
            if f["properties"].get("city_adcode") == city
            and f["properties"].get("status", "运行") == "运行"
        )

    def ledger_row(layer_id: str, props: dict, coords: dict) -> dict:
        layer = get_layer(layer_id)
        row = {
            header(f): props.get(f.name)
            for f in layer.fields
            if f.name not in AUTOMATIC and f.name != "id"
        }
        return {**row, **coords}

    def write(name: str, rows: list[dict]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        (BAD_ROWS / name).write_bytes(buffer.getvalue().encode("utf-8-sig"))

    boiler = demo("coal_boilers")
    place = {"经度": 122.2352, "纬度": 40.6671}  # 营口 站前区

    def boilers(**changes: object) -> dict:
        row = ledger_row("coal_boilers", boiler, place)
        row.update(changes)
        return row

    # The good row: another boiler of the same ledger, in 西市区.
    good = boilers(锅炉名称="西市区某供热站2号燃煤锅炉", 经度=122.2103, 纬度=40.6689)
    write("boilers_swapped_lat_lon.csv", [good, boilers(经度=40.6671, 纬度=122.2352)])
    write("boilers_outside_city.csv", [good, boilers(经度=116.3975, 纬度=39.9087)])  # 北京
    gk = {k: v for k, v in boilers().items() if k not in ("经度", "纬度")}
    # 站前区 in CGCS2000 / 3-degree GK CM 123°E (EPSG:4550), northing in X as surveyors write
    write("boilers_gauss_kruger_no_crs.csv", [{**gk, "X": 4503885.79, "Y": 435330.46}])
    write("boilers_value_not_allowed.csv", [good, boilers(状态="关停")])
    write("boilers_missing_required.csv", [good, boilers(**{"额定蒸发量（蒸吨/小时）": ""})])
    write("boilers_duplicate_ids.csv", [{"编号": "GL-9", **boilers()}] * 2)
    write("boilers_formula_name.csv", [good, boilers(锅炉名称="=cmd|' /C calc'!A0")])
    write("boilers_not_a_number.csv", [good, boilers(**{"额定蒸发量（蒸吨/小时）": "很大"})])
    park = demo("parks")
    square = "POLYGON ((122.25 40.62, 122.27 40.62, 122.27 40.64, 122.25 40.64, 122.25 40.62))"
    good_park = ledger_row("parks", {**park, "name": "老边区某产业园"}, {"WKT": square})
    bowtie = "POLYGON ((122.20 40.60, 122.30 40.70, 122.30 40.60, 122.20 40.70, 122.20 40.60))"
    write("parks_self_intersection.csv", [good_park, ledger_row("parks", park, {"WKT": bowtie})])
    empty = ledger_row("parks", park, {"WKT": "POLYGON EMPTY"})
    write("parks_empty_geometry.csv", [good_park, empty])
    line = ledger_row("parks", park, {"WKT": "LINESTRING (122.20 40.60, 122.30 40.70)"})
    write("parks_line_not_polygon.csv", [good_park, line])


if __name__ == "__main__":
    sys.exit(main())
