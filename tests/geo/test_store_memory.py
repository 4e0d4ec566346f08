"""The in-memory store answers like the GeoPackage store (it serves computed collections), and
the combined store routes each layer to the store that holds it."""

import pytest

from geo.errors import FeatureNotFound, LayerNotFound, QueryError
from geo.store import FeatureStore, GeoPackageStore, Range
from geo.store.memory import CombinedStore, MemoryStore

QUERIES = [
    {},
    {"filters": {"status": "运行"}},
    {"filters": {"status": ["已淘汰", "已替代"], "city_adcode": "210800"}},
    {"filters": {"status_year": Range(2019, 2022)}},
    {"filters": {"status_year": Range(None, 2018)}},
    {"filters": {"replacement": Range()}},
    {"bbox": (122.0, 40.5, 122.5, 40.8)},
    {"sortby": [("capacity_t_per_h", False), ("status_year", True)]},
    {"sortby": [("replacement", True)], "limit": 5, "offset": 3},
    {"filters": {"status_year": Range(2030, None)}},
]


@pytest.fixture(scope="module")
def boilers_in_memory(store: GeoPackageStore) -> MemoryStore:
    info = store.layers()["coal_boilers"]
    return MemoryStore({"coal_boilers": (info, store.query("coal_boilers", limit=None).features)})


@pytest.mark.parametrize("kwargs", QUERIES)
@pytest.mark.parametrize("other", ["memory", "postgis"])
def test_other_stores_answer_like_the_geopackage(
    store: GeoPackageStore, other: str, request: pytest.FixtureRequest, kwargs: dict
) -> None:
    answering = request.getfixturevalue(
        {"memory": "boilers_in_memory", "postgis": "pg_store"}[other]
    )
    kwargs = {"limit": None, **kwargs}
    expected = store.query("coal_boilers", **kwargs)
    got = answering.query("coal_boilers", **kwargs)
    assert got.number_matched == expected.number_matched
    assert [f.id for f in got.features] == [f.id for f in expected.features]
    assert [f.properties for f in got.features] == [f.properties for f in expected.features]
    assert [f.geometry for f in got.features] == [f.geometry for f in expected.features]


def test_range_needs_a_value(any_store: FeatureStore) -> None:
    everything = any_store.query("coal_boilers", limit=None).features
    with_replacement = any_store.query("coal_boilers", filters={"replacement": Range()}, limit=0)
    assert with_replacement.number_matched == sum(
        f.properties["replacement"] is not None for f in everything
    )


def test_memory_store_get_positions_and_errors(boilers_in_memory: MemoryStore) -> None:
    some = boilers_in_memory.query("coal_boilers", limit=1).features[0]
    assert boilers_in_memory.get("coal_boilers", some.id) is not None
    with pytest.raises(FeatureNotFound):
        boilers_in_memory.get("coal_boilers", "nope")
    with pytest.raises(LayerNotFound):
        boilers_in_memory.query("nope")
    with pytest.raises(QueryError):
        boilers_in_memory.query("coal_boilers", filters={"nope": 1})
    with pytest.raises(QueryError):
        boilers_in_memory.query("coal_boilers", sortby=[("nope", True)])
    positions = boilers_in_memory.positions("coal_boilers", extra=["status"])
    assert len(positions) == boilers_in_memory.layers()["coal_boilers"].count
    assert len(positions.extra["status"]) == len(positions)
    typed = boilers_in_memory.columns("coal_boilers", ["status", "status_year"])
    assert typed.x.tolist() == positions.x.tolist()
    assert typed.extra["status"].tolist() == positions.extra["status"].tolist()
    assert typed.extra["status_year"].dtype.kind == "f"


def test_combined_store_routes_by_layer(
    store: GeoPackageStore, boilers_in_memory: MemoryStore
) -> None:
    info = store.layers()["coal_boilers"]
    renamed = MemoryStore({"computed": (info, store.query("coal_boilers", limit=None).features)})
    both = CombinedStore(store, renamed)
    assert set(both.layers()) == set(store.layers()) | {"computed"}
    assert both.query("villages", limit=0).number_matched == store.layers()["villages"].count
    assert both.query("computed", limit=0).number_matched == store.layers()["coal_boilers"].count
    some = both.query("computed", limit=1).features[0]
    assert both.get("computed", some.id).id == some.id
    with pytest.raises(LayerNotFound):
        both.get("nope", "x")
    assert both.layer("computed").count == info.count


def test_a_loader_runs_once_and_only_when_asked(store: GeoPackageStore) -> None:
    calls = []

    def load():
        calls.append(1)
        info = store.layers()["coal_boilers"]
        return {"computed": (info, store.query("coal_boilers", limit=None).features)}

    lazy = MemoryStore(loader=load)
    both = CombinedStore(store, lazy)
    assert both.query("villages", limit=1).number_matched > 0
    assert both.layer("villages").id == "villages"
    assert calls == []  # the stored layers never wake the computed ones
    assert both.layer("computed").count > 0
    both.query("computed", limit=1)
    assert calls == [1]
