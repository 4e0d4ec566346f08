"""An Excel template per layer: the columns an import understands, with drop-down lists of the
allowed values and a sheet that explains every field, so a ledger starts out importable."""

from __future__ import annotations

import io
from collections.abc import Sequence

from geo.schema import Field, LayerSchema

SHEET = "台账"
HELP_SHEET = "填写说明"
VALUES_SHEET = "取值"
# Filled in by the import itself: the county from the position, the demo flag is for demo data.
AUTOMATIC = frozenset({"is_demo", "city_adcode", "county_adcode"})
TYPE_WORDS = {"str": "文本", "int": "整数", "float": "数值", "bool": "是/否"}
DATA_ROWS = 1000  # rows that get the drop-down lists
GENERAL_NOTES = (
    (
        "坐标系",
        "默认 CGCS2000 经纬度（EPSG:4490，与 WGS84 在地图精度内一致）。"
        "高斯-克吕格坐标、高德（GCJ-02）、百度（BD-09）坐标请在导入时声明。",
    ),
    (
        "自动填写",
        "所属市、县（区）代码按坐标落入的行政区自动填写；"
        "编号留空时按名称与位置生成，重复导入同一台账只更新、不重复。",
    ),
)


def header(f: Field) -> str:
    """A column heading the import maps back to the field: 额定蒸发量（蒸吨/小时）."""
    return f"{f.label_zh}（{f.unit}）" if f.unit else f.label_zh


def coordinate_headers(geometry_type: str) -> tuple[str, ...]:
    return ("经度", "纬度") if geometry_type == "Point" else ("WKT",)


def template_xlsx(schema: LayerSchema, skip: Sequence[str] = tuple(AUTOMATIC)) -> bytes:
    """The template of a layer as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    fields = [f for f in schema.fields if f.name not in skip]
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    columns = [header(f) for f in fields] + list(coordinate_headers(schema.geometry_type))
    sheet.append(columns)
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for number, f in enumerate(fields, start=1):
        cell = sheet.cell(row=1, column=number)
        cell.font = bold
        if f.required and f.name != "id":
            cell.fill = required_fill
        sheet.column_dimensions[get_column_letter(number)].width = max(12, 2 * len(cell.value))
    for offset in range(len(columns) - len(fields)):
        cell = sheet.cell(row=1, column=len(fields) + offset + 1)
        cell.font, cell.fill = bold, required_fill
    sheet.freeze_panes = "A2"

    values = book.create_sheet(VALUES_SHEET)
    listed = 0
    for number, f in enumerate(fields, start=1):
        choices = list(f.allowed or ()) or (["是", "否"] if f.type == "bool" else [])
        if not choices:
            continue
        listed += 1
        values.cell(row=1, column=listed, value=header(f))
        for row, choice in enumerate(choices, start=2):
            values.cell(row=row, column=listed, value=choice)
        letter = get_column_letter(listed)
        source = f"{quote_sheetname(VALUES_SHEET)}!${letter}$2:${letter}${len(choices) + 1}"
        rule = DataValidation(type="list", formula1=source, allow_blank=not f.required)
        rule.error = f"请从下拉列表中选择：{'、'.join(choices)}"
        rule.errorTitle = header(f)
        sheet.add_data_validation(rule)
        column = get_column_letter(number)
        rule.add(f"{column}2:{column}{DATA_ROWS + 1}")
    values.sheet_state = "hidden"

    notes = book.create_sheet(HELP_SHEET)
    notes.append(
        [
            "列名 Column",
            "字段 Field",
            "类型 Type",
            "单位 Unit",
            "必填 Required",
            "取值 Allowed",
            "说明 Notes",
        ]
    )
    for f in fields:
        notes.append(
            [
                header(f),
                f.name,
                TYPE_WORDS[f.type],
                f.unit or "",
                "是" if f.required and f.name != "id" else "否",
                "、".join(f.allowed or ()),
                _field_note(f),
            ]
        )
    for heading in coordinate_headers(schema.geometry_type):
        notes.append(
            [
                heading,
                "geometry",
                "数值" if heading != "WKT" else "文本",
                "",
                "是",
                "",
                _coords_note(heading),
            ]
        )
    notes.append([])
    for topic, text in GENERAL_NOTES:
        notes.append([topic, text])
    for letter, width in zip("ABCDEFG", (22, 20, 8, 12, 8, 36, 48), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _field_note(f: Field) -> str:
    parts = [f.description] if f.description else []
    if f.name == "id":
        parts.append("留空则自动生成；已有编号的行更新原有要素")
    if f.minimum is not None or f.maximum is not None:
        low = "" if f.minimum is None else f"{f.minimum:g}"
        high = "" if f.maximum is None else f"{f.maximum:g}"
        parts.append(f"范围 {low}–{high}")
    return "；".join(parts)


def _coords_note(heading: str) -> str:
    if heading == "WKT":
        return "线或面的 WKT，例如 LINESTRING (122.2 40.6, 122.3 40.7)，经纬度"
    return "十进制度，例如 122.2352" if heading == "经度" else "十进制度，例如 40.6671"
