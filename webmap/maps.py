"""Folium maps for the pages: offline assets, district base, view-loaded layers, legend.

Folium's default asset lists point at CDNs and are class-level lists shared by every map, so
each map gets its own lists here, naming only files this app serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium
import numpy as np
import shapely
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Environment, Template
from markupsafe import Markup
from shapely.geometry import mapping

from layers.base import DEMO_NOTICE_EN, DEMO_NOTICE_ZH, LayerType
from layers.colours import INK_LIGHT, darken_for
from webmap.regions import RegionView

MAX_ZOOM = 18
PROVINCE_SIMPLIFY_DEG = 0.01
MIN_ZOOM = 4
FEATURES_MAX_ZOOM = 13  # a map fitted to its features opens no closer than this

# Opt-in basemaps. 天地图's *_w layers are Web-Mercator tiles on CGCS2000, which matches our
# WGS84 data at map precision (no GCJ-02 shift, unlike AMap/Baidu tiles).
TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


class _Environment(Environment):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Chinese stays readable and half the size; tojson still escapes < > & ' for <script>.
        self.policies["json.dumps_kwargs"] = {"ensure_ascii": False}


class LutuTemplate(Template):
    environment_class = _Environment


class LutuAssets(JSCSSMixin):
    """Links the app's own copies of Leaflet and 绿图's map script and styles."""

    _template = LutuTemplate("")

    def __init__(self, js: Sequence[tuple[str, str]], css: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "LutuAssets"
        self.default_js = list(js)
        self.default_css = list(css)


class DistrictsLayer(Layer):
    """Administrative boundaries with name labels, embedded in the page (they are the base)."""

    _template = LutuTemplate(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.lutu.districts({{ this.data|tojson }},
            {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], options: dict[str, Any], name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "LutuDistricts"
        self.data = data
        self.options = options


class ViewLayer(Layer):
    """A layer whose features are fetched for the current view (clusters when many)."""

    _template = LutuTemplate(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.lutu.viewLayer({{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, options: dict[str, Any], show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "LutuViewLayer"
        self.options = options


class HtmlControl(folium.MacroElement):
    """A Leaflet control holding server-rendered (escaped) HTML."""

    _template = LutuTemplate(
        """
        {% macro script(this, kwargs) %}
        L.lutu.htmlControl({{ this.html|tojson }}, {{ this.options|tojson }})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html: Markup, position: str, class_name: str) -> None:
        super().__init__()
        self._name = "LutuControl"
        self.html = str(html)
        self.options = {"position": position, "className": class_name}


