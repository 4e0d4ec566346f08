"""Finding a ledger's coordinates and bringing them to WGS84 (geo.ledger.coords): column names,
CRS declared / from the file / inferred, Gauss-Krüger zones and the X-is-northing convention,
GCJ-02 and BD-09, and every per-row error naming file, row and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo import crs
from geo.errors import LedgerError
from geo.ledger.coords import AREA_TOLERANCE_M, COORD_SYSTEMS, Located, locate, parse_crs
from geo.ledger.read import Table

GEOD = Geod(ellps="WGS84")


def table(columns: list[str], *rows: list[Any], **kw: Any) -> Table:
    """A CSV-like table: a header line, then data rows numbered from 2 as a person sees them."""
    return Table(
        Path("台账.csv"),
        columns,
        [dict(zip(columns, r, strict=True)) for r in rows],
        list(range(2, len(rows) + 2)),
        **({"geometries": None, "crs": None, "encoding": "utf-8"} | kw),
    )


def xy(g: BaseGeometry | None) -> tuple[float, float]:
    assert isinstance(g, Point)
    return (g.x, g.y)


# A boiler in 营口 (downtown, west of CM 123°E, so in 3° zone 41) and one in 辽源 (zone 42),
# their WGS84/CGCS2000 lon/lat, and their Gauss-Krüger coordinates from pyproj in both
# variants (with the zone prefix, EPSG:4529/4530, and without, EPSG:4550/4551).
YINGKOU = (122.235, 40.667)
LIAOYUAN = (125.14, 42.89)


def gk(code: str, lonlat: tuple[float, float]) -> tuple[float, float]:
    x, y = crs.transform_xy(crs.WGS84, code, [lonlat[0]], [lonlat[1]])
    return float(x[0]), float(y[0])


YK_4529 = gk("EPSG:4529", YINGKOU)
YK_4550 = gk("EPSG:4550", YINGKOU)
LY_4530 = gk("EPSG:4530", LIAOYUAN)

# Roughly 营口市 (its districts span about 121.9–122.9°E, 39.9–40.95°N).
YINGKOU_AREA = box(121.9, 39.9, 122.9, 40.95)


def test_known_gk_values_are_what_a_surveyor_sees() -> None:
    # 营口 lies ~64 km west of CM 123°E: easting ~435 km, prefixed 41 435 xxx; ~4.5e6 north.
    assert 41_430_000 < YK_4529[0] < 41_440_000
    assert YK_4550 == pytest.approx((YK_4529[0] - 41_000_000, YK_4529[1]), abs=1e-6)
    assert 4_500_000 < YK_4529[1] < 4_510_000
    assert 42_000_000 < LY_4530[0] < 43_000_000


# ------------------------------------------------------------------------ parse_crs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EPSG:4490", "EPSG:4490"),
        ("CGCS2000", "EPSG:4490"),
        ("cgcs 2000", "EPSG:4490"),
        ("EPSG:4326", "EPSG:4326"),
        ("WGS84", "EPSG:4326"),
        ("wgs-84", "EPSG:4326"),
        ("EPSG:4529", "EPSG:4529"),
        ("epsg 4550", "EPSG:4550"),
        ("4513", "EPSG:4513"),
        ("EPSG:4554", "EPSG:4554"),
        ("EPSG:4491", "EPSG:4491"),
        ("EPSG:4512", "EPSG:4512"),
        ("CGCS2000 / 3-degree Gauss-Kruger zone 41", "EPSG:4529"),
        ("GCJ-02", "GCJ-02"),
        ("gcj02", "GCJ-02"),
        ("高德", "GCJ-02"),
        ("AMap", "GCJ-02"),
        ("BD-09", "BD-09"),
        ("bd09", "BD-09"),
        ("百度", "BD-09"),
        ("Baidu", "BD-09"),
    ],
)
def test_parse_crs(text: str, expected: str) -> None:
    assert parse_crs(text) == expected


@pytest.mark.parametrize("text", ["EPSG:3857", "EPSG:4555", "西安80", "", "GCJ-03"])
def test_parse_crs_rejects_and_lists_what_is_accepted(text: str) -> None:
    with pytest.raises(LedgerError) as err:
        parse_crs(text)
    assert "EPSG:4513–4533" in str(err.value) and "BD-09" in str(err.value)


def test_coord_systems_cover_every_gauss_kruger_code() -> None:
    for n in range(4491, 4555):
        assert COORD_SYSTEMS[f"EPSG:{n}"] == f"EPSG:{n}"
    assert {COORD_SYSTEMS[k] for k in ("gcj02", "高德", "amap")} == {"GCJ-02"}
    assert {COORD_SYSTEMS[k] for k in ("bd09", "百度", "baidu")} == {"BD-09"}
    assert COORD_SYSTEMS["CGCS2000"] == "EPSG:4490" and COORD_SYSTEMS["WGS84"] == "EPSG:4326"


# -------------------------------------------------------------------- lon/lat columns


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("经度", "纬度"),
        ("经度(°)", "纬度(°)"),
        ("经度（WGS84）", "纬度（WGS84）"),
        ("lng", "lat"),
        ("LON", "LAT"),
        ("Longitude", "Latitude"),
        ("longitude (deg)", "latitude (deg)"),
        ("中心点经度", "中心点纬度"),
    ],
)
def test_lonlat_column_names(lon: str, lat: str) -> None:
    located = locate(table(["名称", lon, lat], ["一号锅炉", *YINGKOU]), "Point")
    assert xy(located.geometries[0]) == YINGKOU
    assert located.errors == {}
    assert located.columns == (lon, lat)
    assert located.source_crs == "EPSG:4490"
    assert any("CGCS2000" in n for n in located.notes)


def test_values_written_as_text() -> None:
    located = locate(
        table(
            ["经度", "纬度"],
            ["122.235", " 40.667 "],
            ["１２２.２３５", "40.667"],  # full-width digits from a Chinese IME
            ["122°14′06″", "40°40′01.2″"],
            ["E122.235", "N40.667"],
            ["东经122.235", "北纬40.667"],
        ),
        "Point",
    )
    assert located.errors == {}
    for g in located.geometries[:2] + located.geometries[3:]:
        assert xy(g) == pytest.approx(YINGKOU, abs=1e-12)
    assert xy(located.geometries[2]) == pytest.approx(
        (122 + 14 / 60 + 6 / 3600, 40 + 40 / 60 + 1.2 / 3600), abs=1e-12
    )


def test_lonlat_declared_and_from_the_file() -> None:
    t = table(["经度", "纬度"], [*YINGKOU], crs="EPSG:4326")
    assert locate(t, "Point").source_crs == "EPSG:4326"
    located = locate(t, "Point", crs="CGCS2000")
    assert located.source_crs == "EPSG:4490"
    assert any("EPSG:4490" in n and "EPSG:4326" in n for n in located.notes)
    assert xy(located.geometries[0]) == YINGKOU


# ------------------------------------------------------------------ Gauss-Krüger


def test_gk_zone_prefix_detected_and_converted() -> None:
    located = locate(table(["东坐标", "北坐标"], [*YK_4529]), "Point")
    assert located.source_crs == "EPSG:4529"
    assert any("zone 41" in n and "prefix" in n for n in located.notes)
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-9)
    assert located.columns == ("东坐标", "北坐标")


def test_gk_known_point_both_directions() -> None:
    # lon/lat -> GK was computed with pyproj above; GK -> lon/lat through locate, and back.
    for code, values in (("EPSG:4529", YK_4529), ("EPSG:4550", YK_4550)):
        located = locate(table(["Y", "X"], [values[0], values[1]]), "Point", crs=code)
        assert located.source_crs == code
        lonlat = xy(located.geometries[0])
        assert lonlat == pytest.approx(YINGKOU, abs=1e-9)
        assert gk(code, lonlat) == pytest.approx(values, abs=1e-3)
    located = locate(table(["经度", "纬度"], [*YINGKOU]), "Point")
    assert gk("EPSG:4529", xy(located.geometries[0])) == pytest.approx(YK_4529, abs=1e-3)
    # 辽源 is in the next zone: its prefix says 42.
    located = locate(table(["X", "Y"], [LY_4530[1], LY_4530[0]]), "Point")
    assert located.source_crs == "EPSG:4530"
    assert xy(located.geometries[0]) == pytest.approx(LIAOYUAN, abs=1e-9)


def test_x_is_northing_chinese_convention() -> None:
    east, north = YK_4529
    located = locate(table(["X", "Y"], [north, east], [north + 100.0, east + 50.0]), "Point")
    assert located.errors == {}
    assert located.source_crs == "EPSG:4529"
    assert any("'X' is read as northing" in n for n in located.notes)
    assert located.columns == ("Y", "X")
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-9)
    # And X/Y used the GIS way round (X easting) is read that way too.
    located = locate(table(["X坐标", "Y坐标"], [east, north]), "Point")
    assert located.columns == ("X坐标", "Y坐标")
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-9)


def test_gk_without_zone_and_without_crs_is_a_file_error() -> None:
    t = table(["X", "Y"], [YK_4550[1], YK_4550[0]])
    with pytest.raises(LedgerError) as err:
        locate(t, "Point")
    message = str(err.value)
    assert message.startswith("台账.csv")
    assert "columns 'X' and 'Y'" in message
    assert "coordinates look like Gauss-Krüger metres without a zone: declare the CRS" in message
    assert "EPSG:4550" in message
    # Knowing the area, the suggestion is the area's zone: 辽源 is zone 42 (CM 126°E).
    with pytest.raises(LedgerError, match="EPSG:4551"):
        locate(t, "Point", area=box(124.8, 42.5, 125.8, 43.2))


def test_gk_without_zone_declared() -> None:
    t = table(["X", "Y"], [YK_4550[1], YK_4550[0]])
    located = locate(t, "Point", crs="EPSG:4550")
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-9)
    # Declaring the prefixed code names the zone just as well; the note says what happened.
    located = locate(t, "Point", crs="EPSG:4529")
    assert located.source_crs == "EPSG:4529"
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-9)
    assert any("without the zone prefix" in n for n in located.notes)


def test_gk_prefix_of_another_zone_is_a_row_error() -> None:
    t = table(["X", "Y"], [YK_4529[1], YK_4529[0]], [LY_4530[1], LY_4530[0]])
    located = locate(t, "Point", crs="EPSG:4530")
    assert xy(located.geometries[1]) == pytest.approx(LIAOYUAN, abs=1e-9)
    assert located.geometries[0] is None
    err = located.errors[0]
    assert (err.row, err.field) == (2, "Y")
    assert "zone 41" in err.message and "zone 42" in err.message


def test_gk_metres_declared_as_lonlat() -> None:
    located = locate(table(["经度", "纬度"], [*YK_4529]), "Point", crs="EPSG:4490")
    err = located.errors[0]
    assert "not a longitude/latitude" in err.message
    assert "Gauss-Krüger" in err.message and "declare the CRS" in err.message


def test_gk_northing_outside_china() -> None:
    t = table(["东坐标", "北坐标"], [YK_4529[0], 900_000.0])
    located = locate(t, "Point", crs="EPSG:4529")
    assert "northing 900000 is outside China" in located.errors[0].message
    assert located.errors[0].field == "北坐标"


# ---------------------------------------------------------------- GCJ-02 and BD-09


def test_gcj02_declared_is_converted() -> None:
    gcj = crs.wgs84_to_gcj02(*YINGKOU)
    located = locate(table(["经度", "纬度"], [*gcj]), "Point", crs="高德")
    assert located.source_crs == "GCJ-02"
    got = xy(located.geometries[0])
    assert got == pytest.approx(crs.gcj02_to_wgs84(*gcj), abs=1e-12)
    assert got == pytest.approx(YINGKOU, abs=1e-7)
    assert crs.wgs84_to_gcj02(*got) == pytest.approx(gcj, abs=1e-9)
    assert any("GCJ-02" in n for n in located.notes)


def test_bd09_declared_is_converted() -> None:
    bd = crs.wgs84_to_bd09(*YINGKOU)
    located = locate(table(["lng", "lat"], [*bd]), "Point", crs="baidu")
    assert located.source_crs == "BD-09"
    got = xy(located.geometries[0])
    assert got == pytest.approx(crs.bd09_to_wgs84(*bd), abs=1e-12)
    assert got == pytest.approx(YINGKOU, abs=1e-7)
    assert crs.wgs84_to_bd09(*got) == pytest.approx(bd, abs=1e-9)


def test_gcj02_polygon_wkt_declared() -> None:
    poly = Polygon([(122.2, 40.6), (122.3, 40.6), (122.3, 40.7), (122.2, 40.7)])
    gcj = crs.wgs84_geometry_to_gcj02(poly)
    located = locate(table(["名称", "WKT"], ["公园", gcj.wkt]), "MultiPolygon", crs="GCJ-02")
    got = located.geometries[0]
    assert isinstance(got, MultiPolygon)
    np.testing.assert_allclose(
        shapely.get_coordinates(got), shapely.get_coordinates(poly), rtol=0, atol=1e-7
    )


def test_web_map_coordinates_are_never_guessed() -> None:
    # GCJ-02 values look like lon/lat: undeclared, they are taken as such (≈ 500 m off),
    # with a hint when the column name says where they came from.
    gcj = crs.wgs84_to_gcj02(*YINGKOU)
    located = locate(table(["经度_gcj02", "纬度_gcj02"], [*gcj]), "Point")
    assert located.source_crs == "EPSG:4490"
    assert xy(located.geometries[0]) == gcj
    assert any("declare the CRS" in n for n in located.notes)


# ------------------------------------------------------------------- X/Y as lon/lat


def test_xy_holding_lat_lon_is_swapped_with_a_note() -> None:
    located = locate(table(["X", "Y"], [YINGKOU[1], YINGKOU[0]]), "Point")
    assert xy(located.geometries[0]) == YINGKOU
    assert located.columns == ("Y", "X")
    assert any("'X' holds latitudes" in n for n in located.notes)
    located = locate(table(["X", "Y"], [*YINGKOU]), "Point")
    assert xy(located.geometries[0]) == YINGKOU
    assert located.columns == ("X", "Y") and not any("holds" in n for n in located.notes)


# ------------------------------------------------------------------ per-row errors


def test_swapped_lat_lon_in_named_columns_is_an_error() -> None:
    located = locate(
        table(["名称", "经度", "纬度"], ["甲", *YINGKOU], ["乙", YINGKOU[1], YINGKOU[0]]),
        "Point",
    )
    assert xy(located.geometries[0]) == YINGKOU
    assert located.geometries[1] is None  # never swapped silently
    err = located.errors[1]
    assert err.path == "台账.csv" and err.row == 3
    assert "latitude and longitude look swapped" in err.message
    assert "'经度'" in err.message and "'纬度'" in err.message
    assert str(err).startswith("台账.csv 第 3 行 row 3")


def test_missing_and_non_numeric_values() -> None:
    located = locate(
        table(
            ["经度", "纬度"],
            [None, YINGKOU[1]],
            [YINGKOU[0], ""],
            ["一二二", YINGKOU[1]],
            [True, YINGKOU[1]],
            [float("nan"), YINGKOU[1]],
            [*YINGKOU],
        ),
        "Point",
    )
    assert list(located.errors) == [0, 1, 2, 3, 4]
    assert located.errors[0].field == "经度" and "missing" in located.errors[0].message
    assert located.errors[1].field == "纬度" and located.errors[1].row == 3
    assert "not a number: '一二二'" in located.errors[2].message
    assert "not a number" in located.errors[3].message
    assert "missing" in located.errors[4].message
    assert located.geometries[:5] == [None] * 5 and xy(located.geometries[5]) == YINGKOU


def test_outside_the_area_with_distance() -> None:
    inside = (122.5, 40.5)
    near = (122.905, 40.5)  # ~420 m east of the box: within the tolerance
    far = (123.2, 40.5)  # ~25 km east of the box
    located = locate(
        table(["经度", "纬度"], [*inside], [*near], [*far]),
        "Point",
        area=YINGKOU_AREA,
        area_name="营口市",
    )
    assert xy(located.geometries[0]) == inside and xy(located.geometries[1]) == near
    assert located.geometries[2] is None
    err = located.errors[2]
    _, _, metres = GEOD.inv(122.9, 40.5, *far)
    assert f"outside 营口市 by {metres / 1000:.1f} km" in err.message
    assert err.row == 4 and err.field == "经度/纬度"
    assert AREA_TOLERANCE_M == 3000.0
    (warning,) = located.warnings[1]
    assert "outside 营口市's indicative outline by 423 m" in warning.message
    assert warning.row == 3 and warning.field == "经度/纬度"
    assert 0 not in located.warnings


def test_the_area_tolerance_is_a_setting() -> None:
    near = (122.905, 40.5)  # ~420 m east of the box
    located = locate(
        table(["经度", "纬度"], [*near]), "Point", area=YINGKOU_AREA, area_tolerance_m=100.0
    )
    assert located.geometries[0] is None
    assert "by 423 m" in located.errors[0].message


def test_polygon_partly_outside_the_area() -> None:
    poly = "POLYGON ((122.8 40.5, 123.0 40.5, 123.0 40.6, 122.8 40.6, 122.8 40.5))"
    located = locate(table(["WKT"], [poly]), "Polygon", area=YINGKOU_AREA)
    assert "outside the area by 8.5 km" in located.errors[0].message


def test_outside_china() -> None:
    located = locate(table(["经度", "纬度"], [2.35, 48.85], [*YINGKOU]), "Point")
    assert "outside China" in located.errors[0].message
    assert xy(located.geometries[1]) == YINGKOU


def test_self_intersecting_polygon_is_reported_not_repaired() -> None:
    bowtie = "POLYGON ((122.2 40.6, 122.3 40.7, 122.3 40.6, 122.2 40.7, 122.2 40.6))"
    good = "POLYGON ((122.2 40.6, 122.3 40.6, 122.3 40.7, 122.2 40.6))"
    located = locate(table(["名称", "坐标WKT"], ["甲", bowtie], ["乙", good]), "Polygon")
    err = located.errors[0]
    assert located.geometries[0] is None
    assert err.field == "坐标WKT" and err.row == 2
    assert err.message == (
        "自相交 self-intersection at (122.250000, 40.650000); 可选用 make_valid 修复 "
        "repair with make_valid is offered"
    )
    assert located.geometries[1] is not None and located.geometries[1].is_valid
    assert located.columns == ("坐标WKT",)


def test_other_invalid_polygons_offer_repair_too() -> None:
    hole_outside = (
        "POLYGON ((122.2 40.6, 122.3 40.6, 122.3 40.7, 122.2 40.7, 122.2 40.6), "
        "(122.4 40.6, 122.5 40.6, 122.5 40.7, 122.4 40.6))"
    )
    located = locate(table(["WKT"], [hole_outside]), "MultiPolygon")
    message = located.errors[0].message
    assert message.startswith(
        "MultiPolygon 无效 invalid MultiPolygon: Hole lies outside shell at ("
    )
    assert message.endswith("修复 repair with make_valid is offered")


def test_geometry_types() -> None:
    poly = "POLYGON ((122.2 40.6, 122.3 40.6, 122.3 40.7, 122.2 40.6))"
    one_part = f"MULTIPOLYGON ({poly.removeprefix('POLYGON ')})"
    line = "LINESTRING (122.2 40.6, 122.3 40.7)"
    t = table(["geometry"], [poly], [one_part], [line])
    located = locate(t, "MultiPolygon")
    assert [g.geom_type for g in located.geometries[:2]] == ["MultiPolygon"] * 2
    assert (
        located.errors[2].message
        == "应为 MultiPolygon，实为 LineString expected a MultiPolygon, got a LineString"
    )
    located = locate(t, "Polygon")
    assert [g.geom_type for g in located.geometries[:2]] == ["Polygon"] * 2
    located = locate(table(["WKT"], [line]), "MultiLineString")
    assert located.geometries[0].geom_type == "MultiLineString"
    located = locate(table(["WKT"], [poly]), "LineString")
    assert (
        located.errors[0].message
        == "应为 LineString，实为 Polygon expected a LineString, got a Polygon"
    )
    located = locate(table(["WKT"], [line]), "Point")
    assert (
        located.errors[0].message
        == "应为 Point，实为 LineString expected a Point, got a LineString"
    )


def test_empty_geometry_and_empty_cell() -> None:
    located = locate(table(["WKT"], ["POLYGON EMPTY"], [None], ["POINT (122.2 40.6)"]), "Point")
    assert located.errors[0].message == "几何为空 empty geometry"
    assert located.errors[1].message == "没有几何：「WKT」为空 no geometry: 'WKT' is empty"
    assert xy(located.geometries[2]) == (122.2, 40.6)


def test_wkt_parse_errors() -> None:
    located = locate(
        table(["WKT"], ["POLYGON ((122.2 40.6, 122.3"], ["POINT (a b)"], ["122.2,40.6"]), "Point"
    )
    assert set(located.errors) == {0, 1, 2}
    for err in located.errors.values():
        assert err.message.startswith("无法读取 WKT cannot read the WKT") and err.field == "WKT"
    assert "POLYGON ((122.2 40.6, 122.3" in located.errors[0].message


def test_wkt_in_gk_with_srid_and_z() -> None:
    e, n = YK_4529
    located = locate(table(["WKT"], [f"SRID=4529;POINT Z ({e} {n} 12.5)"]), "Point")
    assert located.source_crs == "EPSG:4529"
    assert any("SRID" in note for note in located.notes)
    assert any("Z" in note for note in located.notes)
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-9)


def test_wkt_lat_lon_is_an_error() -> None:
    located = locate(table(["WKT"], [f"POINT ({YINGKOU[1]} {YINGKOU[0]})"]), "Point")
    assert "latitude and longitude look swapped" in located.errors[0].message


# ------------------------------------------------------------- the file's geometries


def test_file_geometries_with_the_file_crs() -> None:
    line = LineString([YINGKOU, (122.3, 40.7)])
    in_gk = crs.transform(crs.WGS84, "EPSG:4529", line)
    t = table(["名称", "经度", "纬度"], ["甲", None, None], ["乙", None, None])
    t.geometries = [in_gk, None]
    t.crs = "EPSG:4529"
    located = locate(t, "MultiLineString")
    assert located.source_crs == "EPSG:4529" and located.columns == ()
    got = located.geometries[0]
    assert got.geom_type == "MultiLineString"
    np.testing.assert_allclose(
        shapely.get_coordinates(got), np.asarray(line.coords), rtol=0, atol=1e-9
    )
    assert located.errors[1].message == "要素没有几何 the feature has no geometry"
    assert located.errors[1].field == "geometry"


def test_declared_crs_wins_over_the_files() -> None:
    gcj = crs.wgs84_to_gcj02(*YINGKOU)
    t = table(["名称"], ["甲"], geometries=[Point(gcj)], crs="EPSG:4326")
    located = locate(t, "Point", crs="GCJ-02")
    assert located.source_crs == "GCJ-02"
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-7)
    assert any("GCJ-02" in n and "EPSG:4326" in n for n in located.notes)


def test_file_crs_pyproj_knows() -> None:
    # A GIS file may carry any CRS pyproj reads (here a projected CRS as WKT).
    wkt = crs.get_transformer(crs.WGS84, "EPSG:32651").target_crs.to_wkt()
    p = crs.transform(crs.WGS84, "EPSG:32651", Point(YINGKOU))
    located = locate(table(["名称"], ["甲"], geometries=[p], crs=wkt), "Point")
    assert located.source_crs == "EPSG:32651"
    assert xy(located.geometries[0]) == pytest.approx(YINGKOU, abs=1e-9)
    with pytest.raises(LedgerError, match="not one pyproj knows"):
        locate(table(["名称"], ["甲"], geometries=[p], crs="no such CRS"), "Point")


# ---------------------------------------------------------------- file-level errors


def test_no_coordinate_columns() -> None:
    with pytest.raises(LedgerError) as err:
        locate(table(["编号", "名称", "地址"], ["1", "甲", "营口"]), "Point")
    message = str(err.value)
    assert message.startswith("台账.csv：没有坐标 no coordinates")
    for name in ("WKT", "经度", "纬度", "lng", "X/Y"):
        assert name in message
    assert "编号, 名称, 地址" in message


def test_points_for_a_polygon_layer() -> None:
    with pytest.raises(LedgerError, match="needs MultiPolygon geometries"):
        locate(table(["经度", "纬度"], [*YINGKOU]), "MultiPolygon")


def test_unknown_geometry_type() -> None:
    with pytest.raises(ValueError, match="unknown geometry type"):
        locate(table(["经度", "纬度"], [*YINGKOU]), "Circle")


def test_empty_table() -> None:
    located = locate(table(["经度", "纬度"]), "Point")
    assert located == Located([], {}, "EPSG:4490", ("经度", "纬度"), located.notes)


def test_many_rows_are_vectorised() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(122.0, 122.8, 20_000)
    lat = rng.uniform(40.0, 40.9, 20_000)
    east, north = crs.transform_xy(crs.WGS84, "EPSG:4529", lon, lat)
    t = table(["X", "Y"], *[[n, e] for e, n in zip(east, north, strict=True)])
    located = locate(t, "Point", area=YINGKOU_AREA)
    assert located.errors == {}
    got = shapely.get_coordinates(np.array(located.geometries, dtype=object))
    np.testing.assert_allclose(got, np.column_stack([lon, lat]), rtol=0, atol=1e-9)


# ------------------------------------------------- accepted with a word (issue 14, §5)


def test_z_values_are_kept_in_2d_with_a_warning_per_row() -> None:
    located = locate(
        table(["WKT"], ["POINT Z (122.2 40.6 12.5)"], ["POINT (122.3 40.6)"], ["POINT Z (1 2 3)"]),
        "Point",
    )
    assert xy(located.geometries[0]) == (122.2, 40.6)
    (warning,) = located.warnings[0]
    assert "kept in 2D" in warning.message and (warning.row, warning.field) == (2, "WKT")
    assert 1 not in located.warnings
    assert 2 in located.errors and 2 not in located.warnings  # rejected rows: the error only


def test_one_part_multi_is_its_part_several_parts_are_an_error() -> None:
    located = locate(
        table(
            ["WKT"],
            ["MULTIPOINT ((122.2 40.6))"],
            ["MULTIPOINT ((122.2 40.6), (122.3 40.6))"],
            ["MULTILINESTRING ((122.2 40.6, 122.3 40.6))"],
        ),
        "Point",
    )
    assert xy(located.geometries[0]) == (122.2, 40.6)
    assert "one-part MultiPoint read as its Point" in located.warnings[0][0].message
    assert located.errors[1].message.endswith("has 2 parts; the layer takes one Point per row")
    assert (located.errors[1].row, located.errors[1].field) == (3, "WKT")
    assert (
        located.errors[2].message
        == "应为 Point，实为 MultiLineString expected a Point, got a MultiLineString"
    )
    lines = locate(table(["WKT"], ["MULTILINESTRING ((122.2 40.6, 122.3 40.6))"]), "LineString")
    assert lines.geometries[0].geom_type == "LineString" and 0 in lines.warnings


def test_an_unclosed_wkt_ring_is_closed_with_a_warning() -> None:
    located = locate(
        table(["几何"], ["POLYGON ((122.2 40.6, 122.3 40.6, 122.3 40.7))"]), "MultiPolygon"
    )
    geometry = located.geometries[0]
    assert geometry is not None and geometry.geom_type == "MultiPolygon"
    assert shapely.get_coordinates(geometry)[-1].tolist() == [122.2, 40.6]
    (warning,) = located.warnings[0]
    assert warning.message == "多边形环未闭合，已闭合 polygon ring not closed: closed"
    assert (warning.row, warning.field) == (2, "几何")


@pytest.mark.parametrize(
    ("lon", "lat", "decimal"),
    [
        ("122°14′06″", "40°40′01″", (122.235, 40.666944)),
        ("122度14分6秒", "40度40分1秒", (122.235, 40.666944)),
        ("东经122°14'06\"", "北纬40°40'01\"", (122.235, 40.666944)),
    ],
)
def test_degrees_minutes_seconds_are_read_with_the_decimal_shown(lon, lat, decimal) -> None:
    located = locate(table(["经度", "纬度"], [lon, lat]), "Point")
    assert xy(located.geometries[0]) == pytest.approx(decimal, abs=1e-6)
    lon_warning, lat_warning = located.warnings[0]
    assert lon_warning.field == "经度" and lat_warning.field == "纬度"
    assert "read as 122.235000°" in lon_warning.message
    assert f"read as {decimal[1]:.6f}°" in lat_warning.message


def test_full_width_coordinates_are_read_without_a_word() -> None:
    located = locate(table(["经度", "纬度"], ["１２２．２３５", "４０．６６７"]), "Point")
    assert xy(located.geometries[0]) == YINGKOU and not located.warnings


def test_a_decimal_comma_in_a_coordinate_is_an_error() -> None:
    located = locate(table(["经度", "纬度"], ["122.235", "40,667"]), "Point")
    error = located.errors[0]
    assert (error.row, error.field) == (2, "纬度")
    assert "has a comma: '40,667'" in error.message and "(40.667)" in error.message


def test_string_coordinates_found_by_the_reader_stay_errors() -> None:
    found = LedgerError("坐标不是数字 coordinate is not a number: '122.2'", row=2, field="geometry")
    located = locate(
        table(["id"], ["a"], ["b"], geometries=[None, Point(122.2, 40.6)], row_errors={0: found}),
        "Point",
    )
    assert located.errors[0] is found and xy(located.geometries[1]) == (122.2, 40.6)
