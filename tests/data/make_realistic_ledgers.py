"""Regenerate the realistic ledgers (台账) in tests/data/realistic/: for every layer, files laid
out the way county offices keep them — title rows, two-line headers, the header variants
planners write, optional columns missing, GBK, 高德/百度 coordinates, Gauss-Krüger with X as
northing, a GeoPackage with several layers — and, in realistic/edge/, one file per case of
"never silent" (issue #14, section 5). Run from the repository root:

    .venv/bin/python tests/data/make_realistic_ledgers.py

Every ledger is correct as a planner would call it: tests/webmap/test_ledger_realistic.py
imports each with an exact count and checks values. Positions are invented, in 营口 (the demo
city), and given in WGS84 here; the file holds them in its own coordinates. Output is the same
bytes on every run (fixed dates, as make_ledger_files.py writes them).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
from make_ledger_files import (
    FIXED_ISO,
    csv_text,
    feature,
    layer_styles,
    save_workbook,
    shapefile_parts,
    write_gpkg,
    write_json,
    write_zip,
)
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, box, mapping

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02  # noqa: E402

OUT = HERE / "realistic"
EDGE = OUT / "edge"

# Where things are (WGS84 lon/lat), by county of 营口.
ZHANQIAN = (122.2352, 40.6671)  # 站前区
XISHI = (122.2103, 40.6689)  # 西市区
LAOBIAN = (122.3821, 40.6012)  # 老边区
DASHIQIAO = (122.5093, 40.6445)  # 大石桥市
BAYUQUAN = (122.1275, 40.2636)  # 鲅鱼圈区
GAIZHOU = (122.3500, 40.4000)  # 盖州市


def near(place: tuple[float, float], dx: float, dy: float = 0.0) -> tuple[float, float]:
    """A position a little away from `place` (degrees), so no two features coincide."""
    return (round(place[0] + dx, 6), round(place[1] + dy, 6))


def main() -> None:
    for folder in (OUT, EDGE):
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
    warnings.simplefilter("ignore")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_ISO})
    coal_boilers()
    villages()
    parks_and_rail_spurs()
    wastewater_plants()
    waste_heat_sources()
    heating_coverage()
    built_up_areas()
    edge_cases()
    for folder in (OUT, EDGE):
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            print(f"{path.relative_to(HERE)}  {path.stat().st_size} bytes")


def workbook(title: str | None, rows: list[list[object]], width: int, path: Path) -> None:
    """A sheet 台账: a merged title and who filed it (when `title`), then `rows`."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    if title:
        last = openpyxl.utils.get_column_letter(width)
        ws.append([title])
        ws.merge_cells(f"A1:{last}1")
        ws.append(["填报单位：营口市生态环境局（示例）    填报日期：2023年12月31日"])
        ws.merge_cells(f"A2:{last}2")
    for row in rows:
        ws.append(row)
    save_workbook(wb, path)


# --- coal boilers ---------------------------------------------------------------------------


