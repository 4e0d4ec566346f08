"""The GeoPackage store through its interface: layers, query, get, positions."""

import sqlite3

import pytest
from support import XSS, XSS_BOILER_ID, XSS_POSITION

from geo.errors import FeatureNotFound, LayerNotFound, QueryError
from geo.store import FeatureStore, GeoPackageStore
from layers import all_layers


def test_every_registered_layer_is_stored_with_its_fields(any_store: FeatureStore) -> None:
    stored = any_store.layers()
    for layer in all_layers():
        info = stored[layer.id]
        assert info.geometry_type == layer.geometry_type
        assert info.fields == {f.name: f.type for f in layer.fields}
        assert info.count > 0


def test_every_layer_has_a_spatial_index(store_path) -> None:
    con = sqlite3.connect(store_path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    extensions = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'"
        )
    }
    con.close()
    for layer in all_layers():
        assert f"rtree_{layer.id}_geom" in tables
        assert layer.id in extensions


def test_get_returns_typed_properties(any_store: FeatureStore) -> None:
    feature = any_store.get("coal_boilers", XSS_BOILER_ID)
    assert feature.properties["name"] == XSS
    assert feature.properties["is_demo"] is True
    assert feature.properties["capacity_t_per_h"] == 20.0
    assert feature.properties["status_year"] == 2021
    assert (feature.geometry.x, feature.geometry.y) == pytest.approx(XSS_POSITION)


def test_get_unknown(any_store: FeatureStore) -> None:
    with pytest.raises(FeatureNotFound):
        any_store.get("coal_boilers", "nope")
    with pytest.raises(LayerNotFound):
        any_store.get("no_such_layer", "x")


def test_query_bbox_is_exact_and_counts(any_store: FeatureStore) -> None:
    x, y = XSS_POSITION
    hit = any_store.query("coal_boilers", bbox=(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4))
    assert [f.id for f in hit.features] == [XSS_BOILER_ID]
    assert hit.number_matched == 1
    # a bbox that misses the point by 1e-5 degrees (float32 R-tree boxes are wider than that)
    miss = any_store.query("coal_boilers", bbox=(x + 1e-5, y - 1e-4, x + 1e-3, y + 1e-4))
    assert miss.number_matched == 0


def test_query_paging_filters_and_sorting(any_store: FeatureStore) -> None:
    everything = any_store.query("villages", limit=None, with_geometry=False)
    assert everything.number_matched == len(everything.features)
    page1 = any_store.query("villages", limit=7, offset=0)
    page2 = any_store.query("villages", limit=7, offset=7)
    assert [f.id for f in page1.features + page2.features] == [
        f.id for f in everything.features[:14]
    ]
    assert page1.number_matched == everything.number_matched
    yingkou = any_store.query("villages", filters={"city_adcode": "210800"}, limit=None)
    assert yingkou.number_matched == sum(
        f.properties["city_adcode"] == "210800" for f in everything.features
    )
    both = any_store.query("villages", filters={"city_adcode": ["210800", "220400"]}, limit=0)
    assert both.number_matched == everything.number_matched
    big_first = any_store.query("coal_boilers", sortby=[("capacity_t_per_h", False)], limit=5)
    caps = [f.properties["capacity_t_per_h"] for f in big_first.features]
    assert caps == sorted(caps, reverse=True)
    only = any_store.query("coal_boilers", properties=["status"], limit=1, with_geometry=False)
    assert set(only.features[0].properties) == {"id", "status"}
    assert only.features[0].geometry is None


def test_polygon_bbox_uses_the_geometry_not_its_box(any_store: FeatureStore) -> None:
    # 辽宁's bounding box covers this sea point, its polygon does not
    sea = (120.5, 39.5, 120.51, 39.51)  # Bohai Sea
    assert any_store.query("districts", bbox=sea, filters={"adcode": "210000"}).number_matched == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": {"colour": "red"}}, "no field 'colour'"),
        ({"sortby": [("colour", True)]}, "no field"),
        ({"bbox": (1, 2, 3)}, "four numbers"),
        ({"bbox": (5, 0, 1, 1)}, "greater than"),
        ({"limit": -1}, "negative"),
    ],
)
def test_query_errors(any_store: FeatureStore, kwargs, message) -> None:
    with pytest.raises(QueryError, match=message):
        any_store.query("coal_boilers", **kwargs)


