"""The parts every layer module declares, and the shared behaviour built on them.

A layer module defines one module-level `LAYER = LayerType(...)`; the registry in
`layers/__init__.py` finds it. Styling and popups are pure functions of a feature's properties,
checked when the layer is defined (folium's habit), so tests look at dicts and strings, not JS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import Markup, escape

from geo.schema import Field, LayerSchema

DEMO_NOTICE_ZH = "示例数据"
# What a missing value reads as, in popups, reports and the legend: ledgers leave optional
# fields empty, and a blank must not look like a value.
NO_DATA = "无数据"
DEMO_NOTICE_EN = "Demonstration data — fictitious, not an official record"


# matplotlib marker -> the shape lutu-map.js draws
MARKER_SHAPES = {"o": "circle", "s": "square", "^": "triangle", "D": "diamond"}


@dataclass(frozen=True)
class MeasureTie:
    """A plan measure a feature's layer is tied to, as the catalog's link table says."""

    id: str  # 001/三/八
    heading: str  # 推动煤炭清洁高效利用
    rule: str = ""  # what the link means for this layer's features
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class LegendEntry:
    """One class of a layer's symbology: a key, its labels and its Leaflet path style."""

    key: str
    label_zh: str
    label_en: str
    color: str
    fill_color: str | None = None
    fill_opacity: float = 0.25
    # Outline pattern (Leaflet dashArray): "" solid; None: the layer gives one by position.
    dash: str | None = None

    def style(self, geometry_type: str, point_radius: float = 6) -> dict[str, Any]:
        fill = self.fill_color or self.color
        dash = {"dashArray": self.dash} if self.dash else {}
        if geometry_type == "Point":
            return {
                "color": "#333333",
                "weight": 1.5 if self.dash else 1,  # a dash needs some width to be seen
                "fillColor": fill,
                "fillOpacity": 0.9,
                "radius": point_radius,
                **dash,
            }
        if geometry_type in ("LineString", "MultiLineString"):
            return {"color": self.color, "weight": 4, "opacity": 0.9, **dash}
        return {
            "color": self.color,
            "weight": 2,
            "fillColor": fill,
            "fillOpacity": self.fill_opacity,
            **dash,
        }


# Outline patterns of a layer's status classes, in legend order: a status reads by its pattern
# too, not by colour alone (colour-blind readers). The first class is solid.
STATUS_PATTERNS = (None, "8 4", "3 3", "10 3 2 3", "14 5", "1 4", "6 2 1 2 1 2")


def _status_classifier(field_name: str) -> Callable[[Mapping[str, Any]], str]:
    def classify(properties: Mapping[str, Any]) -> str:
        return str(properties.get(field_name))

    return classify


