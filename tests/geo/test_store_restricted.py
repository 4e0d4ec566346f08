"""The restricted view of a store: restricted layers and fields are absent, not hidden."""

from __future__ import annotations

import pytest

from geo.errors import FeatureNotFound, LayerNotFound, QueryError
from geo.store import FeatureStore
from geo.store.base import Restrictions
from geo.store.memory import CombinedStore, MemoryStore
from geo.store.restricted import RestrictedStore, restricted_view

RESTRICTED = Restrictions(
    frozenset({"coal_boilers"}),
    {"wastewater_plants": frozenset({"operator"}), "villages": frozenset({"households"})},
)


@pytest.fixture
def store(any_store: FeatureStore) -> FeatureStore:
    """Every test here runs on each kind of store."""
    return any_store


@pytest.fixture
def public(store: FeatureStore) -> RestrictedStore:
    return RestrictedStore(store, RESTRICTED)


def test_nothing_restricted_is_the_store_itself(store: FeatureStore) -> None:
    assert restricted_view(store, Restrictions()) is store
    assert not Restrictions()
    assert store.restrictions() == Restrictions()


def test_a_restricted_layer_is_absent_as_an_unknown_one(public: RestrictedStore) -> None:
    assert "coal_boilers" not in public.layers()
    assert "parks" in public.layers()
    for read in (
        lambda: public.layer("coal_boilers"),
        lambda: public.query("coal_boilers"),
        lambda: public.get("coal_boilers", "yk-boiler-0001"),
        lambda: public.positions("coal_boilers"),
    ):
        with pytest.raises(LayerNotFound):
            read()


def test_a_restricted_field_is_absent_from_info_and_features(
    public: RestrictedStore, store: FeatureStore
) -> None:
    assert "operator" in store.layer("wastewater_plants").fields
    info = public.layer("wastewater_plants")
    assert "operator" not in info.fields and "name" in info.fields
    assert "operator" not in public.layers()["wastewater_plants"].fields
    every = public.query("wastewater_plants", limit=None).features
    assert every and all("operator" not in f.properties for f in every)
    assert all("name" in f.properties for f in every)
    one = public.get("wastewater_plants", every[0].id)
    assert "operator" not in one.properties and one.geometry is not None
    assert public.query("wastewater_plants", limit=0).number_matched == len(every)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filters": {"operator": "x"}},
        {"sortby": [("operator", True)]},
        {"properties": ["operator"]},
    ],
)
def test_asking_for_a_restricted_field_is_the_no_field_error(
    public: RestrictedStore, kwargs: dict
) -> None:
    with pytest.raises(QueryError, match="has no field 'operator'"):
        public.query("wastewater_plants", **kwargs)


def test_positions_cannot_carry_a_restricted_field(public: RestrictedStore) -> None:
    with pytest.raises(QueryError, match="households"):
        public.positions("villages", extra=["households"])
    assert len(public.positions("villages")) == public.layer("villages").count


def test_tables_naming_layers_lose_the_restricted_ones(
    public: RestrictedStore, store: FeatureStore
) -> None:
    links = store.query("measure_links", limit=None).features
    assert any(f.properties["layer_id"] == "coal_boilers" for f in links)
    kept = public.query("measure_links", limit=None).features
    assert kept and all(f.properties["layer_id"] != "coal_boilers" for f in kept)
    assert len(kept) == len(links) - sum(f.properties["layer_id"] == "coal_boilers" for f in links)
    # Counts, paging and filters agree with what is left.
    assert public.layer("measure_links").count == len(kept)
    assert public.query("measure_links", limit=2, offset=1).number_matched == len(kept)
    assert public.query("measure_links", filters={"layer_id": "coal_boilers"}).features == []
    with pytest.raises(FeatureNotFound):
        public.get("measure_links", next(f.id for f in links if "coal_boilers" in f.id))
    measures = public.query("plan_measures", limit=None).features
    assert all("coal_boilers" not in (f.properties["layers"] or "") for f in measures)
    whole = {
        f.id: f.properties["layers"] for f in store.query("plan_measures", limit=None).features
    }
    assert whole["001/三/八"] == "coal_boilers,built_up_areas,heating_coverage"
    assert public.get("plan_measures", "001/三/八").properties["layers"] == (
        "built_up_areas,heating_coverage"
    )


def test_restrictions_travel_with_combined_views(public: RestrictedStore) -> None:
    combined = CombinedStore(public, MemoryStore({}))
    assert combined.restrictions() == RESTRICTED
    assert (RESTRICTED | Restrictions(frozenset({"parks"}))).hides("parks")
    assert RESTRICTED.hides("villages", "households") and not RESTRICTED.hides("villages", "name")


def test_columns_cannot_carry_a_restricted_field(public: RestrictedStore) -> None:
    with pytest.raises(QueryError, match="households"):
        public.columns("villages", ["id", "households"])
    assert len(public.columns("villages", ["id"])) == public.layer("villages").count
