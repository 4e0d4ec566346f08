"""Added plan documents as data: only published ones join the catalog, with the region the
person gave; ids follow the shipped ones; a document id taken twice stops the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from plans.added import (
    added_plans,
    next_plan_id,
    published_plans,
    remove_added_plan,
    set_plan_status,
    write_added_plan,
)
from plans.catalog import PLANS_DIR, catalog_rows, inputs, load_catalog
from plans.errors import PlanError
from plans.links import COLUMNS

PLAN = (PLANS_DIR / "000.txt").read_text(encoding="utf-8")


def _links(tmp_path: Path) -> Path:
    path = tmp_path / "links.csv"
    path.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    return path


def _write(folder: Path, plan_id: str, publish: bool) -> None:
    write_added_plan(
        folder,
        plan_id,
        PLAN,
        region="210300",
        title="t",
        original_name="a.txt",
        added_by="test",
        publish=publish,
    )


def test_only_published_plans_join_the_catalog(tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "000.txt").write_text(PLAN, encoding="utf-8")
    added = tmp_path / "added"
    _write(added, "001", publish=False)
    _write(added, "002", publish=True)
    assert [p.id for p in added_plans(added)] == ["001", "002"]
    assert [p.id for p in published_plans(added)] == ["002"]
    catalog = load_catalog(shipped, _links(tmp_path), added_dir=added)
    assert [d.id for d in catalog.documents] == ["000", "002"]
    rows = {d["id"]: d for d in catalog_rows(catalog)["plan_documents"]}
    assert (rows["000"]["adcode"], rows["002"]["adcode"]) == (None, "210300")
    names = {p.name for p in inputs(shipped, _links(tmp_path), added)}
    assert "002.txt" in names and "001.txt" not in names

    set_plan_status(added, "001", "已发布", "editor")
    assert [p.id for p in published_plans(added)] == ["001", "002"]
    remove_added_plan(added, "002")
    assert [p.id for p in added_plans(added)] == ["001"]
    assert [p.name for p in added.iterdir()] == ["001"]  # no temporary folders left


def test_a_document_id_taken_twice_stops_the_build(tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "000.txt").write_text(PLAN, encoding="utf-8")
    _write(tmp_path / "added", "000", publish=True)
    with pytest.raises(PlanError, match="文件编号 000 .* document id 000 is taken"):
        load_catalog(shipped, _links(tmp_path), added_dir=tmp_path / "added")


def test_next_plan_id() -> None:
    assert next_plan_id(["000", "001", "002", "003", "004"]) == "005"
    assert next_plan_id(["000", "007", "x"]) == "008"  # a removed id is not given again
    with pytest.raises(PlanError, match="用尽"):
        next_plan_id(["999"])
