"""What an import would do, row by row, before anything is written (the dry run).

Each row of a ledger is mapped onto the layer's fields (by field name or its Chinese or English
label, units in brackets ignored), its values converted the way a spreadsheet person means them
("是" is True, "1,200" is 1200, a date in a year field is its year), checked against the layer's
rules, placed (see `coords`), given its county from the district outlines, and matched with
the features the layer already has, by id or else by name within MATCH_DISTANCE_M, so that a
re-import updates instead of duplicating. The outcome of a row is add, change, unchanged or
reject (with every reason, each naming the file, the row and the field).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from geo.analysis import gk_zone_epsg, to_local
from geo.errors import LedgerError
from geo.ledger.coords import AREA_TOLERANCE_M, distance_text
from geo.schema import Field, LayerSchema
from geo.store import Feature

if TYPE_CHECKING:
    from geo.ledger.read import Progress, Table

Action = Literal["add", "change", "unchanged", "reject"]
MATCH_DISTANCE_M = 200.0  # the same name this close is the same facility
DERIVED = frozenset({"id", "city_adcode", "county_adcode"})  # from the position when not given
PLACE_FIELDS = ("county_adcode", "city_adcode")  # always from the position; a given one is checked
TRUE_WORDS = frozenset(
    {"是", "有", "已", "√", "✓", "y", "yes", "true", "t", "1", "已完成", "完成", "已改造", "已治理"}
)
FALSE_WORDS = frozenset(
    {"否", "无", "未", "×", "✗", "n", "no", "false", "f", "0", "未完成", "未改造", "未治理", "没有"}
)
# A text cell a spreadsheet would run as a formula (=cmd|' /C calc'!A0 and friends).
FORMULA = re.compile(r"^\s*[=+@]|^\s*-\s*[^\d\s.]")
_UNIT = re.compile(r"[（(][^）)]*[）)]\s*$")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
# A date written as text in a year field: 2023-06-30, 2023/6, 2023.6, 2023年6月30日.
_DATE_TEXT = re.compile(r"(\d{4})\s*(?:[-/.年]\s*\d{1,2}\s*(?:[-/.月]\s*\d{1,2}\s*日?|月)?)?")
_SPACES = re.compile(r"\s+")


@dataclass
class RowOutcome:
    """What the import does with one row of the file."""

    index: int  # into the table's rows
    row: int  # as a person finds it in the file
    action: Action
    feature_id: str | None = None
    properties: dict[str, Any] | None = None  # the layer's fields, converted and checked
    geometry: BaseGeometry | None = None  # WGS84 lon/lat
    before: dict[str, Any] | None = None  # the stored feature it changes
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field: (old, new)
    errors: list[LedgerError] = field(default_factory=list)
    matched_by: str | None = None  # "id" or "name" (within MATCH_DISTANCE_M)
    # What was repaired or guessed on an accepted row, each naming row and column: never silent.
    warnings: list[LedgerError] = field(default_factory=list)


@dataclass
class ImportPlan:
    layer: str
    path: str
    source_crs: str
    columns: dict[str, str]  # file column -> layer field
    ignored_columns: list[str]
    notes: list[str]
    outcomes: list[RowOutcome]
    # Unknown columns -> the fields they could be (best first), for the --column hint and the
    # web form's drop-downs.
    candidates: dict[str, list[str]] = field(default_factory=dict)
    as_of_year: int | None = None  # the ledger's 统计年份, as given on import
    header_row: int | None = None  # where the header was found (None: the first row)
    title_year: int | None = None  # a year in the title rows above the header

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def accepted(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.action in ("add", "change")]

    @property
    def rejected(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.action == "reject"]

    @property
    def errors(self) -> list[LedgerError]:
        return [e for o in self.outcomes for e in o.errors]

    @property
    def warnings(self) -> list[LedgerError]:
        return [w for o in self.outcomes for w in o.warnings]

    def summary(self) -> str:
        counts = "，".join(
            f"{label} {self.count(action)}"
            for action, label in (
                ("add", "新增"),
                ("change", "更新"),
                ("unchanged", "不变"),
                ("reject", "拒绝"),
            )
        )
        warned = sum(1 for o in self.outcomes if o.warnings and o.action != "reject")
        warnings = f"，{warned} 行有提示" if warned else ""
        return f"{self.path} → {self.layer}: {len(self.outcomes)} 行：{counts}{warnings}"


# ------------------------------------------------------------------------------ columns


# Columns that count rows (序号 1, 2, 3 …): not an id — they change when a row is inserted.
ROW_COUNTERS = frozenset({"序号", "序", "行号", "no", "no.", "#"})


def _key(text: str) -> str:
    """A column name as compared: full-width folded, units in brackets, spaces, underscores,
    required-markers (*) and trailing colons dropped, lower case."""
    text = unicodedata.normalize("NFKC", str(text))
    text = _UNIT.sub("", text).strip().lower()
    return re.sub(r"[\s_*＊:：]", "", text)


def _names(f: Field) -> list[tuple[float, str]]:
    """(strength, name) a column may be known by: the field's own name and labels first, then
    its aliases, best first (lower is stronger)."""
    own = [(0.0, n) for n in (f.name, f.label_zh, f.label_en)]
    return own + [(1.0 + i / 100, a) for i, a in enumerate(f.aliases)]


def map_columns(
    columns: Sequence[str], schema: LayerSchema, explicit: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """File column -> field, by `explicit` mapping first, then field name, Chinese or English
    label (units in brackets ignored), then the aliases ledgers use, those of required fields
    first. An alias never takes a field a stronger name already took (单位名称 beside 名称 is
    the operator, alone it is the name). Returns the mapping and the columns left over."""
    mapping: dict[str, str] = {}
    taken: dict[str, tuple[str, float]] = {}  # field: (column, strength; -1 when explicit)
    for column, target in (explicit or {}).items():
        if target not in schema.field_map:
            raise LedgerError(
                f"列「{column}」指定的「{target}」不是{schema.name_zh}的字段 "
                f"column {column!r} is mapped to {target!r}, not a field of {schema.id}"
            )
        if column not in columns:
            continue
        if target in taken:
            raise LedgerError(
                f"「{taken[target][0]}」和「{column}」两列都是{schema.field_map[target].label_zh} "
                f"columns {taken[target][0]!r} and {column!r} both mean field {target!r}",
                field=column,
            )
        mapping[column] = target
        taken[target] = (column, -1.0)
    by_key: dict[str, list[tuple[float, int, str]]] = {}
    for order, f in enumerate(schema.fields):
        for strength, name in _names(f):
            by_key.setdefault(_key(name), []).append((strength, order, f.name))
    required = {f.name for f in schema.fields if f.required}
    # (alias of an optional field, strength, field order, column order, column, field): among
    # aliases a required field chooses first, so 企业名称 alone is a boiler's name, not its
    # operator's, and the file is not refused for want of a name.
    pairs = []
    for position, column in enumerate(columns):
        if column in mapping:
            continue
        for strength, order, name in by_key.get(_key(column), []):
            optional_alias = strength > 0 and name not in required
            pairs.append((optional_alias, strength, order, position, column, name))
    for _optional_alias, strength, _order, _position, column, target in sorted(pairs):
        if column in mapping:
            continue
        if target in taken:
            other, other_strength = taken[target]
            if strength == 0.0 and other_strength == 0.0:
                raise LedgerError(
                    f"「{other}」和「{column}」两列都是{schema.field_map[target].label_zh} "
                    f"columns {other!r} and {column!r} both mean field {target!r}",
                    field=column,
                )
            continue
        mapping[column] = target
        taken[target] = (column, strength)
    ordered = {c: mapping[c] for c in columns if c in mapping}
    return ordered, [c for c in columns if c not in mapping]


def column_candidates(
    column: str, schema: LayerSchema, mapped: Iterable[str], limit: int = 3
) -> list[str]:
    """The fields an unknown column could be, best first: unmapped fields whose names share
    the most with the column's (so 锅炉容量值 offers capacity_t_per_h)."""
    from difflib import SequenceMatcher

    taken = set(mapped)
    key = _key(column)
    scored = []
    for f in schema.fields:
        if f.name in taken or f.name in ("is_demo",):
            continue
        best = max(SequenceMatcher(None, key, _key(n)).ratio() for _, n in _names(f))
        if best >= 0.4:
            scored.append((-best, f.name))
    return [name for _, name in sorted(scored)[:limit]]


