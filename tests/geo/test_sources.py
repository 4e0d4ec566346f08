"""Bad input stops the load with file, feature and field named, and the store stays as it was."""

from pathlib import Path

import pytest
from support import SHIPPED_SOURCES, boiler_feature, write_collection

from geo.errors import SourceError
from geo.sources import read_source
from geo.store import GeoPackageStore, ensure_geopackage
from layers import all_layers, get_layer

BOILERS = get_layer("coal_boilers")


def load_one(tmp_path: Path, feature: dict) -> SourceError:
    path = write_collection(tmp_path / "coal_boilers.geojson", [boiler_feature(id="ok"), feature])
    with pytest.raises(SourceError) as info:
        read_source(path, BOILERS)
    return info.value


@pytest.mark.parametrize(
    ("feature", "field", "words"),
    [
        (boiler_feature(colour="red"), "colour", "unknown field"),
        (boiler_feature(status="关停"), "status", "not one of the allowed values"),
        (boiler_feature(capacity_t_per_h="lots"), "capacity_t_per_h", "expected float"),
        (boiler_feature(capacity_t_per_h=None), "capacity_t_per_h", "required"),
        (boiler_feature(status="已替代"), "replacement", "required when status is 已替代"),
        (boiler_feature(status_year=1800), "status_year", "below the minimum"),
        (boiler_feature(geometry=None), "geometry", "no geometry"),
        (boiler_feature(geometry={"type": "Point", "coordinates": []}), "geometry", "geometry"),
        (
            boiler_feature(geometry={"type": "LineString", "coordinates": [[122, 40], [123, 41]]}),
            "geometry",
            "expected a Point",
        ),
        (
            boiler_feature(geometry={"type": "Point", "coordinates": [41500000.0, 4500000.0]}),
            "geometry",
            "not longitude/latitude",
        ),
        (boiler_feature(id="ok"), "id", "duplicate id"),
    ],
)
def test_bad_feature_names_file_feature_and_field(tmp_path, feature, field, words) -> None:
    error = load_one(tmp_path, feature)
    assert error.path.endswith("coal_boilers.geojson")
    assert error.feature == 2
    assert error.field == field
    assert words in str(error)
    assert "coal_boilers.geojson" in str(error) and "feature #2" in str(error)


def test_self_intersecting_polygon_is_rejected(tmp_path) -> None:
    parks = get_layer("parks")
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[122, 40], [122.1, 40.1], [122.1, 40], [122, 40.1], [122, 40]]],
    }
    props = {f.name: None for f in parks.fields}
    props.update(
        id="p1",
        name="园",
        city_adcode="210800",
        county_adcode="210804",
        level="省级",
        park_type="工业园区",
        circular_retrofit_status="实施中",
        is_demo=True,
    )
    path = write_collection(
        tmp_path / "parks.geojson", [{"type": "Feature", "geometry": bowtie, "properties": props}]
    )
    with pytest.raises(SourceError, match="Self-intersection") as info:
        read_source(path, parks)
    assert info.value.field == "geometry"


def test_not_json_names_the_file(tmp_path) -> None:
    path = tmp_path / "coal_boilers.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceError, match="cannot read GeoJSON") as info:
        read_source(path, BOILERS)
    assert info.value.path == str(path)


def test_failed_rebuild_leaves_the_store_as_it_was(tmp_path, store_path) -> None:
    good = tmp_path / "good"
    write_collection(good / "coal_boilers.geojson", [boiler_feature()])
    target = tmp_path / "lutu.gpkg"
    assert ensure_geopackage(target, all_layers(), [*SHIPPED_SOURCES, good])
    before = target.read_bytes()
    write_collection(
        good / "coal_boilers.geojson", [boiler_feature(), boiler_feature(id="bad", status="坏")]
    )
    with pytest.raises(SourceError, match="status"):
        ensure_geopackage(target, all_layers(), [*SHIPPED_SOURCES, good])
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers
    store = GeoPackageStore(target)
    assert store.get("coal_boilers", "test-boiler-1").properties["status"] == "运行"
    store.close()
