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

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from geo.analysis import gk_zone_epsg, to_local
from geo.errors import LedgerError
from geo.schema import Field, LayerSchema
from geo.store import Feature

if TYPE_CHECKING:
    from geo.ledger.read import Progress, Table

Action = Literal["add", "change", "unchanged", "reject"]
MATCH_DISTANCE_M = 200.0  # the same name this close is the same facility
DERIVED = frozenset({"id", "city_adcode", "county_adcode"})  # from the position when not given
TRUE_WORDS = frozenset({"是", "有", "已", "√", "✓", "y", "yes", "true", "t", "1"})
FALSE_WORDS = frozenset({"否", "无", "未", "×", "✗", "n", "no", "false", "f", "0"})
# A text cell a spreadsheet would run as a formula (=cmd|' /C calc'!A0 and friends).
FORMULA = re.compile(r"^\s*[=+@]|^\s*-\s*[^\d\s.]")
_UNIT = re.compile(r"[（(][^）)]*[）)]\s*$")


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


@dataclass
class ImportPlan:
    layer: str
    path: str
    source_crs: str
    columns: dict[str, str]  # file column -> layer field
    ignored_columns: list[str]
    notes: list[str]
    outcomes: list[RowOutcome]

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def accepted(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.action in ("add", "change")]

    @property
    def errors(self) -> list[LedgerError]:
        return [e for o in self.outcomes for e in o.errors]

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
        return f"{self.path} → {self.layer}: {len(self.outcomes)} 行：{counts}"


# ------------------------------------------------------------------------------ columns


def _key(text: str) -> str:
    return _UNIT.sub("", str(text)).strip().lower().replace(" ", "").replace("_", "")


def map_columns(
    columns: Sequence[str], schema: LayerSchema, explicit: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """File column -> field, by `explicit` mapping first, then field name, Chinese or English
    label (units in brackets ignored). Returns the mapping and the columns left over."""
    by_key: dict[str, str] = {}
    for f in schema.fields:
        for name in (f.name, f.label_zh, f.label_en):
            by_key.setdefault(_key(name), f.name)
    mapping: dict[str, str] = {}
    for column, target in (explicit or {}).items():
        if target not in schema.field_map:
            raise LedgerError(
                f"column {column!r} is mapped to {target!r}, not a field of {schema.id}"
            )
        mapping[column] = target
    for column in columns:
        if column in mapping:
            continue
        target = by_key.get(_key(column))
        if target is not None:
            mapping[column] = target
    taken: dict[str, str] = {}
    for column, target in mapping.items():
        if target in taken:
            raise LedgerError(
                f"columns {taken[target]!r} and {column!r} both mean field {target!r}",
                field=column,
            )
        taken[target] = column
    return mapping, [c for c in columns if c not in mapping]


# ------------------------------------------------------------------------------ values


def convert(f: Field, value: Any) -> Any:
    """A cell as the field's type, the way the person who typed it meant it; raises
    ValueError with the reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value != value:  # NaN from a GIS attribute
        return None
    if f.type == "str":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel keeps codes such as 210881 as numbers
        text = str(value).strip()
        if FORMULA.search(text):
            raise ValueError(f"{text!r} looks like a spreadsheet formula; remove the leading sign")
        return text
    if f.type == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"{value!r} is not yes/no (是/否)")
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, datetime | date):
        if f.type == "int" and f.unit == "年":
            return value.year
        raise ValueError(f"expected a number, got the date {value:%Y-%m-%d}")
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "")
        if f.unit and text.endswith(f.unit):
            text = text[: -len(f.unit)].strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        number = float(value)
    if f.type == "int":
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    return number


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
    repair: bool = False,
    new_id: Callable[[dict[str, Any], BaseGeometry], str] | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """The dry run of importing `table` into the layer `schema`: one outcome per row.

    `existing` are the layer's stored features (to match), `districts` the district outlines
    (their `adcode`, `level`: a point's county and city fill *_adcode fields left empty),
    `area` the outline coordinates must fall in, `columns` an explicit file column -> field
    mapping. `progress` hears ("check", rows checked, rows) now and then. Nothing is written.
    """
    from geo.ledger.coords import locate
    from geo.ledger.read import PROGRESS_EVERY

    total = len(table.rows)
    if progress is not None:
        progress("check", 0, total)

    path = Path(table.path).name  # the name a person knows; never server folders
    mapping, leftover = map_columns(table.columns, schema, columns)
    located = locate(
        table, schema.geometry_type, crs=crs, area=area, area_name=area_name, repair=repair
    )
    ignored = [c for c in leftover if c not in located.columns]
    notes = list(located.notes)
    if ignored:
        notes.append(f"ignored columns (no such field): {', '.join(ignored)}")
    fields = schema.field_map
    stored = {f.id: f for f in existing}
    by_name: dict[str, list[Feature]] = {}
    for feature in stored.values():
        by_name.setdefault(str(feature.properties.get(title_field)), []).append(feature)
    place = _district_finder(districts)
    where = "/".join(located.columns) or None  # the columns the position came from
    make_id = new_id or (lambda props, geom: _stable_id(schema.id, props, geom, title_field))

    column_of = {target: column for column, target in mapping.items()}
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

        props: dict[str, Any] = {}
        for column, target in mapping.items():
            try:
                props[target] = convert(fields[target], raw.get(column))
            except ValueError as exc:
                fail(str(exc), column)
        geometry = located.geometries[index]
        if index in located.errors:
            outcome.errors.append(located.errors[index])
        county = place(geometry) if geometry is not None else {}
        for name, value in county.items():
            if name in fields and props.get(name) is None:
                props[name] = value
        if "is_demo" in fields and props.get("is_demo") is None:
            props["is_demo"] = False  # a planner's ledger is real data

        match, matched_by = _match(props, geometry, stored, by_name, title_field)
        if props.get("id") is None and match is not None:
            props["id"] = match.id
        if props.get("id") is None and geometry is not None and not outcome.errors:
            props["id"] = make_id(props, geometry)
        if geometry is not None and not county and districts:
            fail("the position is in none of the counties of the district outlines", where)
        for f in schema.fields:
            if any(e.field == column_of.get(f.name) and e.field for e in outcome.errors):
                continue  # already said why this value is unusable
            if f.name in DERIVED and f.name not in column_of and props.get(f.name) is None:
                continue  # made from the position, which has its own error
            problem = f.check(props.get(f.name))
            if problem:
                fail(problem, column_of.get(f.name, f.name))
        if not outcome.errors:
            row = {name: props.get(name) for name in fields}
            for check in schema.row_checks:
                if not check.ok(row):
                    fail(check.message, column_of.get(check.field, check.field))
        fid = props.get("id")
        if fid is not None:
            if fid in first_row_of_id:
                fail(
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
    )


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
