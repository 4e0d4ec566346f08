"""Added indicator records: the form's draft as TOML, the checks at add time (naming the
key), and the store build taking the good ones into its table and leaving a bad one out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from support import SHIPPED_SOURCES

from geo.store import GeoPackageStore
from geo.store.base import Restrictions
from geo.store.restricted import RestrictedStore
from plans import added_indicators as added
from plans.catalog import PLANS_DIR
from plans.drafts import draft_table, dump_toml, form_fields
from plans.indicators import (
    SHIPPED_INDICATORS,
    SHIPPED_RECORDS,
    catalogue_of,
    citation_texts,
    evaluate,
    indicators_of,
    visible_indicators,
)
from plans.links import LINKS_PATH
from plans.records import RecordError, parse_record
from webmap.store import build_store_files

RECORD = """
id = "{id}"
name_zh = "建成区外仍在运行的燃煤锅炉"
name_en = "Coal boilers still running outside built-up areas"
definition_zh = "位于城市建成区外且年底仍在运行的燃煤锅炉台数"
features_zh = "仍在运行的锅炉"
layer = "{layer}"
unit = "台"
aggregate = "count"

[[filter]]
field = "{field}"
op = "<="
value = 35

[spatial]
rule = "outside"
layer = "built_up_areas"

[count]
states = ["运行", "超低排放改造完成"]

[target]
direction = "lower"
areas = ["210800"]
basis_zh = "无量化目标"