def known_header(schema: LayerSchema) -> Callable[[str], bool]:
    """Whether a header cell names a field of `schema` or a coordinate column: how the reader
    finds the header below a ledger's title rows."""
    from geo.ledger.coords import is_coordinate_column

    keys = {_key(name) for f in schema.fields for _, name in _names(f)}

    def known(text: str) -> bool:
        return _key(text) in keys or is_coordinate_column(text)

    return known


# ------------------------------------------------------------------------------ values


def convert(f: Field, value: Any) -> Any:
    """A cell as the field's type, the way the person who typed it meant it; raises
    ValueError with the reason. (`read_value` also says what it repaired or guessed.)"""
    return read_value(f, value)[0]


def read_value(f: Field, value: Any) -> tuple[Any, str | None]:
    """A cell as the field's type, and a warning when reading it took a guess (a synonym for
    an allowed value); raises ValueError with the reason it cannot be read."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, float) and value != value:  # NaN from a GIS attribute
        return None, None
    if f.type == "str":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel keeps codes such as 210881 as numbers
        text = str(value).strip()
        if FORMULA.search(text):
            raise ValueError(
                f"{text!r} 像电子表格公式，请去掉开头的符号 looks like a spreadsheet formula; "
                "remove the leading sign"
            )
        if f.allowed is None or text in f.allowed:
            return text, None
        return _allowed_value(f, text)
    if f.type == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value), None
        word = unicodedata.normalize("NFKC", str(value)).strip().lower()
        if word in TRUE_WORDS:
            return True, None
        if word in FALSE_WORDS:
            return False, None
        raise ValueError(f"{value!r} 不是「是/否」 is not yes/no (是/否)")
    if isinstance(value, bool):
        raise ValueError(f"应为数字 expected a number, got {value!r}")
    if isinstance(value, datetime | date):
        if f.type == "int" and f.unit == "年":
            return value.year, None
        raise ValueError(f"应为数字而非日期 expected a number, got the date {value:%Y-%m-%d}")
    number = _number(f, value) if isinstance(value, str) else float(value)
    if f.type == "int":
        if not number.is_integer():
            raise ValueError(f"{value!r} 不是整数 is not a whole number")
        return int(number), None
    return number, None


def _allowed_value(f: Field, text: str) -> tuple[str, str | None]:
    """An allowed value as ledgers write it: full-width and spaces folded silently (the same
    word), a synonym read with a warning, an ambiguous word refused with why."""
    assert f.allowed is not None
    folded = _fold_word(text)
    if folded in f.allowed:
        return folded, None
    synonyms, ambiguous = _folded_words(f)
    meant = synonyms.get(folded)
    if meant is not None:
        return meant, f"「{text}」读作「{meant}」 read as {meant!r}"
    why = ambiguous.get(folded)
    if why is not None:
        raise ValueError(f"「{text}」含义不明 is ambiguous: {why}")
    raise ValueError(
        f"{text!r} 不在可选值中 is not one of the allowed values: {', '.join(f.allowed)}"
    )


@functools.cache
def _folded_words(f: Field) -> tuple[dict[str, str], dict[str, str]]:
    """The field's synonyms and ambiguous words by their folded spelling (made once)."""
    return (
        {_fold_word(w): m for w, m in f.synonyms},
        {_fold_word(w): why for w, why in f.ambiguous},
    )


