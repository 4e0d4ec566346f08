"""The plan pages on an app with its own store: upload (.txt UTF-8/GBK, .docx) → draft →
review page → corrections (mark by quote, fix a unit, merge, split, remove) → publish → the
store's plan_targets and the API show the corrected targets → the audit log lists it all; bad
uploads refused naming the file with nothing written; roles, CSRF and escaping."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import unquote

import docx
import pytest
from support import TEST_PASSWORD, assert_offline, csrf, logged_in

from geo.store import GeoPackageStore
from webmap import plan_sources
from webmap.auth import UserStore

CORPUS = Path(__file__).parent.parent / "plans" / "corpus"
C1 = (CORPUS / "c1.txt").read_text(encoding="utf-8")
HOSTILE = """营口市清洁取暖实施方案
为贯彻落实《辽宁省加快建立健全绿色低碳循环发展经济体系任务措施》，结合我市实际，制定本方案。
一、推进清洁取暖<script>alert(1)</script>
（一）改造燃煤锅炉&lt;script&gt;alert(2)&lt;/script&gt;。到2025年，城市建成区内35蒸吨/小时\
以下燃煤锅炉基本淘汰。〔责任单位：市发改委、市住建局〕
（二）加强农村清洁取暖。实施农村清洁取暖改造2万户以上。〔责任单位：市农业农村局〕
"""


@pytest.fixture
def review_app(make_app):
    app = make_app(own_store=True, PLAN_MAX_BYTES=64 * 1024)
    users = UserStore(app.config["USERS_PATH"])
    users.add("admin1", TEST_PASSWORD, "admin")
    users.add("editor2", TEST_PASSWORD, "editor")
    users.add("viewer3", TEST_PASSWORD, "viewer")
    return app


@pytest.fixture
def editor(review_app):
    return logged_in(review_app, "editor2")


def _added(app) -> Path:
    return Path(app.config["ADDED_PLANS_DIR"])


def _upload(client, name: str, data: bytes, region: str = "210800"):
    token = csrf(client, "/admin/plans")
    return client.post(
        "/admin/plans",
        data={"csrf_token": token, "region": region, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _correct(client, plan_id: str, **form):
    form["csrf_token"] = csrf(client, f"/admin/plans/{plan_id}")
    return client.post(f"/admin/plans/{plan_id}/corrections", data=form)


def _page(client, plan_id: str = "005") -> str:
    response = client.get(f"/admin/plans/{plan_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    """The page's words without tags (what a person reads)."""
    return re.sub(r"<[^>]+>", "", html)


def _store_targets(app, document: str) -> list[dict]:
    store = GeoPackageStore(app.config["STORE_PATH"])
    try:
        rows = store.query("plan_targets", limit=None).features
        return [f.properties for f in rows if f.properties["document"] == document]
    finally:
        store.close()


