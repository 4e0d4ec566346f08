"""Regions (cities and provinces) as data: the `regions` table the store keeps beside its
layers, made from the districts at build time, and the source folders of added regions.

An added region is one folder `<regions_dir>/<adcode>/` holding a `districts.geojson` (the
file name is the layer id, so the store reads it like any other source folder). Folders are
written and removed by a rename, so a crash never leaves half a region behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from geo.analysis import gk_zone_epsg
from geo.errors import RegionError
from geo.sources import LayerData
from geo.store.base import AttributeTable, FeatureStore

__all__ = [
    "REGIONS_TABLE",
    "REGION_FIELDS",
    "StoreRegion",
    "added_region_dirs",
    "read_regions",
    "region_rows",
    "regions_table",
    "remove_region_source",
    "write_region_source",
]

REGIONS_TABLE = "regions"
REGION_FIELDS = {
    "id": "str",  # the adcode
    "key": "str",  # what URLs name it by: "yingkou", or the adcode when it has no English name
    "adcode": "str",
    "name_zh": "str",
    "name_en": "str",
    "level": "str",  # "province" | "city"
    "parent": "str",  # a city's province adcode; none for a province
    "gk_epsg": "str",  # its CGCS2000 3° Gauss-Krüger zone, from its centroid: "EPSG:4521"
    "bbox": "str",  # "minx,miny,maxx,maxy" in WGS84 degrees
}
REGION_LEVELS = ("province", "city")
DISTRICTS_FILE = "districts.geojson"
_ADCODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class StoreRegion:
    """One row of the store's regions table."""

    key: str
    adcode: str
    name_zh: str
    name_en: str | None
    level: str
    parent: str | None
    gk_epsg: str
    bbox: tuple[float, float, float, float]


def _key(name_en: str | None) -> str | None:
    """The first word of the English name, lower case: "Liaoning Province" -> "liaoning"."""
    words = (name_en or "").split()
    key = re.sub(r"[^a-z0-9]", "", words[0].lower()) if words else ""
    return key or None


def region_rows(
    properties: Sequence[dict[str, Any]], geometries: Sequence[BaseGeometry]
) -> list[dict[str, Any]]:
    """The regions table's rows for the districts features: every city and province, in
    adcode order. A key two regions would share falls back to their adcodes."""
    chosen = sorted(
        (
            (p, g)
            for p, g in zip(properties, geometries, strict=True)
            if p.get("level") in REGION_LEVELS
        ),
        key=lambda pg: pg[0]["adcode"],
    )
    keys = [_key(p.get("name_en")) for p, _ in chosen]
    rows = []
    for (p, geom), key in zip(chosen, keys, strict=True):
        unique = key is not None and keys.count(key) == 1 and not _ADCODE.fullmatch(key)
        rows.append(
            {
                "id": p["adcode"],
                "key": key if unique else p["adcode"],
                "adcode": p["adcode"],
                "name_zh": p["name_zh"],
                "name_en": p.get("name_en"),
                "level": p["level"],
                "parent": p.get("parent_adcode"),
                "gk_epsg": gk_zone_epsg(geom.centroid.x),
                "bbox": ",".join(f"{v:.6f}" for v in geom.bounds),
            }
        )
    return rows


def regions_table(districts: LayerData) -> AttributeTable:
    """The regions table for the store, from the districts layer as loaded."""
    return AttributeTable(
        REGIONS_TABLE,
        REGION_FIELDS,
        region_rows(districts.properties, districts.geometries),
        "区域（市、省） Regions (cities and provinces)",
    )


def read_regions(store: FeatureStore) -> list[StoreRegion]:
    """Every region the store has, in adcode order (empty for a store built before regions
    were a table)."""
    if REGIONS_TABLE not in store.layers():
        return []
    found = []
    for f in store.query(REGIONS_TABLE, limit=None).features:
        p = f.properties
        minx, miny, maxx, maxy = (float(v) for v in p["bbox"].split(","))
        found.append(
            StoreRegion(
                key=p["key"],
                adcode=p["adcode"],
                name_zh=p["name_zh"],
                name_en=p.get("name_en") or None,
                level=p["level"],
                parent=p.get("parent") or None,
                gk_epsg=p["gk_epsg"],
                bbox=(minx, miny, maxx, maxy),
            )
        )
    return sorted(found, key=lambda r: r.adcode)


# -- added regions' source folders -----------------------------------------------------------
def added_region_dirs(regions_dir: Path) -> list[Path]:
    """The source folders of the added regions, in adcode order (half-written ones, whose
    names start with a dot, are not among them)."""
    regions_dir = Path(regions_dir)
    if not regions_dir.is_dir():
        return []
    return [
        d
        for d in sorted(regions_dir.iterdir())
        if _ADCODE.fullmatch(d.name) and (d / DISTRICTS_FILE).is_file()
    ]


def write_region_source(regions_dir: Path, adcode: str, features: list[dict[str, Any]]) -> Path:
    """Write an added region's districts as `<regions_dir>/<adcode>/districts.geojson`:
    into a hidden temporary folder first, renamed into place once complete."""
    regions_dir = Path(regions_dir)
    target = regions_dir / adcode
    if target.exists():
        raise RegionError(f"区划「{adcode}」已添加 region '{adcode}' is already added")
    regions_dir.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{adcode}-", dir=regions_dir))
    try:
        text = json.dumps(
            {"type": "FeatureCollection", "features": features},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        (temp / DISTRICTS_FILE).write_text(text + "\n", encoding="utf-8")
        temp.chmod(0o755)  # mkdtemp makes it 0700
        os.rename(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target


def remove_region_source(regions_dir: Path, adcode: str) -> None:
    """Remove an added region's folder: renamed out of the way first (the store no longer
    sees it), then deleted."""
    target = Path(regions_dir) / adcode
    if not _ADCODE.fullmatch(adcode) or not (target / DISTRICTS_FILE).is_file():
        raise RegionError(f"没有添加过区划「{adcode}」 region '{adcode}' was not added")
    trash = Path(tempfile.mkdtemp(prefix=f".{adcode}-removed-", dir=regions_dir))
    os.rename(target, trash / adcode)
    shutil.rmtree(trash)