class FeatureList(folium.MacroElement):
    """要素列表: the features in view as buttons, for the keyboard (see lutu-map.js)."""

    _template = LutuTemplate(
        """
        {% macro script(this, kwargs) %}
        L.lutu.featureList({{ this._parent.get_name() }}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "LutuFeatureList"


class SearchControl(folium.MacroElement):
    """The search box (lutu-search.js): finds features of the map's layers, flies to one and
    opens its popup; `focus` is the feature the page opens on (`?focus=`)."""

    _template = LutuTemplate(
        """
        {% macro script(this, kwargs) %}
        L.lutu.searchControl({{ this.options|tojson }}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__()
        self._name = "LutuSearch"
        self.options = options


def district_geojson(
    view: RegionView,
    fills: Mapping[str, dict[str, Any]] | None = None,
    tooltips: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The region's districts as GeoJSON, with a label point inside each polygon; `fills`
    (adcode -> Leaflet style) colours districts for a choropleth, `tooltips` (adcode -> plain
    text) is what hovering one says."""
    features = []
    for f in view.districts:
        label = f.geometry.representative_point()
        props = {k: f.properties.get(k) for k in ("id", "adcode", "name_zh", "name_en", "level")}
        props["label"] = [round(label.x, 4), round(label.y, 4)]
        if fills and f.properties["adcode"] in fills:
            props["style"] = fills[f.properties["adcode"]]
        if tooltips and f.properties["adcode"] in tooltips:
            props["tooltip"] = tooltips[f.properties["adcode"]]
        geom = f.geometry
        if f.properties.get("level") == "province":  # context only: ~1 km detail is plenty
            geom = geom.simplify(PROVINCE_SIMPLIFY_DEG, preserve_topology=True)
        geom = shapely.transform(geom, lambda xy: np.round(xy, 4))  # 4 decimals: ~10 m
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": props})
    return {"type": "FeatureCollection", "features": features}


# The point symbols of lutu-map.js as SVG in a 16 px box.
POINT_SVG = {
    "circle": '<circle cx="8" cy="8" r="6"',
    "square": '<rect x="2.5" y="2.5" width="11" height="11"',
    "diamond": '<polygon points="8,1 15,8 8,15 1,8"',
    "triangle": '<polygon points="8,1 15,14 1,14"',
}


def swatch_svg(shape: str, style: Mapping[str, Any], marker: str = "circle") -> Markup:
    """A legend swatch drawn as the map draws the class: its colours and its outline pattern
    (`shape` is point, line or area; `marker` the point symbol)."""
    stroke = style.get("color") or "#333333"
    fill = style.get("fillColor", stroke)
    dash = style.get("dashArray") or "none"
    if shape == "point":
        return Markup(
            '<svg class="lutu-swatch lutu-swatch-point" width="16" height="16" viewBox="0 0 16 16"'
            ' aria-hidden="true">{} fill="{}" stroke="{}" stroke-width="{}"'
            ' stroke-dasharray="{}"/></svg>'
        ).format(Markup(POINT_SVG[marker]), fill, stroke, style.get("weight", 1), dash)
    if shape == "line":
        return Markup(
            '<svg class="lutu-swatch lutu-swatch-line" width="26" height="10" viewBox="0 0 26 10"'
            ' aria-hidden="true"><line x1="1" y1="5" x2="25" y2="5" stroke="{}" stroke-width="4"'
            ' stroke-dasharray="{}"/></svg>'
        ).format(stroke, dash)
    return Markup(
        '<svg class="lutu-swatch lutu-swatch-area" width="20" height="14" viewBox="0 0 20 14"'
        ' aria-hidden="true"><rect x="1" y="1" width="18" height="12" fill="{}"'
        ' fill-opacity="{}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/></svg>'
    ).format(fill, max(0.35, float(style.get("fillOpacity", 0.35))), stroke, dash)


def legend_html(
    layers: Sequence[LayerType], fill_legend: Mapping[str, Mapping[str, Any]] | None = None
) -> Markup:
    """The legend, grouped by layer: shape for the layer's geometry, colour and outline
    pattern for its status; `fill_legend` (label -> Leaflet style) explains a choropleth of
    the districts."""
    parts = [
        Markup('<details class="lutu-legend" lang="zh-CN" open><summary>图例 Legend</summary>')
    ]
    for layer in layers:
        parts.append(
            Markup(
                '<div class="lutu-legend-layer" data-layer="{}"><h4>{} <small>{}</small></h4><ul>'
            ).format(layer.id, layer.name_zh, layer.name_en)
        )
        shape = {"Point": "point", "LineString": "line", "MultiLineString": "line"}.get(
            layer.geometry_type, "area"
        )
        for entry, style in zip(layer.legend, layer.legend_styles(), strict=True):
            parts.append(
                Markup("<li>{}{} <small>{}</small></li>").format(
                    swatch_svg(shape, style, layer.marker_shape), entry.label_zh, entry.label_en
                )
            )
        parts.append(Markup("</ul></div>"))
    if fill_legend:
        parts.append(
            Markup(
                '<div class="lutu-legend-layer"><h4>县（市、区）状态 <small>County '
                "status</small></h4><ul>"
            )
        )
        for label, style in fill_legend.items():
            parts.append(Markup("<li>{}{}</li>").format(swatch_svg("area", style), label))
        parts.append(Markup("</ul></div>"))
    parts.append(Markup("</details>"))
    return Markup("").join(parts)


def notice_html(has_demo: bool) -> Markup:
    parts = [Markup('<div class="lutu-notice" lang="zh-CN">')]
    if has_demo:
        parts.append(
            Markup(
                '<b class="lutu-demo-badge">{}</b> 图中设施为虚构的演示数据，'
                "不是官方台账。<small>{}.</small><br>"
            ).format(DEMO_NOTICE_ZH, DEMO_NOTICE_EN)
        )
    parts.append(
        Markup(
            "行政边界为示意，非官方边界 <small>Indicative boundaries, not official"
            "</small> · 坐标系 WGS84/CGCS2000</div>"
        )
    )
    return Markup("").join(parts)


def basemap_layers(config: Mapping[str, Any]) -> list[folium.TileLayer]:
    """The basemaps configuration asks for; none by default (intranets have no internet)."""
    wanted = [b.strip() for b in str(config.get("BASEMAPS") or "").split(",") if b.strip()]
    tiles = []
    for name in wanted:
        if name == "osm":
            tiles.append(
                folium.TileLayer(
                    OSM_URL,
                    name="OpenStreetMap",
                    max_zoom=19,
                    attr="© OpenStreetMap contributors",
                    overlay=False,
                )
            )
        elif name == "tianditu":
            key = config.get("TIANDITU_KEY")
            if not key:
                raise ValueError("BASEMAPS has tianditu but LUTU_TIANDITU_KEY is not set")
            for layer, label in (("vec", "天地图 矢量"), ("img", "天地图 影像")):
                tiles.append(
                    folium.TileLayer(
                        TIANDITU_URL.replace("{layer}", layer).replace("{key}", key),
                        name=label,
                        attr="© 天地图 Tianditu",
                        subdomains="01234567",
                        max_zoom=18,
                        overlay=False,
                    )
                )
            tiles.append(
                folium.TileLayer(
                    TIANDITU_URL.replace("{layer}", "cva").replace("{key}", key),
                    name="天地图 注记",
                    attr="© 天地图",
                    subdomains="01234567",
                    max_zoom=18,
                    overlay=True,
                    show=True,
                )
            )
        elif name == "custom":
            url = config.get("BASEMAP_URL")
            if not url:
                raise ValueError("BASEMAPS has custom but LUTU_BASEMAP_URL is not set")
            tiles.append(
                folium.TileLayer(
                    url,
                    name=config.get("BASEMAP_NAME") or "底图 Basemap",
                    attr=config.get("BASEMAP_ATTRIBUTION") or "底图 Basemap",
                    max_zoom=MAX_ZOOM,
                    overlay=False,
                )
            )
        else:
            raise ValueError(f"unknown basemap {name!r} (use osm, tianditu or custom)")
    return tiles


# Cluster badges: white count on the layer's main colour at the CSS opacity (.lutu-cluster).
CLUSTER_OPACITY = 0.88


def cluster_colour(layer: LayerType) -> str:
    """The layer's main colour, darkened until the badge's white count reads at 4.5:1."""
    return darken_for(INK_LIGHT, layer.legend[0].color, CLUSTER_OPACITY)


def build_map(
    view: RegionView,
    layers: Sequence[LayerType],
    *,
    url_for: Callable[..., str],
    has_demo: bool,
    config: Mapping[str, Any],
    counts: Mapping[str, int] | None = None,
    fills: Mapping[str, dict[str, Any]] | None = None,
    data_args: Mapping[str, Any] | None = None,
    fill_legend: Mapping[str, Mapping[str, Any]] | None = None,
    tooltips: Mapping[str, str] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    focus: Mapping[str, Any] | None = None,
) -> folium.Map:
    """The interactive map of one region: districts as the base, every layer as an overlay.

    `fills` colours districts (a choropleth); `data_args` narrow what the layers fetch (e.g. an
    indicator and year, to show exactly the features behind a number); `tooltips` (adcode ->
    text) label districts on hover; `bounds` (lon/lat) is the view the map opens on (default:
    the region); `focus` (see `webmap.search.focus_arg`) is the feature the map opens on, its
    popup open."""
    minx, miny, maxx, maxy = view.bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=8,
        tiles=None,
        min_zoom=MIN_ZOOM,
        maxZoom=MAX_ZOOM,  # without a tile layer Leaflet needs the map's own maxZoom
        control_scale=True,
        zoom_control=True,
    )
    # Per-instance lists: never mutate folium's class-level CDN defaults.
    m.default_js = []
    m.default_css = []
    LutuAssets(
        js=[
            ("leaflet", url_for("vendor.leaflet", filename="leaflet.js")),
            ("lutu_map", url_for("pages.static", filename="lutu-map.js")),
            ("lutu_search", url_for("pages.static", filename="lutu-search.js")),
        ],
        css=[
            ("leaflet_css", url_for("vendor.leaflet", filename="leaflet.css")),
            ("lutu_search_css", url_for("pages.static", filename="lutu-search.css")),
        ],
    ).add_to(m)
    for tile in basemap_layers(config):
        tile.add_to(m)

    district_layer = next(layer for layer in layers if layer.id == "districts")
    DistrictsLayer(
        district_geojson(view, fills, tooltips),
        {
            "styles": dict(
                zip(district_layer.legend_keys, district_layer.legend_styles(), strict=True)
            ),
            "popupUrl": url_for("pages.popup", layer_id="districts", feature_id="__ID__"),
        },
        name=f"{district_layer.name_zh} {district_layer.name_en}",
    ).add_to(m)
    region_arg = view.region.key
    # Point layers stack by size: the most numerous at the bottom, rare facilities on top.
    points = [layer for layer in layers if layer.geometry_type == "Point"]
    points.sort(key=lambda layer: -(counts or {}).get(layer.id, 0))
    stacking = {layer.id: z for z, layer in enumerate(points)}
    for layer in layers:
        if layer.id == "districts":
            continue
        ViewLayer(
            f"{layer.name_zh} {layer.name_en}",
            {
                "layer": layer.id,
                "name": layer.name_zh,
                "geometryType": layer.geometry_type,
                "pane": "lutu-areas" if layer.map_group == "base" else None,
                "url": url_for(
                    "pages.layer_data", layer_id=layer.id, region=region_arg, **(data_args or {})
                ),
                "popupUrl": url_for("pages.popup", layer_id=layer.id, feature_id="__ID__"),
                "styles": layer.legend_styles(),
                "clusterColor": cluster_colour(layer),
                "z": stacking.get(layer.id, 0),
                "labelZoom": layer.label_min_zoom,
                "shape": layer.marker_shape,
            },
        ).add_to(m)
    SearchControl(
        {
            "url": url_for("search.search", city=region_arg),
            "popupUrl": url_for("pages.popup", layer_id="__LAYER__", feature_id="__ID__"),
            "layers": [layer.id for layer in layers],
            "maxZoom": MAX_ZOOM,
            "focus": dict(focus) if focus else None,
        }
    ).add_to(m)
    HtmlControl(notice_html(has_demo), "topright", "lutu-notice-control").add_to(m)
    HtmlControl(legend_html(layers, fill_legend), "bottomright", "lutu-legend-control").add_to(m)
    folium.LayerControl(position="topleft", collapsed=True).add_to(m)
    FeatureList().add_to(m)
    if bounds is None:
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    else:  # its own features, with room around them; one feature is not shown at street level
        west, south, east, north = bounds
        m.fit_bounds([[south, west], [north, east]], padding=(30, 30), max_zoom=FEATURES_MAX_ZOOM)
    return m


def render_parts(m: folium.Map) -> dict[str, Markup]:
    """The map's header (asset links), body (map div) and script, for the page template."""
    root = m.get_root()
    root.render()
    return {
        "header": Markup(root.header.render()),
        "body": Markup(root.html.render()),
        "script": Markup(root.script.render()),
    }
