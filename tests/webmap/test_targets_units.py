"""Targets read as a planner reads them, units named once (issue 18, point 5)."""

from __future__ import annotations

import html as html_lib


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
