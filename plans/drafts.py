"""An indicator record drafted in the builder's form: the form's fields made into a record
table (`draft_table`), the table written as TOML (`dump_toml`), and a record's table read
back into the form's fields (`form_fields`) to edit it.

The form's fields (every value a list of text, as a browser posts them):
    id, name_zh, name_en, definition_zh, features_zh, layer, unit, order
    aggregate (count | sum | share), sum_field
    filter_field / filter_op / filter_value     rows of conditions ([[filter]])
    spatial_rule (none | inside | outside | within_m), spatial_layer, spatial_distance_m
    year_rule ("layer": the layer's own | "always"), count_states (states counted)
    where_field / where_op / where_value        rows: which candidates a share counts
    target (a plan_targets id: its measure and quoted text are cited), or instead
    cite_measure + cite_text (a measure's id and a passage of its text, quoted), target_value,
    target_deadline, direction, areas (adcodes), county_target ("true" | "false"), basis_zh
A value that cannot be read raises RecordError naming the record key it would fill.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from layers import registry
from plans.records import NUMERIC, RecordError

__all__ = ["draft_table", "dump_toml", "form_fields", "lost_keys"]

_SPLIT = re.compile(r"[,，、;；]")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _fail(key: str, zh: str, en: str) -> RecordError:
    return RecordError(f"表单：键 {key}：{zh} / form, key {key}: {en}")


def _number(text: str, key: str, whole: bool = False) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise _fail(key, f"「{text}」不是数值", "not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _fail(key, f"「{text}」不是数值", "not a number")
    if whole and not value.is_integer():
        raise _fail(key, f"「{text}」不是整数", "not a whole number")
    return int(value) if value.is_integer() else value


def _rows(form: Mapping[str, list[str]], prefix: str, key: str, types: Mapping[str, str]):
    fields, ops, values = (form.get(f"{prefix}_{part}", []) for part in ("field", "op", "value"))
    out = []
    for name, op, raw in zip(fields, ops, values, strict=False):
        name, op, raw = name.strip(), op.strip(), raw.strip()
        if not name:
            continue
        where = f"{key}[{len(out)}]"
        row: dict[str, Any] = {"field": name, "op": op}
        if op in ("in", "not_in"):
            row["value"] = [v.strip() for v in _SPLIT.split(raw) if v.strip()]
        elif types.get(name) in NUMERIC or op != "==":
            row["value"] = _number(raw, f"{where}.value")
        else:
            row["value"] = raw
        out.append(row)
    return out


def draft_table(
    form: Mapping[str, list[str]], targets: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The record table the form says; `targets` are the store's plan_targets rows by id."""

    def one(key: str) -> str:
        return (form.get(key) or [""])[0].strip()

    table: dict[str, Any] = {}
    for key in ("id", "name_zh", "name_en", "definition_zh", "features_zh", "layer", "unit"):
        if one(key):
            table[key] = one(key)
    if one("order"):
        table["order"] = _number(one("order"), "order", whole=True)
    aggregate = one("aggregate") or "count"
    table["aggregate"] = aggregate
    if aggregate == "sum":
        table["sum_field"] = one("sum_field")
    if aggregate == "share":
        table["list"] = "universe"
        table.setdefault("unit", "%")
    layer = registry().get(one("layer"))
    types = {f.name: f.type for f in layer.fields} if layer else {}
    filters = _rows(form, "filter", "filter", types)
    if filters:
        table["filter"] = filters
    rule = one("spatial_rule")
    if rule and rule != "none":
        spatial: dict[str, Any] = {"rule": rule, "layer": one("spatial_layer")}
        if rule == "within_m":
            spatial["distance_m"] = _number(one("spatial_distance_m"), "spatial.distance_m")
        table["spatial"] = spatial
    if one("year_rule") == "always":
        table["as_of"] = {"rule": "always"}
    count: dict[str, Any] = {}
    states = [s.strip() for s in form.get("count_states", []) if s.strip()]
    if states:
        count["states"] = states
    where = _rows(form, "where", "count.where", types)
    if where:
        count["where"] = where
    if count:
        table["count"] = count
    target: dict[str, Any] = {"direction": one("direction") or "higher"}
    if one("target_value"):
        target["value"] = _number(one("target_value"), "target.value")
    if one("target_deadline"):
        target["deadline"] = _number(one("target_deadline"), "target.deadline", whole=True)
    areas = [a.strip() for a in form.get("areas", []) if a.strip()]
    if areas:
        target["areas"] = areas
    if one("county_target") == "false":
        target["county_target"] = False
    chosen = targets.get(one("target"))
    quoted = (chosen or {}).get("text") or ""
    target["basis_zh"] = one("basis_zh") or (f"规划原文：「{quoted}」" if quoted else "")
    if not target["basis_zh"]:
        del target["basis_zh"]
    if chosen is not None:
        target["cites"] = [{"measure": chosen["measure_id"], "text": quoted}]
    elif one("target"):
        raise _fail("target.cites", f"目录中没有目标 {one('target')}", "no such plan target")
    elif one("cite_measure") or one("cite_text"):
        target["cites"] = [{"measure": one("cite_measure"), "text": one("cite_text")}]
    table["target"] = target
    return table


