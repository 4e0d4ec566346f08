"""Restricted layers and fields (RESTRICTED_LAYERS / RESTRICTED_FIELDS) are absent, not hidden,
for anonymous readers: on the map, in the API, the measures and their search, the indicators
and the reports. Logged-in users see all of it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import app_users, logged_in

from plans.indicators import SHIPPED_INDICATORS

pytestmark = pytest.mark.both_stores

RESTRICTED_LAYER = "coal_boilers"
BOILER_ID = "yk-boiler-0001"
BOILER_ENTERPRISE = "大石桥某热力有限公司"  # yk-boiler-0001's operator, in 大石桥市 210882
PLANT_ID = "yk-wwtp-0001"
PLANT_OPERATOR = "西市区某水务有限公司"  # a restricted field's value
BOILER_INDICATORS = [i.id for i in SHIPPED_INDICATORS if RESTRICTED_LAYER in i.layers]
PASSWORD = "restricted annex reader"


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app(
        RESTRICTED_LAYERS=[RESTRICTED_LAYER],
        RESTRICTED_FIELDS="wastewater_plants.operator, villages.households",
    )
    app_users(app).add("王工", PASSWORD, "viewer")
    return app


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def viewer(app: Flask) -> FlaskClient:
    return logged_in(app, "王工", PASSWORD)


def text(client: FlaskClient, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, (url, answer.status_code)
    return answer.get_data(as_text=True)


# Read anonymously, none of these answers may name the restricted layer, its features or the
# restricted fields; read by a viewer, the same answers do.
READ_EVERYWHERE = [
    "/",
    "/map?city=yingkou",
    "/measures",
    "/measures?f=json",
    "/measures?q=锅炉&f=json",
    "/measures/001/三/八",
    "/measures/001/三/八?f=json",
    "/dashboard?city=yingkou",
    "/indicators?features=1",
    "/ogc/collections",
    "/ogc/collections?f=html",
    "/ogc/api",
    "/ogc/collections/measure_links/items?limit=1000",
    "/ogc/collections/plan_measures/items?limit=1000",
    "/ogc/collections/indicators/items?limit=1000",
    f"/map/popup/wastewater_plants/{PLANT_ID}",
    f"/ogc/collections/wastewater_plants/items/{PLANT_ID}",
    "/ogc/collections/wastewater_plants/items?limit=100",
    "/ogc/collections/wastewater_plants/items?limit=100&f=csv",
    "/ogc/collections/wastewater_plants/queryables",
    "/ogc/collections/villages/queryables",
    "/reports",
    "/map/search?q=锅炉&city=yingkou",
    f"/map/search?q={BOILER_ID}",
    f"/map/search?q={PLANT_OPERATOR}",
]
SECRETS = (RESTRICTED_LAYER, BOILER_ID, BOILER_ENTERPRISE, PLANT_OPERATOR, "households")


@pytest.mark.parametrize("url", READ_EVERYWHERE)
def test_anonymous_answers_never_name_restricted_data(anonymous: FlaskClient, url: str) -> None:
    body = text(anonymous, url)
    for secret in SECRETS:
        assert secret not in body, (url, secret)


def test_a_viewer_sees_what_anonymous_readers_do_not(viewer: FlaskClient) -> None:
    seen = "".join(text(viewer, url) for url in READ_EVERYWHERE)
    for secret in (RESTRICTED_LAYER, BOILER_ID, PLANT_OPERATOR, "households"):
        assert secret in seen, secret


@pytest.mark.parametrize(
    "url",
    [
        "/map/data/coal_boilers?bbox=121,39,124,41&zoom=8",
        f"/map/popup/coal_boilers/{BOILER_ID}",
        "/ogc/collections/coal_boilers",
        "/ogc/collections/coal_boilers/items",
        f"/ogc/collections/coal_boilers/items/{BOILER_ID}",
        "/ogc/collections/coal_boilers/queryables",
        "/measures?layer=coal_boilers",
        f"/indicators/{BOILER_INDICATORS[0]}",
        f"/indicators?indicator={BOILER_INDICATORS[0]}",
        "/ledger/template/coal_boilers.xlsx",
    ],
)
def test_restricted_layer_urls_are_not_found(
    anonymous: FlaskClient, viewer: FlaskClient, url: str
) -> None:
    """The same 404 as for a layer that does not exist; a viewer gets the real answer."""
    assert anonymous.get(url).status_code == 404
    assert anonymous.get(url.replace("coal_boilers", "no_such_layer")).status_code == 404
    assert viewer.get(url).status_code == 200


@pytest.mark.parametrize(
    "query",
    ["operator=x", "sortby=operator", "sortby=-operator"],
)
def test_restricted_fields_cannot_be_filtered_or_sorted(
    anonymous: FlaskClient, viewer: FlaskClient, query: str
) -> None:
    url = f"/ogc/collections/wastewater_plants/items?{query}"
    assert anonymous.get(url).status_code == 400
    assert viewer.get(url).status_code == 200


def test_popups_leave_restricted_fields_out(anonymous: FlaskClient, viewer: FlaskClient) -> None:
    url = f"/map/popup/wastewater_plants/{PLANT_ID}"
    assert "运营单位" not in text(anonymous, url)
    assert "运营单位" in text(viewer, url) and PLANT_OPERATOR in text(viewer, url)


def test_indicators_from_restricted_layers_are_absent(anonymous: FlaskClient) -> None:
    results = anonymous.get("/indicators").get_json()["indicators"]
    shown = {r["indicator"]["id"] for r in results}
    assert shown and not shown & set(BOILER_INDICATORS)
    dashboard = text(anonymous, "/dashboard?city=yingkou")
    for ind in SHIPPED_INDICATORS:
        if ind.id in BOILER_INDICATORS:
            assert ind.name_zh not in dashboard
    # The measure still shows (the plan is public), without the boiler indicators.
    page = text(anonymous, "/measures/001/三/八")
    assert "城市建成区" in page
    assert not any(i.name_zh in page for i in SHIPPED_INDICATORS if i.id in BOILER_INDICATORS)


def test_the_api_etag_differs_by_view(anonymous: FlaskClient, viewer: FlaskClient) -> None:
    url = "/ogc/collections"
    public, whole = anonymous.get(url), viewer.get(url)
    assert public.headers["ETag"] != whole.headers["ETag"]
    assert "Cookie" in public.headers["Vary"] and "Authorization" in public.headers["Vary"]
    # A copy of the whole answer is not revalidated for an anonymous reader.
    again = anonymous.get(url, headers={"If-None-Match": whole.headers["ETag"]})
    assert again.status_code == 200 and RESTRICTED_LAYER not in again.get_data(as_text=True)


def test_without_restrictions_answers_do_not_vary_by_cookie(make_app) -> None:
    answer = make_app().test_client().get("/ogc/collections")
    assert "Cookie" not in answer.headers.get("Vary", "")


def _pdf_text(body: bytes, tmp_path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is missing: run `bash scripts/test`, which installs poppler-utils")
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    out = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True, check=True)
    return re.sub(r"\s+", "", out.stdout)


def test_reports_leave_restricted_data_out(
    anonymous: FlaskClient, viewer: FlaskClient, tmp_path: Path
) -> None:
    url = "/reports/county/210882.pdf?year=2025"  # 大石桥市, where yk-boiler-0001 stands
    public, whole = anonymous.get(url), viewer.get(url)
    assert public.status_code == whole.status_code == 200
    assert public.headers["ETag"] != whole.headers["ETag"]
    public_text, whole_text = _pdf_text(public.data, tmp_path), _pdf_text(whole.data, tmp_path)
    assert BOILER_ENTERPRISE in whole_text and "燃煤锅炉" in whole_text
    assert BOILER_ENTERPRISE not in public_text and "燃煤锅炉" not in public_text
    households = re.compile(r"\d户")  # the villages' 规模 column: households, restricted
    assert households.search(whole_text) and not households.search(public_text)


def test_the_report_command_can_print_the_public_view(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    for flag, name in (([], "whole.pdf"), (["--public"], "public.pdf")):
        out = tmp_path / name
        app.config["REPORT_DIR"] = str(tmp_path)
        result = runner.invoke(args=["report", "county", "210882", "--out", str(out), *flag])
        assert result.exit_code == 0, result.output
    assert BOILER_ENTERPRISE in _pdf_text((tmp_path / "whole.pdf").read_bytes(), tmp_path)
    assert BOILER_ENTERPRISE not in _pdf_text((tmp_path / "public.pdf").read_bytes(), tmp_path)


def test_templates_for_anonymous_readers_leave_restricted_fields_out(
    anonymous: FlaskClient, viewer: FlaskClient
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    def headers(client: FlaskClient) -> str:
        answer = client.get("/ledger/template/wastewater_plants.xlsx")
        assert answer.status_code == 200
        sheet = load_workbook(BytesIO(answer.data)).worksheets[0]
        return " ".join(str(c.value) for c in sheet[1] if c.value)

    assert "运营单位" not in headers(anonymous)
    assert "运营单位" in headers(viewer)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"RESTRICTED_LAYERS": ["no_such_layer"]}, "no layer 'no_such_layer'"),
        ({"RESTRICTED_LAYERS": ["districts"]}, "base of every map"),
        ({"RESTRICTED_FIELDS": ["parks.nothing"]}, "no field 'parks.nothing'"),
        ({"RESTRICTED_FIELDS": ["operator"]}, "write it as layer.field"),
        ({"RESTRICTED_FIELDS": ["coal_boilers.status"]}, "cannot be restricted"),
        ({"RESTRICTED_FIELDS": ["wastewater_plants.influent_bod_mg_l"]}, "cannot be restricted"),
        ({"RESTRICTED_FIELDS": ["villages.county_adcode"]}, "cannot be restricted"),
    ],
)
def test_a_bad_restriction_stops_the_app_at_start(make_app, config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_app(**config)


def test_restrictions_come_from_the_environment(make_app, monkeypatch) -> None:
    monkeypatch.setenv("LUTU_RESTRICTED_LAYERS", "coal_boilers,parks")
    client = make_app().test_client()
    ids = {c["id"] for c in client.get("/ogc/collections").get_json()["collections"]}
    assert not ids & {"coal_boilers", "parks"} and "villages" in ids