@dataclass(frozen=True, kw_only=True)
class LayerType(LayerSchema):
    """A layer type: its schema plus how it is drawn, explained and tied to plan measures."""

    legend: tuple[LegendEntry, ...]
    classify: Callable[[Mapping[str, Any]], str] | None = None  # feature -> legend key
    # The fields a feature's symbol depends on: what `classify` reads, directly or through
    # `as_of` in a year's view. They cannot be restricted (the map would betray them).
    symbol_fields: tuple[str, ...] = ()
    status_field: str | None = None  # default classifier: the value of this field
    # The year the feature's status last changed: what the API's `datetime` filters on.
    temporal_field: str | None = None
    title_field: str = "name"
    popup_fields: tuple[str, ...] | None = None  # None: every field but the internal ones
    keywords: tuple[str, ...] = ()  # words in plan text that suggest a measure concerns us
    demo: Callable[..., list[dict[str, Any]]] | None = None  # demo generator, see layers/demo.py
    demo_order: int = 100  # generators run in this order (context layers first)
    point_radius: float = 6  # map symbol size, so point layers can be told apart
    map_group: str = "facility"  # "base" layers are drawn under the rest and not clustered
    label_min_zoom: int | None = None  # the map names each feature from this zoom (None: never)
    # Printed reports: map labels are a code (B01) keyed to the facility table, and point
    # layers are told apart by marker shape (matplotlib marker; the web map draws the same
    # shape, see marker_shape), status by colour.
    code_prefix: str | None = None  # default: the first letter of the id
    report_marker: str = "o"
    size_field: str | None = None  # the 规模 column of report tables (None: the length of lines)
    # The feature's properties at the end of `year` (a copy); returns None when it did not
    # exist yet. Unset for layers drawn as they are today in every year.
    as_of: Callable[[Mapping[str, Any], int], dict[str, Any] | None] | None = None
    # The same rule as data: the default `[as_of]` of an indicator record counting this
    # layer (schema in plans/records.py; a record may override it). None: every feature is
    # counted as drawn, every year.
    year_rule: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        keys = [e.key for e in self.legend]
        if not keys or len(keys) != len(set(keys)):
            raise ValueError(f"layer {self.id}: legend keys must be present and unique")
        if self.classify is not None and not self.symbol_fields:
            raise ValueError(f"layer {self.id}: name the fields classify reads in symbol_fields")
        for name in self.symbol_fields:
            if name not in self.field_map:
                raise ValueError(f"layer {self.id}: symbol field {name} is not a field")
        if self.classify is None:
            if self.status_field is None:
                if len(keys) != 1:
                    raise ValueError(f"layer {self.id}: several legend entries need a classifier")
            else:
                status = self.field_map[self.status_field]
                missing = set(status.allowed or ()) - set(keys)
                if missing:
                    raise ValueError(f"layer {self.id}: no legend entry for {sorted(missing)}")
        if self.temporal_field is not None and self.field_map[self.temporal_field].type != "int":
            raise ValueError(f"layer {self.id}: temporal field {self.temporal_field} is no year")
        if self.title_field not in self.field_map:
            raise ValueError(f"layer {self.id}: title field {self.title_field} is not a field")
        for name in self.popup_fields or ():
            if name not in self.field_map:
                raise ValueError(f"layer {self.id}: popup field {name} is not a field")

    # -- time ------------------------------------------------------------------------------
    def properties_as_of(self, properties: Mapping[str, Any], year: int) -> dict[str, Any] | None:
        """A feature's properties at the end of `year`, by the layer's `as_of` rule (a copy,
        the input is left alone); None when the feature did not exist yet."""
        if self.as_of is None:
            return dict(properties)
        return self.as_of(properties, year)

    @property
    def locked_fields(self) -> frozenset[str]:
        """Fields that cannot be restricted: the keys every view needs (id, demo flag, place)
        and what decides a feature's symbol or time, which the map would otherwise betray."""
        names = {*LOCATING_FIELDS, *self.symbol_fields, self.status_field, self.temporal_field}
        return frozenset(n for n in names if n is not None and n in self.field_map)

    @property
    def report_code(self) -> str:
        return self.code_prefix or self.id[:1].upper()

    # -- symbology -------------------------------------------------------------------------
    def legend_key(self, properties: Mapping[str, Any]) -> str:
        """The legend class of a feature; a missing status is 无数据 where the legend has that
        class, other unknown values fall back to the first entry."""
        if self.classify is not None:
            key = self.classify(properties)
        elif self.status_field is not None:
            status = properties.get(self.status_field)
            key = NO_DATA if status is None else _status_classifier(self.status_field)(properties)
        else:
            key = self.legend[0].key
        return key if key in self.legend_keys else self.legend[0].key

    @property
    def legend_keys(self) -> tuple[str, ...]:
        return tuple(e.key for e in self.legend)

    def legend_index(self, properties: Mapping[str, Any]) -> int:
        return self.legend_keys.index(self.legend_key(properties))

    def style(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        """Leaflet path options for one feature (a pure function: test the dict)."""
        return self.legend_styles()[self.legend_index(properties)]

    @property
    def marker_shape(self) -> str:
        """The web map's point symbol, the shape of the printed one: layers told apart by
        shape as well as colour (colour-blind readers)."""
        return MARKER_SHAPES.get(self.report_marker, "circle")

    def legend_styles(self) -> list[dict[str, Any]]:
        return [e.style(self.geometry_type, self.point_radius) for e in self.patterned_legend]

    @property
    def patterned_legend(self) -> tuple[LegendEntry, ...]:
        """The legend with an outline pattern per status class (base layers such as the
        districts keep their own solid lines)."""
        if self.map_group == "base" or len(self.legend) < 2:
            return self.legend
        return tuple(
            e if e.dash is not None else replace(e, dash=STATUS_PATTERNS[i % len(STATUS_PATTERNS)])
            for i, e in enumerate(self.legend)
        )

    # -- popups ----------------------------------------------------------------------------
    @property
    def shown_fields(self) -> tuple[Field, ...]:
        names = self.popup_fields
        if names is None:
            names = tuple(f.name for f in self.fields if f.name not in INTERNAL_FIELDS)
        fm = self.field_map
        return tuple(fm[n] for n in names)

    def popup_html(
        self,
        properties: Mapping[str, Any],
        place_names: Mapping[str, str] | None = None,
        measures: Sequence[MeasureTie] = (),
        actions: Sequence[tuple[str, str]] = (),
    ) -> Markup:
        """The popup of one feature, every value escaped: data never becomes markup.

        `place_names` (adcode -> name) lets *_adcode fields read 东丰县（220421）; `measures`
        are the plan measures the catalog ties this layer to, linked to their pages;
        `actions` are (label, url) links at the foot, such as a county's report."""
        title = properties.get(self.title_field) or properties.get("id") or ""
        parts = [Markup('<div class="lutu-popup" lang="zh-CN">')]
        parts.append(
            Markup('<div class="lutu-popup-layer">{} · {}</div>').format(self.name_zh, self.name_en)
        )
        parts.append(Markup('<h4 class="lutu-popup-title">{}</h4>').format(title))
        if properties.get("is_demo"):
            parts.append(
                Markup('<div class="lutu-demo-badge" title="{}">{} · Demo data</div>').format(
                    DEMO_NOTICE_EN, DEMO_NOTICE_ZH
                )
            )
        parts.append(Markup('<table class="lutu-popup-fields"><tbody>'))
        for f in self.shown_fields:
            if f.name == self.title_field or f.name not in properties:
                continue  # already the heading, or restricted (absent) for this reader
            value = format_value(f, properties.get(f.name))
            code = properties.get(f.name)
            if f.name.endswith("_adcode") and place_names and code in place_names:
                value = Markup("{}（{}）").format(place_names[code], code)
            parts.append(
                Markup("<tr><th>{} <small>{}</small></th><td>{}</td></tr>").format(
                    f.label_zh, f.label_en, value
                )
            )
        parts.append(Markup("</tbody></table>"))
        if measures:
            parts.append(
                Markup('<div class="lutu-popup-measures"><b>相关规划措施 Plan measures</b><ul>')
            )
            for m in measures:
                ref = (
                    Markup('<a class="ref" href="{}">{}</a>').format(m.url, m.id)
                    if m.url
                    else Markup('<span class="ref">{}</span>').format(m.id)
                )
                rule = Markup("：{}").format(m.rule) if m.rule else ""
                parts.append(Markup("<li>{} {}{}</li>").format(ref, m.heading, rule))
            parts.append(Markup("</ul></div>"))
        if actions:
            links = Markup(" · ").join(
                Markup('<a href="{}">{}</a>').format(url, label) for label, url in actions
            )
            parts.append(Markup('<div class="lutu-popup-actions">{}</div>').format(links))
        parts.append(
            Markup('<div class="lutu-popup-id">id: {}</div></div>').format(properties.get("id", ""))
        )
        return Markup("").join(parts)


INTERNAL_FIELDS = frozenset({"id", "is_demo"})
LOCATING_FIELDS = frozenset({"id", "is_demo", "city_adcode", "county_adcode"})


def format_value(field: Field, value: Any) -> Markup:
    """A field value for people: units, 是/否 for booleans, 无数据 for missing (all escaped)."""
    if value is None or (isinstance(value, float) and value != value):
        return Markup('<span class="lutu-missing">无数据</span>')
    if field.type == "bool":
        return Markup("是 Yes") if value else Markup("否 No")
    if field.type == "float":
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = str(value)
    if field.unit:
        return escape(text) + Markup(" ") + escape(field.unit)
    return escape(text)


# -- field helpers shared by the layer modules --------------------------------------------
def id_field() -> Field:
    return Field(
        name="id",
        type="str",
        label_zh="编号",
        label_en="ID",
        required=True,
        aliases=("序号编码", "代码", "唯一编号", "code", "fid"),
    )


# Column names ledgers use for a facility's name, whatever the layer.
NAME_ALIASES = ("名称", "设施名称", "项目名称", "单位名称", "企业名称", "name", "title")


def name_field(
    label_zh: str = "名称", label_en: str = "Name", aliases: tuple[str, ...] = ()
) -> Field:
    """The feature's name: required, since a ledger row without id is matched by it."""
    return Field(
        name="name",
        type="str",
        label_zh=label_zh,
        label_en=label_en,
        required=True,
        aliases=(*aliases, *NAME_ALIASES),
    )


def no_data_legend() -> LegendEntry:
    """The legend class of features whose status the ledger left empty."""
    return LegendEntry(
        key=NO_DATA, label_zh="状态无数据", label_en="Status not given", color="#9e9e9e"
    )


def demo_field() -> Field:
    return Field(
        name="is_demo",
        type="bool",
        label_zh="示例数据",
        label_en="Demonstration data",
        required=True,
        description="True for fictitious demonstration features",
    )


def location_fields() -> tuple[Field, ...]:
    """City and county adcodes: the plans make 各县（市）区政府 responsible, so every
    facility carries the county it belongs to."""
    return (
        Field(
            name="city_adcode",
            type="str",
            label_zh="所属市代码",
            label_en="City adcode",
            required=True,
            aliases=("所属市", "所在市", "地市", "市", "city"),
        ),
        Field(
            name="county_adcode",
            type="str",
            label_zh="所属县（市、区）代码",
            label_en="County adcode",
            required=True,
            aliases=(
                "所在区县",
                "所属区县",
                "区县",
                "县区",
                "县（市、区）",
                "县(市、区)",
                "所在县区",
                "行政区",
                "county",
                "district",
            ),
        ),
    )


def year_field(
    name: str, label_zh: str, label_en: str, required: bool = False, aliases: tuple[str, ...] = ()
) -> Field:
    return Field(
        name=name,
        type="int",
        label_zh=label_zh,
        label_en=label_en,
        unit="年",
        minimum=1949,
        maximum=2100,
        required=required,
        aliases=aliases,
        unit_aliases=("年度",),
    )


def note_field() -> Field:
    return Field(
        name="note", type="str", label_zh="备注", label_en="Note", aliases=("说明", "remarks")
    )