def _fold_word(text: str) -> str:
    """A word as compared with allowed values and synonyms: full-width, spaces and case
    folded (｢运 行｣ is 运行, "Phased out" is "phased out")."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _number(f: Field, value: str) -> float:
    """A number typed as text: full-width digits, thousands separators, the field's unit
    after it, a date in a year field. A comma that is no thousands separator (12,5) is
    refused: it could be a decimal point or a typo."""
    text = value.strip()
    try:
        return float(text)  # the common case, full-width digits included
    except ValueError:
        pass
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    for unit in sorted((f.unit or "", *f.unit_aliases), key=len, reverse=True):
        if unit and text.lower().endswith(unit.lower()):
            text = text[: -len(unit)].strip()
            break
    if "," in text:
        if not _THOUSANDS.fullmatch(text):
            raise ValueError(
                f"{value!r} 含义不明：逗号是小数点还是千位分隔？请写成 12.5 或 1200 "
                "is ambiguous: write the number without commas"
            )
        text = text.replace(",", "")
    if f.type == "int" and f.unit == "年":
        m = _DATE_TEXT.fullmatch(text)
        if m:
            return float(m.group(1))
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} 不是数字 is not a number") from None


# ------------------------------------------------------------------------------ plan


def plan_import(
    table: Table,
    schema: LayerSchema,
    existing: Iterable[Feature],
    districts: Sequence[Feature] = (),
    *,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
    title_field: str = "name",
    area: BaseGeometry | None = None,
    area_name: str | None = None,
    area_tolerance_m: float | None = None,
    repair: bool = False,
    as_of_year: int | None = None,
    new_id: Callable[[dict[str, Any], BaseGeometry], str] | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """The dry run of importing `table` into the layer `schema`: one outcome per row.

    `existing` are the layer's stored features (to match), `districts` the district outlines
    (their `adcode`, `level`: a point's county and city come from them; a county the ledger
    gives is checked against the position), `area` the outline coordinates must fall in
    (give or take `area_tolerance_m`: our outlines are indicative), `columns` an explicit
    file column -> field mapping, `as_of_year` the ledger's 统计年份 (dates yes/no flags the
    ledger gives without their year). `progress` hears ("check", rows checked, rows) now and
    then. Nothing is written.
    """
    from geo.ledger.coords import locate
    from geo.ledger.read import PROGRESS_EVERY

    total = len(table.rows)
    if progress is not None:
        progress("check", 0, total)

    path = Path(table.path).name  # the name a person knows; never server folders
    mapping, leftover = map_columns(table.columns, schema, columns)
    located = locate(
        table,
        schema.geometry_type,
        crs=crs,
        area=area,
        area_name=area_name,
        repair=repair,
        area_tolerance_m=area_tolerance_m,
    )
    ignored = [c for c in leftover if c not in located.columns]
    notes = [*table.notes, *located.notes]
    counters = [c for c in ignored if _key(c) in ROW_COUNTERS]
    if counters:
        ignored = [c for c in ignored if c not in counters]
        notes.append(
            f"「{'、'.join(counters)}」是行序号，未导入 a row counter, not imported (rows are "
            "matched by 编号 or by name and place)"
        )
    candidates = {c: column_candidates(c, schema, mapping.values()) for c in ignored}
    if ignored:
        notes.append(
            "未识别的列（未导入） columns not imported (no such field): " + ", ".join(ignored)
        )
    title_year = table.title_year
    if title_year is not None and as_of_year is None and schema.flag_years:
        notes.append(
            f"标题写明 {title_year} 年：如为统计年份，可用 --as-of-year {title_year} 为未填年份的"
            f"「是」记年 the title names {title_year}: give it as the 统计年份 (--as-of-year) "
            "to date yes/no flags without their year"
        )
    fields = schema.field_map
    stored = {f.id: f for f in existing}
    by_name: dict[str, list[Feature]] = {}
    for feature in stored.values():
        by_name.setdefault(str(feature.properties.get(title_field)), []).append(feature)
    place = _district_finder(districts)
    names_of = _district_names(districts)
    where = "/".join(located.columns) or None  # the columns the position came from
    make_id = new_id or (lambda props, geom: _stable_id(schema.id, props, geom, title_field))
    row_warnings = table.row_warnings
    located_warnings = located.warnings
    tolerance_m = area_tolerance_m if area_tolerance_m is not None else AREA_TOLERANCE_M

    column_of = {target: column for column, target in mapping.items()}
    # A field the file has no column for is named as the template heads it: 「状态 status」.
    for f in schema.fields:
        column_of.setdefault(f.name, f"{f.label_zh} {f.name}")
    given_columns = set(mapping.values())
    outcomes: list[RowOutcome] = []
    first_row_of_id: dict[str, int] = {}
    for index, raw in enumerate(table.rows):
        if progress is not None and index and index % PROGRESS_EVERY == 0:
            progress("check", index, total)
        number = table.row_numbers[index]
        outcome = RowOutcome(index=index, row=number, action="reject")
        outcomes.append(outcome)

        def fail(message: str, column: str | None = None, *, _o: RowOutcome = outcome) -> None:
            _o.errors.append(LedgerError(message, path=path, row=_o.row, field=column))

        def warn(message: str, column: str | None = None, *, _o: RowOutcome = outcome) -> None:
            _o.warnings.append(LedgerError(message, path=path, row=_o.row, field=column))

        outcome.warnings.extend(row_warnings.get(index, ()))
        outcome.warnings.extend(located_warnings.get(index, ()))
        props: dict[str, Any] = {}
        for column, target in mapping.items():
            try:
                props[target], guess = read_value(fields[target], raw.get(column))
            except ValueError as exc:
                fail(str(exc), column)
                continue
            if guess:
                warn(guess, column)
        geometry = located.geometries[index]
        if index in located.errors:
            outcome.errors.append(located.errors[index])
        given_place = {name: props.pop(name) for name in PLACE_FIELDS if name in props}
        county = place(geometry) if geometry is not None else {}
        if geometry is not None and not county and districts:
            county, distance_m = _nearest_county(districts, geometry)
            if distance_m is not None and distance_m <= tolerance_m:
                away = distance_text(distance_m)
                warn(
                    f"不在任何区县示意边界内，按最近的区县（{away}）记 "
                    f"outside every county's indicative outline: placed in the nearest county, "
                    f"{county.get('county_adcode')} ({away} away)",
                    where,
                )
            else:
                county = {}
                fail(
                    "位置不在任何区县范围内 the position is in none of the counties of the "
                    "district outlines",
                    where,
                )
        for name, value in county.items():
            if name in fields:
                props[name] = value
        for name, value in given_place.items():
            if value is not None and county:
                _check_place(name, value, county.get(name), names_of, column_of[name], warn)
        if "is_demo" in fields and props.get("is_demo") is None:
            props["is_demo"] = False  # a planner's ledger is real data

        id_from_file = props.get("id") is not None
        match, matched_by = _match(props, geometry, stored, by_name, title_field)
        if props.get("id") is None and match is not None:
            props["id"] = match.id
        if props.get("id") is None and geometry is not None and not outcome.errors:
            props["id"] = make_id(props, geometry)
        bad_columns = {e.field for e in outcome.errors if e.field}
        for f in schema.fields:
            if f.name in given_columns and column_of[f.name] in bad_columns:
                continue  # already said why this value is unusable
            if f.name in DERIVED and props.get(f.name) is None:
                continue  # made from the position (or the name), which has its own error
            if f.name == title_field and id_from_file:
                continue  # an id identifies the row: the name may be empty
            problem = f.check(props.get(f.name))
            if problem:
                fail(problem, column_of[f.name])
        if not outcome.errors:
            row = {name: props.get(name) for name in fields}
            for check in schema.row_checks:
                if check.ok(row):
                    continue
                column = (
                    column_of[check.field]
                    if check.field in given_columns or check.because not in given_columns
                    else column_of[check.because]
                )
                if check.repair is None:
                    fail(check.message, column)
                    continue
                repaired = check.repair(row)
                row.update(repaired)
                props.update(repaired)
                warn(check.repaired, column)
            _date_flags(schema, props, as_of_year, column_of, warn)
        fid = props.get("id")
        if fid is not None:
            if fid in first_row_of_id:
                fail(
                    f"编号 {fid} 重复：第 {first_row_of_id[fid]} 行也用了它 "
                    f"duplicate id {fid!r}: row {first_row_of_id[fid]} has it too",
                    column_of.get("id"),
                )
            else:
                first_row_of_id[fid] = number
        outcome.geometry = geometry  # rejected rows too: the preview map shows where
        if outcome.errors:
            continue
        outcome.feature_id = fid
        outcome.properties = {name: props.get(name) for name in fields}
        before = stored.get(fid) if matched_by != "name" else match
        if before is None:
            outcome.action = "add"
            continue
        outcome.matched_by = matched_by or "id"
        outcome.before = dict(before.properties)
        outcome.changes = {
            name: (before.properties.get(name), value)
            for name, value in outcome.properties.items()
            if before.properties.get(name) != value
        }
        moved = before.geometry is None or not before.geometry.equals_exact(geometry, 1e-7)
        if moved:
            outcome.changes["geometry"] = (before.geometry, geometry)
        outcome.action = "change" if outcome.changes else "unchanged"
    if progress is not None:
        progress("check", total, total)
    return ImportPlan(
        layer=schema.id,
        path=path,
        source_crs=located.source_crs,
        columns=mapping,
        ignored_columns=ignored,
        notes=notes,
        outcomes=outcomes,
        candidates=candidates,
        as_of_year=as_of_year,
        header_row=table.header_row,
        title_year=title_year,
    )


def _date_flags(
    schema: LayerSchema,
    props: dict[str, Any],
    as_of_year: int | None,
    column_of: Mapping[str, str],
    warn: Callable[[str, str | None], None],
) -> None:
    """A yes/no flag the ledger says is done, without the year it was done in: dated from the
    ledger's 统计年份 when given, else left undated (the indicators list it as 年份未知)."""
    for flag, year in schema.flag_years:
        if props.get(flag) is not True or props.get(year) is not None:
            continue
        column = column_of.get(flag, flag)
        label = schema.field_map[year].label_zh
        if as_of_year is not None:
            props[year] = as_of_year
            warn(
                f"未填{label}，按统计年份记为 {as_of_year} 年 no {year}: dated {as_of_year} "
                "from the ledger's 统计年份",
                column,
            )
        else:
            warn(
                f"未填{label}：指标中记为「年份未知」 no {year}: counted as 年份未知 "
                "(give --as-of-year to date it)",
                column,
            )


