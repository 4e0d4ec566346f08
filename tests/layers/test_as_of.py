"""A feature's status "as of year N": each layer's `as_of` rule, checked before, at and after
the feature's year, and against what plans.indicators counts for the same year."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from geo.store import GeoPackageStore
from layers import all_layers, get_layer
from plans.indicators import evaluate

TIMED_LAYERS = {"coal_boilers", "rail_spurs", "wastewater_plants", "parks", "villages"}


def as_of(layer_id: str, properties: dict[str, Any], year: int) -> dict[str, Any] | None:
    return get_layer(layer_id).properties_as_of(properties, year)


def legend_as_of(layer_id: str, properties: dict[str, Any], year: int) -> str:
    state = as_of(layer_id, properties, year)
    assert state is not None
    return get_layer(layer_id).legend_key(state)


# -- which layers change over time ------------------------------------------------------------
def test_the_layers_whose_status_changes_have_a_rule() -> None:
    assert {layer.id for layer in all_layers() if layer.as_of is not None} == TIMED_LAYERS


@pytest.mark.parametrize(
    "layer_id", sorted(layer.id for layer in all_layers() if layer.as_of is None)
)
def test_a_layer_without_rule_is_drawn_as_today(layer_id: str) -> None:
    properties = {"id": "x-1", "name": "某余热", "status": "规划供热", "status_year": 2025}
    state = as_of(layer_id, properties, 2020)
    assert state == properties and state is not properties


# -- coal boilers ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "replacement", "year", "expected", "expected_replacement"),
    [
        ("已淘汰", None, 2022, "运行", None),
        ("已淘汰", None, 2023, "已淘汰", None),
        ("已淘汰", None, 2025, "已淘汰", None),
        ("已替代", "余热", 2022, "运行", None),
        ("已替代", "余热", 2023, "已替代", "余热"),
        ("超低排放改造完成", None, 2022, "运行", None),
        ("超低排放改造完成", None, 2024, "超低排放改造完成", None),
        ("运行", None, 2020, "运行", None),
    ],
)
def test_a_boiler_ran_before_its_status_year(
    status: str, replacement: str | None, year: int, expected: str, expected_replacement: str | None
) -> None:
    boiler = {"id": "b-1", "status": status, "replacement": replacement, "status_year": 2023}
    state = as_of("coal_boilers", boiler, year)
    assert state is not None
    assert state["status"] == expected and state["replacement"] == expected_replacement
    assert state["status_year"] == 2023  # the year the current status began, kept
    assert get_layer("coal_boilers").legend_key(state) == expected


def test_a_boiler_without_status_year_is_left_as_it_is() -> None:
    boiler = {"id": "b-1", "status": "已淘汰", "replacement": None, "status_year": None}
    assert as_of("coal_boilers", boiler, 2020) == boiler


# -- rail spurs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "year", "expected"),
    [
        ("建成", 2022, "在建"),
        ("建成", 2023, "建成"),
        ("建成", 2025, "建成"),
        ("在建", 2022, "规划"),
        ("在建", 2023, "在建"),
        ("规划", 2023, "规划"),
        ("规划", 2024, "规划"),
    ],
)
def test_a_spur_line_was_one_step_earlier_before_its_status_year(
    status: str, year: int, expected: str
) -> None:
    spur = {"id": "s-1", "status": status, "status_year": 2023}
    assert legend_as_of("rail_spurs", spur, year) == expected


def test_a_planned_spur_line_did_not_exist_before_its_status_year() -> None:
    spur = {"id": "s-1", "status": "规划", "status_year": 2023}
    assert as_of("rail_spurs", spur, 2022) is None


def test_a_spur_line_without_status_year_is_left_as_it_is() -> None:
    spur = {"id": "s-1", "status": "规划", "status_year": None}
    assert as_of("rail_spurs", spur, 2020) == spur


# -- wastewater plants ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "year", "expected"),
    [
        ("运行", 2022, "在建"),
        ("运行", 2023, "运行·进水BOD偏低"),  # weak influent: the legend splits 运行
        ("运行", 2025, "运行·进水BOD偏低"),
        ("停运", 2022, "运行·进水BOD偏低"),
        ("停运", 2023, "停运"),
        ("在建", 2022, "在建"),  # no rule for what an 在建 plant was before
        ("规划", 2022, "规划"),
    ],
)
def test_a_plant_runs_from_its_status_year(status: str, year: int, expected: str) -> None:
    plant = {"id": "w-1", "status": status, "status_year": 2023, "influent_bod_mg_l": 80.0}
    assert legend_as_of("wastewater_plants", plant, year) == expected


@pytest.mark.parametrize(
    ("rectification", "year", "expected"),
    [
        ("已完成", 2022, "实施中"),
        ("已完成", 2023, "已完成"),
        ("已完成", 2024, "已完成"),
        ("实施中", 2020, "实施中"),
        ("不需要", 2020, "不需要"),
    ],
)
def test_network_rectification_is_done_from_its_year(
    rectification: str, year: int, expected: str
) -> None:
    plant = {
        "id": "w-1",
        "status": "运行",
        "status_year": 2010,
        "network_rectification": rectification,
        "network_rectification_year": 2023,
    }
    state = as_of("wastewater_plants", plant, year)
    assert state is not None
    assert state["network_rectification"] == expected
    assert state["network_rectification_year"] == 2023


# -- parks ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "year", "expected"),
    [
        ("已完成", 2022, "实施中"),
        ("已完成", 2023, "已完成"),
        ("已完成", 2025, "已完成"),
        ("规划中", 2020, "规划中"),  # only a finished retrofit is placed in time
        ("实施中", 2020, "实施中"),
    ],
)
def test_a_circular_retrofit_is_done_from_its_year(status: str, year: int, expected: str) -> None:
    park = {"id": "p-1", "circular_retrofit_status": status, "circular_retrofit_year": 2023}
    assert legend_as_of("parks", park, year) == expected


def test_a_finished_retrofit_without_year_is_left_as_it_is() -> None:
    park = {"id": "p-1", "circular_retrofit_status": "已完成", "circular_retrofit_year": None}
    assert legend_as_of("parks", park, 2020) == "已完成"


# -- villages -------------------------------------------------------------------------------
VILLAGE = {
    "id": "v-1",
    "beautiful_village_year": None,
    "sewage_treated": True,
    "sewage_year": 2021,
    "clean_heating": True,
    "clean_heating_year": 2023,
    "toilet_retrofit": True,
    "toilet_retrofit_year": 2024,
}


@pytest.mark.parametrize(
    ("year", "flags", "expected"),
    [
        (2020, (False, False, False), "未改造"),
        (2021, (True, False, False), "部分完成"),
        (2023, (True, True, False), "部分完成"),
        (2024, (True, True, True), "三项改造完成"),
        (2025, (True, True, True), "三项改造完成"),
    ],
)
def test_a_village_flag_counts_from_its_year(
    year: int, flags: tuple[bool, bool, bool], expected: str
) -> None:
    state = as_of("villages", VILLAGE, year)
    assert state is not None
    assert (state["sewage_treated"], state["clean_heating"], state["toilet_retrofit"]) == flags
    assert (state["sewage_year"], state["clean_heating_year"], state["toilet_retrofit_year"]) == (
        2021,
        2023,
        2024,
    )
    assert get_layer("villages").legend_key(state) == expected


@pytest.mark.parametrize(
    ("year", "expected"), [(2021, "部分完成"), (2022, "美丽宜居村"), (2025, "美丽宜居村")]
)
def test_a_beautiful_village_counts_from_its_year(year: int, expected: str) -> None:
    village = {**VILLAGE, "beautiful_village_year": 2022}
    assert legend_as_of("villages", village, year) == expected


# -- the input is never changed ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer_id", "properties"),
    [
        ("coal_boilers", {"status": "已替代", "replacement": "电", "status_year": 2024}),
        ("rail_spurs", {"status": "建成", "status_year": 2024}),
        (
            "wastewater_plants",
            {
                "status": "停运",
                "status_year": 2024,
                "network_rectification": "已完成",
                "network_rectification_year": 2024,
            },
        ),
        ("parks", {"circular_retrofit_status": "已完成", "circular_retrofit_year": 2024}),
        ("villages", {**VILLAGE, "beautiful_village_year": 2024}),
    ],
)
def test_the_input_is_not_changed(layer_id: str, properties: dict[str, Any]) -> None:
    before = copy.deepcopy(properties)
    state = as_of(layer_id, properties, 2020)
    assert properties == before
    assert state is not None and state != before and state is not properties


# -- the same states the indicators count -----------------------------------------------------
def city_listed(indicator_id: str, store: GeoPackageStore, year: int, column: str) -> dict:
    """The features an indicator lists in its city areas, with `column` at `year`."""
    (result,) = evaluate(store, year, [indicator_id])
    listed: dict[str, Any] = {}
    for area in result.areas:
        if area.level == "city":
            listed.update(zip(area.feature_ids, area.feature_values[column], strict=True))
    assert not result.outside  # the demo data lies inside the counties
    return listed


def test_boilers_as_of_2022_are_those_the_indicators_count(store: GeoPackageStore) -> None:
    """boilers_large_ultra_low lists every ≥65 t/h boiler still in service at the end of 2022
    with its status then: the same as as_of, and none the rule makes 已淘汰 or 已替代."""
    year = 2022
    layer = get_layer("coal_boilers")
    listed = city_listed("boilers_large_ultra_low", store, year, "status")
    in_service, gone, changed = {}, set(), 0
    for feature in store.query("coal_boilers", limit=None, with_geometry=False).features:
        properties = feature.properties
        if properties["capacity_t_per_h"] < 65:
            continue
        state = layer.properties_as_of(properties, year)
        assert state is not None
        changed += state["status"] != properties["status"]
        if state["status"] in ("已淘汰", "已替代"):
            gone.add(feature.id)
        else:
            in_service[feature.id] = state["status"]
    assert changed > 0  # the year matters for some of them, or this checks little
    assert listed == in_service
    assert gone and not gone & listed.keys()


def test_spurs_as_of_2022_are_those_the_indicators_count(store: GeoPackageStore) -> None:
    """rail_spurs_built lists the lines that existed (as plans at least) at the end of 2022."""
    year = 2022
    layer = get_layer("rail_spurs")
    listed = city_listed("rail_spurs_built", store, year, "status")
    states = {
        f.id: layer.properties_as_of(f.properties, year)
        for f in store.query("rail_spurs", limit=None, with_geometry=False).features
    }
    existing = {fid: s["status"] for fid, s in states.items() if s is not None}
    assert len(existing) < len(states)  # some planned lines did not exist yet
    assert listed == existing


def test_parks_as_of_2022_are_those_the_indicators_count(store: GeoPackageStore) -> None:
    """parks_circular_retrofit lists the provincial-or-higher parks with their status then."""
    year = 2022
    layer = get_layer("parks")
    listed = city_listed("parks_circular_retrofit", store, year, "circular_retrofit_status")
    eligible = {}
    for feature in store.query("parks", limit=None, with_geometry=False).features:
        state = layer.properties_as_of(feature.properties, year)
        assert state is not None
        if state["level"] in ("国家级", "省级"):
            eligible[feature.id] = state["circular_retrofit_status"]
    assert listed == eligible
