"""The plan pages: every plan document with an upload form (/admin/plans), and the review page
of one (/admin/plans/<id>) where an editor corrects what the parser got wrong and publishes.

Who: editors and admins. Uploading is an editor's task too: a draft changes nothing anyone else
sees (it is in no catalog until published), it is audited, and the person who knows the plan
(the editor reviewing it) is the one who has the file; admins keep regions and users.

Rule for corrections: only a draft (草稿) is corrected. A published plan is taken back to draft
(撤回) first, corrected, and published again, so the catalog never shows a half-reviewed plan
and every change to it goes through one publish (one store rebuild), audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from geo.errors import LutuError
from geo.regions import read_regions
from plans.added import DRAFT, PUBLISHED, STATUS_EN, AddedPlan, added_plans
from plans.corrections import (
    BOUNDS,
    KINDS,
    Correction,
    CorrectionError,
    Problem,
    add_correction,
    apply_corrections,
    clean_quote,
    make_fix_unit,
    make_mark,
    make_merge,
    make_split,
    make_unmark,
    read_corrections,
    remove_correction,
)
from plans.errors import PlanError
from plans.model import Document, Node
from plans.parse import default_doc_id, parse_file
from webmap import plan_sources
from webmap.auth import current_user, role_required
from webmap.catalog import catalog_view
from webmap.ledger import LOCAL_ZONE_LABEL, local_time
from webmap.store import edit_log, get_store

bp = Blueprint("plan_review", __name__, template_folder="templates")

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
SUBJECT = "plan_documents"


def _max_bytes() -> int:
    return int(current_app.config.get("PLAN_MAX_BYTES", DEFAULT_MAX_BYTES))


def _user() -> str:
    user = current_user()
    return user.name if user else ""


def _audit(action: str, plan_id: str, **entry: Any) -> None:
    edit_log().record(_user(), action, SUBJECT, plan_id, **entry)


# -- the list and the upload ------------------------------------------------------------------
@dataclass
class Listed:
    id: str
    title: str
    status: str  # 随附 shipped / 草稿 / 已发布
    region: str
    added: AddedPlan | None = None


def _listed() -> list[Listed]:
    titles = {k: d["title"] for k, d in catalog_view(get_store()).documents.items()}
    shipped = [
        Listed(default_doc_id(p), titles.get(default_doc_id(p), p.name), "随附 shipped", "—")
        for p in plan_sources.shipped_files()
    ]
    added = [
        Listed(p.id, p.title, f"{p.status} {STATUS_EN[p.status]}", p.region, p)
        for p in added_plans(plan_sources.added_dir())
    ]
    return [*shipped, *added]


def _plans_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    regions = read_regions(get_store())
    try:
        plans = _listed()
    except PlanError as exc:  # a damaged plan.json: say which, list nothing
        plans, error = [], "；".join(filter(None, [error, str(exc)]))
        status = 500 if status == 200 else status
    return (
        render_template(
            "admin_plans.html",
            plans=plans,
            regions=regions,
            region_names={r.adcode: r.name_zh for r in regions},
            error=error,
            max_mb=_max_bytes() / (1024 * 1024),
            chosen=request.form.get("region", ""),
            when=local_time,
            zone=LOCAL_ZONE_LABEL,
        ),
        status,
    )


@bp.get("/admin/plans")
@role_required("editor")
def plans_page() -> tuple[str, int]:
    return _plans_page()


@bp.post("/admin/plans")
@role_required("editor")
def upload() -> Response | tuple[str, int]:
    sent = request.files.get("file")
    name = Path(sent.filename or "").name if sent else ""
    if not sent or not name:
        return _plans_page("请选择要上传的规划文件 choose a plan file to upload", 400)
    data = sent.stream.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        return _plans_page(
            f"{name}：文件过大，上限 {_max_bytes() / (1024 * 1024):g} MB the file is too big "
            f"(at most {_max_bytes() / (1024 * 1024):g} MB)",
            400,
        )
    region = request.form.get("region", "").strip()
    if not region:
        return _plans_page(f"{name}：请选择规划所属的区划 choose the region the plan is for", 400)
    try:
        plan, doc = plan_sources.add_plan(data, name, region=region, by=_user(), where=name)
    except (LutuError, PlanError) as exc:
        return _plans_page(str(exc), 400)
    _audit(
        "upload",
        plan.id,
        after=plan.to_json(),
        details={
            "summary": f"上传 upload {name}："
            + "；".join(line.strip() for line in plan_sources.summary(doc))
        },
    )
    return redirect(url_for("plan_review.review", plan_id=plan.id))


# -- the review page --------------------------------------------------------------------------
@dataclass
class Piece:
    """A run of the raw text as the text panel shows it: whose it is, marked as a target."""

    start: int
    text: str
    measure: str | None = None
    target: bool = False
    first: bool = False  # the measure's first piece: where its anchor is


@dataclass
class Review:
    plan: AddedPlan | None  # None: a shipped plan (read only)
    doc: Document
    problems: list[Problem]
    corrections: list[Correction]
    nodes: list[Node] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    last_sibling: set[str] = field(default_factory=set)  # measures with nothing to merge with

    @property
    def editable(self) -> bool:
        return self.plan is not None and self.plan.status == DRAFT

    @property
    def stale(self) -> set[str]:
        return {p.correction.id for p in self.problems}


def _review(plan_id: str) -> Review:
    if plan_id in plan_sources.shipped_ids():
        path = next(p for p in plan_sources.shipped_files() if default_doc_id(p) == plan_id)
        doc = parse_file(path)
        review = Review(None, doc, [], [])
    else:
        plan = plan_sources.find_added(plan_id)
        corrections = read_corrections(plan.text_path.parent)
        doc, problems = apply_corrections(parse_file(plan.text_path, plan.id), corrections)
        review = Review(plan, doc, problems, corrections)
    review.nodes = list(review.doc.walk())
    review.pieces = _pieces(review.doc)
    for container in [review.doc.nodes, *(n.children for n in review.nodes)]:
        if container:
            review.last_sibling.add(container[-1].id)
    return review


def _pieces(doc: Document) -> list[Piece]:
    """The raw text cut into pieces: each measure's own text (its target spans marked), and
    between them what belongs to no measure (title block, preamble, dropped noise)."""
    owned = sorted(
        (s.start, s.end, node) for node in doc.walk() for s in (node.spans or [node.span])
    )
    out: list[Piece] = []
    pos = 0
    seen: set[str] = set()
    for start, end, node in owned:
        start = max(start, pos)
        if start >= end:
            continue
        if start > pos:
            out.append(Piece(pos, doc.raw[pos:start]))
        first = len(out)  # the index of this run's first piece
        marks = sorted((t.span.start, t.span.end) for t in node.targets)
        cursor = start
        for a, b in marks:
            a, b = max(a, cursor), min(b, end)
            if a >= b:
                continue
            if a > cursor:
                out.append(Piece(cursor, doc.raw[cursor:a], node.id))
            out.append(Piece(a, doc.raw[a:b], node.id, target=True))
            cursor = b
        if cursor < end:
            out.append(Piece(cursor, doc.raw[cursor:end], node.id))
        if node.id not in seen:
            out[first].first = True
            seen.add(node.id)
        pos = end
    if pos < len(doc.raw):
        out.append(Piece(pos, doc.raw[pos:]))
    return out


def split_points(node: Node) -> list[str]:
    """Where a measure may be split: the text after each sentence end (。；), quoted long
    enough to occur once in the measure's text."""
    points = []
    for m in re.finditer(r"[。；！？\n]", node.text):
        rest = node.text[m.end() :].lstrip("\n")
        if not rest.strip():
            continue
        size = 8
        while size < len(rest) and node.text.count(rest[:size]) > 1:
            size += 4
        points.append(rest[:size])
    return points


