"""What only the PostGIS store has: its tables in the agreed layout (CGCS2000, GiST), a load
that readers see whole or not at all, the data version, and writes in the caller's
transaction. The interface itself is tested on every store (test_store*.py)."""

from __future__ import annotations

import threading

import psycopg
import pytest
import shapely
from support import boiler_feature

from geo.sources import LayerData, fingerprint
from geo.store.postgis import (
    SRID,
    PostGISStore,
    bump_version,
    ensure_postgis,
    load_postgis,
    read_meta,
    write_features,
)
from layers import all_layers, get_layer


def _boilers(n: int, *, start: int = 0, prefix: str = "b") -> LayerData:
    """n coal boilers on a line east of 122°E."""
    layer = LayerData(schema=get_layer("coal_boilers"))
    for i in range(start, start + n):
        props = boiler_feature(id=f"{prefix}-{i}", name=f"锅炉{i}", status_year=2000 + i % 25)
        layer.ids.append(props["properties"]["id"])
        layer.properties.append(props["properties"])
        layer.geometries.append(shapely.Point(122 + i * 1e-4, 40.5))
    return layer


def _version(url: str) -> int:
    with psycopg.connect(url) as con:
        return con.execute("SELECT version FROM lutu.data_version").fetchone()[0]


def test_layer_tables_are_cgcs2000_with_gist_indexes(pg_store_url: str) -> None:
    with psycopg.connect(pg_store_url) as con:
        columns = {
            table: (srid, kind)
            for table, srid, kind in con.execute(
                "SELECT f_table_name, srid, type FROM geometry_columns "
                "WHERE f_table_schema = 'lutu'"
            )
        }
        indexes = con.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'lutu'"
        ).fetchall()
        fid = con.execute(
            "SELECT data_type, is_identity FROM information_schema.columns "
            "WHERE table_schema = 'lutu' AND table_name = 'villages' AND column_name = 'fid'"
        ).fetchone()
    for layer in all_layers():
        assert columns[layer.id] == (SRID, layer.geometry_type.upper()), layer.id
        defs = [d for t, d in indexes if t == layer.id]
        assert any("USING gist (geom)" in d for d in defs), layer.id
        if "city_adcode" in layer.field_map:
            assert any("(city_adcode, fid)" in d for d in defs), layer.id
    assert fid == ("bigint", "YES")


def test_layer_tables_follow_the_agreed_layout(pg_store_url: str) -> None:
    with psycopg.connect(pg_store_url) as con:
        for layer in all_layers():
            names = [
                name
                for (name,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "'lutu' AND table_name = %s ORDER BY ordinal_position",
                    (layer.id,),
                )
            ]
            fields = [f.name for f in layer.fields if f.name != "id"]
            assert names == ["fid", "id", *fields, "geom"], layer.id
        row = con.execute(
            "SELECT geometry_type, fields, feature_count, bbox FROM lutu.layers "
            "WHERE id = 'coal_boilers'"
        ).fetchone()
    assert row[0] == "Point" and row[1][0] == ["id", "str"] and row[2] > 0 and len(row[3]) == 4


def test_a_reader_sees_the_old_load_or_the_new_never_half(pg_url: str) -> None:
    load_postgis(pg_url, {"coal_boilers": _boilers(100)}, {}, [])
    seen: set[int] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            with PostGISStore(pg_url) as store:
                while not done.is_set():
                    store.refresh()
                    filtered = store.query("coal_boilers", filters={"status": "运行"}, limit=0)
                    seen.add(filtered.number_matched)
                    seen.add(store.layer("coal_boilers").count)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        load_postgis(pg_url, {"coal_boilers": _boilers(20_000)}, {}, [])
    finally:
        done.set()
        reader.join()
    assert not errors
    assert 100 in seen and seen <= {100, 20_000}
    with PostGISStore(pg_url) as store:
        assert store.layer("coal_boilers").count == 20_000


def test_a_failing_load_leaves_the_old_data_and_version(pg_url: str) -> None:
    load_postgis(pg_url, {"coal_boilers": _boilers(10)}, {"k": "old"}, [])
    version = _version(pg_url)
    bad = _boilers(10, start=10)
    bad.properties[7]["status_year"] = "二〇二一"  # not an integer
    with pytest.raises((psycopg.Error, TypeError, ValueError)):
        load_postgis(pg_url, {"coal_boilers": _boilers(50), "villages": bad}, {"k": "new"}, [])
    assert _version(pg_url) == version
    assert read_meta(pg_url)["k"] == "old"
    with PostGISStore(pg_url) as store:
        assert set(store.layers()) == {"coal_boilers"}
        assert store.query("coal_boilers", limit=None).number_matched == 10