def form_fields(table: Mapping[str, Any], targets: Mapping[str, Mapping[str, Any]]):
    """The form's fields for a record table (to edit an added record): one value or a list
    per field, and the condition rows."""
    target = table.get("target", {})
    cites = target.get("cites", [])
    chosen, cite_measure, cite_text = "", "", ""
    if cites:
        measure, text = cites[0].get("measure"), cites[0].get("text")
        chosen = next(
            (
                tid
                for tid, row in targets.items()
                if row["measure_id"] == measure and row.get("text") == text
            ),
            "",
        )
        if not chosen:
            cite_measure, cite_text = str(measure or ""), str(text or "")
    spatial = table.get("spatial", {})

    def rows(items: list[Mapping[str, Any]]) -> list[dict[str, str]]:
        return [
            {
                "field": str(c.get("field", "")),
                "op": str(c.get("op", "")),
                "value": "、".join(c["value"])
                if isinstance(c.get("value"), list)
                else _plain(c.get("value")),
            }
            for c in items
        ]

    return {
        **{k: str(table.get(k, "")) for k in ("id", "name_zh", "name_en", "definition_zh")},
        **{k: str(table.get(k, "")) for k in ("features_zh", "layer", "unit")},
        "order": _plain(table.get("order")),
        "aggregate": table.get("aggregate", "count"),
        "sum_field": table.get("sum_field", ""),
        "filters": rows(table.get("filter", [])),
        "spatial_rule": spatial.get("rule", "none"),
        "spatial_layer": spatial.get("layer", ""),
        "spatial_distance_m": _plain(spatial.get("distance_m")),
        "year_rule": "always" if table.get("as_of", {}).get("rule") == "always" else "layer",
        "count_states": list(table.get("count", {}).get("states", [])),
        "where": rows(table.get("count", {}).get("where", [])),
        "target": chosen,
        "cite_measure": cite_measure,
        "cite_text": cite_text,
        "target_value": _plain(target.get("value")),
        "target_deadline": _plain(target.get("deadline")),
        "direction": target.get("direction", "higher"),
        "areas": list(target.get("areas", [])),
        "county_target": "false" if target.get("county_target") is False else "true",
        "basis_zh": target.get("basis_zh", ""),
    }


# The keys the form can say, per table (a record written by hand may have more).
_FORM_KEYS = {
    "": {
        *("id", "name_zh", "name_en", "definition_zh", "features_zh", "layer", "unit"),
        *("order", "aggregate", "sum_field", "list", "filter", "spatial", "as_of", "count"),
        "target",
    },
    "filter": {"field", "op", "value"},
    "spatial": {"rule", "layer", "distance_m"},
    "as_of": {"rule"},
    "count": {"states", "where"},
    "count.where": {"field", "op", "value"},
    "target": {"value", "direction", "deadline", "areas", "county_target", "basis_zh", "cites"},
}


def lost_keys(table: Mapping[str, Any]) -> list[str]:
    """The keys of a record the form cannot show (saving it from the form drops them)."""
    lost = [k for k in table if k not in _FORM_KEYS[""]]
    if table.get("as_of", {}).get("rule", "always") != "always":
        lost.append("as_of")
    for i, c in enumerate(table.get("filter", [])):
        lost += [f"filter[{i}].{k}" for k in c if k not in _FORM_KEYS["filter"]]
    for name in ("spatial", "count", "target"):
        lost += [f"{name}.{k}" for k in table.get(name, {}) if k not in _FORM_KEYS[name]]
    for i, c in enumerate(table.get("count", {}).get("where", [])):
        lost += [f"count.where[{i}].{k}" for k in c if k not in _FORM_KEYS["count.where"]]
    if len(table.get("target", {}).get("cites", [])) > 1:
        lost.append("target.cites[1]")
    return lost


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- TOML ------------------------------------------------------------------------------------


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dump_toml(table: Mapping[str, Any], _path: str = "") -> str:
    """A table of text, numbers, booleans, lists, tables and arrays of tables as TOML (what
    the form's records hold), values before sub-tables, in the table's order."""
    lines = []
    for key, value in table.items():
        if not isinstance(value, dict) and not _is_tables(value):
            lines.append(f"{_key(key)} = {_scalar(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in table.items():
        path = f"{_path}.{_key(key)}" if _path else _key(key)
        if isinstance(value, dict):
            out += f"\n[{path}]\n" + dump_toml(value, path)
        elif _is_tables(value):
            for item in value:
                out += f"\n[[{path}]]\n" + dump_toml(item, path)
    return out