[[target.cites]]
measure = "001/三/八"
text = "{text}"
"""
CITED = "推动淘汰供热管网覆盖范围内的燃煤锅炉和散煤"


def record(id: str = "boilers_outside", layer="coal_boilers", field="capacity_t_per_h", text=CITED):
    return RECORD.format(id=id, layer=layer, field=field, text=text)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    path = tmp_path_factory.mktemp("added") / "lutu.gpkg"
    build_store_files(path, SHIPPED_SOURCES, PLANS_DIR, LINKS_PATH)
    with GeoPackageStore(path) as store:
        yield store


def test_a_good_record_passes(shipped) -> None:
    rec = added.check_record(record(), "boilers_outside.toml", citation_texts(shipped), ())
    assert rec.spatial is not None and rec.spatial.rule == "outside"
    assert rec.as_of.field == "status"  # the layer's year rule


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (record(field="nope"), "filter[0].field", ("没有字段 nope", "has no field nope")),
        (record(layer="nolayer"), "layer", ("未知图层 nolayer", "unknown layer")),
        (
            record(text="全部淘汰燃煤锅炉"),
            "target.cites[0].text",
            ("原文中没有", "not in the text"),
        ),
        (record(id="boilers_small_builtup"), "id", ("随附指标", "shipped indicator")),
        (record().replace('name_zh = "建成区外仍在运行的燃煤锅炉"\n', ""), "name_zh", ("缺少",)),
    ],
)
def test_bad_records_are_refused_naming_the_key(shipped, text, key, words) -> None:
    with pytest.raises(RecordError) as caught:
        added.check_record(text, "mine.toml", citation_texts(shipped), SHIPPED_RECORDS)
    message = str(caught.value)
    assert message.startswith("mine.toml：键 ") and f"键 {key}：" in message
    assert all(w in message for w in words), message
    assert message.index(" / ") > message.index(words[0])  # Chinese first


def test_the_build_takes_good_records_and_leaves_a_bad_one_out(tmp_path: Path, shipped) -> None:
    folder = tmp_path / "indicators"
    added.write_added(folder, "boilers_outside", record(), "管理员")
    added.write_added(folder, "bad_cite", record(id="bad_cite", text="没有这句话"), "管理员")
    path = tmp_path / "lutu.gpkg"
    build_store_files(path, SHIPPED_SOURCES, PLANS_DIR, LINKS_PATH, added_indicators_dir=folder)
    with GeoPackageStore(path) as store:
        catalogue = catalogue_of(store)
        assert catalogue.added == {"boilers_outside"}
        ids = [i.id for i in indicators_of(store)]
        assert ids[: len(SHIPPED_INDICATORS)] == [i.id for i in SHIPPED_INDICATORS]
        assert ids[-1] == "boilers_outside"
        mine = {r.id: r for r in evaluate(store, 2025)}
        theirs = {r.id: r for r in evaluate(shipped, 2025)}
        for ind in SHIPPED_INDICATORS:  # the shipped values do not move
            assert mine[ind.id].area("210800").value == theirs[ind.id].area("210800").value
        outside = mine["boilers_outside"].area("210800")
        assert outside.value and outside.value > 0
        public = RestrictedStore(store, Restrictions(frozenset({"coal_boilers"})))
        assert "boilers_outside" not in {i.id for i in visible_indicators(public)}
        assert "boilers_outside" in {i.id for i in visible_indicators(store)}
        row = store.query("indicator_records", limit=None, with_geometry=False).features[0]
        assert row.properties["added_by"] == "管理员"
        assert "boilers_outside" in row.properties["toml"]


def test_a_store_without_added_records_has_the_shipped_set(shipped) -> None:
    assert indicators_of(shipped) == SHIPPED_INDICATORS


def test_write_and_restore_leave_no_partial_files(tmp_path: Path) -> None:
    previous = added.write_added(tmp_path, "boilers_outside", record(), "a")
    assert previous.toml is None and (tmp_path / "boilers_outside.toml").is_file()
    again = added.write_added(tmp_path, "boilers_outside", record() + "\n# changed\n", "b")
    assert again.toml == record()
    added.restore_added(tmp_path, again)
    assert (tmp_path / "boilers_outside.toml").read_text(encoding="utf-8") == record()
    added.restore_added(tmp_path, previous)
    assert not list(tmp_path.iterdir())


FORM = {
    "id": ["boilers_outside"],
    "name_zh": ["建成区外的<script>锅炉"],
    "name_en": ['Boilers "outside"'],
    "definition_zh": ["建成区外仍在运行的锅炉\n（台）"],
    "features_zh": ["锅炉"],
    "layer": ["coal_boilers"],
    "unit": ["台"],
    "aggregate": ["count"],
    "filter_field": ["capacity_t_per_h", "status", ""],
    "filter_op": ["<=", "in", "<="],
    "filter_value": ["35", "运行、超低排放改造完成", ""],
    "spatial_rule": ["outside"],
    "spatial_layer": ["built_up_areas"],
    "count_states": ["运行", "超低排放改造完成"],
    "target": ["001/三/八#1"],
    "target_value": ["0"],
    "target_deadline": ["2025"],
    "direction": ["lower"],
    "areas": ["210800"],
}


def test_the_forms_draft_is_a_record(shipped) -> None:
    targets = {
        f.id: dict(f.properties)
        for f in shipped.query("plan_targets", limit=None, with_geometry=False).features
    }
    table = draft_table(FORM, targets)
    text = dump_toml(table)
    assert tomllib.loads(text) == table
    rec = parse_record(text, "boilers_outside.toml", "boilers_outside")
    assert rec.name_zh == "建成区外的<script>锅炉"
    assert rec.filters[1].value == ("运行", "超低排放改造完成")
    assert rec.measures == ("001/三/八",) and rec.target_text == (targets["001/三/八#1"]["text"],)
    assert rec.target == 0 and rec.deadline == 2025 and rec.direction == "lower"
    back = form_fields(table, targets)
    assert back["target"] == "001/三/八#1"
    assert back["filters"][1]["value"] == "运行、超低排放改造完成"
    with pytest.raises(RecordError, match=r"键 filter\[0\].value"):
        draft_table({**FORM, "filter_value": ["abc", "", ""]}, targets)


def test_a_draft_may_quote_a_measure_instead_of_a_target() -> None:
    form = {**FORM, "target": [""], "target_value": [""], "target_deadline": [""]}
    form |= {"cite_measure": ["001/三/八"], "cite_text": [CITED]}
    table = draft_table(form, {})
    assert table["target"]["cites"] == [{"measure": "001/三/八", "text": CITED}]
    assert "value" not in table["target"]
    back = form_fields(table, {})
    assert (back["target"], back["cite_measure"], back["cite_text"]) == ("", "001/三/八", CITED)


def test_a_draft_reading_a_new_column_is_previewed_apart(shipped) -> None:
    """A draft filtering on a field no indicator reads (a boiler's use) is evaluated on its
    own read of the layer; the store's shared data gains none of the draft's work."""
    from plans.indicators import _store_data, evaluate_record

    text = record().replace('field = "capacity_t_per_h"\nop = "<="\nvalue = 35', "")
    text = text.replace("[[filter]]\n", '[[filter]]\nfield = "use"\nop = "in"\nvalue = ["供暖"]')
    rec = parse_record(text, "boilers_outside.toml")
    base = _store_data(shipped)
    evaluate(shipped, 2025)
    before = set(base._memo)
    result = evaluate_record(shipped, rec, 2025)
    assert not {k for k in set(base._memo) - before if k[0] not in ("record-state",)}
    heating = {
        f.id
        for f in shipped.query("coal_boilers", limit=None, with_geometry=False).features
        if f.properties["use"] == "供暖"
    }
    ids = [i for a in result.areas if a.level == "city" for i in a.feature_ids]
    assert ids and set(ids) <= heating
    assert result.indicator.id == "boilers_outside"
