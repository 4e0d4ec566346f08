"""The engine that evaluates any indicator record (`plans.records`) at a year, vectorised.

It builds the same per-feature `_Frame` the evaluation in `plans.indicators` aggregates, from
the data access of `_StoreData` (memoised layer reads and spatial tests): filters and spatial
rules are year-independent and kept per store; states are kept per store and year, so records
sharing a layer's year rule (the two small-boiler indicators) share the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from layers import registry
from plans.indicators import _Frame, _Layer, _StoreData
from plans.records import LENGTH, REACH_OPS, AsOf, Condition, Record

__all__ = ["record_frame"]

_NUMERIC = ("int", "float", "bool")
ABSENT = -2  # the state code of a feature that did not exist yet (a line planned later)


def _codes(values: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Each value's index in `names`, -1 for anything else (None, unknown text)."""
    code = np.full(len(values), -1, dtype=np.int8)
    for i, name in enumerate(names):
        code[values == name] = i
    return code


def _among(code: np.ndarray, wanted: list[int]) -> np.ndarray:
    """`np.isin(code, wanted)` for int8 state codes, by a 256-entry lookup table (a few ms
    for a million features where `isin` sorts)."""
    if code.dtype != np.int8:
        return np.isin(code, wanted)
    table = np.zeros(256, dtype=bool)
    table[np.asarray(wanted, dtype=np.int64) & 0xFF] = True  # -1 -> 255, as in the view
    return table[code.view(np.uint8)]


def _layer(data: _StoreData, name: str) -> _Layer:
    return data.layer(name, data.columns_read[name])


def _values(layer: _Layer, field: str) -> np.ndarray:
    """A field as float (NaN: missing) when numeric in the layer's schema, else raw."""
    types = {f.name: f.type for f in registry()[layer.name].fields}
    return layer.num(field) if types.get(field) in _NUMERIC else layer.cols[field]


def _test(
    data: _StoreData, layer: _Layer, cond: Condition, year: int
) -> tuple[np.ndarray, np.ndarray]:
    """(meets the condition, value missing or outside `known`), kept per store (and per
    year for a condition on a state)."""
    if cond.as_of is not None:
        code, unknown, undated = _state(data, layer, cond.as_of, year)
        return _among(code, [cond.as_of.states.index(s) for s in cond.value]), unknown | undated

    def make() -> tuple[np.ndarray, np.ndarray]:
        values = _values(layer, cond.field)
        if values.dtype.kind == "f":
            missing = np.isnan(values)
        elif cond.known is not None:
            missing = ~np.isin(values, cond.known)
        else:
            missing = np.equal(values, None)
        if cond.op in ("in", "not_in"):
            hit = np.isin(values, cond.value)
            hit = hit if cond.op == "in" else ~hit & ~missing
        elif cond.op == "==":
            hit = values == cond.value
        else:
            compare = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater}
            hit = compare[cond.op](values, cond.value)  # NaN compares false
        return np.asarray(hit, dtype=bool), missing

    return data.memo(("record-test", layer.name, cond), make)