def test_refresh_sees_a_change_committed_elsewhere(pg_url: str) -> None:
    load_postgis(pg_url, {"coal_boilers": _boilers(10)}, {}, [])
    with PostGISStore(pg_url) as store:
        assert not store.refresh()
        assert store.layer("coal_boilers").count == 10
        assert store.query("coal_boilers", filters={"status": "运行"}, limit=0).number_matched == 10
        version = store.data_version()
        with psycopg.connect(pg_url) as con:
            props = boiler_feature(id="new-1", name="新锅炉")["properties"]
            write_features(con, "coal_boilers", [("new-1", props, shapely.Point(123, 41))])
            assert bump_version(con) == version + 1
        # Nothing is seen before refresh (what it cached belongs to the old version) ...
        assert store.layer("coal_boilers").count == 10
        assert store.refresh()
        assert not store.refresh()
        # ... and everything after.
        assert store.data_version() == version + 1
        assert store.layer("coal_boilers").count == 11
        assert store.query("coal_boilers", filters={"status": "运行"}, limit=0).number_matched == 11
        assert store.get("coal_boilers", "new-1").properties["name"] == "新锅炉"
        assert store.layer("coal_boilers").bbox[2:] == (123.0, 41.0)
        assert store.search("新锅炉")[0].id == "new-1"


def test_write_features_upserts_by_id_and_deletes_in_one_transaction(pg_url: str) -> None:
    load_postgis(pg_url, {"coal_boilers": _boilers(5)}, {}, [])
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute("LISTEN lutu_data")
        with psycopg.connect(pg_url) as con:
            changed = {**_boilers(5).properties[2], "name": "改名锅炉", "status_year": 2024}
            added = boiler_feature(id="b-new", name="新增锅炉")["properties"]
            write_features(
                con,
                "coal_boilers",
                [("b-2", changed, shapely.Point(121.5, 40.0)), ("b-new", added, None)],
                deletes=["b-0", "b-missing"],
            )
            version = bump_version(con)
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.payload for n in notes] == [str(version)]
    with PostGISStore(pg_url) as store:
        page = store.query("coal_boilers", limit=None)
        assert [f.id for f in page.features] == ["b-1", "b-2", "b-3", "b-4", "b-new"]
        b2 = store.get("coal_boilers", "b-2")
        assert (b2.properties["name"], b2.properties["status_year"]) == ("改名锅炉", 2024)
        assert (b2.geometry.x, b2.geometry.y) == (121.5, 40.0)
        assert store.get("coal_boilers", "b-new").geometry is None
        info = store.layer("coal_boilers")
        assert info.count == 5
        assert info.bbox == (121.5, 40.0, 122 + 4e-4, 40.5)
        assert [h.id for h in store.search("改名锅炉")] == ["b-2"]
        assert store.search("锅炉0") == []  # the deleted feature's name is gone
        positions = store.positions("coal_boilers")
        assert len(positions) == 4  # b-new has no geometry


def test_a_rolled_back_write_leaves_nothing(pg_url: str) -> None:
    load_postgis(pg_url, {"coal_boilers": _boilers(5)}, {}, [])
    version = _version(pg_url)
    with psycopg.connect(pg_url) as con:
        props = boiler_feature(id="b-new")["properties"]
        write_features(con, "coal_boilers", [("b-new", props, shapely.Point(130, 50))], ["b-1"])
        bump_version(con)
        con.rollback()
    assert _version(pg_url) == version
    with PostGISStore(pg_url) as store:
        assert [f.id for f in store.query("coal_boilers", limit=None).features] == [
            f"b-{i}" for i in range(5)
        ]
        assert store.layer("coal_boilers").bbox[2] < 130


def test_ensure_postgis_loads_when_the_inputs_change(pg_url: str, source_dirs, tmp_path) -> None:
    from geo.store import AttributeTable

    calls: list[int] = []

    def tables(data: dict[str, LayerData]) -> list[AttributeTable]:
        calls.append(len(data["districts"]))
        return [AttributeTable("extra", {"id": "str"}, [{"id": "a"}])]

    layers = all_layers()
    assert ensure_postgis(pg_url, layers, source_dirs, tables=tables)
    assert not ensure_postgis(pg_url, layers, source_dirs, tables=tables)
    assert len(calls) == 1
    assert read_meta(pg_url)["sources_fingerprint"].startswith(fingerprint(layers, source_dirs))
    extra = tmp_path / "plan.txt"
    extra.write_text("v1", encoding="utf-8")
    assert ensure_postgis(pg_url, layers, source_dirs, extra_inputs=[extra], tables=tables)
    with PostGISStore(pg_url) as store:
        assert store.layer("extra").count == 1
        assert store.layer("villages").count > 0


