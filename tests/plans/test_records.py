"""Indicator records (data/indicators/*.toml): the shipped ones load, a good record loads, and
each kind of bad record is refused with an error naming the file and the key, Chinese first."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SHIPPED_SOURCES

from geo.store.gpkg import GeoPackageStore
from layers import registry
from plans import indicators as ind
from plans.catalog import PLANS_DIR
from plans.links import LINKS_PATH
from plans.records import RECORDS_DIR, RecordError, load_record, load_records
from webmap.store import build_store_files

GOOD = """
id = "{id}"
name_zh = "建成区内仍在运行的小锅炉"
name_en = "Small boilers running in built-up areas"
definition_zh = "≤35蒸吨/小时、在建成区内、年底仍在运行的燃煤锅炉台数"
features_zh = "仍在运行的锅炉"
layer = "coal_boilers"
unit = "台"
aggregate = "count"

[[filter]]
field = "capacity_t_per_h"
op = "<="
value = 35

[spatial]
rule = "inside"
layer = "built_up_areas"

[as_of]
rule = "status_since"
field = "status"
year_field = "status_year"
states = ["运行", "超低排放改造完成", "已淘汰", "已替代"]
before = "运行"

[count]
states = ["运行", "超低排放改造完成"]

[[no_data]]
when = ["missing:capacity_t_per_h"]
reason_zh = "无数据：缺少额定蒸发量"

[target]
value = 0
direction = "lower"
deadline = 2025
areas = ["210800"]
basis_zh = "2025年为0台"

[[target.cites]]
measure = "001/三/八"
text = "城市建成区基本淘汰35蒸吨/小时及以下燃煤锅炉"
"""


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A store of the shipped data and plans (their catalog holds the cited texts)."""
    path = tmp_path_factory.mktemp("records") / "lutu.gpkg"
    build_store_files(path, SHIPPED_SOURCES, PLANS_DIR, LINKS_PATH)
    with GeoPackageStore(path) as store:
        yield store


def write(tmp_path: Path, text: str, name: str = "small") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace("{id}", name), encoding="utf-8")
    return path


def test_the_shipped_records_load_and_are_indicators() -> None:
    records = load_records()
    assert len(records) >= 9 and {"boilers_small_builtup", "rural_sewage_rate"} <= set(records)
    by_id = {i.id: i for i in ind.SHIPPED_INDICATORS}
    for rec in records.values():
        fields = {f.name for f in registry()[rec.layer].fields}
        assert set(rec.fields()) <= fields, rec.id
        assert set(rec.fields()) <= set(ind.SHIPPED.columns_read[rec.layer]), rec.id  # one read
        assert by_id[rec.id].layers == rec.layers
        assert by_id[rec.id].target == rec.target
    assert len(ind.SHIPPED_INDICATORS) == 14 and len(by_id) == 14


def test_a_good_record_loads(tmp_path: Path) -> None:
    rec = load_record(write(tmp_path, GOOD))
    assert rec.id == "small" and rec.layers == ("coal_boilers", "built_up_areas")
    assert rec.filters[0].field == "capacity_t_per_h" and rec.filters[0].value == 35
    assert dict(rec.as_of.before)["已淘汰"] == "运行"
    assert rec.target == 0 and rec.deadline == 2025 and rec.measures == ("001/三/八",)
    assert set(rec.fields()) == {"capacity_t_per_h", "status", "status_year"}


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        (
            'field = "capacity_t_per_h"',
            'field = "capacity"',
            "filter[0].field",
            "没有字段 capacity",
        ),
        ('op = "<="', 'op = "≤"', "filter[0].op", "应为"),
        ('layer = "coal_boilers"', 'layer = "boilers"', "layer", "未知图层 boilers"),
        ('layer = "built_up_areas"', 'layer = "city"', "spatial.layer", "未知图层 city"),
        ('unit = "台"\n', "", "unit", "缺少必填键"),
        ('unit = "台"', 'unit = "台"\ncolour = "red"', "colour", "未知的键"),
        ('id = "{id}"', 'id = "other"', "id", "文件名"),
        ("value = 35", 'value = "35"', "filter[0].op", "数值"),
        ('aggregate = "count"', 'aggregate = "sum"', "sum_field", "sum"),
        ("deadline = 2025\n", "", "target.deadline", "目标年份"),
        ('states = ["运行", "超低排放改造完成"]', 'states = ["停用"]', "count.states", "状态不在"),
        ('before = "运行"', 'before = "停用"', "as_of.before", "不在 states"),
        ('rule = "status_since"', 'rule = "yearly"', "as_of.rule", "应为"),
        ('year_field = "status_year"', 'year_field = "year"', "as_of.year_field", "没有字段"),
        ('"missing:capacity_t_per_h"', '"missing:use"', "no_data[0].when", "筛选字段"),
        ("value = 0\n", 'value = 0\nareas = "210800"\n', "target", ""),  # TOML: key twice
        ('"missing:capacity_t_per_h"', '"unknown:capacity_t_per_h"', "no_data[0].when", "状态筛选"),
        (
            'op = "<="\nvalue = 35',
            'op = "in"\nvalue = ["x"]\nas_of = { rule = "since", year_field = "status_year" }',
            "filter[0].value",
            "as_of.states",
        ),
    ],
)
def test_a_bad_record_names_the_file_and_the_key(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(RecordError) as caught:
        load_record(path)
    message = str(caught.value)
    assert message.startswith("small.toml："), message
    if "TOML" not in message:
        assert f"键 {key}：" in message and words in message, message
    assert " / " in message  # Chinese, then English


def test_a_record_without_a_citation_or_with_a_wrong_one(
    tmp_path: Path, shipped: GeoPackageStore
) -> None:
    start = GOOD.index("[[target.cites]]")
    with pytest.raises(RecordError, match="target.cites"):
        load_record(write(tmp_path, GOOD[:start]))
    wrong = GOOD.replace("城市建成区基本淘汰35蒸吨", "城市建成区全部淘汰35蒸吨")
    indicator = ind._from_record(load_record(write(tmp_path, wrong)))
    with pytest.raises(ind.CitationError, match="城市建成区全部淘汰35蒸吨"):
        ind.check_citations(shipped, [indicator])


def test_a_record_is_evaluated_like_the_shipped_one(
    tmp_path: Path, shipped: GeoPackageStore
) -> None:
    """The good record above is boilers_small_builtup without its columns and details."""
    mine = ind._from_record(load_record(write(tmp_path, GOOD)))
    theirs = ind.get_indicator(shipped, "boilers_small_builtup")
    data = ind._store_data(shipped)
    for year in (2020, 2023, 2025):
        a, b = mine.compute(data, year, {}), theirs.compute(data, year, {})
        assert (a.universe == b.universe).all() and (a.num == b.num).all()
        assert (a.listed == b.listed).all()
    assert mine.compute(data, 2020, {}).num.sum() > 0  # the shipped data has such boilers


def test_a_condition_on_a_state_at_the_year() -> None:
    """A plant counts only while running: a filter on a state, with its own year rule."""
    rec = load_records()["wastewater_low_bod_unrectified"]
    running = rec.filters[0]
    assert running.as_of is not None and running.field == "status" and running.value == ("运行",)
    assert dict(running.as_of.before) == {"运行": "在建", "停运": "运行"}
    assert {"status", "status_year", "influent_bod_mg_l"} <= set(rec.fields())


def test_records_dir_holds_only_records() -> None:
    assert all(p.suffix == ".toml" for p in RECORDS_DIR.iterdir())
