"""`flask plans add/list/publish/remove` on an app with its own store and added-plans folder:
a draft stays out of the catalog, a published plan is on /measures (escaped) and in the API,
and every bad input is refused with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from webmap import plan_sources

# Entities are decoded by the parser (a plan pasted from a web page), so &lt;script&gt; is a
# real <script> in the heading: what escaping must hold against. Raw tags are dropped.
PLAN = """营口市清洁取暖实施方案
为贯彻落实《辽宁省加快建立健全绿色低碳循环发展经济体系任务措施》，结合我市实际，制定本方案。
一、推进清洁取暖<script>alert(1)</script>
（一）改造燃煤锅炉&lt;script&gt;alert(2)&lt;/script&gt;。到2025年，城市建成区内35蒸吨/小时\
以下燃煤锅炉基本淘汰。〔责任单位：市发改委、市住建局〕
（二）加强农村清洁取暖。实施农村清洁取暖改造2万户以上。〔责任单位：市农业农村局〕
二、加强组织实施
（一）强化督导。各地区各部门加强统筹，实施年度考核。〔责任单位：市生态环境局〕
"""
SCRIPT_MEASURE = "005/一/一"


@pytest.fixture
def plans_app(make_app):
    return make_app(own_store=True)


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "营口市清洁取暖实施方案.txt"
    path.write_bytes(PLAN.encode("gbk"))
    return path


def _documents(client) -> dict[str, dict]:
    answer = client.get("/measures?f=json").get_json()
    return {d["id"]: d for d in answer["documents"]}


def _api_documents(client) -> set[str]:
    items = client.get("/ogc/collections/plan_documents/items?f=json&limit=100").get_json()
    return {f["id"] for f in items["features"]}


def _added_dir(app) -> Path:
    return Path(app.config["ADDED_PLANS_DIR"])


def test_draft_publish_remove(plans_app, plan_file: Path) -> None:
    runner, client = plans_app.test_cli_runner(), plans_app.test_client()
    added = runner.invoke(args=["plans", "add", str(plan_file), "--region", "210800"])
    assert added.exit_code == 0, added.output
    out = added.output
    assert "005" in out and "草稿 draft" in out and "营口市" in out
    assert "措施 measures: 5（一级 一、 2，二级 （一） 3）" in out
    assert "目标 targets: 2（其中定性 qualitative 1）" in out
    assert "责任单位 responsible units: 4：市发改委、市住建局、市农业农村局、市生态环境局" in out
    folder = _added_dir(plans_app) / "005"
    meta = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert (meta["region"], meta["status"], meta["original_name"]) == (
        "210800",
        "草稿",
        plan_file.name,
    )
    assert meta["added_by"].startswith("cli") and meta["added_at"]
    assert (folder / "005.txt").read_text(encoding="utf-8") == PLAN  # GBK in, UTF-8 kept

    # A draft is in no catalog.
    assert "005" not in _documents(client)
    assert client.get(f"/measures/{SCRIPT_MEASURE}").status_code == 404
    listed = runner.invoke(args=["plans", "list"]).output
    assert "000  随附 shipped" in listed
    assert any(ln.startswith("005  草稿 draft") and "210800" in ln for ln in listed.splitlines())

    published = runner.invoke(args=["plans", "publish", "005", "--by", "editor"])
    assert published.exit_code == 0, published.output
    assert "已发布 published 005" in published.output
    documents = _documents(client)
    assert documents["005"]["adcode"] == "210800"
    assert documents["005"]["title"] == "营口市清洁取暖实施方案"
    assert "005" in _api_documents(client)
    page = client.get(f"/measures/{SCRIPT_MEASURE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    index = client.get("/measures?document=005").get_data(as_text=True)
    assert "<script>alert" not in index and "&lt;script&gt;alert(2)" in index
    meta = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert (meta["status"], meta["published_by"]) == ("已发布", "editor")
    assert "005  已发布 published" in runner.invoke(args=["plans", "list"]).output

    again = runner.invoke(args=["plans", "publish", "005"])
    assert again.exit_code != 0 and "已发布" in again.output

    removed = runner.invoke(args=["plans", "remove", "005"])
    assert removed.exit_code == 0, removed.output
    assert not folder.exists()
    assert "005" not in _documents(client) and "005" not in _api_documents(client)


def test_add_published_docx_for_a_script(plans_app, tmp_path: Path) -> None:
    document = docx.Document()
    for line in PLAN.splitlines():
        document.add_paragraph(line)
    path = tmp_path / "方案.docx"
    document.save(path)
    runner = plans_app.test_cli_runner()
    added = runner.invoke(args=["plans", "add", str(path), "--region", "210800", "--publish"])
    assert added.exit_code == 0, added.output
    assert "已发布 published" in added.output and "地图库已重建 store rebuilt" in added.output
    assert "005" in _documents(plans_app.test_client())
    # The next one gets the next id, drafts and published alike.
    second = runner.invoke(args=["plans", "add", str(path), "--region", "210800"])
    assert second.exit_code == 0 and "006" in second.output


def _tables_only(path: Path) -> Path:
    document = docx.Document()
    document.add_table(rows=1, cols=1).cell(0, 0).text = PLAN
    document.save(path)
    return path


def _scanned(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@pytest.mark.parametrize(
    ("name", "make", "region", "words"),
    [
        (
            "p.txt",
            lambda p: p.write_bytes(PLAN.encode()),
            "999999",
            ("999999", "没有区划", "no region"),
        ),
        ("p.txt", lambda p: p.write_bytes(b"\x81\x30\xff" * 40), "210800", ("编码", "encoding")),
        ("p.docx", _tables_only, "210800", ("只有表格", "only tables")),
        ("p.pdf", _scanned, "210800", ("扫描件？没有文字层", "no text layer")),
        ("p.txt", lambda p: p.write_text("通知\n请各单位知悉。\n"), "210800", ("not a plan",)),
        (
            "p.doc",
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0"),
            "210800",
            ("不支持", "unsupported"),
        ),
    ],
    ids=["unknown-region", "encoding", "tables-only", "scanned", "not-a-plan", "suffix"],
)
def test_bad_input_writes_nothing(plans_app, tmp_path: Path, name, make, region, words) -> None:
    path = tmp_path / name
    make(path)
    store_path = Path(plans_app.config["STORE_PATH"])
    stamp = store_path.stat().st_mtime_ns
    args = ["plans", "add", str(path), "--region", region, "--publish"]
    result = plans_app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert str(path) in result.output and all(w in result.output for w in words), result.output
    if len(words) == 2:
        assert result.output.index(words[0]) < result.output.index(words[1])
    added = _added_dir(plans_app)
    assert not added.exists() or list(added.iterdir()) == []
    assert store_path.stat().st_mtime_ns == stamp


def test_failed_rebuild_leaves_nothing(plans_app, plan_file: Path, monkeypatch) -> None:
    def broken(app) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr(plan_sources, "build_store", broken)
    runner = plans_app.test_cli_runner()
    args = ["plans", "add", str(plan_file), "--region", "210800"]
    failed = runner.invoke(args=[*args, "--publish"])
    assert failed.exit_code != 0 and "disk full" in failed.output
    assert "重建失败" in failed.output and list(_added_dir(plans_app).iterdir()) == []
    assert runner.invoke(args=args).exit_code == 0  # a draft needs no rebuild
    refused = runner.invoke(args=["plans", "publish", "005"])
    assert refused.exit_code != 0 and "not published" in refused.output
    meta = json.loads((_added_dir(plans_app) / "005" / "plan.json").read_text(encoding="utf-8"))
    assert meta["status"] == "草稿"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["remove", "001"], ("随附", "shipped")),
        (["publish", "002"], ("随附", "shipped")),
        (["remove", "042"], ("没有添加过", "was not added")),
        (["publish", "042"], ("没有添加过", "was not added")),
    ],
)
def test_shipped_and_unknown_ids(plans_app, args: list[str], words: tuple[str, str]) -> None:
    result = plans_app.test_cli_runner().invoke(args=["plans", *args])
    assert result.exit_code != 0
    assert result.output.index(words[0]) < result.output.index(words[1]), result.output


def test_failed_rebuild_keeps_a_published_plan(plans_app, plan_file: Path, monkeypatch) -> None:
    runner = plans_app.test_cli_runner()
    args = ["plans", "add", str(plan_file), "--region", "210800", "--publish"]
    assert runner.invoke(args=args).exit_code == 0

    def broken(app) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr(plan_sources, "build_store", broken)
    refused = runner.invoke(args=["plans", "remove", "005"])
    assert refused.exit_code != 0 and "not removed" in refused.output
    meta = json.loads((_added_dir(plans_app) / "005" / "plan.json").read_text(encoding="utf-8"))
    assert meta["status"] == "已发布"
    assert "005" in _documents(plans_app.test_client())


def test_unpublish_takes_a_plan_out_of_the_catalog(plans_app, plan_file: Path) -> None:
    runner = plans_app.test_cli_runner()
    args = ["plans", "add", str(plan_file), "--region", "210800", "--publish"]
    assert runner.invoke(args=args).exit_code == 0
    back = runner.invoke(args=["plans", "unpublish", "005", "--by", "editor"])
    assert back.exit_code == 0 and "已撤回为草稿" in back.output, back.output
    assert "005" not in _documents(plans_app.test_client())
    again = runner.invoke(args=["plans", "unpublish", "005"])
    assert again.exit_code != 0 and "草稿" in again.output