def coal_boilers() -> None:
    # The ledger of the issue: 名称, 单位, 额定容量(t/h), 用途, 状态 and no year but where a
    # status changed; 所在区县 given; 序号 a row counter; old 用途 and status words.
    header = ["序号", "名称", "单位", "额定容量(t/h)", "用途", "状态", "淘汰/改造年份"]
    header += ["所在区县", "经度", "纬度", "备注"]
    rows = [
        [1, "站前区供热站1号炉", "营口热电有限公司", 20, "供暖", "运行", None, "站前区"],
        [2, "喆盛热力2号炉", "营口喆盛热力", 10.5, "集中供暖", "已淘汰", 2021, "站前区"],
        [3, "老边区柳树镇锅炉房", None, 4, "生产", "在用", None, "老边区"],
        [
            4,
            "大石桥市热力公司1号炉",
            "大石桥市热力公司",
            35,
            "生产兼供暖",
            "已替代",
            2022,
            "大石桥市",
        ],
        [5, "鲅鱼圈某食品厂锅炉", "某食品有限公司", 6, "工业生产", "超低排放", 2020, "鲅鱼圈区"],
        [6, "盖州市某浴池锅炉", "个体", 1, "洗浴", "运行", None, "盖州市"],
    ]
    places = [ZHANQIAN, near(ZHANQIAN, 0.012, -0.006), LAOBIAN, DASHIQIAO, BAYUQUAN, GAIZHOU]
    table = [[*r, *p, None] for r, p in zip(rows, places, strict=True)]
    table[1][-1] = "2021年拆除"
    workbook(
        "营口市燃煤锅炉台账（2023年）",
        [header, *table],
        len(header),
        OUT / "营口市燃煤锅炉台账（2023年）.xlsx",
    )

    # 大石桥's ledger as Excel on Chinese Windows saves CSV: GBK, a title line and a blank line,
    # 单位名称 for the boiler, 使用单位 for the operator, the unit written into the cells.
    header = ["单位名称", "使用单位", "容量(蒸吨)", "现状", "替代方式", "替代年份", "东经", "北纬"]
    rows = [
        ["大石桥镁矿1号锅炉", "某镁制品有限公司", "10蒸吨", "运行", "", ""],
        ["大石桥镁矿2号锅炉", "某镁制品有限公司", "15 t/h", "已替代", "煤改气", "2023"],
        ["水源镇中学锅炉", "水源镇中学", "2", "已替代", "电锅炉", "2022"],
        ["周家镇供热站锅炉", "", "40", "在运", "", ""],
    ]
    xs = [near(DASHIQIAO, 0.01 * n, 0.004 * n) for n in range(4)]
    lines = [["大石桥市燃煤锅炉基本情况统计表"], [], header]
    lines += [[*r, str(x), str(y)] for r, (x, y) in zip(rows, xs, strict=True)]
    (OUT / "大石桥市锅炉台账_GBK.csv").write_bytes(csv_text(lines, newline="\r\n").encode("gbk"))

    # An English ledger from a consultant's GIS export.
    header = ["name", "operator", "capacity (t/h)", "use", "status", "status_year", "lon", "lat"]
    rows = [
        ["Xishi heating plant No.1", "Yingkou Heating Co.", 29, "heating", "operating", ""],
        ["Xishi heating plant No.2", "Yingkou Heating Co.", 29, "heating", "phased out", 2020],
        ["Port boiler house", "Yingkou Port", 14, "production", "ultra-low emission", 2019],
    ]
    xs = [near(XISHI, 0.003 * n, -0.004 * n) for n in range(3)]
    lines = [header, *[[*r, x, y] for r, (x, y) in zip(rows, xs, strict=True)]]
    (OUT / "boilers_english.csv").write_bytes(csv_text(lines).encode("utf-8"))

    # Positions picked on 高德 (AMap), so in GCJ-02: 所属企业, 锅炉名称, 额定蒸发量.
    header = ["所属企业", "锅炉名称", "额定蒸发量", "锅炉用途", "现状", "经度", "纬度"]
    rows = [
        ["营口某造纸厂", "造纸厂1号炉", 20, "生产", "运行"],
        ["营口某造纸厂", "造纸厂2号炉", 20, "生产", "运行"],
        ["老边区某宾馆", "宾馆锅炉", 2, "供暖", "运行"],
    ]
    wgs = [near(LAOBIAN, -0.02), near(LAOBIAN, -0.021), near(LAOBIAN, 0.01, 0.01)]
    gcj = [wgs84_to_gcj02(x, y) for x, y in wgs]
    lines = [header, *[[*r, f"{x:.6f}", f"{y:.6f}"] for r, (x, y) in zip(rows, gcj, strict=True)]]
    (OUT / "锅炉_高德坐标.csv").write_bytes(csv_text(lines).encode("utf-8-sig"))

    # Positions picked on 百度 (BD-09), in Excel; 企业名称 as the only name column.
    header = ["企业名称", "容量（t/h）", "状态", "改造年份", "经度", "纬度"]
    rows = [
        ["鲅鱼圈某钢铁公司", 75, "运行", None],
        ["鲅鱼圈某化工公司", 35, "超低排放改造完成", 2021],
    ]
    wgs = [near(BAYUQUAN, 0.01, 0.01), near(BAYUQUAN, -0.01, 0.005)]
    bd = [wgs84_to_bd09(x, y) for x, y in wgs]
    table = [[*r, round(x, 6), round(y, 6)] for r, (x, y) in zip(rows, bd, strict=True)]
    workbook(None, [header, *table], len(header), OUT / "锅炉_百度坐标.xlsx")

    # Surveyed in CGCS2000 3-degree Gauss-Krüger zone 41 (EPSG:4529): X the northing, Y the
    # easting with its zone number in front, as surveyors write them.
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4529", always_xy=True)
    header = ["编号", "锅炉名称", "使用单位", "额定蒸发量（蒸吨/小时）", "状态", "X", "Y"]
    rows = [
        ["GK-1", "盖州市热源厂1号炉", "盖州市热力公司", 58, "运行"],
        ["GK-2", "盖州市热源厂2号炉", "盖州市热力公司", 58, "运行"],
        ["GK-3", "九垄地镇锅炉房", None, 4, "运行"],
    ]
    wgs = [near(GAIZHOU, 0.001), near(GAIZHOU, 0.002), near(GAIZHOU, -0.05, -0.03)]
    table = []
    for r, (lon, lat) in zip(rows, wgs, strict=True):
        easting, northing = to_gk.transform(lon, lat)
        table.append([*r, round(northing, 2), round(easting, 2)])
    workbook(
        "盖州市燃煤锅炉台账（测绘坐标）",
        [header, *table],
        len(header),
        OUT / "锅炉_高斯克吕格.xlsx",
    )

    # Two header lines: 基本信息 over 名称 | 单位 | 额定容量, 坐标 over 经度 | 纬度.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["营口市燃煤锅炉台账（统计年份：2022）"])
    ws.merge_cells("A1:F1")
    ws.append(["基本信息", None, None, "状态", "坐标", None])
    ws.append(["名称", "单位", "额定容量(t/h)", None, "经度", "纬度"])
    ws.merge_cells("A2:C2")
    ws.merge_cells("D2:D3")
    ws.merge_cells("E2:F2")
    for n, (name, capacity) in enumerate([("站前区某医院锅炉", 4), ("站前区某学校锅炉", 2)]):
        ws.append([name, None, capacity, "运行", *near(ZHANQIAN, 0.004 * n + 0.002, 0.003)])
    save_workbook(wb, OUT / "锅炉台账_两行表头.xlsx")


