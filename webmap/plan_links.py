"""A plan's measure–layer links, suggested by keywords and decided by a person (issue #15).

`/admin/plans/<id>/links` (editors) lists each measure of a plan with the layers its keywords
hit, the links it has (shipped ones from plans/links.csv read-only, confirmed ones with who and
when) and the suggestions an editor rejected (greyed, with an undo). A decision goes to the
added-links file (ADDED_LINKS_PATH), the store is rebuilt (a failure puts the file back) and
the audit log records it. `flask plans links PLAN_ID` and `flask plans link confirm|reject|
remove|check` do the same for scripts.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from geo.files import write_atomically
from layers import all_layers, registry
from layers.base import LayerType
from plans.added import PUBLISHED, STATUS_EN, AddedPlan, added_plans
from plans.catalog import plan_files
from plans.corrections import reviewed_document
from plans.errors import PlanError
from plans.links import (
    CONFIRMED,
    REJECTED,
    Decision,
    Link,
    LinkTableError,
    check_decisions,
    decide,
    default_rule,
    make_decision,
    read_decisions,
    read_links,
    remove_decision,
    suggest,
)
from plans.model import Document, Node
from plans.parse import default_doc_id, parse_file
from webmap.auth import current_user, role_required
from webmap.plan_sources import cli_user, plans_cli
from webmap.store import build_store, edit_log, store_name

SHIPPED_STATUS = "随附"
REASON_MAX = 200  # one line
ACTIONS = {"confirm": CONFIRMED, "reject": REJECTED, "remove": None}
DONE_ZH = {"confirm": "已确认 confirmed", "reject": "已否决 rejected", "remove": "已撤销 undone"}


class LinkDecisionError(ValueError):
    """A decision that cannot be made (bad input) or saved (the rebuild failed)."""

    def __init__(self, message: str, *, saved: bool = True) -> None:
        super().__init__(message)
        self.rebuild_failed = not saved


# -- the plan and its document ---------------------------------------------------------------
@dataclass(frozen=True)
class PlanInfo:
    id: str
    status: str  # 随附 / 草稿 / 已发布
    status_en: str
    path: Path
    added: AddedPlan | None = None  # None: a shipped plan

    @property
    def shipped(self) -> bool:
        return self.status == SHIPPED_STATUS


def _plan(plan_id: str) -> PlanInfo | None:
    for path in plan_files(Path(current_app.config["PLANS_DIR"])):
        if default_doc_id(path) == plan_id:
            return PlanInfo(plan_id, SHIPPED_STATUS, "shipped", path)
    for p in added_plans(Path(current_app.config["ADDED_PLANS_DIR"])):
        if p.id == plan_id:
            return PlanInfo(p.id, p.status, STATUS_EN[p.status], p.text_path, p)
    return None


def _document(plan: PlanInfo) -> Document:
    """The plan's document as the catalog takes it: an added plan as reviewed (parsed, then
    corrected)."""
    if plan.added is not None:
        return reviewed_document(plan.added)
    return parse_file(plan.path, plan.id)


# -- what the page and the commands show -----------------------------------------------------
@dataclass
class Hit:
    """A layer a measure's keywords hit (a suggestion), or a decided or shipped link."""

    layer: LayerType
    keywords: tuple[str, ...] = ()
    rule: str = ""  # the default rule a confirm form starts with
    link: Link | None = None
    decision: Decision | None = None


@dataclass
class MeasureLinks:
    node: Node
    position: int
    links: list[Hit] = field(default_factory=list)  # shipped and confirmed
    suggestions: list[Hit] = field(default_factory=list)  # not decided yet
    rejected: list[Hit] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"m-{self.position}"


def _keywords() -> dict[str, tuple[str, ...]]:
    return {layer.id: layer.keywords for layer in all_layers()}


def _shipped_links() -> list[Link]:
    return read_links(Path(current_app.config["LINKS_PATH"]), layer_ids=registry())


def _decisions() -> list[Decision]:
    return read_decisions(_decisions_path(), layer_ids=registry())


def _decisions_path() -> Path:
    return Path(current_app.config["ADDED_LINKS_PATH"])