def test_positions_match_query(any_store: FeatureStore) -> None:
    bbox = (121.5, 39.8, 123.0, 41.0)
    pos = any_store.positions("villages", bbox=bbox, extra=["county_adcode"])
    assert len(pos) == any_store.query("villages", bbox=bbox, limit=0).number_matched
    assert set(pos.extra["county_adcode"]) <= {
        f"2108{n}" for n in ("02", "03", "04", "11", "81", "82")
    }
    assert ((pos.x >= bbox[0]) & (pos.x <= bbox[2])).all()


def _table_store(kind: str, table, request: pytest.FixtureRequest, tmp_path) -> FeatureStore:
    """A store of each kind holding only `table`."""
    from geo.store import LayerInfo, build_geopackage
    from geo.store.base import Feature
    from geo.store.memory import MemoryStore
    from geo.store.postgis import PostGISStore, load_postgis

    if kind == "gpkg":
        build_geopackage(tmp_path / "t.gpkg", {}, {"k": "v"}, [table])
        return GeoPackageStore(tmp_path / "t.gpkg")
    if kind == "postgis":
        url = request.getfixturevalue("pg_url")
        load_postgis(url, {}, {"k": "v"}, [table])
        return PostGISStore(url)
    info = LayerInfo(table.name, None, table.fields, len(table.rows), None)
    rows = [Feature(r["id"], {k: r.get(k) for k in table.fields}) for r in table.rows]
    return MemoryStore({table.name: (info, rows)})


@pytest.mark.parametrize("kind", ["gpkg", "memory", "postgis"])
def test_attribute_tables_share_query_and_get(kind: str, request, tmp_path) -> None:
    from geo.store import AttributeTable

    rows = [
        {"id": f"m{i}", "doc": "001" if i % 2 else "000", "n": i, "ok": i > 2} for i in range(6)
    ]
    fields = {"id": "str", "doc": "str", "n": "int", "ok": "bool"}
    store = _table_store(kind, AttributeTable("measures", fields, rows), request, tmp_path)
    info = store.layers()["measures"]
    assert info.geometry_type is None and info.count == 6
    assert info.fields == {"id": "str", "doc": "str", "n": "int", "ok": "bool"}
    page = store.query("measures", filters={"doc": "001"}, sortby=[("n", False)], limit=2)
    assert [f.id for f in page.features] == ["m5", "m3"] and page.number_matched == 3
    assert store.get("measures", "m4").properties == {"id": "m4", "doc": "000", "n": 4, "ok": True}
    assert store.get("measures", "m4").geometry is None
    with pytest.raises(QueryError, match="without geometry"):
        store.query("measures", bbox=(0, 0, 1, 1))
    with pytest.raises(QueryError, match="without geometry"):
        store.positions("measures")
    store.close()


@pytest.mark.parametrize("dimension", [2, 3])
def test_point_index_decodes_2d_and_3d_blobs(dimension: int) -> None:
    import shapely

    from geo.store.gpkg import _point_coordinates

    header = b"GP\x00\x01" + (4326).to_bytes(4, "little")  # no envelope, little endian
    points = [shapely.Point(122.2352, 40.6671, 9.0), shapely.Point(125.1, 42.9, 9.0)]
    rows = [
        (fid, header + shapely.to_wkb(p, output_dimension=dimension))
        for fid, p in enumerate(points, start=1)
    ]
    fids, x, y = _point_coordinates(rows)
    assert list(fids) == [1, 2]
    assert list(x) == [122.2352, 125.1] and list(y) == [40.6671, 42.9]


def _as_rows(store, layer: str, names: list[str]):
    """What `columns` must equal: positions() with the raw values, typed as documented."""
    import numpy as np

    types = store.layer(layer).fields
    pos = store.positions(layer, extra=names)
    typed = {
        n: pos.extra[n] if types[n] == "str" else np.asarray(pos.extra[n], dtype=float)
        for n in names
    }
    return pos, typed