def test_columns_read_as_arrays_keep_every_value(pg_url: str) -> None:
    import numpy as np

    notes = ["a\\b", "two\nlines", "tab\there", "\\N", None, "", "普通", "\r\x0b\x08\f"]
    layer = _boilers(len(notes))
    for i, note in enumerate(notes):
        layer.properties[i].update(note=note, is_demo=i % 2 == 0)
    layer.properties[3].update(status_year=None, capacity_t_per_h=None, is_demo=None)
    load_postgis(pg_url, {"coal_boilers": layer}, {}, [])
    names = ["note", "status_year", "capacity_t_per_h", "is_demo"]
    with PostGISStore(pg_url) as store:
        cols = store.columns("coal_boilers", names)
        pos = store.positions("coal_boilers", extra=names)
    assert cols.extra["note"].tolist() == notes == pos.extra["note"].tolist()
    assert cols.fids.tolist() == pos.fids.tolist() == list(range(1, len(notes) + 1))
    assert cols.x.tolist() == [122 + i * 1e-4 for i in range(len(notes))]
    years = [p["status_year"] for p in layer.properties]
    assert pos.extra["status_year"].tolist() == years
    assert np.array_equal(cols.extra["status_year"], np.array(years, dtype=float), equal_nan=True)
    assert pos.extra["is_demo"].tolist() == [p["is_demo"] for p in layer.properties]
    assert np.isnan(cols.extra["is_demo"][3]) and cols.extra["is_demo"][:3].tolist() == [1, 0, 1]
    assert pos.extra["capacity_t_per_h"][3] is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bbox": (121.5, 39.8, 123.0, 41.0), "limit": 7, "offset": 5},
        {"bbox": (121.5, 39.8, 123.0, 41.0), "limit": 1000},
        {"bbox": (0, 0, 1, 1), "limit": 10},
        {"limit": 10, "offset": 250},
        {"limit": 10, "offset": 10_000},
    ],
)
def test_the_point_index_and_sql_answer_alike(pg_store_url: str, kwargs: dict) -> None:
    import time

    with PostGISStore(pg_store_url) as indexed, PostGISStore(pg_store_url) as plain:
        plain.background_points_above = None  # every query in SQL
        indexed.background_points_above = 0  # the index built in the background
        first = indexed.query("villages", **kwargs)  # answered in SQL meanwhile
        deadline = time.monotonic() + 30
        while "villages" not in indexed._point_indexes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "villages" in indexed._point_indexes
        expected = plain.query("villages", **kwargs)
        for got in (first, indexed.query("villages", **kwargs)):
            assert got.number_matched == expected.number_matched
            assert [f.id for f in got.features] == [f.id for f in expected.features]
            assert [f.geometry for f in got.features] == [f.geometry for f in expected.features]


def test_search_after_writes_answers_as_a_fresh_load(pg_url: str, pg_cluster) -> None:
    from support import store_contents

    layer = _boilers(6)
    for i, name in enumerate(["甲热力", "乙热力", "甲热力", "丙", "乙热力", "丁"]):
        layer.properties[i]["name"] = name
    load_postgis(pg_url, {"coal_boilers": layer}, {}, [])
    with psycopg.connect(pg_url) as con:
        renamed = {**layer.properties[0], "name": "乙热力"}  # 甲热力's first feature moves
        write_features(con, "coal_boilers", [("b-0", renamed, shapely.Point(122, 40.5))])
        write_features(con, "coal_boilers", [], deletes=["b-1"])  # 乙热力's first goes
        added = boiler_feature(id="b-9", name="甲热力")["properties"]
        write_features(con, "coal_boilers", [("b-9", added, shapely.Point(122.1, 40.6))])
        moved = {**layer.properties[3], "city_adcode": "220400"}  # same texts, another city
        write_features(con, "coal_boilers", [("b-3", moved, shapely.Point(122, 40.5))])
        bump_version(con)
    fresh_url = pg_cluster.create_database()
    try:
        with PostGISStore(pg_url) as written:
            data, tables = store_contents(written)
            load_postgis(fresh_url, data, {}, tables)
            with PostGISStore(fresh_url) as fresh:
                for query in ("热力", "甲热力", "乙", "b-", "丙", "b-9"):
                    for region in (None, ["210800"], ["220400"]):
                        got = written.search(query, region=region, limit=10)
                        assert got == fresh.search(query, region=region, limit=10), query
                assert [h.id for h in written.search("甲热力")] == ["b-2", "b-9"]
                assert [h.id for h in written.search("乙热力")] == ["b-0", "b-4"]
                assert [h.id for h in written.search("丙", region=["220400"])] == ["b-3"]
    finally:
        pg_cluster.drop_database(fresh_url.split("/")[-1].split("?")[0])


def test_a_nul_in_a_filter_or_search_matches_nothing(pg_store) -> None:
    # PostgreSQL text cannot hold NUL: such a value is in no row, never a server error.
    assert pg_store.query("villages", filters={"name": "石\x00山"}, limit=0).number_matched == 0
    assert pg_store.search("石\x00山") == []