# --- villages -------------------------------------------------------------------------------


def villages() -> None:
    # 老边区's 人居环境 ledger: a title with the 统计年份, two header lines (整治情况 over the
    # flags, 坐标 over the position), yes/no written 是/否/√/空, no 户厕改造, no years.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["老边区村庄人居环境整治台账（统计年份：2023年）"])
    ws.merge_cells("A1:G1")
    ws.append(["村庄名称", "所属乡镇", "总户数", "整治情况", None, "坐标", None])
    ws.append([None, None, None, "生活污水治理", "清洁取暖", "经度", "纬度"])
    for column in "ABC":
        ws.merge_cells(f"{column}2:{column}3")
    ws.merge_cells("D2:E2")
    ws.merge_cells("F2:G2")
    rows = [
        ("柳树村", "柳树镇", 312, "是", "否"),
        ("边城村", "柳树镇", 158, "否", "√"),
        ("二道沟村", "边城镇", 240, None, None),
        ("前进村", "路南镇", 401, "是", "是"),
        ("后进村", "路南镇", 96, "否", "否"),
    ]
    for n, row in enumerate(rows):
        ws.append([*row, *near(LAOBIAN, 0.01 * n - 0.03, 0.008 * (n % 3))])
    save_workbook(wb, OUT / "老边区村庄人居环境整治台账.xlsx")

    # 盖州's village list in GBK: 行政村, 乡镇, 户数, 污水处理 with its year where done.
    header = ["行政村", "乡镇", "户数", "污水处理", "污水处理年份", "美丽宜居村", "经度", "纬度"]
    rows = [
        ["东岗村", "九寨镇", "210", "已治理", "2022", "2021"],
        ["西岗村", "九寨镇", "185", "未治理", "", ""],
        ["南沟村", "万福镇", "1,204", "是", "2024", ""],
        ["北沟村", "万福镇", "77", "否", "", "2023"],
    ]
    xs = [near(GAIZHOU, 0.01 * n, -0.01 * n) for n in range(4)]
    lines = [header, *[[*r, str(x), str(y)] for r, (x, y) in zip(rows, xs, strict=True)]]
    (OUT / "盖州市村庄名录_GBK.csv").write_bytes(csv_text(lines, newline="\r\n").encode("gbk"))


# --- parks and rail spurs: one GeoPackage, as a GIS office keeps them ----------------------


