"""Indicators as records: one TOML file per indicator in data/indicators/ (and those an
administrator added, `plans.added_indicators`), read and checked here.

An indicator is data, not a function: the engine (`plans.engine.record_frame`) evaluates any
record. A rule a record cannot say is a reason to extend this schema, never to write a special
function. Errors name the file and the key, Chinese first.

SCHEMA (every key at the top level unless shown under a table)

    id, name_zh, name_en, definition_zh, features_zh   text, required
    layer       the layer whose features are counted (a layer of the `layers` registry)
    unit        "台", "%", ...
    aggregate   "count" | "sum" | "share"   (share: 100 × counted / universe, in %)
    sum_field   the numeric field summed (aggregate = "sum" only)
    list        which features are "behind the number": "counted" (default) | "universe"
    order       where pages list it (a number, smaller first; default 1000, then by id)

    [[filter]]  conditions on the layer's fields; together they make the candidates
        field, op ("in" "not_in" "==" "<=" "<" ">=" ">"), value (a list for in / not_in)
        known   optional vocabulary of the field: a value outside it is "missing"
        or, instead of field, as_of = {...} (as [as_of] below) or as_of = "layer" (the
        layer's year_rule), op = "in", value = [states]: a condition on a state at the year
        (a plant running that year)
    [spatial]   optional, relative to another layer (year-independent)
        rule = "inside", layer = "<polygon layer>"   (boundary included)
        rule = "outside", layer = "<polygon layer>"  (in none of its polygons)
        rule = "within_m", layer, distance_m: within that many metres of the layer's
               nearest feature (in each feature's Gauss-Krüger zone); param: the name of
               the evaluate() keyword that may set the distance instead
        rule = "reached_by", layer = "<line layer>", as_of = {...} (the lines' year
               rule; default the line layer's year_rule): selects nothing itself;
               conditions op = "reached_by" / "not_reached_by", value = [line states] (no
               field) in [[count.where]] or
               [[details.where]] ask whether a line in those states at the year reaches the
               feature (crosses it or ends within 50 m)
    [as_of]     the state of each feature at the end of a year; without it the layer's
                own rule (`year_rule` in layers/<layer>.py), and for a layer without one
                every feature is in state 是 every year (rule = "always" says so explicitly)
        rule = "status_since": field (status), year_field, states (the vocabulary);
               before = "<state>" or {<state> = "<state>"}: the state before year_field
               (a state not named keeps itself; "" : the feature did not exist before
               its year, e.g. a planned line); dated: the states needing a year
               (default: all). Unknown status → "unknown"; a dated state without a year →
               "undated".
        rule = "flag_since": field (a yes/no), year_field; states 是 / 否: 是 once the flag
               is true and its year has come. Missing flag → "unknown"; true without a
               year → "undated".
        rule = "since": year_field only; 是 from that year on, 否 before or without one.
    [universe]  states = [...]: the universe is the candidates in these states (default:
                whose state is known at all)
    [count]     states = [...] counted (default ["是"]); [[count.where]]: further conditions
                (as in [[filter]]) on the counted features only, not on the universe;
                counted ⊆ universe.
    [[columns]] name, source: "field:<field>" | "state" | "counted", with a within_m
                rule "distance_m" (to 0.1 m) | "nearest_id", on a line layer "length_km"
                (to 0.01 km) (shown per listed feature)
    [[details]] name, of ("candidates" | "universe" | "counted"), states = [...] optional,
                [[details.where]] conditions optional, sum = "<field>" | "length_km" (a
                line's length in its Gauss-Krüger zone) optional (default: a count);
                summed per area.
    [[no_data]] when = ["unknown" | "undated" | "missing:<filter field>" |
                "unknown:<field>" | "undated:<field>" | "spatial:unknown" |
                "spatial:undated", ...], reason_zh: features put under
                无数据, in this order: candidates whose [as_of] state is unknown / undated;
                for a missing filter field, the features meeting every other rule; for the
                unknown / undated state of a state filter on <field>, the features meeting
                the spatial rule (the state is asked first); for spatial:…, the lines of a
                reached_by rule whose state is unknown / undated (listed as theirs).
    [target]    direction ("higher" | "lower", required), basis_zh (required);
                value, deadline, areas (adcodes) — no value: 无量化目标;
                county_target (default true), baseline_year (2020), province_level (false)
        [[target.cites]] measure, text: the plan text the target answers to, quoted exactly
                (checked against the store's catalog by `check_citations`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layers import registry

__all__ = [
    "RECORDS_DIR",
    "AsOf",
    "Column",
    "Condition",
    "Detail",
    "NoData",
    "Record",
    "RecordError",
    "Spatial",
    "citation_errors",
    "describe_as_of",
    "layer_rule",
    "load_record",
    "load_records",
    "parse_record",
]

RECORDS_DIR = Path(__file__).resolve().parents[1] / "data" / "indicators"

OPS = ("in", "not_in", "==", "<=", "<", ">=", ">")
REACH_OPS = ("reached_by", "not_reached_by")
AGGREGATES = ("count", "sum", "share")
AS_OF_RULES = ("status_since", "flag_since", "since", "always")
SPATIAL_RULES = ("inside", "outside", "within_m", "reached_by")
DEFAULT_ORDER = 1000
FLAG_STATES = ("否", "是")
DETAIL_OF = ("candidates", "universe", "counted")
NUMERIC = ("int", "float", "bool")
LENGTH = "length_km"  # a measure of a line layer's geometry, not a field


_ID = re.compile(r"[a-z][a-z0-9_]{1,63}")
POLYGONS = ("Polygon", "MultiPolygon")


class RecordError(ValueError):
    """A record that cannot be evaluated: names the file and the key."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # a tuple for in / not_in, else a number or text
    known: tuple[str, ...] | None = None
    as_of: AsOf | None = None  # a condition on this state at the year, not on a field


