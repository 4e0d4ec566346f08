"""The regions table made from the districts, reading it back from a store, and added
regions' source folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape

from geo.errors import RegionError
from geo.regions import (
    REGIONS_TABLE,
    added_region_dirs,
    read_regions,
    region_rows,
    remove_region_source,
    write_region_source,
)
from geo.store import GeoPackageStore


def test_region_rows_keys_zones_and_bboxes(anshan_features: list[dict[str, Any]]) -> None:
    rows = region_rows(
        [f["properties"] for f in anshan_features], [shape(f["geometry"]) for f in anshan_features]
    )
    assert [r["adcode"] for r in rows] == ["210300"]  # counties are no regions
    (row,) = rows
    assert row["key"] == "anshan" and row["parent"] == "210000"
    assert row["gk_epsg"] == "EPSG:4550"  # centroid ~122.9°E: CM 123°, zone 41
    minx, miny, maxx, maxy = (float(v) for v in row["bbox"].split(","))
    assert 122 < minx < maxx < 124 and 39.5 < miny < maxy < 41.6


def test_read_regions_from_the_store(store: GeoPackageStore) -> None:
    assert REGIONS_TABLE in store.layers()
    regions = {r.adcode: r for r in read_regions(store)}
    assert set(regions) == {"210000", "220000", "210800", "220400"}
    yingkou = regions["210800"]
    assert (yingkou.key, yingkou.name_zh, yingkou.level, yingkou.parent) == (
        "yingkou",
        "营口市",
        "city",
        "210000",
    )
    assert yingkou.gk_epsg == "EPSG:4550"  # centroid ~122.4°E: CM 123°, zone 41
    assert regions["210000"].key == "liaoning" and regions["210000"].parent is None
    assert regions["220400"].gk_epsg == "EPSG:4551"  # 辽源 ~125.3°E: CM 126°, zone 42


def test_region_folders_are_written_and_removed_whole(
    tmp_path: Path, anshan_features: list[dict[str, Any]]
) -> None:
    folder = write_region_source(tmp_path, "210300", anshan_features)
    assert added_region_dirs(tmp_path) == [folder]
    assert [p.name for p in tmp_path.iterdir()] == ["210300"]  # no temporary left behind
    with pytest.raises(RegionError, match="210300"):
        write_region_source(tmp_path, "210300", anshan_features)
    remove_region_source(tmp_path, "210300")
    assert list(tmp_path.iterdir()) == [] and added_region_dirs(tmp_path) == []
    with pytest.raises(RegionError, match="210300"):
        remove_region_source(tmp_path, "210300")
