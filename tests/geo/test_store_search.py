"""Search by name, id, enterprise or operator, and county: one contract for every store."""

from __future__ import annotations

import pytest

from geo.store import GeoPackageStore
from geo.store.base import FeatureStore, Restrictions
from geo.store.memory import CombinedStore, MemoryStore
from geo.store.restricted import RestrictedStore
from geo.store.search import TIERS, search_key

YINGKOU, LIAOYUAN = "210800", "220400"


def test_a_partial_chinese_name_finds_the_village(any_store: FeatureStore) -> None:
    hits = any_store.search("石山")
    first = hits[0]
    assert (first.layer, first.name, first.match, first.field) == (
        "villages",
        "石山村",
        "prefix",
        "name",
    )
    assert first.county == "鲅鱼圈区" and first.county_adcode == "210804"
    minx, miny, maxx, maxy = first.bbox
    assert minx <= first.lon <= maxx and miny <= first.lat <= maxy
    assert 121 < first.lon < 123 and 39 < first.lat < 41
    exact = any_store.search("石山村")[0]
    assert (exact.id, exact.match) == (first.id, "exact")


def test_exact_then_prefix_then_substring_counties_first(any_store: FeatureStore) -> None:
    hits = any_store.search("盖州市", limit=50)
    assert (hits[0].layer, hits[0].id, hits[0].match) == ("districts", "210881", "exact")
    assert hits[0].county == "营口市"  # a county is shown with its city
    tiers = [TIERS.index(h.match) for h in hits]
    assert tiers == sorted(tiers) and len(set(tiers)) >= 2
    county = any_store.search("鲅鱼圈")
    assert (county[0].layer, county[0].name) == ("districts", "鲅鱼圈区")
    assert any(h.layer != "districts" for h in county)  # the county's facilities follow
    assert any_store.search("Gaizhou")[0].id == "210881"  # English names too


def test_ids_whole_partial_and_full_width(any_store: FeatureStore) -> None:
    (first, *_) = any_store.search("yk-boiler-0012")
    assert (first.layer, first.id, first.field, first.match) == (
        "coal_boilers",
        "yk-boiler-0012",
        "id",
        "exact",
    )
    assert "yk-boiler-0012" in [h.id for h in any_store.search("boiler-0012")]
    assert any_store.search("ＹＫ-BOILER-0012")[0].id == "yk-boiler-0012"
    assert search_key("  ＹＫ  Boiler ") == "yk boiler"


def test_enterprise_and_operator(any_store: FeatureStore, store: GeoPackageStore) -> None:
    plant = store.get("wastewater_plants", "yk-wwtp-0001")
    hits = any_store.search(plant.properties["operator"][:6])
    hit = next(h for h in hits if h.id == "yk-wwtp-0001")
    assert hit.field == "operator" and hit.name == plant.properties["name"]
    boiler = store.get("coal_boilers", "yk-boiler-0001")
    hits = any_store.search(boiler.properties["enterprise"], limit=100)
    assert "yk-boiler-0001" in [h.id for h in hits if h.field in ("enterprise", "name")]


def test_each_feature_once_and_the_limit(any_store: FeatureStore) -> None:
    for query in ("村", "热力", "yk", "营口"):
        hits = any_store.search(query, limit=30)
        keys = [(h.layer, h.id) for h in hits]
        assert len(keys) == len(set(keys)) and 0 < len(keys) <= 30, query
    assert len(any_store.search("村", limit=3)) == 3
    assert any_store.search("") == [] and any_store.search("   ") == []
    assert any_store.search("不存在的地名") == [] and any_store.search("%_") == []


def test_region_and_layers_filter(any_store: FeatureStore, store: GeoPackageStore) -> None:
    assert any_store.search("石山", region=[LIAOYUAN]) == []
    assert any_store.search("石山", region=[YINGKOU])[0].name == "石山村"
    cities = {
        a: f.properties.get("parent_adcode")
        for f in store.query("districts", limit=None).features
        for a in [f.properties["adcode"]]
    }
    hits = any_store.search("村", region=[LIAOYUAN], limit=50)
    assert hits and all(
        h.county_adcode in (LIAOYUAN, *[a for a, c in cities.items() if c == LIAOYUAN])
        for h in hits
    )
    counties = any_store.search("区", layers=["districts"], region=[YINGKOU], limit=50)
    assert counties and {h.layer for h in counties} == {"districts"}
    assert all(cities[h.id] == YINGKOU for h in counties)
    assert {h.layer for h in any_store.search("村", layers=["parks"], limit=50)} == {"parks"}


@pytest.mark.parametrize("other", ["memory_store", "pg_store"], ids=["memory", "postgis"])
def test_every_store_answers_like_the_geopackage(
    store: GeoPackageStore, other: str, request: pytest.FixtureRequest
) -> None:
    answering = request.getfixturevalue(other)
    for query in ("石山", "村", "盖州", "0012", "yk-", "热力", "营口港", "东辽"):
        for region in (None, [YINGKOU]):
            expected = store.search(query, region=region, limit=25)
            assert answering.search(query, region=region, limit=25) == expected, query


def test_restricted_layers_and_fields_are_never_found(any_store: FeatureStore) -> None:
    public = RestrictedStore(
        any_store,
        Restrictions(
            frozenset({"coal_boilers"}),
            {"wastewater_plants": frozenset({"operator"}), "parks": frozenset({"name"})},
        ),
    )
    assert any_store.search("yk-boiler-0012")
    assert public.search("yk-boiler-0012") == []
    assert all(h.layer != "coal_boilers" for h in public.search("锅炉", limit=100))
    assert public.search("coal", layers=["coal_boilers"]) == []
    operator = any_store.search("西市区某水务")
    assert operator and operator[0].field == "operator"
    assert all(h.field != "operator" for h in public.search("西市区某水务", limit=100))
    assert public.search("营口市示例第一污水处理厂")[0].id == "yk-wwtp-0001"  # names stay
    # A hidden name is neither searched nor shown; the park is found by what may be seen.
    park = any_store.search("营口经济技术开发区")[0]
    assert (park.layer, park.field, park.name) == ("parks", "name", "营口经济技术开发区")
    seen = [h for h in public.search("营口经济技术开发区", limit=100) if h.layer == "parks"]
    assert seen and all(h.field != "name" and h.name is None for h in seen)


def test_combined_store_merges_in_tier_order(
    store: GeoPackageStore, memory_store: MemoryStore
) -> None:
    villages = MemoryStore({"villages": memory_store.data["villages"]})
    combined = CombinedStore(villages, store)
    hits = combined.search("石山", limit=10)
    assert hits[0].name == "石山村" and hits[0].county is None  # from the memory part
    tiers = [TIERS.index(h.match) for h in hits]
    assert tiers == sorted(tiers)
    assert len([h for h in hits if h.layer == "villages"]) == len(villages.search("石山"))
