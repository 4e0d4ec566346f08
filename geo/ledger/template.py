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
        "所属市、县（区）代码按坐标落入的行政区自动填写（台账里的「所在区县」列会与坐标核对，"
        "不符时提示）；编号留空时按名称与位置生成，重复导入同一台账只更新、不重复。",
    ),
    (
        "可不填的列",
        "非必填的列可以没有或留空：地图弹窗、指标和报告里显示为「无数据」，不会因此拒绝整行。",
    ),
    (
        "全部或不写入",
        "有任何一行被拒绝时，默认一行也不写入；可改正后重新导入，或选择只导入可接受的行（留痕中记录）。",
    ),
    (
        "表头",
        "表头上方可以有标题行（如「某市燃煤锅炉台账（2023年）」），导入时自动找到表头，也可指定表头所在行。",
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
            "也认的列名 Also read as",
            "也认的写法 Also written (read with a warning)",
            "不接受的写法 Refused as ambiguous",
        ]
    )
    conditions = _conditions(schema)
    for f in fields:
        notes.append(
            [
                header(f),
                f.name,
                TYPE_WORDS[f.type],
                "、".join(u for u in (f.unit, *f.unit_aliases) if u),
                _required_word(f, conditions),
                "、".join(f.allowed or ()),
                _field_note(f),
                "、".join(f.aliases),
                "；".join(f"{written}→{meant}" for written, meant in f.synonyms),
                "；".join(f"{word}：{why}" for word, why in f.ambiguous),
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
    widths = (22, 20, 8, 12, 14, 36, 48, 36, 48, 48)
    for letter, width in zip("ABCDEFGHIJ", widths, strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _conditions(schema: LayerSchema) -> dict[str, list[str]]:
    """Row rules by field: when an optional field must be given, or how it is filled in."""
    found: dict[str, list[str]] = {}
    for check in schema.row_checks:
        found.setdefault(check.field, []).append(check.message.split(" ")[0])
    for _flag, year in schema.flag_years:
        found.setdefault(year, []).append(
            "为「是」却未填年份时：导入时给出统计年份则按统计年份记，否则指标中记为「年份未知」"
        )
    return found


def _required_word(f: Field, conditions: dict[str, list[str]]) -> str:
    if f.name == "id":
        return "否（留空自动生成）"
    if f.required:
        return "是"
    return "；".join(["视情况", *conditions[f.name]]) if f.name in conditions else "否"


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