def _check_place(
    name: str,
    given: Any,
    found: str | None,
    names_of: Mapping[str, Mapping[str, str]],
    column: str,
    warn: Callable[[str, str | None], None],
) -> None:
    """A county (or city) the ledger names, checked against the one its position lies in: the
    position decides, a disagreement is a warning (which of the two is wrong is for the
    planner to see). `names_of` is _district_names."""
    level = "county" if name == "county_adcode" else "city"
    wanted = str(given).strip()
    names = names_of.get(level, {})
    code = wanted if wanted in names else _adcode_of(wanted, names)
    found_name = names.get(found or "", found or "")
    if code is None:
        warn(
            f"不认识「{wanted}」，按坐标记为{found_name}（{found}） unknown {level} {wanted!r}: "
            f"placed by its position in {found}",
            column,
        )
    elif code != found:
        warn(
            f"填写的「{wanted}」与坐标所在的{found_name}（{found}）不符，按坐标记 "
            f"{wanted!r} disagrees with the position, which lies in {found}: the position is kept",
            column,
        )


def _district_names(districts: Sequence[Feature]) -> dict[str, dict[str, str]]:
    """level -> adcode -> Chinese name: made once per import, for every row's check."""
    names: dict[str, dict[str, str]] = {}
    for d in districts:
        level = d.properties.get("level")
        names.setdefault(level, {})[d.properties["adcode"]] = d.properties.get("name_zh", "")
    return names


