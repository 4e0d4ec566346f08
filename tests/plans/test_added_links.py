"""The added-links file (an editor's decisions on suggested links): written at once, read
generously and strictly, and only its confirmed links on measures of the catalog join it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import chinese_first

from layers import all_layers
from plans.catalog import catalog_rows, inputs, load_catalog
from plans.links import (
    CONFIRMED,
    CONFIRMED_SOURCE,
    DECISION_COLUMNS,
    REJECTED,
    SHIPPED,
    LinkTableError,
    catalog_links,
    check_decisions,
    decide,
    make_decision,
    read_decisions,
    read_links,
    remove_decision,
)

HEADER = ",".join(DECISION_COLUMNS) + "\n"
AT = "2026-12-03T08:00:00+00:00"
LAYERS = [layer.id for layer in all_layers()]


def confirmed(measure_id: str = "001/三/八", layer_id: str = "parks"):
    return make_decision(
        measure_id, layer_id, CONFIRMED, "editor1", reason="理由", rule="规则", at=AT
    )


def rejected(measure_id: str = "001/三/八", layer_id: str = "rail_spurs"):
    return make_decision(measure_id, layer_id, REJECTED, "editor1", at=AT)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "links.csv")


def test_decisions_written_replaced_removed(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "links.csv"
    assert read_decisions(path) == []  # no file: no decisions
    assert decide(path, confirmed()) is None
    assert decide(path, rejected()) is None
    assert read_decisions(path) == [confirmed(), rejected()]
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(DECISION_COLUMNS)

    # The same measure and layer again: the earlier decision is replaced (and returned), and
    # the file is a new one renamed over the old (never rewritten in place), nothing left over.
    inode = path.stat().st_ino
    again = make_decision("001/三/八", "parks", REJECTED, "editor2", at=AT)
    assert decide(path, again) == confirmed()
    assert read_decisions(path) == [again, rejected()]
    assert path.stat().st_ino != inode
    assert leftovers(path.parent) == []

    assert remove_decision(path, "001/三/八", "parks") == again
    assert read_decisions(path) == [rejected()]
    assert remove_decision(path, "001/三/八", "parks") is None
    assert remove_decision(path, "001/三/八", "rail_spurs") == rejected()
    assert read_decisions(path) == [] and leftovers(path.parent) == []


def test_one_line_reason_and_rule(tmp_path: Path) -> None:
    d = make_decision("001/三/八", "parks", CONFIRMED, "e", reason=" 一\n二\r\n 三 ", rule="a\tb")
    assert (d.reason, d.rule) == ("一 二 三", "a b")
    path = tmp_path / "links.csv"
    decide(path, d)
    assert read_decisions(path) == [d]


def test_read_generously(tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    body = f"{HEADER}\n 001/三/八 ,parks,理由,规则,confirmed,editor1,{AT}\n,,,,,,\n"
    path.write_bytes(body.replace("\n", "\r\n").encode("utf-8-sig"))  # Excel: BOM, CRLF
    assert read_decisions(path) == [confirmed()]


@pytest.mark.parametrize(
    ("body", "row", "field", "words"),
    [
        (f"001/三/八,parks,a,r,maybe,e,{AT}\n", 2, "decision", ("confirmed", "maybe")),
        (f"001/三/八,parks,,r,confirmed,e,{AT}\n", 2, "reason", ("为空", "empty")),
        (f"001/三/八,parks,a,,confirmed,e,{AT}\n", 2, "rule", ("为空", "empty")),
        (f"001/三/八,parks,,,rejected,,{AT}\n", 2, "by", ("为空", "empty")),
        ("001/三/八,parks,a,r,confirmed,e,yesterday\n", 2, "at", ("ISO 8601",)),
        (f"001/三/八,bike_sheds,a,r,confirmed,e,{AT}\n", 2, "layer_id", ("没有图层", "no layer")),
        (
            f"001/三/八,parks,a,r,confirmed,e,{AT}\n001/三/八,parks,,,rejected,e,{AT}\n",
            3,
            None,
            ("两次", "twice"),
        ),
        (f"001/三/八,parks,a,r,confirmed,e,{AT},extra\n", 2, None, ("多于", "more cells")),
    ],
    ids=["decision", "reason", "rule", "by", "at", "layer", "twice", "extra-cell"],
)
def test_bad_rows_are_named(tmp_path: Path, body, row, field, words) -> None:
    path = tmp_path / "links.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(LinkTableError) as info:
        read_decisions(path, layer_ids=LAYERS)
    message = str(info.value)
    assert (info.value.row, info.value.field) == (row, field)
    assert str(path) in message and f"第 {row} 行" in message and f"row {row}" in message
    assert all(w in message for w in words), message
    assert chinese_first(message)
    assert message.index(f"第 {row} 行") < message.index(f", row {row}")
    if field:
        assert f"字段「{field}」" in message and f"field '{field}'" in message


def test_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    path.write_text("measure_id,layer_id,reason,rule\n", encoding="utf-8")
    with pytest.raises(LinkTableError, match="表头应为.*expected the columns") as info:
        read_decisions(path)
    assert info.value.row == 1


def test_shipped_table_errors_say_it_in_chinese_first(tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    path.write_text("measure_id,layer_id,reason,rule\n001/三/八,parks,,r\n", encoding="utf-8")
    with pytest.raises(LinkTableError) as info:
        read_links(path)
    assert chinese_first(str(info.value)) and "为空" in str(info.value)


def test_catalog_links_are_the_shipped_and_the_confirmed_ones() -> None:
    shipped = read_links()
    decisions = [
        confirmed(),  # joins
        rejected(),  # never
        confirmed("042/一/一", "parks"),  # a draft's or a removed plan's measure: waits
        confirmed("001/三/八", "coal_boilers"),  # shipped already: the shipped one counts
    ]
    ids = {"001/三/八", "001/三/一"}
    links = catalog_links(shipped, decisions, ids)
    assert links[: len(shipped)] == shipped
    added = links[len(shipped) :]
    assert [(k.measure_id, k.layer_id, k.source, k.confirmed_by) for k in added] == [
        ("001/三/八", "parks", CONFIRMED_SOURCE, "editor1")
    ]
    assert {k.source for k in shipped} == {SHIPPED}

    # The check names the decision on a missing measure and the doubled one; a draft's is fine.
    problems = check_decisions(decisions, shipped, ids)
    assert len(problems) == 2 and all(chinese_first(p) for p in problems)
    assert "042/一/一" in problems[0] and "没有措施" in problems[0]
    assert "随附" in problems[1] and "coal_boilers" in problems[1]
    assert len(check_decisions(decisions, shipped, ids, draft_ids={"042/一/一"})) == 1


def test_load_catalog_reads_the_added_links(tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    assert path not in inputs(added_links_path=path)  # no file yet: nothing to fingerprint
    for d in (confirmed(), rejected(), confirmed("042/一/一", "parks")):
        decide(path, d)
    assert path in inputs(added_links_path=path)
    catalog = load_catalog(layer_ids=LAYERS, added_links_path=path)
    mine = [k for k in catalog.links if k.source == CONFIRMED_SOURCE]
    assert [(k.measure_id, k.layer_id) for k in mine] == [("001/三/八", "parks")]
    rows = catalog_rows(catalog)
    link = next(r for r in rows["measure_links"] if r["id"] == "001/三/八|parks")
    assert link == {
        "id": "001/三/八|parks",
        "measure_id": "001/三/八",
        "layer_id": "parks",
        "reason": "理由",
        "rule": "规则",
        "source": "确认",
        "confirmed_by": "editor1",
        "confirmed_at": AT,
    }
    shipped = next(r for r in rows["measure_links"] if r["id"] == "001/三/八|coal_boilers")
    assert (shipped["source"], shipped["confirmed_by"]) == ("随附", None)
    measure = next(m for m in rows["plan_measures"] if m["id"] == "001/三/八")
    assert measure["layers"].split(",")[-1] == "parks"


def test_python_m_plans_links_leaves_out_decided_ones(tmp_path: Path, capsys) -> None:
    from plans.__main__ import main

    assert main(["links"]) == 0
    before = capsys.readouterr().out
    line = next(ln for ln in before.splitlines() if not ln.startswith("#"))
    measure_id, layer_id = line.split(",")[:2]
    path = tmp_path / "links.csv"
    decide(path, make_decision(measure_id, layer_id, REJECTED, "editor1", at=AT))
    assert main(["links", "--added", str(path)]) == 0
    after = capsys.readouterr().out
    assert line in before and line not in after
    assert len(after.splitlines()) == len(before.splitlines()) - 1
