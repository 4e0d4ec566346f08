"""Popups and measure pages link only the plans that govern the place (issue 18, point 4).

Which file is which (data/plans/README.md, /work/shared/seeds/README.md): 000 and 001 are
营口's plans, 002 and 004 辽源's, 003 辽宁's (the province of 营口; 辽源 is in 吉林省).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from layers import all_layers
from plans.catalog import catalog_view, places_of

YINGKOU, LIAOYUAN, LIAONING, JILIN = "210800", "220400", "210000", "220000"
GOVERNING = {
    YINGKOU: {"000", "001", "003"},
    LIAOYUAN: {"002", "004"},
    LIAONING: {"003"},
    JILIN: set(),
}
MEASURE_HREF = re.compile(r'href="/measures/([^"?]+)"')


def popup_plans(client, layer_id: str, feature_id: str) -> set[str]:
    response = client.get(f"/map/popup/{layer_id}/{feature_id}")
    assert response.status_code == 200, (layer_id, feature_id)
    ids = MEASURE_HREF.findall(response.get_data(as_text=True))
    return {unquote(i).split("/")[0] for i in ids}


def city_of(layer_id: str, props: dict) -> str:
    """The city (or, for a province outline, the province) whose plans may appear."""
    if layer_id == "districts":
        return props["adcode"] if props["level"] != "county" else props["parent_adcode"]
    return props["city_adcode"]


def test_every_shipped_feature_links_only_its_own_city_and_province_plans(client, store) -> None:
    seen: dict[str, set[str]] = {code: set() for code in GOVERNING}
    checked = 0
    for layer in all_layers():
        if layer.id not in store.layers():
            continue
        for f in store.query(layer.id, limit=None, with_geometry=False).features:
            city = city_of(layer.id, f.properties)
            plans = popup_plans(client, layer.id, f.id)
            assert plans <= GOVERNING[city], (layer.id, f.id, city, plans)
            seen[city] |= plans
            checked += 1
    assert checked > 400
    # Each city does see its own plans, and 营口 its province's.
    assert seen[YINGKOU] == {"000", "001", "003"}
    assert seen[LIAOYUAN] == {"002", "004"}


def test_a_yingkou_boiler_links_liaoning_but_no_liaoyuan_plan(client, store) -> None:
    boiler = store.query("coal_boilers", filters={"city_adcode": [YINGKOU]}, limit=1).features[0]
    assert popup_plans(client, "coal_boilers", boiler.id) == {"000", "001", "003"}
    boiler = store.query("coal_boilers", filters={"city_adcode": [LIAOYUAN]}, limit=1).features[0]
    assert popup_plans(client, "coal_boilers", boiler.id) == {"004"}


def test_plan_regions_come_from_the_store_districts(store) -> None:
    catalog = catalog_view(store)
    assert {d: doc["adcode"] for d, doc in catalog.documents.items()} == {
        "000": YINGKOU,
        "001": YINGKOU,
        "002": LIAOYUAN,
        "003": LIAONING,
        "004": LIAOYUAN,  # its news lead's 辽宁省辽源市 is not read
    }
    # A county the districts table does not know still lies in its province (adcode digits).
    assert places_of({"county_adcode": "210999", "city_adcode": "210999"}, {}) == {
        "210999",
        "210000",
    }
    assert places_of({"county_adcode": "210881", "city_adcode": YINGKOU}, catalog.areas) == {
        "210881",
        YINGKOU,
        LIAONING,
    }


@pytest.mark.parametrize(
    ("measure_id", "allowed", "expect"),
    [
        ("001/三/八", {"营口市"}, "营口市"),
        ("002/二/七", {"辽源市"}, "辽源市"),
        ("004/四/一/4", {"辽源市"}, "辽源市"),
        ("003/二/八", {"辽宁省", "营口市"}, None),
    ],
)
def test_a_measure_page_lists_only_indicators_of_its_plans_region(
    client, measure_id: str, allowed: set[str], expect: str | None
) -> None:
    html = client.get(f"/measures/{measure_id}").get_data(as_text=True)
    section = html.split("进展指标", 1)[1].split("</table>", 1)[0] if "进展指标" in html else ""
    areas = set(re.findall(r"</a></td><td>([^<]+)</td>", section))
    assert areas <= allowed, (measure_id, areas)
    if expect:
        assert expect in areas