def _state(
    data: _StoreData, layer: _Layer, rule: AsOf, year: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each feature's state at the end of `year` as an index into `rule.states` (-1: not
    known), and the masks of unknown and undated features; kept per store and year (what
    does not depend on the year, once per store)."""

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        base = data.memo(("record-state-base", layer.name, rule), lambda: _state_base(layer, rule))
        return _state_at(layer, rule, year, base)

    return data.memo(("record-state", layer.name, rule, year), make)


def _state_base(layer: _Layer, rule: AsOf) -> tuple[np.ndarray, ...]:
    """The year-independent part of `_state_at`: (the state now or the flag, the state
    before the year field's year, unknown, undated, unknown | undated)."""
    if rule.rule in ("always", "since"):
        return ()
    since = layer.num(rule.year_field)
    if rule.rule == "flag_since":
        flag = layer.flag(rule.field)
        unknown = np.isnan(flag)
        set_ = flag == 1
        undated = set_ & np.isnan(since)
        return set_, set_, unknown, undated, unknown | undated
    now = _codes(layer.cols[rule.field], rule.states)
    unknown = now < 0
    undated = ~unknown & _among(now, [rule.states.index(s) for s in rule.dated])
    undated &= np.isnan(since)
    prior = np.arange(len(rule.states) + 1, dtype=np.int8)  # a state keeps itself ...
    prior[-1] = -1
    for state, before in rule.before:  # ... unless the record says what came before
        prior[rule.states.index(state)] = rule.states.index(before) if before else ABSENT
    return now, prior[now], unknown, undated, unknown | undated


def _state_at(
    layer: _Layer, rule: AsOf, year: int, base: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if rule.rule == "always":
        none = np.zeros(len(layer), dtype=bool)
        return np.zeros(len(layer), dtype=np.int8), none, none
    since = layer.num(rule.year_field)
    if rule.rule == "since":
        none = np.zeros(len(layer), dtype=bool)
        return (since <= year).astype(np.int8), none, none
    now, before, unknown, undated, unjudged = base
    if rule.rule == "flag_since":
        code = (now & (since <= year)).astype(np.int8)
    else:
        code = np.where(since > year, before, now).astype(np.int8)
    code[unjudged] = -1
    return code, unknown, undated


def record_frame(data: _StoreData, rec: Record, year: int, params: Mapping[str, Any]) -> _Frame:
    """The record's per-feature numbers at the end of `year`."""
    layer = _layer(data, rec.layer)
    n = len(layer)
    tests = [_test(data, layer, c, year) for c in rec.filters]
    where = np.ones(n, dtype=bool)
    nearest_id = distance = None
    if rec.spatial and rec.spatial.rule in ("inside", "outside"):
        where = data.inside(rec.layer, data.columns_read[rec.layer], rec.spatial.layer)
        where = where if rec.spatial.rule == "inside" else ~where
    elif rec.spatial and rec.spatial.rule == "within_m":
        nearest_id, distance = data.nearest_source(
            rec.layer, data.columns_read[rec.layer], rec.spatial.layer
        )
        limit = params.get(rec.spatial.param, rec.spatial.distance_m)
        where = distance <= float(limit)
    candidates = where.copy()
    for hit, _ in tests:
        candidates &= hit
    code, unknown, undated = _state(data, layer, rec.as_of, year)
    reach = rec.spatial if rec.spatial and rec.spatial.rule == "reached_by" else None
    if reach:
        lines = _layer(data, reach.layer)
        line_code, line_unknown, line_undated = _state(data, lines, reach.as_of, year)

    def test(cond: Condition) -> np.ndarray:
        if cond.op not in REACH_OPS:
            return _test(data, layer, cond, year)[0]
        line_states = [reach.as_of.states.index(s) for s in cond.value]
        hit = data.reached(layer, lines, _among(line_code, line_states))
        return hit if cond.op == "reached_by" else ~hit

    def in_states(states: tuple[str, ...]) -> np.ndarray:
        return _among(code, [rec.as_of.states.index(s) for s in states])

    universe = candidates & (
        (code >= 0) if rec.universe_states is None else in_states(rec.universe_states)
    )

    counted = universe & in_states(rec.count_states)
    for cond in rec.count_where:
        counted &= test(cond)

    def length_km() -> np.ndarray:
        return data.lengths_km(rec.layer, data.columns_read[rec.layer])

    def total(mask: np.ndarray, field: str | None) -> np.ndarray:
        if field is None:
            return mask  # a count: summed per county as counted features
        values = length_km() if field == LENGTH else layer.num(field)
        return np.where(mask & ~np.isnan(values), values, 0.0)

    def more() -> tuple[dict, dict, list, list]:
        """The columns shown with the features, the detail sums and the 无数据 lists: only
        for the year asked, never for the trend's other years."""
        names = np.array([*rec.as_of.states, None], dtype=object)  # code < 0 → None
        sources = {
            "state": lambda: names[np.where(code >= 0, code, len(rec.as_of.states))],
            "counted": lambda: counted,
            "distance_m": lambda: np.round(distance, 1),
            "nearest_id": lambda: nearest_id,
            LENGTH: lambda: np.round(length_km(), 2),
        }
        columns = {
            c.name: _values(layer, c.source[6:])
            if c.source.startswith("field:")
            else sources[c.source]()
            for c in rec.columns
        }
        masks = {"candidates": candidates, "universe": universe, "counted": counted}
        details = {}
        for d in rec.details:
            mask = masks[d.of] & (in_states(d.states) if d.states else True)
            for cond in d.where:
                mask = mask & test(cond)
            details[d.name] = total(mask, d.sum)
        no_data = []
        other_no_data = []
        for entry in rec.no_data:
            mask = np.zeros(n, dtype=bool)
            for case in (c for c in entry.when if c.startswith("spatial:")):
                other_no_data.append(
                    (
                        lines,
                        line_unknown if case == "spatial:unknown" else line_undated,
                        entry.reason_zh,
                    )
                )
            for case in (c for c in entry.when if not c.startswith("spatial:")):
                if case == "unknown":
                    mask |= candidates & unknown
                elif case == "undated":
                    mask |= candidates & undated
                elif not case.startswith("missing:"):  # unknown:<field> / undated:<field>
                    kind, _, name = case.partition(":")
                    cond = next(c for c in rec.filters if c.as_of and c.field == name)
                    _, state_unknown, state_undated = _state(data, layer, cond.as_of, year)
                    mask |= where & (state_unknown if kind == "unknown" else state_undated)
                else:  # missing:<field>: features meeting every other rule
                    others = where.copy()
                    for cond, (hit, missing) in zip(rec.filters, tests, strict=True):
                        others &= missing if cond.field == case[8:] else hit
                    mask |= others
            if len(entry.when) > sum(c.startswith("spatial:") for c in entry.when):
                no_data.append((mask, entry.reason_zh))
        return columns, details, no_data, other_no_data

    return _Frame(
        layer=layer,
        universe=universe,
        num=total(counted, rec.sum_field),
        den=universe if rec.aggregate == "share" else None,
        listed=counted if rec.listed == "counted" else universe,
        more=more,
    )