def overview(doc: Document) -> tuple[list[MeasureLinks], list[Decision]]:
    """Per measure (hierarchy order): its links, the suggestions not decided yet and the
    rejected ones; and the decisions on this plan's measures that no longer exist."""
    layers = registry()
    shipped = {(k.measure_id, k.layer_id): k for k in _shipped_links()}
    decisions = {d.key: d for d in _decisions()}
    hits: dict[tuple[str, str], tuple[str, ...]] = {
        (s.measure_id, s.layer_id): s.keywords for s in suggest([doc], _keywords())
    }
    rows = []
    for position, node in enumerate(doc.walk()):
        row = MeasureLinks(node, position)
        for layer in layers.values():
            key = (node.id, layer.id)
            words = hits.get(key, ())
            hit = Hit(layer, words, default_rule(layer.name_zh, words))
            if key in shipped:
                row.links.append(Hit(layer, words, link=shipped[key]))
            elif key in decisions and decisions[key].decision == CONFIRMED:
                hit.decision = decisions[key]
                hit.link = decisions[key].link()
                row.links.append(hit)
            elif key in decisions:
                hit.decision = decisions[key]
                row.rejected.append(hit)
            elif words:
                row.suggestions.append(hit)
        rows.append(row)
    ids = {node.id for node in doc.walk()}
    orphans = [
        d
        for d in decisions.values()
        if d.measure_id.split("/")[0] == doc.id and d.measure_id not in ids
    ]
    return rows, orphans


def mark_words(text: str, words: tuple[str, ...]) -> Markup:
    """`text`, escaped, with each of `words` marked."""
    spans: list[tuple[int, int]] = []
    for word in sorted(set(words), key=len, reverse=True):
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if all(end <= a or start >= b for a, b in spans):
                spans.append((start, end))
            start = text.find(word, end)
    out, pos = [], 0
    for start, end in sorted(spans):
        out.append(Markup.escape(text[pos:start]))
        out.append(Markup('<mark class="lutu-keyword">{}</mark>').format(text[start:end]))
        pos = end
    out.append(Markup.escape(text[pos:]))
    return Markup("").join(out)


