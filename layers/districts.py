"""行政区划 Administrative districts: province, city and county outlines (示意 boundaries)."""

from geo.schema import Field
from layers.base import LayerType, LegendEntry, demo_field, id_field

LAYER = LayerType(
    id="districts",
    name_zh="行政区划",
    name_en="Administrative districts",
    geometry_type="MultiPolygon",
    fields=(
        id_field(),
        Field(name="adcode", type="str", label_zh="行政区划代码", label_en="Adcode", required=True),
        Field(
            name="name_zh", type="str", label_zh="名称", label_en="Name (Chinese)", required=True
        ),
        Field(name="name_en", type="str", label_zh="英文名称", label_en="Name (English)"),
        Field(
            name="level",
            type="str",
            label_zh="级别",
            label_en="Level",
            required=True,
            allowed=("province", "city", "county"),
        ),
        Field(name="parent_adcode", type="str", label_zh="上级代码", label_en="Parent adcode"),
        Field(name="boundary_note", type="str", label_zh="边界说明", label_en="Boundary note"),
        demo_field(),
    ),
    status_field="level",
    legend=(
        LegendEntry(
            key="province",
            label_zh="省界",
            label_en="Province",
            color="#555555",
            fill_color="#f7f4ec",
            fill_opacity=1.0,  # land under everything: the map has no tiles by default
        ),
        LegendEntry(
            key="city", label_zh="市界", label_en="City", color="#7a4a8c", fill_color="#ffffff"
        ),
        LegendEntry(
            key="county",
            label_zh="县（市、区）界",
            label_en="County",
            color="#9a8aa6",
            fill_color="#ffffff",
            fill_opacity=0.0,
        ),
    ),
    title_field="name_zh",
    keywords=(
        "各县（市）区政府",
        "各县区政府",
        "县（市）区",
    ),
    demo_order=0,
    map_group="base",
)
