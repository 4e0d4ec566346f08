"""The layer's year rule (`year_rule` in layers/<layer>.py): a record without [as_of] takes
it, a record may override it, and the shipped records no longer repeat it."""

from __future__ import annotations

import tomllib

import pytest

from layers import registry
from plans.records import (
    ALWAYS,
    RECORDS_DIR,
    RecordError,
    describe_as_of,
    layer_rule,
    load_records,
    parse_record,
)

BASE = """
id = "mine"
name_zh = "仍在运行的锅炉"
name_en = "Boilers still running"
definition_zh = "年底仍在运行的燃煤锅炉台数"
features_zh = "仍在运行的锅炉"
layer = "{layer}"
unit = "台"
aggregate = "count"
{extra}
[target]
direction = "lower"
basis_zh = "无量化目标"

[[target.cites]]
measure = "001/三/八"
text = "推动淘汰"
"""


def record(layer: str = "coal_boilers", extra: str = ""):
    return parse_record(BASE.format(layer=layer, extra=extra), "mine.toml", "mine")


def test_a_record_without_as_of_takes_its_layers_rule() -> None:
    rec = record(extra='[count]\nstates = ["运行", "超低排放改造完成"]\n')
    assert rec.as_of_from == "layer"
    assert rec.as_of == layer_rule("coal_boilers")
    assert rec.as_of.rule == "status_since" and rec.as_of.field == "status"
    assert dict(rec.as_of.before)["已淘汰"] == "运行"
    assert {"status", "status_year"} <= set(rec.fields())


def test_a_record_may_override_the_rule() -> None:
    rec = record(extra='[as_of]\nrule = "always"\n')
    assert rec.as_of_from == "record" and rec.as_of == ALWAYS


def test_a_layer_without_a_rule_counts_as_drawn() -> None:
    assert registry()["villages"].year_rule is None
    rec = record("villages")
    assert rec.as_of == ALWAYS and rec.count_states == ("是",)


def test_the_layers_states_bound_the_counted_states() -> None:
    with pytest.raises(RecordError, match=r"mine.toml：键 count.states"):
        record(extra='[count]\nstates = ["建成"]\n')


def test_every_layer_rule_reads_and_has_words() -> None:
    for layer in registry().values():
        if layer.year_rule is not None:
            rule = layer_rule(layer.id)
            assert rule.rule != "always" and rule.year_field == layer.temporal_field, layer.id
            assert describe_as_of(rule).index(rule.year_field) < describe_as_of(rule).index("/")


def test_shipped_records_do_not_repeat_their_layers_rule() -> None:
    records = load_records()
    for path in sorted(RECORDS_DIR.glob("*.toml")):
        rec = records[path.stem]
        if "as_of" in tomllib.loads(path.read_text(encoding="utf-8")):
            assert rec.as_of != layer_rule(rec.layer), rec.id  # an override, not a copy
    taking = {r.id for r in records.values() if r.as_of_from == "layer"}
    assert {"boilers_small_builtup", "rail_spurs_built", "parks_circular_retrofit"} <= taking
    spurs = records["parks_bulk_no_spur"].spatial
    assert spurs is not None and spurs.as_of == layer_rule("rail_spurs")
    running = records["wastewater_low_bod_unrectified"].filters[0]  # as_of = "layer"
    assert running.as_of == layer_rule("wastewater_plants") and running.value == ("运行",)


def test_a_state_filter_on_a_layer_without_a_rule_is_refused() -> None:
    extra = '[[filter]]\nas_of = "layer"\nop = "in"\nvalue = ["是"]\n'
    with pytest.raises(RecordError, match=r"键 filter\[0\]\.as_of"):
        record("villages", extra)


def test_records_have_an_order() -> None:
    records = load_records()
    assert records["boilers_small_builtup"].order < records["parks_circular_retrofit"].order
    assert len({r.order for r in records.values()}) == len(records)