@bp.get("/admin/plans/<plan_id>")
@role_required("editor")
def review(plan_id: str) -> str | tuple[str, int]:
    return _review_page(plan_id)


def _review_page(
    plan_id: str, error: str | None = None, status: int = 200
) -> str | tuple[str, int]:
    try:
        found = _review(plan_id)
    except PlanError as exc:
        abort(404, description=str(exc))
    regions = {r.adcode: r.name_zh for r in read_regions(get_store())}
    return (
        render_template(
            "plan_review.html",
            r=found,
            plan=found.plan,
            doc=found.doc,
            region_name=regions.get(found.plan.region, "") if found.plan else "",
            bounds=BOUNDS,
            kinds=KINDS,
            split_points=split_points,
            error=error,
            messages=get_flashed_messages(),
            PUBLISHED=PUBLISHED,
            when=local_time,
            zone=LOCAL_ZONE_LABEL,
        ),
        status,
    )


def _float(text: str | None) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise CorrectionError(
            f"数值「{text}」不是数字 the value '{text}' is not a number"
        ) from None


def _int(text: str | None, what: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{1,4}", text):
        raise CorrectionError(f"{what}「{text}」不是整数 {what!s} '{text}' is not a whole number")
    return int(text)


def _correction(doc: Document, form: Any) -> Correction:
    """The correction a review form asks for, against the document as corrected so far."""
    kind = form.get("kind", "")
    measure = form.get("measure", "")
    if kind == "merge":
        return make_merge(doc, measure)
    if kind == "split":
        return make_split(doc, measure, form.get("starts_with") or form.get("point") or "")
    if kind == "mark_target":
        quote, start = form.get("quote", ""), _int(form.get("start"), "位置")
        if start is not None and doc.raw[start : start + len(quote)] == quote:
            quote = clean_quote(doc.raw, start, start + len(quote))  # a selection of the text
        return make_mark(
            doc,
            measure,
            quote,
            value=_float(form.get("value")),
            unit=form.get("unit", ""),
            bound=form.get("bound", ""),
            target_kind=form.get("target_kind", "numeric"),
            indicator=form.get("indicator", ""),
            year=_int(form.get("year"), "年份"),
            start=start,
        )
    number = _int(form.get("target"), "目标序号") or 0
    if kind == "unmark_target":
        return make_unmark(doc, measure, number)
    if kind == "fix_unit":
        return make_fix_unit(doc, measure, number, form.get("unit", ""))
    raise CorrectionError(f"未知的更正类型 unknown correction kind {kind!r}")


def _measure_state(doc: Document, measure: str) -> dict[str, Any] | None:
    node = next((n for n in doc.walk() if n.id == measure), None)
    if node is None:
        return None
    return {
        "id": node.id,
        "heading": node.heading,
        "text": node.text,
        "units": [u.name for u in node.units],
        "targets": [f"{t.reads()}「{t.text}」" for t in node.targets],
    }


@bp.post("/admin/plans/<plan_id>/corrections")
@role_required("editor")
def correct(plan_id: str) -> Response | str | tuple[str, int]:
    try:
        found = _review(plan_id)
    except PlanError as exc:
        abort(404, description=str(exc))
    plan = found.plan
    if plan is None or plan.status != DRAFT:
        return _review_page(
            plan_id,
            "只能更正草稿：已发布的文件请先撤回为草稿 only drafts are corrected: take a published "
            "plan back to draft first",
            400,
        )
    folder = plan.text_path.parent
    if request.form.get("kind") == "remove":
        try:
            removed = remove_correction(folder, request.form.get("correction", ""))
        except KeyError:
            return _review_page(plan_id, "没有这条更正 no such correction", 400)
        _audit(
            "correct",
            plan.id,
            before=removed.to_json(),
            details={"summary": f"删除更正 removed correction {removed.describe()}"},
        )
        return redirect(
            url_for(
                "plan_review.review", plan_id=plan.id, saved=f"已删除 removed：{removed.describe()}"
            )
        )
    try:
        correction = _correction(found.doc, request.form)
        after, problems = apply_corrections(found.doc, [correction])
        if problems:
            raise CorrectionError(problems[0].reason)
    except CorrectionError as exc:
        return _review_page(plan_id, str(exc), 400)
    saved = add_correction(folder, correction, _user())
    measure = correction.measure
    _audit(
        "correct",
        plan.id,
        before=_measure_state(found.doc, measure),
        after=_measure_state(after, measure),
        details={"summary": saved.describe(), "correction": saved.to_json()},
    )
    flash(f"已保存 saved：{saved.describe()}")
    return redirect(url_for("plan_review.review", plan_id=plan.id) + f"#m-{measure}")


@bp.post("/admin/plans/<plan_id>/publish")
@role_required("editor")
def publish(plan_id: str) -> Response | str | tuple[str, int]:
    return _status(plan_id, publish=True)


@bp.post("/admin/plans/<plan_id>/unpublish")
@role_required("editor")
def unpublish(plan_id: str) -> Response | str | tuple[str, int]:
    return _status(plan_id, publish=False)


def _status(plan_id: str, publish: bool) -> Response | str | tuple[str, int]:
    try:
        before = plan_sources.find_added(plan_id)
        if publish:
            changed = plan_sources.publish_plan(plan_id, _user())
        else:
            changed = plan_sources.unpublish_plan(plan_id, _user())
    except PlanError as exc:
        return _review_page(plan_id, str(exc), 400)
    action = "publish" if publish else "unpublish"
    words = (
        "已发布，地图库已重建 published, store rebuilt" if publish else "已撤回为草稿 back to draft"
    )
    _audit(
        action,
        plan_id,
        before=before.to_json(),
        after=changed.to_json(),
        details={"summary": f"{words}《{changed.title}》"},
    )
    flash(words)
    return redirect(url_for("plan_review.review", plan_id=plan_id))


def init_app(app: Flask) -> None:
    app.config.setdefault("PLAN_MAX_BYTES", DEFAULT_MAX_BYTES)
    app.register_blueprint(bp)