def _adcode_of(text: str, names: Mapping[str, str]) -> str | None:
    """The adcode of a county or city named the way ledgers name it (盖州市, 盖州, 站前)."""

    def bare(name: str) -> str:
        return re.sub(r"(自治县|新区|市|区|县)$", "", name)

    hits = [code for code, name in names.items() if text in (name, bare(name))]
    if len(hits) == 1:
        return hits[0]
    hits = [code for code, name in names.items() if bare(text) and bare(text) == bare(name)]
    return hits[0] if len(hits) == 1 else None


def _nearest_county(
    districts: Sequence[Feature], geometry: BaseGeometry
) -> tuple[dict[str, str], float | None]:
    """The county whose outline is nearest to a position outside all of them, and how far."""
    counties = [d for d in districts if d.properties.get("level") == "county" and d.geometry]
    if not counties:
        return {}, None
    point = geometry.representative_point()
    nearest = min(counties, key=lambda d: d.geometry.distance(point))
    county = {
        "county_adcode": nearest.properties["adcode"],
        "city_adcode": nearest.properties["parent_adcode"],
    }
    return county, _distance_m(nearest.geometry.boundary, point)


def _match(
    props: Mapping[str, Any],
    geometry: BaseGeometry | None,
    stored: Mapping[str, Feature],
    by_name: Mapping[str, list[Feature]],
    title_field: str,
) -> tuple[Feature | None, str | None]:
    """The stored feature a row updates: the same id, else the same name nearby."""
    fid = props.get("id")
    if fid is not None:
        found = stored.get(fid)
        return (found, "id") if found is not None else (None, None)
    name = props.get(title_field)
    if name is None or geometry is None:
        return None, None
    near = [
        (_distance_m(f.geometry, geometry), f)
        for f in by_name.get(str(name), [])
        if f.geometry is not None
    ]
    near = [(d, f) for d, f in near if d <= MATCH_DISTANCE_M]
    if not near:
        return None, None
    return min(near, key=lambda pair: pair[0])[1], "name"


