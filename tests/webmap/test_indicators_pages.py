"""The dashboard, indicator pages and /indicators, through Flask's test client."""

import pytest

from plans.indicators import SHIPPED_INDICATORS, evaluate

pytestmark = pytest.mark.both_stores

YINGKOU = "210800"


def test_dashboard_has_a_card_per_indicator_of_the_city(client) -> None:
    for city, adcode in (("yingkou", "210800"), ("liaoyuan", "220400")):
        html = client.get(f"/dashboard?city={city}&year=2025").get_data(as_text=True)
        concerned = [r for r in evaluate_store(client) if any(a.adcode == adcode for a in r.areas)]
        assert html.count('class="lutu-card"') == len(concerned) > 0
        assert "示例数据" in html


def evaluate_store(client, year: int = 2025):
    from webmap.store import get_store

    with client.application.app_context():
        return evaluate(get_store(), year)


def test_year_selector_changes_the_numbers(client) -> None:
    a = client.get("/indicators?year=2020&city=yingkou").get_json()
    b = client.get("/indicators?year=2025&city=yingkou").get_json()
    values = lambda d: [[x["value"] for x in i["areas"]] for i in d["indicators"]]  # noqa: E731
    assert a["year"] == 2020 and b["year"] == 2025
    assert values(a) != values(b)


def test_json_matches_the_engine(client) -> None:
    data = client.get("/indicators?year=2024").get_json()
    expected = evaluate_store(client, 2024)
    assert [i["id"] for i in data["indicators"]] == [r.id for r in expected]
    for got, want in zip(data["indicators"], expected, strict=True):
        assert [a["value"] for a in got["areas"]] == [a.value for a in want.areas]
        assert [a["status"] for a in got["areas"]] == [a.status for a in want.areas]


def test_city_and_county_filters(client) -> None:
    data = client.get("/indicators?city=liaoyuan").get_json()
    for ind in data["indicators"]:
        assert all(a["adcode"] == "220400" or a["parent_adcode"] == "220400" for a in ind["areas"])
    county = client.get("/indicators?county=210804").get_json()
    assert all(
        a["adcode"] in ("210804",) or a["parent_adcode"] == "210804"
        for ind in county["indicators"]
        for a in ind["areas"]
    )


@pytest.mark.parametrize("indicator", [i.id for i in SHIPPED_INDICATORS])
def test_indicator_page_and_its_exact_features(client, indicator) -> None:
    ind = next(i for i in SHIPPED_INDICATORS if i.id == indicator)
    page = client.get(f"/indicators/{indicator}?city=yingkou&year=2025")
    assert page.status_code == 200
    result = client.get(f"/indicators/{indicator}?city=yingkou&year=2025&f=json").get_json()
    area = next((a for a in result["areas"] if a["adcode"] == YINGKOU), None)
    if area is None:
        return  # an indicator for 辽源 only
    data = client.get(
        f"/map/data/{ind.layer}?bbox=118,38,132,47&zoom=18&region=yingkou"
        f"&indicator={indicator}&year=2025"
    ).get_json()
    assert sorted(f["id"] for f in data["features"]) == sorted(area["feature_ids"])


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/dashboard?year=1999", 400),
        ("/dashboard?year=x", 400),
        ("/dashboard?city=beijing", 400),
        ("/indicators/nope", 404),
        ("/indicators?indicator=nope", 404),
    ],
)
def test_bad_requests(client, url, status) -> None:
    assert client.get(url).status_code == status


def test_measure_pages_show_their_indicators(client) -> None:
    html = client.get("/measures/001/三/八").get_data(as_text=True)
    assert "进展指标" in html and "/indicators/" in html