def test_columns_equal_the_rows_for_every_layer_and_field(any_store: FeatureStore) -> None:
    import numpy as np

    store = any_store
    if isinstance(store, GeoPackageStore):  # read from the columnar copy, not the rows
        assert store._columnar == {k for k, i in store.layers().items() if i.geometry_type}
    for layer, info in store.layers().items():
        if info.geometry_type is None:
            continue
        names = list(info.fields)
        cols = store.columns(layer, names)
        pos, typed = _as_rows(store, layer, names)
        assert cols.fids.tolist() == pos.fids.tolist(), layer
        assert cols.x.tolist() == pos.x.tolist() and cols.y.tolist() == pos.y.tolist(), layer
        for name in names:
            got, want = cols.extra[name], typed[name]
            if want.dtype.kind == "f":
                assert got.dtype == np.float64
                assert np.array_equal(got, want, equal_nan=True), (layer, name)
            else:
                assert got.tolist() == want.tolist(), (layer, name)
        assert cols.x.flags.writeable and cols.extra[names[0]].flags.writeable


def test_columns_without_a_columnar_copy_read_the_rows(store_path, tmp_path) -> None:
    import shutil

    import numpy as np

    from geo.store.gpkg import COLUMNS_TABLE

    copy = tmp_path / "old.gpkg"
    shutil.copy(store_path, copy)
    con = sqlite3.connect(copy)
    con.execute(f"DROP TABLE {COLUMNS_TABLE}")
    con.commit()
    con.close()
    stale = tmp_path / "stale.gpkg"  # a copy written by another store format is not read
    shutil.copy(store_path, stale)
    con = sqlite3.connect(stale)
    con.execute("UPDATE lutu_meta SET value = '5' WHERE key = 'store_format'")
    con.commit()
    con.close()
    with GeoPackageStore(stale) as other:
        assert not other._columnar and len(other.columns("villages", ["id"])) > 0
    old, new = GeoPackageStore(copy), GeoPackageStore(store_path)
    names = ["id", "status", "status_year", "capacity_t_per_h"]
    a, b = old.columns("coal_boilers", names), new.columns("coal_boilers", names)
    assert not old._columnar
    assert a.fids.tolist() == b.fids.tolist() and a.x.tolist() == b.x.tolist()
    for name in names:
        assert a.extra[name].dtype == b.extra[name].dtype
        if a.extra[name].dtype.kind == "f":
            assert np.array_equal(a.extra[name], b.extra[name], equal_nan=True)
        else:
            assert a.extra[name].tolist() == b.extra[name].tolist()
    with pytest.raises(QueryError, match="no field"):
        new.columns("coal_boilers", ["nope"])
    with pytest.raises(QueryError, match="without geometry"):
        new.columns("plan_measures", ["id"])
    old.close()
    new.close()


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([2020.0, None, 2025.0], "<i2"),
        ([1.0, 0.0, None], "<i1"),
        ([-127.0, 127.0], "<i1"),
        ([-128.0, 1.0], "<i2"),  # -128 marks null in int8
        ([70000.0, None], "<i4"),
        ([1.5, None], "<f8"),
        ([-0.0, 1.0], "<f8"),  # an integer type would lose the sign
        ([float("inf"), 1.0], "<f8"),
        ([2.0**40, 1.0], "<f8"),
        ([None, None], "<i1"),
        ([], "<i1"),
    ],
)
def test_numbers_are_packed_exactly(values: list, kind: str) -> None:
    import numpy as np

    from geo.store.gpkg import _decode_column, _packed

    numbers = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    packed = _packed(numbers)
    assert packed[0] == kind
    back = _decode_column(*packed)
    assert back.dtype == np.float64 and back.flags.writeable
    assert np.array_equal(back, numbers, equal_nan=True)
    assert np.signbit(back).tolist() == np.signbit(numbers).tolist()


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["a-1", "a-2", "名称"], "text"),
        ([""], "json"),
        (["x", "", "y"], "text"),
        (["运行", None, "运行", "停运"], "str"),
        ([None, None], "str"),
        ([], "str"),
        (["", None, ""], "json"),
        (["a\0b", "c"], "json"),
        (["a", "a"], "str"),
    ],
)
def test_texts_are_stored_exactly(values: list, kind: str) -> None:
    from geo.store.gpkg import _decode_column, _texts

    packed = _texts(values)
    assert packed[0] == kind
    back = _decode_column(*packed)
    assert back.dtype == object and back.tolist() == values