@dataclass(frozen=True)
class Spatial:
    rule: str  # inside | outside | within_m | reached_by
    layer: str
    distance_m: float | None = None
    param: str | None = None  # the evaluate() keyword overriding distance_m
    as_of: AsOf | None = None  # reached_by: the lines' year rule


@dataclass(frozen=True)
class AsOf:
    rule: str
    field: str | None
    year_field: str
    states: tuple[str, ...]
    before: tuple[tuple[str, str], ...] = ()  # (state now, state before year_field)
    dated: tuple[str, ...] = ()


ALWAYS = AsOf("always", None, "", FLAG_STATES[1:])  # state 是, every feature, every year


@dataclass(frozen=True)
class Column:
    name: str
    source: str  # field:<name> | state | counted


@dataclass(frozen=True)
class Detail:
    name: str
    of: str
    states: tuple[str, ...] | None = None
    sum: str | None = None
    where: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class NoData:
    when: tuple[str, ...]
    reason_zh: str


@dataclass(frozen=True)
class Record:
    id: str
    name_zh: str
    name_en: str
    definition_zh: str
    features_zh: str
    layer: str
    unit: str
    aggregate: str
    sum_field: str | None
    listed: str
    filters: tuple[Condition, ...]
    spatial: Spatial | None
    as_of: AsOf
    universe_states: tuple[str, ...] | None
    count_states: tuple[str, ...]
    count_where: tuple[Condition, ...]
    columns: tuple[Column, ...]
    details: tuple[Detail, ...]
    no_data: tuple[NoData, ...]
    target: float | None
    direction: str
    deadline: int | None
    target_areas: tuple[str, ...]
    county_target: bool
    baseline_year: int
    province_level: bool
    target_basis_zh: str
    measures: tuple[str, ...]
    target_text: tuple[str, ...]
    source: str  # the file it came from
    order: int = DEFAULT_ORDER  # where pages list it
    as_of_from: str = "record"  # "record": its own [as_of]; "layer": the layer's year_rule

    @property
    def layers(self) -> tuple[str, ...]:
        return (self.layer,) + ((self.spatial.layer,) if self.spatial else ())

    @property
    def params(self) -> tuple[str, ...]:
        return (self.spatial.param,) if self.spatial and self.spatial.param else ()

    def fields(self) -> tuple[str, ...]:
        """Every field of `layer` the record reads."""
        names = [c.field for c in self.filters + self.count_where if c.op not in REACH_OPS]
        names += [c.as_of.year_field for c in self.filters if c.as_of]
        names += [n for n in (self.as_of.field, self.as_of.year_field, self.sum_field) if n]
        names += [c.source[6:] for c in self.columns if c.source.startswith("field:")]
        names += [d.sum for d in self.details if d.sum and d.sum != LENGTH]
        names += [c.field for d in self.details for c in d.where if c.op not in REACH_OPS]
        return tuple(n for n in dict.fromkeys(names) if n)

    def other_fields(self) -> tuple[str, ...]:
        """The fields of the spatial layer the record reads (a reached_by rule's states)."""
        rule = self.spatial.as_of if self.spatial else None
        return tuple(n for n in (rule.field, rule.year_field) if n) if rule else ()


