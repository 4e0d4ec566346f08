"""What a layer's data looks like: fields with types, units and allowed values.

This is the part of a layer definition that storage and validation need; styling, popups and
plan measures live in `layers/`, which builds on these classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

FieldType = Literal["str", "int", "float", "bool"]
GeometryType = Literal["Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString"]

# What a type is called in a message: 应为数字 expected float.
TYPE_WORDS = {"str": "文字", "int": "整数", "float": "数字", "bool": "是/否"}

PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


@dataclass(frozen=True, kw_only=True)
class Field:
    """One attribute of a layer."""

    name: str
    type: FieldType
    label_zh: str
    label_en: str
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    # Other column names ledgers use for this field (Chinese and English), best first.
    aliases: tuple[str, ...] = ()
    # Other spellings of the unit a number may carry in its cell ("15蒸吨", "20 t/h").
    unit_aliases: tuple[str, ...] = ()
    # What ledgers write for an allowed value: (written, allowed). Read as the allowed value,
    # with a warning on the row.
    synonyms: tuple[tuple[str, str], ...] = ()
    # Words ledgers write that could mean more than one allowed value: refused, with why.
    ambiguous: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.type not in PYTHON_TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type!r}")
        if self.allowed is not None and self.type != "str":
            raise ValueError(f"field {self.name}: allowed values are for text fields")
        for written, meant in self.synonyms:
            if self.allowed is None or meant not in self.allowed:
                raise ValueError(f"field {self.name}: synonym {written!r} of {meant!r}, no value")

    @property
    def synonym_map(self) -> dict[str, str]:
        return dict(self.synonyms)

    @property
    def ambiguous_map(self) -> dict[str, str]:
        return dict(self.ambiguous)

    def check(self, value: Any) -> str | None:
        """Return why `value` is not acceptable for this field, or None when it is."""
        if value is None:
            return "必填，不能为空 a value is required" if self.required else None
        if isinstance(value, bool) and self.type != "bool":
            return f"应为{TYPE_WORDS[self.type]}，不是是/否 expected {self.type}, got a boolean"
        if not isinstance(value, PYTHON_TYPES[self.type]):
            return f"应为{TYPE_WORDS[self.type]} expected {self.type}, got {value!r}"
        if self.type == "float" and value != value:  # NaN
            return "必填，不能为空 a value is required" if self.required else None
        if self.allowed is not None and value not in self.allowed:
            listed = ", ".join(self.allowed)
            return f"{value!r} 不在可选值中 is not one of the allowed values: {listed}"
        if self.minimum is not None and value < self.minimum:
            return f"{value!r} 小于下限 is below the minimum {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"{value!r} 大于上限 is above the maximum {self.maximum:g}"
        return None

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True, kw_only=True)
class RowCheck:
    """A rule across fields of one feature, e.g. 'replacement is required when status is 已替代'."""

    field: str
    message: str
    ok: Callable[[Mapping[str, Any]], bool]
    # The field whose value makes the rule apply (a status): the column named when the file
    # has no column for `field` (a ledger without a year column names its 状态 column).
    because: str | None = None
    # When set, an import does not refuse a failing row: `repair` gives the values that make it
    # acceptable (only those that change), and the row carries `repaired` as a warning.
    # Shipped sources are held to the rule itself.
    repair: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    repaired: str = ""

    def __post_init__(self) -> None:
        if self.repair is not None and not self.repaired:
            raise ValueError(f"row check on {self.field}: say what a repair does (repaired=)")


@dataclass(frozen=True, kw_only=True)
class LayerSchema:
    """The storage-relevant description of a layer."""

    id: str
    name_zh: str
    name_en: str
    geometry_type: GeometryType
    fields: tuple[Field, ...]
    row_checks: tuple[RowCheck, ...] = ()
    # Yes/no fields and the year each came true, e.g. ("sewage_treated", "sewage_year"): an
    # import dates a true flag without its year from the ledger's 统计年份 when one is given.
    flag_years: tuple[tuple[str, str], ...] = ()
    version: int = 1  # bump when the meaning of stored data changes, so stores rebuild

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"layer {self.id}: duplicate field names")
        if "id" not in names:
            raise ValueError(f"layer {self.id}: every layer needs an 'id' field")
        for check in self.row_checks:
            if check.field not in names:
                raise ValueError(f"layer {self.id}: row check on unknown field {check.field}")
        for flag, year in self.flag_years:
            if flag not in names or year not in names:
                raise ValueError(f"layer {self.id}: flag/year pair {flag}/{year} is not fields")

    @property
    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def fingerprint(self) -> str:
        """A text that changes whenever the stored form of this layer changes."""
        parts = [self.id, self.geometry_type, str(self.version)]
        parts += [f"{f.name}:{f.type}:{f.allowed}" for f in self.fields]
        return "|".join(parts)


def polygonal(geometry_type: str) -> bool:
    return geometry_type in ("Polygon", "MultiPolygon")