def test_upload_review_correct_publish(review_app, editor) -> None:
    uploaded = _upload(editor, "青川省实施意见.txt", C1.encode("gbk"))
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:800]
    assert uploaded.headers["Location"].endswith("/admin/plans/005")
    meta = json.loads((_added(review_app) / "005" / "plan.json").read_text(encoding="utf-8"))
    assert (meta["status"], meta["added_by"], meta["region"]) == ("草稿", "editor2", "210800")
    assert (_added(review_app) / "005" / "005.txt").read_text(encoding="utf-8") == C1

    listed = editor.get("/admin/plans").get_data(as_text=True)
    assert "青川省人民政府关于加快建立健全绿色低碳循环发展经济体系的实施意见" in listed
    assert "草稿 draft" in listed and "随附" in listed and "editor2" in listed

    html = _page(editor)
    assert_offline(html)
    words = _text(html)
    assert "（二） 主要目标" in words and "一、 总体要求" in words
    assert "非化石能源消费比重：左右 20 %" in words  # a target chip as a planner reads it
    assert "≈ 20 %" in words
    assert "数值 numeric" in words and "定性 qualitative" in words
    assert '<mark class="lutu-target">非化石能源消费比重达到20%左右</mark>' in html
    assert 'id="t-005/一/二"' in html and 'id="m-005/一/二"' in html
    assert '<a href="/admin/plans/005/links">关联图层 Links</a>' in html
    assert "/assets/lutu-plan-review.js" in html
    with editor.get("/assets/lutu-plan-review.js") as script:
        assert script.status_code == 200

    # Mark a target by typing its quote (no script needed).
    marked = _correct(
        editor,
        "005",
        kind="mark_target",
        measure="005/二/二",
        quote="15分钟生活圈",
        value="15",
        unit="分钟",
        bound="≤",
        target_kind="numeric",
        indicator="生活圈步行时间",
        year="2025",
    )
    assert marked.status_code == 302
    assert unquote(marked.headers["Location"]).endswith("#m-005/二/二")
    page = _page(editor)
    assert "已保存 saved" in page and "15分钟生活圈" in page
    assert '<mark class="lutu-target">15分钟生活圈</mark>' in page

    # A selection in the text panel: the raw offset and quote, as the script fills them.
    start = C1.index("完善垃圾分类设施")
    selected = _correct(
        editor,
        "005",
        kind="mark_target",
        measure="005/二/二",
        quote="完善垃圾分类设施",
        start=str(start),
        value="",
        unit="",
        bound="=",
        target_kind="qualitative",
    )
    assert selected.status_code == 302

    fixed = _correct(editor, "005", kind="fix_unit", measure="005/二/三", target="1", unit="台")
    assert fixed.status_code == 302
    merged = _correct(editor, "005", kind="merge", measure="005/三/一")
    assert merged.status_code == 302
    split = _correct(editor, "005", kind="split", measure="005/一/二", point="非化石能源消费比重")
    assert split.status_code == 302, split.get_data(as_text=True)[:500]
    page = _page(editor)
    assert 'id="m-005/一/二-b"' in page and 'id="m-005/三/二"' not in page
    assert page.count('class="is-stale"') == 0

    # Bad corrections: the page says why, nothing saved.
    corrections = _added(review_app) / "005" / "corrections.json"
    before = corrections.read_text(encoding="utf-8")
    for form, words in [
        (dict(kind="mark_target", measure="005/二/二", quote="不在文中", value="1",
              unit="", bound="≥", target_kind="numeric"), "没有"),
        (dict(kind="merge", measure="005/三/一"), "没有同级措施"),
        (dict(kind="split", measure="005/一/二", starts_with="主要目标"), "开头"),
        (dict(kind="fix_unit", measure="005/二/三", target="7", unit="台"), "第 7 个目标"),
    ]:  # fmt: skip
        refused = _correct(editor, "005", **form)
        assert refused.status_code == 400 and words in refused.get_data(as_text=True)
    assert corrections.read_text(encoding="utf-8") == before

    # Drafts are in no catalog; publishing rebuilds the store with the corrected targets.
    assert _store_targets(review_app, "005") == []
    published = editor.post(
        "/admin/plans/005/publish", data={"csrf_token": csrf(editor, "/admin/plans/005")}
    )
    assert published.status_code == 302
    assert "已发布" in _page(editor)
    rows = {(r["measure_id"], r["text"]): r for r in _store_targets(review_app, "005")}
    walk = rows[("005/二/二", "15分钟生活圈")]
    assert (walk["value"], walk["unit"], walk["bound"], walk["kind"]) == (
        15,
        "分钟",
        "≤",
        "numeric",
    )
    assert walk["indicator"] == "生活圈步行时间" and walk["target_year"] == 2025
    assert rows[("005/二/二", "完善垃圾分类设施")]["kind"] == "qualitative"
    assert rows[("005/二/三", "全省基本淘汰国三及以下排放标准营运柴油货车")]["unit"] == "台"
    assert {m for m, _ in rows} >= {"005/一/二", "005/一/二-b"}
    assert rows[("005/一/二-b", "非化石能源消费比重达到20%左右")]["bound"] == "≈"
    api = editor.get("/ogc/collections/plan_targets/items?f=json&limit=1000").get_json()
    api_texts = {f["properties"]["text"] for f in api["features"]
                 if f["properties"]["document"] == "005"}  # fmt: skip
    assert "15分钟生活圈" in api_texts
    measures = editor.get("/ogc/collections/plan_measures/items?f=json&limit=1000").get_json()
    ids = {f["id"] for f in measures["features"]}
    assert "005/一/二-b" in ids and "005/三/二" not in ids

    # A published plan is not corrected: back to draft first.
    refused = _correct(editor, "005", kind="merge", measure="005/二/一")
    assert refused.status_code == 400 and "只能更正草稿" in refused.get_data(as_text=True)
    back = editor.post(
        "/admin/plans/005/unpublish", data={"csrf_token": csrf(editor, "/admin/plans/005")}
    )
    assert back.status_code == 302 and _store_targets(review_app, "005") == []

    # A correction removed (audited); the list shows what is left.
    stored = json.loads(corrections.read_text(encoding="utf-8"))
    removed = _correct(editor, "005", kind="remove", correction=stored[0]["id"])
    assert removed.status_code == 302
    assert len(json.loads(corrections.read_text(encoding="utf-8"))) == len(stored) - 1

    audit = editor.get("/audit?layer=plan_documents").get_data(as_text=True)
    words = _text(audit)
    for action in ("上传", "更正", "发布", "撤回"):
        assert action in words
    assert "标为目标 mark target：005/二/二「15分钟生活圈」" in words
    assert "合并 merge：005/三/一 ← 005/三/二" in words
    assert "删除更正 removed correction" in words
    assert "editor2" in words