def parks_and_rail_spurs() -> None:
    parks = gpd.GeoDataFrame(
        {
            "园区名称": ["营口沿海产业基地", "老边区某产业园", "大石桥市镁质材料产业园"],
            "级别": ["国家级", "市级", "省级"],
            "循环化改造": ["实施中", "未启动", "已完成"],
            "管委会": ["营口沿海产业基地管委会", None, "大石桥市镁产业园管委会"],
        },
        geometry=[
            box(*near(BAYUQUAN, -0.02, -0.02), *near(BAYUQUAN, 0.02, 0.01)),
            box(*near(LAOBIAN, -0.01, -0.01), *near(LAOBIAN, 0.01, 0.005)),
            box(*near(DASHIQIAO, -0.015, -0.01), *near(DASHIQIAO, 0.01, 0.01)),
        ],
        crs="EPSG:4490",
    )
    spurs = gpd.GeoDataFrame(
        {
            "专用线名称": ["鲅鱼圈港区铁路专用线", "镁质材料产业园专用线"],
            "建设状态": ["在建", "规划"],
            "长度": [12.5, 6.0],
            "产权单位": ["营口港务集团", None],
        },
        geometry=[
            LineString([near(BAYUQUAN, -0.03), near(BAYUQUAN, 0.0, 0.01), near(BAYUQUAN, 0.05)]),
            LineString([near(DASHIQIAO, -0.02), near(DASHIQIAO, 0.0, 0.005)]),
        ],
        crs="EPSG:4490",
    )
    write_gpkg(
        OUT / "营口市园区及专用线.gpkg",
        {"园区": parks, "铁路专用线": spurs},
        {"layer_styles": layer_styles("园区", "铁路专用线")},
    )

    # A spur ledger in Excel, the route as WKT, no 服务对象, no length.
    header = ["专用线", "建设单位", "现状", "建成年份", "WKT"]
    route = LineString([near(XISHI, 0.0), near(XISHI, 0.02, -0.01)])
    rows = [["西市区物流园铁路专用线", "某物流有限公司", "建成", 2019, route.wkt]]
    workbook("营口市铁路专用线建设台账", [header, *rows], len(header), OUT / "铁路专用线台账.xlsx")


# --- wastewater plants ---------------------------------------------------------------------


def dms(value: float, hemisphere: str) -> str:
    """122.2352 -> 122°14′06.72″E: how some survey sheets write positions."""
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return f"{degrees}°{minutes:02d}′{seconds:05.2f}″{hemisphere}"


def wastewater_plants() -> None:
    # A title row; positions as the environment bureau's sheet writes them, some in
    # degrees-minutes-seconds, one capacity in full-width digits; no 管网整治, no 污泥.
    header = ["污水处理厂名称", "运营单位", "设计规模(万吨/日)", "进水BOD5浓度(mg/L)", "运行状态"]
    header += ["经度", "纬度"]
    rows = [
        ["营口市西部污水处理厂", "某水务有限公司", 10, 62.5, "运行"],
        ["营口市东部污水处理厂", "某水务有限公司", "１２．５", 88, "正常运行"],
        ["老边区污水处理厂", None, 3, None, "在建"],
        ["大石桥市第二污水处理厂", "大石桥市排水公司", 4, 95, "运行"],
    ]
    places = [near(XISHI, -0.01), near(ZHANQIAN, 0.02, 0.01), LAOBIAN, near(DASHIQIAO, 0.0, -0.01)]
    table = []
    for n, (row, (lon, lat)) in enumerate(zip(rows, places, strict=True)):
        position = [dms(lon, "E"), dms(lat, "N")] if n % 2 == 0 else [lon, lat]
        table.append([*row, *position])
    workbook(
        "营口市城镇污水处理厂运行情况台账",
        [header, *table],
        len(header),
        OUT / "污水处理厂运行台账.xlsx",
    )


# --- waste heat sources --------------------------------------------------------------------


def waste_heat_sources() -> None:
    header = ["企业名称", "余热种类", "可利用余热量(MW)", "利用状态", "经度", "纬度"]
    rows = [
        ["营口某钢铁有限公司", "钢铁余热", "120", "规划供热"],
        ["营口某热电厂", "电厂余热", "80", "已供热"],
        ["大石桥某化工有限公司", "化工余热", "", "未利用"],
    ]
    xs = [near(BAYUQUAN, 0.03, 0.02), near(ZHANQIAN, -0.01, 0.01), near(DASHIQIAO, 0.03)]
    lines = [header, *[[*r, str(x), str(y)] for r, (x, y) in zip(rows, xs, strict=True)]]
    (OUT / "余热资源清单.csv").write_bytes(csv_text(lines, newline="\r\n").encode("utf-8-sig"))