def _distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Metres between two lon/lat geometries, in the local Gauss-Krüger zone."""
    local_a, local_b = to_local([a, b], gk_zone_epsg(b.representative_point().x))
    return float(local_a.distance(local_b))


def _stable_id(
    layer_id: str, props: Mapping[str, Any], geometry: BaseGeometry, title_field: str
) -> str:
    """An id for a row that has none: the same name at the same place gets the same id, so
    importing the same ledger twice does not duplicate it."""
    point = geometry.representative_point()
    key = f"{props.get(title_field)}|{point.x:.5f}|{point.y:.5f}"
    return f"{layer_id}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def _district_finder(
    districts: Sequence[Feature],
) -> Callable[[BaseGeometry], dict[str, str]]:
    """geometry -> {"county_adcode": …, "city_adcode": …} from the district outlines."""
    counties = [d for d in districts if d.properties.get("level") == "county" and d.geometry]
    if not counties:
        return lambda _geometry: {}
    tree = STRtree([d.geometry for d in counties])

    def find(geometry: BaseGeometry) -> dict[str, str]:
        point = geometry.representative_point()
        for i in tree.query(point, predicate="within"):
            county = counties[int(i)].properties
            return {"county_adcode": county["adcode"], "city_adcode": county["parent_adcode"]}
        return {}

    return find
