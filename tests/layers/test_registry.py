"""Every registered layer is checked here, so a new layer module is tested automatically."""

import re
import textwrap

import pytest
from support import XSS

from geo.errors import LayerNotFound
from layers import all_layers, get_layer, registry
from layers.base import LayerType, LegendEntry, MeasureTie, id_field

LAYERS = all_layers()
IDS = [layer.id for layer in LAYERS]
HEX = re.compile(r"^#[0-9a-f]{6}$")


def test_the_registry_finds_the_layers_the_plans_need() -> None:
    assert set(IDS) >= {
        "parks",
        "coal_boilers",
        "rail_spurs",
        "wastewater_plants",
        "villages",
        "districts",
        "built_up_areas",
        "heating_coverage",
        "waste_heat_sources",
    }
    assert IDS[0] == "districts"  # base layers first
    with pytest.raises(LayerNotFound):
        get_layer("nope")


@pytest.mark.parametrize("layer", LAYERS, ids=IDS)
def test_schema(layer: LayerType) -> None:
    names = [f.name for f in layer.fields]
    assert names[0] == "id" and "is_demo" in names
    assert layer.name_zh and layer.name_en
    for f in layer.fields:
        assert f.label_zh and f.label_en, f.name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", f.name), f.name
        if f.allowed:
            assert len(set(f.allowed)) == len(f.allowed)
    assert layer.keywords, "keywords let the catalog suggest the measures that concern it"


@pytest.mark.parametrize("layer", LAYERS, ids=IDS)
def test_style_is_a_dict_for_every_legend_class(layer: LayerType) -> None:
    for style in layer.legend_styles():
        assert HEX.match(style["color"])
        assert style.get("fillColor") is None or HEX.match(style["fillColor"])
    status = layer.field_map.get(layer.status_field or "")
    for value in status.allowed if status and status.allowed else ():
        key = layer.legend_key({layer.status_field: value})
        assert key in layer.legend_keys
    assert layer.style({}) == layer.legend_styles()[layer.legend_index({})]


@pytest.mark.parametrize("layer", LAYERS, ids=IDS)
def test_popup_escapes_every_value(layer: LayerType) -> None:
    props = {f.name: XSS if f.type == "str" else None for f in layer.fields}
    props["is_demo"] = True
    html = str(layer.popup_html(props))
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "示例数据" in html  # the demo notice
    for f in layer.shown_fields:
        assert f.label_zh in html or f.name == layer.title_field  # the title is the heading


def test_popup_shows_units_and_linked_measures() -> None:
    boilers = get_layer("coal_boilers")
    ties = [
        MeasureTie(
            id="001/三/八", heading="推动煤炭清洁高效利用", rule=XSS, url="/measures/001/三/八"
        )
    ]
    html = str(
        boilers.popup_html(
            {"name": "1号炉", "capacity_t_per_h": 35.0, "is_demo": False}, measures=ties
        )
    )
    assert "35 蒸吨/小时" in html
    assert '<a class="ref" href="/measures/001/三/八">001/三/八</a> 推动煤炭清洁高效利用' in html
    assert "<img" not in html
    assert "示例数据" not in html


def test_legend_must_cover_every_status() -> None:
    with pytest.raises(ValueError, match="no legend entry"):
        LayerType(
            id="x",
            name_zh="x",
            name_en="x",
            geometry_type="Point",
            fields=(id_field(), get_layer("coal_boilers").field_map["status"]),
            title_field="id",
            status_field="status",
            legend=(LegendEntry(key="运行", label_zh="运行", label_en="on", color="#000000"),),
        )


def test_temporal_field_must_be_a_year() -> None:
    boilers = get_layer("coal_boilers")
    assert boilers.field_map[boilers.temporal_field].type == "int"
    with pytest.raises(ValueError, match="temporal field"):
        LayerType(
            id="x",
            name_zh="x",
            name_en="x",
            geometry_type="Point",
            fields=(id_field(), boilers.field_map["status"]),
            title_field="id",
            temporal_field="status",
            legend=(LegendEntry(key="a", label_zh="a", label_en="a", color="#000000"),),
        )


def test_a_new_layer_module_is_discovered(tmp_path, monkeypatch) -> None:
    import layers

    (tmp_path / "bike_sheds.py").write_text(
        textwrap.dedent("""
        from layers.base import LayerType, LegendEntry, demo_field, id_field, name_field
        LAYER = LayerType(id="bike_sheds", name_zh="车棚", name_en="Bike sheds",
                          geometry_type="Point", fields=(id_field(), name_field(), demo_field()),
                          legend=(LegendEntry(key="x", label_zh="车棚", label_en="Shed",
                                              color="#123456"),))
    """),
        encoding="utf-8",
    )
    monkeypatch.setattr(layers, "__path__", [*layers.__path__, str(tmp_path)])
    registry.cache_clear()
    try:
        assert "bike_sheds" in registry()
    finally:
        registry.cache_clear()


def test_a_classifier_names_the_fields_it_reads() -> None:
    """Such fields decide the symbol, so they are locked against restriction."""
    for layer in all_layers():
        if layer.classify is not None:
            assert layer.symbol_fields, layer.id
            assert set(layer.symbol_fields) <= layer.locked_fields
    with pytest.raises(ValueError, match="symbol_fields"):
        LayerType(
            id="x",
            name_zh="x",
            name_en="x",
            geometry_type="Point",
            fields=(id_field(),),
            legend=(
                LegendEntry(key="a", label_zh="a", label_en="a", color="#000"),
                LegendEntry(key="b", label_zh="b", label_en="b", color="#111"),
            ),
            classify=lambda p: "a",
            title_field="id",
        )


def test_a_popup_leaves_out_fields_absent_from_the_properties() -> None:
    """A restricted field is absent (not None) in the public view: no row at all."""
    plants = get_layer("wastewater_plants")
    shown = {"id": "p1", "name": "厂", "operator": None, "status": "运行"}
    assert "运营单位" in plants.popup_html(shown)
    del shown["operator"]
    html = plants.popup_html(shown)
    assert "运营单位" not in html and "状态" in html