def test_stale_correction_is_listed(review_app, editor) -> None:
    assert _upload(editor, "c1.txt", C1.encode()).status_code == 302
    folder = _added(review_app) / "005"
    stale = {"kind": "fix_unit", "measure": "005/二/三", "quote": "已删掉的目标原文", "id": "s1",
             "unit": "台", "by": "editor2", "at": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    (folder / "corrections.json").write_text(json.dumps([stale], ensure_ascii=False), "utf-8")
    html = _page(editor)
    assert 'class="is-stale"' in html
    assert "已不适用 no longer applies" in html and "已删掉的目标原文" in html


def test_docx_upload(review_app, editor) -> None:
    document = docx.Document()
    for line in C1.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    uploaded = _upload(editor, "实施意见.docx", buffer.getvalue())
    assert uploaded.status_code == 302
    assert "（三） 推进交通绿色低碳转型" in _text(_page(editor))


def test_hostile_text_is_escaped(review_app, editor) -> None:
    assert _upload(editor, "p.txt", HOSTILE.encode()).status_code == 302
    html = _page(editor)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html  # the decoded heading
    assert "&amp;lt;script&amp;gt;alert(2)" in html  # the raw text as written
    assert "<script>alert" not in editor.get("/admin/plans").get_data(as_text=True)


def _tables_only() -> bytes:
    document = docx.Document()
    document.add_table(rows=1, cols=1).cell(0, 0).text = C1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _scanned() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "region", "words"),
    [
        ("p.txt", C1.encode(), "999999", ("没有区划", "no region")),
        ("p.txt", C1.encode(), "", ("请选择", "choose the region")),
        ("p.txt", b"\x81\x30\xff" * 40, "210800", ("编码", "encoding")),
        ("p.docx", _tables_only(), "210800", ("只有表格", "only tables")),
        ("p.pdf", _scanned(), "210800", ("扫描件？没有文字层", "no text layer")),
        ("p.txt", C1.encode() * 60, "210800", ("文件过大", "too big")),
        ("p.doc", b"\xd0\xcf\x11\xe0", "210800", ("不支持", "unsupported")),
    ],
    ids=["unknown-region", "no-region", "encoding", "tables-only", "scanned", "too-big", "suffix"],
)
def test_bad_upload_writes_nothing(review_app, editor, name, data, region, words) -> None:
    store_path = Path(review_app.config["STORE_PATH"])
    stamp = store_path.stat().st_mtime_ns
    answer = _upload(editor, name, data, region)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    error = re.search(r'<p class="lutu-error" role="alert">(.*?)</p>', html, re.S).group(1)
    assert name in error and all(w in error for w in words), error
    assert error.index(words[0]) < error.index(words[1])
    added = _added(review_app)
    assert not added.exists() or list(added.iterdir()) == []
    assert store_path.stat().st_mtime_ns == stamp
    assert EditsEmpty(review_app)


def EditsEmpty(app) -> bool:  # noqa: N802 - reads as the assertion it is
    from geo.ledger.edits import EditStore

    return EditStore(app.config["EDITS_PATH"]).audit(layer="plan_documents") == []


def test_failed_publish_leaves_a_draft(review_app, editor, monkeypatch) -> None:
    assert _upload(editor, "c1.txt", C1.encode()).status_code == 302

    def broken(app) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr(plan_sources, "build_store", broken)
    answer = editor.post(
        "/admin/plans/005/publish", data={"csrf_token": csrf(editor, "/admin/plans/005")}
    )
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "重建失败" in html and "disk full" in html
    meta = json.loads((_added(review_app) / "005" / "plan.json").read_text(encoding="utf-8"))
    assert meta["status"] == "草稿"


def test_shipped_plan_is_read_only(review_app, editor) -> None:
    html = _page(editor, "000")
    assert "随附" in html and "lutu-mark-form" not in html and "发布 <small>Publish" not in html
    refused = _correct(editor, "000", kind="merge", measure="000/一")
    assert refused.status_code == 400
    assert editor.get("/admin/plans/042").status_code == 404


def test_roles_and_csrf(review_app, editor) -> None:
    anonymous = review_app.test_client()
    assert anonymous.get("/admin/plans").status_code == 302
    assert anonymous.get("/admin/plans/000").status_code == 302
    viewer = logged_in(review_app, "viewer3")
    assert viewer.get("/admin/plans").status_code == 403
    token = csrf(viewer, "/account")
    denied = viewer.post(
        "/admin/plans",
        data={"csrf_token": token, "region": "210800", "file": (io.BytesIO(C1.encode()), "c.txt")},
        content_type="multipart/form-data",
    )
    assert denied.status_code == 403
    assert logged_in(review_app, "admin1").get("/admin/plans").status_code == 200
    no_token = editor.post(
        "/admin/plans",
        data={"region": "210800", "file": (io.BytesIO(C1.encode()), "c.txt")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400 and not _added(review_app).exists()
    assert _upload(editor, "c1.txt", C1.encode()).status_code == 302
    no_token = editor.post("/admin/plans/005/publish")
    assert no_token.status_code == 400
    assert viewer.post("/admin/plans/005/publish", data={"csrf_token": token}).status_code == 403
