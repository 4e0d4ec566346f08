"""The map page and what it fetches, through Flask's test client."""

import re

import pytest
from support import XSS, XSS_BOILER_ID, XSS_POSITION, assert_offline

from layers import all_layers

pytestmark = pytest.mark.both_stores


def test_map_page_is_offline_and_complete(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.findall(r'<script[^>]+src="(/[^"]+)"', html)  # the scripts are this app's
    assert_offline(html)
    assert "https://" not in html
    for layer in all_layers():
        assert layer.name_zh in html
    assert "示例数据" in html  # the demo notice
    assert "示意" in html  # boundaries are indicative
    assert len(response.data) < 1_000_000


@pytest.mark.parametrize("city", ["yingkou", "liaoyuan", "liaoning"])
def test_city_maps(client, city) -> None:
    response = client.get(f"/map?city={city}")
    assert response.status_code == 200
    assert f"region={city}" in response.get_data(as_text=True)


def test_unknown_city_is_a_clear_400(client) -> None:
    response = client.get("/map?city=beijing")
    assert response.status_code == 400
    assert "beijing" in response.get_data(as_text=True)
    assert "没有城市或地区「beijing」 unknown city/region" in response.get_data(as_text=True)


def test_http_errors_say_what_they_mean_in_chinese_first(client) -> None:
    """werkzeug's own words are English only: a page that does not exist leads with 找不到."""
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "找不到页面或数据。The requested URL was not found" in page
    body = client.get("/no-such-page", headers={"Accept": "application/json"}).get_json()
    assert body["error"]["message"].startswith("找不到页面或数据。")


def test_assets_are_served(client) -> None:
    for url in (
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet/leaflet.css",
        "/assets/lutu-map.js",
        "/assets/lutu.css",
    ):
        with client.get(url) as response:  # closes the streamed file
            assert response.status_code == 200, url


def test_layer_data_features_when_few(client) -> None:
    x, y = XSS_POSITION
    data = client.get(
        f"/map/data/coal_boilers?bbox={x - 0.001},{y - 0.001},{x + 0.001},{y + 0.001}&zoom=16"
    ).get_json()
    assert data["mode"] == "features"
    assert [f["id"] for f in data["features"]] == [XSS_BOILER_ID]
    assert data["features"][0]["g"] == pytest.approx(list(XSS_POSITION))


def test_layer_data_clusters_when_many(app, client) -> None:
    app.config["MAP_FEATURE_LIMIT"] = 10
    data = client.get("/map/data/villages?bbox=118,38,132,47&zoom=6").get_json()
    assert data["mode"] == "clusters"
    assert sum(c["n"] for c in data["clusters"]) == data["total"] > 10
    # at the highest zoom nothing is clustered, and what is left out is counted
    data = client.get("/map/data/villages?bbox=118,38,132,47&zoom=18").get_json()
    assert data["mode"] == "features" and len(data["features"]) == 10
    assert data["omitted"] == data["total"] - 10


def test_layer_data_region_filter(client) -> None:
    everything = client.get("/map/data/villages?bbox=118,38,132,47&zoom=18").get_json()
    liaoyuan = client.get("/map/data/villages?bbox=118,38,132,47&zoom=18&region=liaoyuan")
    assert 0 < liaoyuan.get_json()["total"] < everything["total"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/map/data/villages?zoom=5", 400),
        ("/map/data/villages?bbox=1,2,3&zoom=5", 400),
        ("/map/data/villages?bbox=a,b,c,d&zoom=5", 400),
        ("/map/data/villages?bbox=5,2,1,3&zoom=5", 400),
        ("/map/data/nope?bbox=1,2,3,4&zoom=5", 404),
        ("/map/popup/villages/nope", 404),
        ("/map/popup/nope/x", 404),
    ],
)
def test_bad_requests_get_clear_errors(client, url, status) -> None:
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == status
    body = response.get_json()
    assert body["error"]["status"] == status and body["error"]["message"]


def test_popup_is_escaped(client) -> None:
    html = client.get(f"/map/popup/coal_boilers/{XSS_BOILER_ID}").get_data(as_text=True)
    assert "<img" not in html
    assert XSS.replace("<", "&lt;").replace(">", "&gt;") in html
    assert "示例数据" in html
    assert "站前区（210802）" in html  # adcodes read as place names


def test_basemaps_are_opt_in(app, client) -> None:
    assert "tile" not in client.get("/").get_data(as_text=True).lower()
    app.config.update(BASEMAPS="tianditu", TIANDITU_KEY="k3y")
    html = client.get("/").get_data(as_text=True)
    assert "tianditu.gov.cn/vec_w" in html and "tk=k3y" in html
    app.config.update(BASEMAPS="custom", BASEMAP_URL="http://tiles.intranet/{z}/{x}/{y}.png")
    assert "tiles.intranet" in client.get("/").get_data(as_text=True)


def test_basemap_misconfiguration_fails_at_start(store_path) -> None:
    from app import create_app

    with pytest.raises(ValueError, match="LUTU_TIANDITU_KEY"):
        create_app(
            {
                "STORE_PATH": str(store_path),
                "BUILD_ON_START": False,
                "WARM_CACHES": False,
                "BASEMAPS": "tianditu",
            }
        )


def test_point_layers_differ_by_shape_as_well_as_colour(client) -> None:
    """Colour-blind readers tell point layers apart by shape: the map draws each layer's shape
    (the printed report's marker) and the legend shows the same one."""
    from webmap.maps import legend_html

    html = client.get("/map?city=yingkou").get_data(as_text=True)
    points = [layer for layer in all_layers() if layer.geometry_type == "Point"]
    drawn = {"circle": "<circle", "square": "<rect", "diamond": '<polygon points="8,1 15,8'}
    for layer in points:
        assert f'"layer": "{layer.id}"' in html and f'"shape": "{layer.marker_shape}"' in html
        legend = str(legend_html([layer]))
        assert drawn.get(layer.marker_shape, '<polygon points="8,1 15,14') in legend
    shapes = {layer.id: layer.marker_shape for layer in points}
    assert shapes["coal_boilers"] == "square" and shapes["wastewater_plants"] == "diamond"
    assert len(set(shapes.values())) == len(shapes)  # one shape per point layer