# --- heating coverage and built-up areas: polygons from GIS -------------------------------


def heating_coverage() -> None:
    # RFC 7946 GeoJSON (no crs member), Chinese property names, no 年份.
    areas = [
        ("站前区集中供热范围", "营口热电有限公司", "热电联产", box(122.21, 40.65, 122.26, 40.69)),
        ("鲅鱼圈区余热供暖范围", "某钢铁公司", "工业余热", box(122.10, 40.24, 122.15, 40.28)),
    ]
    write_json(
        OUT / "供热范围.geojson",
        {
            "type": "FeatureCollection",
            "features": [
                feature({"名称": n, "供热单位": o, "热源": h}, mapping(g)) for n, o, h, g in areas
            ],
        },
    )


def built_up_areas() -> None:
    # A Shapefile from the planning bureau: GBK with its .cpg, CGCS2000 lon/lat.
    frame = gpd.GeoDataFrame(
        {"名称": ["营口市中心城区建成区", "大石桥市建成区"], "依据": ["国土空间规划", "示意"]},
        geometry=[box(122.20, 40.64, 122.30, 40.70), box(122.48, 40.62, 122.54, 40.66)],
        crs="EPSG:4490",
    )
    parts = shapefile_parts(frame, "GBK")
    write_zip(OUT / "建成区.zip", {f"建成区{ext}": b for ext, b in parts.items()})


# --- never silent: one file per case -------------------------------------------------------


def edge_cases() -> None:
    point = list(ZHANQIAN)

    def boiler(name: str, geometry: dict) -> dict:
        return feature({"名称": name, "额定容量": 10, "状态": "运行"}, geometry)

    def collection(path: Path, features: list[dict]) -> None:
        write_json(path, {"type": "FeatureCollection", "features": features})

    ok = boiler("站前区某锅炉", {"type": "Point", "coordinates": point})
    as_strings = {"type": "Point", "coordinates": [str(point[0]), str(point[1])]}
    collection(EDGE / "string_coordinates.geojson", [ok, boiler("字符串坐标锅炉", as_strings)])
    with_z = {"type": "Point", "coordinates": [*near(XISHI, 0.001), 12.0]}
    collection(EDGE / "z_values.geojson", [ok, boiler("带高程锅炉", with_z)])
    one_part = {"type": "MultiPoint", "coordinates": [list(near(XISHI, 0.002))]}
    collection(EDGE / "one_part_multipoint.geojson", [ok, boiler("单点多点锅炉", one_part)])
    two_parts = {"type": "MultiPoint", "coordinates": [list(XISHI), list(near(XISHI, 0.01))]}
    collection(EDGE / "two_part_multipoint.geojson", [ok, boiler("两点锅炉", two_parts)])

    # A park ring that does not end where it starts, as hand-made GeoJSON has them.
    ring = [list(near(LAOBIAN, dx, dy)) for dx, dy in ((0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01))]
    square = Polygon([near(LAOBIAN, 0.02), near(LAOBIAN, 0.03), near(LAOBIAN, 0.03, 0.01)])
    park = {"名称": "未闭合园区", "级别": "省级"}
    collection(
        EDGE / "unclosed_ring.geojson",
        [
            feature({"名称": "闭合园区", "级别": "市级"}, mapping(square)),
            feature(park, {"type": "Polygon", "coordinates": [ring]}),
        ],
    )

    header = ["名称", "额定容量(t/h)", "状态", "经度", "纬度"]
    rows = [
        ["度分秒锅炉", 10, "运行", "122°14′06.72″", "40°40′01.56″"],
        ["度分秒汉字锅炉", 10, "运行", "122度12分37秒", "40度40分8秒"],
    ]
    (EDGE / "dms.csv").write_bytes(csv_text([header, *rows]).encode("utf-8"))
    rows = [
        ["全角数字锅炉", "１２．５", "运行", "１２２．２３５２", "４０．６６７１"],
        ["全角逗号锅炉", "１０", "运行", "122，2103", "40.6689"],
    ]
    (EDGE / "full_width.csv").write_bytes(csv_text([header, *rows]).encode("utf-8"))
    rows = [["<script>alert('台账')</script>", 10, "运行", *ZHANQIAN]]
    (EDGE / "markup_name.csv").write_bytes(csv_text([header, *rows]).encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main())