# -- making a decision -----------------------------------------------------------------------
@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One decision at a time (across the server's processes): read, write, rebuild."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _measure(measure_id: str) -> tuple[PlanInfo, Node]:
    plan_id = measure_id.split("/")[0]
    plan = _plan(plan_id)
    if plan is None:
        raise LinkDecisionError(f"没有规划文件「{plan_id}」 no plan document {plan_id!r}")
    node = next((n for n in _document(plan).walk() if n.id == measure_id), None)
    if node is None:
        raise LinkDecisionError(f"没有措施「{measure_id}」 no measure {measure_id!r}")
    return plan, node


def apply_decision(
    action: str, measure_id: str, layer_id: str, by: str, reason: str = "", rule: str = ""
) -> str:
    """Confirm, reject or remove (undo) the decision on a measure–layer link: the added-links
    file changed, the store rebuilt (a failure puts the file back and raises), the change
    audited. Returns what changed, in words."""
    measure_id, layer_id = measure_id.strip(), layer_id.strip()
    if action not in ACTIONS:
        raise LinkDecisionError(f"未知操作「{action}」 unknown action {action!r}")
    layer = registry().get(layer_id)
    if layer is None:
        raise LinkDecisionError(f"没有图层「{layer_id}」 no layer {layer_id!r}")
    plan, node = _measure(measure_id)
    key = (measure_id, layer_id)
    if key in {(k.measure_id, k.layer_id) for k in _shipped_links()}:
        raise LinkDecisionError(
            f"关联 {measure_id}→{layer_id} 随附于关联表 plans/links.csv，不能在此更改 the link "
            f"{measure_id}→{layer_id} is shipped in plans/links.csv: it cannot be changed here"
        )
    reason, rule = " ".join(reason.split()), " ".join(rule.split())
    if action == "confirm":
        if not reason:
            raise LinkDecisionError("请填写理由（一行） a reason (one line) is needed")
        if len(reason) > REASON_MAX or len(rule) > 2 * REASON_MAX:
            raise LinkDecisionError(
                f"理由最多 {REASON_MAX} 字，规则最多 {2 * REASON_MAX} 字 the reason may have "
                f"{REASON_MAX} characters at most, the rule {2 * REASON_MAX}"
            )
        if not rule:
            text = node.heading + node.text  # the words `suggest` matches
            rule = default_rule(layer.name_zh, tuple(w for w in layer.keywords if w in text))
    path = _decisions_path()
    with _locked(path):
        saved = path.read_bytes() if path.exists() else None
        try:
            if action == "remove":
                after = None
                before = remove_decision(path, measure_id, layer_id)
                if before is None:
                    raise LinkDecisionError(
                        f"关联 {measure_id}→{layer_id} 没有可撤销的决定 no decision on "
                        f"{measure_id}→{layer_id} to undo"
                    )
            else:
                after = make_decision(
                    measure_id, layer_id, ACTIONS[action], by, reason=reason, rule=rule
                )
                before = decide(path, after)
        except LinkTableError as exc:
            raise LinkDecisionError(str(exc)) from None
        try:
            build_store(current_app)
        except Exception as exc:
            if saved is None:
                path.unlink(missing_ok=True)
            else:
                _restore(path, saved)
            raise LinkDecisionError(
                f"地图库重建失败，决定未保存 store rebuild failed, the decision was not saved: "
                f"{exc}",
                saved=False,
            ) from None
    edit_log().record(
        by,
        action,
        "measure_links",
        f"{measure_id}→{layer_id}",
        before=before.to_json() if before else None,
        after=after.to_json() if after else None,
        details={"plan": plan.id, "measure": node.heading, "layer": layer.name_zh},
    )
    what = f"{DONE_ZH[action]} {measure_id} {node.heading} → {layer.name_zh} {layer.name_en}"
    if action == "confirm" and plan.status != PUBLISHED and not plan.shipped:
        what += "（草稿：发布后进入目录 draft: joins the catalog when published）"
    return what


def _restore(path: Path, content: bytes) -> None:
    write_atomically(path, content, mode=0o644)


# -- the page --------------------------------------------------------------------------------
bp = Blueprint("plan_links", __name__, template_folder="templates")


@bp.route("/admin/plans/<plan_id>/links", methods=["GET", "POST"])
@role_required("editor")
def links_page(plan_id: str):
    plan = _plan(plan_id)
    if plan is None:
        abort(404, description=f"没有规划文件「{plan_id}」 no plan document {plan_id!r}")
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        measure_id = form.get("measure_id", "")
        if measure_id.split("/")[0] != plan.id:
            error, status = (
                f"措施「{measure_id}」不属于本规划 measure {measure_id!r} is not of this plan",
                400,
            )
        else:
            try:
                message = apply_decision(
                    form.get("action", ""),
                    measure_id,
                    form.get("layer_id", ""),
                    current_user().name,
                    form.get("reason", ""),
                    form.get("rule", ""),
                )
            except (LinkDecisionError, PlanError) as exc:
                failed = isinstance(exc, LinkDecisionError) and exc.rebuild_failed
                error, status = str(exc), 500 if failed else 400
            else:
                flash(message)
                anchor = form.get("anchor", "")
                return redirect(
                    url_for("plan_links.links_page", plan_id=plan.id)
                    + (f"#{anchor}" if anchor.startswith("m-") and anchor[2:].isdigit() else "")
                )
    doc = _document(plan)
    try:
        rows, orphans = overview(doc)
    except LinkTableError as exc:  # a hand-edited file gone bad: say where, decide nothing
        rows, orphans, error, status = [], [], str(exc), 500
    return render_template(
        "admin_plan_links.html",
        plan=plan,
        doc=doc,
        rows=rows,
        orphans=orphans,
        layers=all_layers(),
        error=error,
        mark=mark_words,
        short=_short,
    ), status


def _short(text: str, size: int = 160) -> str:
    return text if len(text) <= size else text[:size] + "…"


# -- the commands ----------------------------------------------------------------------------
def _cli_plan(plan_id: str) -> PlanInfo:
    try:
        plan = _plan(plan_id.strip())
    except PlanError as exc:
        raise click.ClickException(str(exc)) from None
    if plan is None:
        raise click.ClickException(
            f"没有规划文件「{plan_id}」 no plan document {plan_id!r} (flask plans list)"
        )
    return plan


@plans_cli.command("links")
@click.argument("plan_id")
def links_command(plan_id: str) -> None:
    """The measures of PLAN_ID with their links and the keyword suggestions not decided yet."""
    plan = _cli_plan(plan_id)
    doc = _document(plan)
    rows, orphans = overview(doc)
    click.echo(f"{doc.id}《{doc.title}》 {plan.status} {plan.status_en}")
    counts = {"links": 0, "suggestions": 0, "rejected": 0}
    for row in rows:
        if not (row.links or row.suggestions or row.rejected):
            continue
        click.echo(f"{row.node.id}  {row.node.heading}")
        for hit in row.links:
            k = hit.link
            who = f" {k.confirmed_by} {k.confirmed_at}" if k.confirmed_by else ""
            click.echo(f"    关联 link     {hit.layer.id:<18} {k.source}{who}  理由：{k.reason}")
        for hit in row.suggestions:
            click.echo(
                f"    建议 suggest  {hit.layer.id:<18} 关键词 keywords：{'、'.join(hit.keywords)}"
            )
        for hit in row.rejected:
            d = hit.decision
            click.echo(f"    已否决 rejected {hit.layer.id:<16} {d.by} {d.at}")
        for name, items in (
            ("links", row.links),
            ("suggestions", row.suggestions),
            ("rejected", row.rejected),
        ):
            counts[name] += len(items)
    for d in orphans:
        click.echo(f"  ! {d.measure_id}→{d.layer_id}：措施已不存在 the measure no longer exists")
    click.echo(
        f"# 关联 {counts['links']} 条，待定建议 {counts['suggestions']} 条，已否决 "
        f"{counts['rejected']} 条 {counts['links']} links, {counts['suggestions']} suggestions "
        f"to decide, {counts['rejected']} rejected"
    )


@plans_cli.group("link")
def link_group() -> None:
    """Decide one measure–layer link: confirm, reject, remove (undo), check."""


def _run(action: str, measure_id: str, layer_id: str, by: str | None, **text: str) -> None:
    try:
        click.echo(apply_decision(action, measure_id, layer_id, by or cli_user(), **text))
    except (LinkDecisionError, PlanError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"地图库已重建 store rebuilt: {store_name(current_app)}")


_BY = click.option("--by", "by", default=None, help="who decides (default: the system user)")


@link_group.command("confirm")
@click.argument("measure_id")
@click.argument("layer_id")
@click.option("--reason", required=True, help="why the measure concerns the layer (one line)")
@click.option("--rule", default="", help="what the link implies for the layer's features")
@_BY
def confirm_command(measure_id: str, layer_id: str, reason: str, rule: str, by: str | None) -> None:
    """Confirm the link MEASURE_ID → LAYER_ID (it joins the catalog; a draft's when published)."""
    _run("confirm", measure_id, layer_id, by, reason=reason, rule=rule)


@link_group.command("reject")
@click.argument("measure_id")
@click.argument("layer_id")
@click.option("--reason", default="", help="why not (optional)")
@_BY
def reject_command(measure_id: str, layer_id: str, reason: str, by: str | None) -> None:
    """Reject the suggested link MEASURE_ID → LAYER_ID: it is not suggested again."""
    _run("reject", measure_id, layer_id, by, reason=reason)


@link_group.command("remove")
@click.argument("measure_id")
@click.argument("layer_id")
@_BY
def remove_command(measure_id: str, layer_id: str, by: str | None) -> None:
    """Remove the decision on MEASURE_ID → LAYER_ID (a confirmed link leaves the catalog, a
    rejected suggestion is suggested again)."""
    _run("remove", measure_id, layer_id, by)


@link_group.command("check")
def check_command() -> None:
    """Decisions on measures that no longer exist, or that the shipped table has too."""
    try:
        decisions = _decisions()
        shipped = _shipped_links()
        published, drafts = set(), set()
        for path in plan_files(Path(current_app.config["PLANS_DIR"])):
            published.update(n.id for n in parse_file(path).walk())
        for p in added_plans(Path(current_app.config["ADDED_PLANS_DIR"])):
            ids = {n.id for n in _document(_plan(p.id)).walk()}
            (published if p.status == PUBLISHED else drafts).update(ids)
    except (LinkTableError, PlanError) as exc:
        raise click.ClickException(str(exc)) from None
    problems = check_decisions(decisions, shipped, published, drafts)
    for line in problems:
        click.echo(line)
    click.echo(
        f"# 决定 {len(decisions)} 条，问题 {len(problems)} 条 {len(decisions)} decisions, "
        f"{len(problems)} problems"
    )
    if problems:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
