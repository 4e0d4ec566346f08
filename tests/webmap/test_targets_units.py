"""Targets read as a planner reads them, units named once (issue 18, point 5)."""

from __future__ import annotations

import csv
import html as html_lib
import re

from support import ROOT


def test_boiler_measure_shows_the_scope_and_none_left(client) -> None:
    page = html_lib.unescape(client.get("/measures/001/三/八").get_data(as_text=True))
    assert "城市建成区内 ≤35 t/h 燃煤锅炉：基本淘汰 (0 台)" in page
    assert "适用范围 Scope" in page
    assert "<td>35 蒸吨/小时</td>" not in page  # the old reading: the threshold as the value


def test_spur_measure_shows_the_size_as_scope(client) -> None:
    page = html_lib.unescape(client.get("/measures/001/三/四").get_data(as_text=True))
    reads = (
        "新（迁）建年大宗货物运量 ≥150 万吨的大型工矿企业和物流园区：原则上同步规划建设铁路专用线"
    )
    assert reads in page
    assert "<td>150 万吨</td>" not in page


def unit_options(client) -> list[str]:
    page = client.get("/measures").get_data(as_text=True)
    select = page.split('<select name="unit">', 1)[1].split("</select>", 1)[0]
    return [html_lib.unescape(o) for o in re.findall(r"<option>([^<]+)</option>", select)]


def test_the_unit_filter_lists_each_unit_once(client) -> None:
    options = unit_options(client)
    assert len(options) == len(set(options)) and len(options) < 110
    assert options.count("市发改委") == 1
    for alias in ("市发展改革委", "市发改委（市能源局）", "市农业农村", "各县区", "市卫生健康委"):
        assert alias not in options
    assert not [o for o in options if o.endswith("成员单位政府")]
    with (ROOT / "plans" / "units.csv").open(encoding="utf-8") as fh:
        aliases = {row["alias"] for row in csv.DictReader(fh)}
    assert not aliases & set(options)
    # Filtering by the one name finds the measures that wrote either name.
    found = client.get("/measures?f=json&unit=市发改委").get_json()["measures"]
    assert {m["document"] for m in found} >= {"000", "001", "002", "004"}


def test_lead_units_are_marked(client) -> None:
    stated = client.get("/measures/001/三/五").get_data(as_text=True)  # …牵头，…按职责分工负责
    assert stated.count("★牵头") == 3 and "首列单位为牵头单位" not in stated
    by_order = client.get("/measures/000/二/八").get_data(as_text=True)  # 000 never says 牵头
    assert by_order.count("★牵头") == 1 and "首列单位为牵头单位" in by_order
    m = client.get("/measures/000/二/八?f=json").get_json()
    assert m["lead_units"] == m["units"].split("、")[0]