class _Reader:
    """Reads one table of a record, turning every mistake into a RecordError naming the key."""

    def __init__(self, source: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.source, self.table, self.prefix = source, table, prefix

    def fail(self, key: str, zh: str, en: str) -> RecordError:
        return RecordError(f"{self.source}：键 {self.prefix}{key}：{zh} / key {key}: {en}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, en: str = ""):
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "缺少必填键", "required key missing")
            return default
        value = self.table[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(key, "类型错误", f"wrong type, expected {en or kind}")
        if not isinstance(value, kind):
            raise self.fail(key, "类型错误", f"wrong type, expected {en or kind}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default, en="text")
        if value is not None and value is not default and not value.strip():
            raise self.fail(key, "不能为空", "must not be empty")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(key, str, default, en="text")
        if value not in choices and value is not default:
            raise self.fail(key, f"应为 {' / '.join(choices)} 之一", f"must be one of {choices}")
        return value

    def texts(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(key, list, default, en="a list of text")
        if value is default:
            return value
        if not all(isinstance(v, str) for v in value):
            raise self.fail(key, "应为文本列表", "must be a list of text")
        return tuple(value)

    def tables(self, key: str) -> list[_Reader]:
        value = self.get(key, list, [], en="an array of tables")
        if not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "应为表数组", "must be an array of tables ([[...]])")
        return [_Reader(self.source, v, f"{self.prefix}{key}[{i}].") for i, v in enumerate(value)]

    def sub(self, key: str, required: bool = True) -> _Reader | None:
        if key not in self.table and not required:
            return None
        value = self.get(key, dict, en="a table")
        return _Reader(self.source, value, f"{self.prefix}{key}.")

    def unknown_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, "未知的键", "unknown key")


def _field_types(layer: str) -> dict[str, str]:
    return {f.name: f.type for f in registry()[layer].fields}


def _condition(
    r: _Reader, types: Mapping[str, str], layer: str, spatial: Spatial | None = None
) -> Condition:
    r.unknown_keys({"field", "op", "value", "known", "as_of"})
    if r.table.get("op") in REACH_OPS:
        if spatial is None or spatial.as_of is None:
            raise r.fail("op", "需要 reached_by 空间规则", "needs a reached_by spatial rule")
        if not set(r.texts("value")) <= set(spatial.as_of.states):
            raise r.fail("value", "状态不在 spatial.as_of.states 中", "state not in its states")
        return Condition("", r.table["op"], r.texts("value"))
    if "as_of" in r.table:
        if r.table["as_of"] == "layer":  # the layer's own year rule
            rule = _layer_rule(layer, types)
            if rule is None:
                raise r.fail("as_of", f"图层 {layer} 没有年份规则", f"{layer} has no year rule")
        else:
            rule = _as_of(r.sub("as_of"), types, layer)
        if r.choice("op", ("in",)) and not set(r.texts("value")) <= set(rule.states):
            raise r.fail("value", "状态不在 as_of.states 中", "state not in as_of.states")
        return Condition(rule.field or rule.year_field, "in", r.texts("value"), None, rule)
    name = r.text("field")
    if name not in types:
        raise r.fail("field", f"图层 {layer} 没有字段 {name}", f"layer {layer} has no field {name}")
    op = r.choice("op", OPS)
    if op in ("in", "not_in"):
        value: Any = r.texts("value")
    else:
        value = r.get("value", (int, float, str), en="a number or text")
        if op != "==" and (types[name] not in NUMERIC or not isinstance(value, int | float)):
            raise r.fail(
                "op", f"{op} 只用于数值字段和数值", f"{op} needs a numeric field and value"
            )
    known = r.texts("known", None)
    return Condition(name, op, value, known)


def _as_of(r: _Reader, types: Mapping[str, str], layer: str) -> AsOf:
    r.unknown_keys({"rule", "field", "year_field", "states", "before", "dated"})
    rule = r.choice("rule", AS_OF_RULES)
    if rule == "always":
        return ALWAYS
    for key in ("field", "year_field"):
        if key == "field" and rule == "since":
            continue
        name = r.text(key)
        if name not in types:
            raise r.fail(key, f"图层 {layer} 没有字段 {name}", f"layer {layer} has no field {name}")
    if rule != "status_since":
        return AsOf(rule, r.text("field", None), r.text("year_field"), FLAG_STATES)
    states = r.texts("states")
    raw = r.get("before", (str, dict), {}, en="a state or a table of states")
    before = {s: raw for s in states} if isinstance(raw, str) else dict(raw)
    for now, prior in before.items():
        if now not in states or (prior not in states and prior != ""):
            raise r.fail("before", f"状态 {now}→{prior} 不在 states 中", "state not in states")
    dated = r.texts("dated", states)
    if not set(dated) <= set(states):
        raise r.fail("dated", "状态不在 states 中", "state not in states")
    return AsOf(
        rule, r.text("field"), r.text("year_field"), states, tuple(before.items()), tuple(dated)
    )


def _layer_rule(layer: str, types: Mapping[str, str]) -> AsOf | None:
    """The layer's own year rule (`year_rule` of its module), checked like a record's."""
    rule = registry()[layer].year_rule
    if rule is None:
        return None
    return _as_of(_Reader(f"layers/{layer}.py", rule, "year_rule."), types, layer)


def layer_rule(layer: str) -> AsOf:
    """The year rule a record counting `layer` gets without an [as_of] of its own."""
    return _layer_rule(layer, _field_types(layer)) or ALWAYS


def describe_as_of(rule: AsOf) -> str:
    """A year rule in words, Chinese first (what the form shows for a layer's rule)."""
    if rule.rule == "always":
        return "按现状计，不分年份 / taken as drawn, every year"
    if rule.rule == "since":
        return f"自 {rule.year_field} 年份起为「是」 / 是 from the year in {rule.year_field}"
    if rule.rule == "flag_since":
        return (
            f"{rule.field} 为是且到 {rule.year_field} 年份起计 / counted once {rule.field} is "
            f"true and its year {rule.year_field} has come"
        )
    before = "；".join(
        f"{now}之前为{prior or '（尚不存在）'}" for now, prior in rule.before if now != prior
    )
    return (
        f"状态 {rule.field}（{'、'.join(rule.states)}）自 {rule.year_field} 年份起；{before} / "
        f"the state in {rule.field} from the year in {rule.year_field}, the state before it "
        "as listed"
    )


def load_record(path: Path) -> Record:
    """One record, checked; raises RecordError naming the file and the key."""
    return parse_record(path.read_text(encoding="utf-8"), path.name, path.stem)


def parse_record(text: str, source: str, stem: str | None = None) -> Record:
    """A record from its TOML text, checked; `source` names it in errors (a file name) and
    `stem`, when given, is the id it must have. Raises RecordError naming the key."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecordError(f"{source}：TOML 语法错误 / TOML syntax error: {exc}") from None
    r = _Reader(source, table)
    r.unknown_keys(
        {
            *("id", "name_zh", "name_en", "definition_zh", "features_zh", "layer", "unit"),
            *("aggregate", "sum_field", "list", "filter", "spatial", "as_of", "universe"),
            *("count", "order"),
            *("columns", "details", "no_data", "target"),
        }
    )
    record_id = r.text("id")
    if not _ID.fullmatch(record_id):
        raise r.fail("id", "只能用小写字母、数字和下划线", "lower-case letters, digits and _ only")
    if stem is not None and record_id != stem:
        raise r.fail("id", f"应与文件名 {stem} 相同", f"must equal the file name {stem}")
    order = r.get("order", int, DEFAULT_ORDER, en="a whole number")
    layer = r.text("layer")
    layers = registry()
    if layer not in layers:
        raise r.fail("layer", f"未知图层 {layer}", f"unknown layer {layer}")
    types = _field_types(layer)

    lines = registry()[layer].geometry_type in ("LineString", "MultiLineString")

    def known_field(reader: _Reader, key: str, name: str | None, numeric: bool = False) -> None:
        if name is None or (name == LENGTH and numeric and lines):
            return
        if name not in types:
            raise reader.fail(
                key, f"图层 {layer} 没有字段 {name}", f"layer {layer} has no field {name}"
            )
        if numeric and types[name] not in NUMERIC:
            raise reader.fail(key, f"字段 {name} 不是数值", f"field {name} is not numeric")

    aggregate = r.choice("aggregate", AGGREGATES)
    sum_field = r.text("sum_field", None)
    if (aggregate == "sum") != (sum_field is not None):
        raise r.fail("sum_field", "仅且必须用于 aggregate = sum", "needed by, and only by, sum")
    known_field(r, "sum_field", sum_field, numeric=True)
    filters = tuple(_condition(f, types, layer) for f in r.tables("filter"))

    s = r.sub("spatial", required=False)
    spatial = None
    if s is not None:
        s.unknown_keys({"rule", "layer", "distance_m", "param", "as_of"})
        rule = s.choice("rule", SPATIAL_RULES)
        other = s.text("layer")
        if other not in layers:
            raise s.fail("layer", f"未知图层 {other}", f"unknown layer {other}")
        if rule in ("inside", "outside") and layers[other].geometry_type not in POLYGONS:
            raise s.fail("layer", f"{other} 不是面图层", f"{other} is not a polygon layer")
        lines_rule = None
        if rule == "reached_by":
            if "as_of" in s.table:
                lines_rule = _as_of(s.sub("as_of"), _field_types(other), other)
            else:
                lines_rule = _layer_rule(other, _field_types(other))
                if lines_rule is None:
                    raise s.fail("as_of", f"图层 {other} 没有年份规则", f"{other} has no year rule")
        elif "as_of" in s.table:
            raise s.fail("as_of", "只用于 reached_by", "only for reached_by")
        distance = s.get("distance_m", (int, float), None, en="metres")
        if (rule == "within_m") != (distance is not None):
            raise s.fail("distance_m", "仅且必须用于 within_m", "needed by, and only by, within_m")
        param = s.text("param", None)
        if param is not None and rule != "within_m":
            raise s.fail("param", "只用于 within_m", "only for within_m")
        spatial = Spatial(
            rule, other, None if distance is None else float(distance), param, lines_rule
        )

    as_of_from = "record" if "as_of" in table else "layer"
    as_of = _as_of(r.sub("as_of"), types, layer) if "as_of" in table else layer_rule(layer)
    count = r.sub("count", required=False) or _Reader(source, {}, "count.")
    count.unknown_keys({"states", "where"})
    count_states = count.texts("states", ("是",))
    count_where = tuple(_condition(c, types, layer, spatial) for c in count.tables("where"))

    def states_known(reader: _Reader, key: str, states: tuple[str, ...] | None) -> None:
        if states is not None and not set(states) <= set(as_of.states):
            raise reader.fail(
                key, f"状态不在 {' / '.join(as_of.states)} 中", "state not among the as_of states"
            )

    states_known(count, "states", count_states)
    u = r.sub("universe", required=False) or _Reader(source, {}, "universe.")
    u.unknown_keys({"states"})
    universe_states = u.texts("states", None)
    states_known(u, "states", universe_states)
    if universe_states is not None and not set(count_states) <= set(universe_states):
        raise count.fail("states", "计数状态应在 universe.states 中", "not within universe.states")
    columns = []
    for c in r.tables("columns"):
        c.unknown_keys({"name", "source"})
        src = c.text("source")
        if src.startswith("field:"):
            known_field(c, "source", src[6:])
        elif src == LENGTH:
            if not lines:
                raise c.fail("source", f"{LENGTH} 只用于线图层", f"{LENGTH} needs a line layer")
        elif src in ("distance_m", "nearest_id"):
            if spatial is None or spatial.rule != "within_m":
                raise c.fail("source", f"{src} 需要 within_m 空间规则", f"{src} needs within_m")
        elif src not in ("state", "counted"):
            raise c.fail("source", "应为 field:<字段> / state / counted", "unknown source")
        columns.append(Column(c.text("name"), src))
    details = []
    for d in r.tables("details"):
        d.unknown_keys({"name", "of", "states", "sum", "where"})
        states = d.texts("states", None)
        states_known(d, "states", states)
        total = d.text("sum", None)
        known_field(d, "sum", total, numeric=True)
        where = tuple(_condition(c, types, layer, spatial) for c in d.tables("where"))
        details.append(Detail(d.text("name"), d.choice("of", DETAIL_OF), states, total, where))
    filter_fields = {c.field for c in filters}
    state_fields = {c.field for c in filters if c.as_of}
    no_data = []
    for n in r.tables("no_data"):
        n.unknown_keys({"when", "reason_zh"})
        when = n.texts("when")
        for case in when:
            if case in ("unknown", "undated"):
                continue
            kind, _, name = case.partition(":")
            reach = kind == "spatial" and name in ("unknown", "undated")
            if reach and (spatial is None or spatial.as_of is None):
                raise n.fail("when", f"{case} 需要 reached_by 空间规则", "needs reached_by")
            if not (
                reach
                or (kind == "missing" and name in filter_fields)
                or (kind in ("unknown", "undated") and name in state_fields)
            ):
                raise n.fail(
                    "when",
                    f"{case} 应为 unknown / undated / missing:<筛选字段> / unknown:<状态筛选字段>",
                    "unknown case",
                )
        no_data.append(NoData(when, n.text("reason_zh")))

    t = r.sub("target")
    t.unknown_keys(
        {
            *("value", "direction", "deadline", "areas", "county_target"),
            *("baseline_year", "province_level", "basis_zh", "cites"),
        }
    )
    value = t.get("value", (int, float), None, en="a number")
    deadline = t.get("deadline", int, None, en="a year")
    if value is not None and deadline is None:
        raise t.fail("deadline", "有目标值必须有目标年份", "a target value needs a deadline")
    cites = t.tables("cites")
    if not cites:
        raise t.fail("cites", "至少引用一处规划原文", "cite at least one plan text")
    for c in cites:
        c.unknown_keys({"measure", "text"})
    listed = r.choice("list", ("counted", "universe"), "counted")
    return Record(
        id=record_id,
        name_zh=r.text("name_zh"),
        name_en=r.text("name_en"),
        definition_zh=r.text("definition_zh"),
        features_zh=r.text("features_zh"),
        layer=layer,
        unit=r.text("unit"),
        aggregate=aggregate,
        sum_field=sum_field,
        listed=listed,
        filters=filters,
        spatial=spatial,
        as_of=as_of,
        universe_states=universe_states,
        count_states=count_states,
        count_where=count_where,
        columns=tuple(columns),
        details=tuple(details),
        no_data=tuple(no_data),
        target=value,
        direction=t.choice("direction", ("higher", "lower")),
        deadline=deadline,
        target_areas=t.texts("areas", ()),
        county_target=t.get("county_target", bool, True, en="true / false"),
        baseline_year=t.get("baseline_year", int, 2020, en="a year"),
        province_level=t.get("province_level", bool, False, en="true / false"),
        target_basis_zh=t.text("basis_zh"),
        measures=tuple(c.text("measure") for c in cites),
        target_text=tuple(c.text("text") for c in cites),
        source=source,
        order=order,
        as_of_from=as_of_from,
    )


def load_records(folder: Path = RECORDS_DIR) -> dict[str, Record]:
    """Every record of `folder` (*.toml) by id, in file-name order."""
    return {p.stem: load_record(p) for p in sorted(folder.glob("*.toml"))}


def citation_errors(rec: Record, texts: Mapping[str, list[str]]) -> list[str]:
    """Why the record's citations are not in the catalog (`texts`: every text of a measure
    and its targets by measure id), one message per citation naming its key; [] when found."""
    errors = []
    for i, (measure, text) in enumerate(zip(rec.measures, rec.target_text, strict=True)):
        if measure not in texts:
            errors.append(
                f"{rec.source}：键 target.cites[{i}].measure：目录中没有措施 {measure} / "
                f"key target.cites[{i}].measure: no measure {measure} in the catalog"
            )
        elif not any(text in t for t in texts[measure]):
            errors.append(
                f"{rec.source}：键 target.cites[{i}].text：措施 {measure} 的原文中没有「{text}」 / "
                f"key target.cites[{i}].text: not in the text of measure {measure}"
            )
    return errors
