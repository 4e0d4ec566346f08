"""`flask plans add/list/publish/unpublish/remove`: plan documents added by a person, as data.

`add` reads the file (plans.documents: .txt, .docx, .pdf), parses it with the catalog's parser
and writes it to ADDED_PLANS_DIR as a draft (草稿); a draft is in no catalog until published.
Publishing (`publish`, or `add --publish` for scripts that need no review step) rebuilds the
store the way `flask regions add` does, so the plan is on /measures and in the API's
plan_documents; a failure anywhere leaves nothing written.
"""

from __future__ import annotations

import getpass
from collections import Counter
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from geo.errors import LutuError
from geo.regions import read_regions
from plans.added import (
    DRAFT,
    PUBLISHED,
    STATUS_EN,
    AddedPlan,
    added_plans,
    next_plan_id,
    remove_added_plan,
    set_plan_status,
    write_added_plan,
)
from plans.catalog import plan_files
from plans.documents import plan_text, read_plan_bytes
from plans.errors import PlanError
from plans.model import Document
from plans.parse import default_doc_id, parse_text
from webmap.catalog import catalog_view
from webmap.store import build_store, get_store, store_name

plans_cli = AppGroup(
    "plans", help="规划文件 Plan documents: added by a person, drafts until published."
)

_LEVELS = {1: "一级 一、", 2: "二级 （一）", 3: "三级 1.", 4: "四级 ——"}


def added_dir() -> Path:
    return Path(current_app.config["ADDED_PLANS_DIR"])


def shipped_files() -> list[Path]:
    return plan_files(Path(current_app.config["PLANS_DIR"]))


def cli_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _rebuild(undo, what: tuple[str, str], where: str) -> None:
    """Rebuild the store; on failure undo the change (nothing half-saved) and say so."""
    try:
        build_store(current_app)
    except Exception as exc:
        undo()
        raise PlanError(
            where, f"地图库重建失败，未{what[0]} store rebuild failed, {what[1]}: {exc}"
        ) from None


def add_plan(
    data: bytes,
    name: str,
    *,
    region: str,
    by: str,
    where: str | None = None,
    publish: bool = False,
) -> tuple[AddedPlan, Document]:
    """Add a plan file's bytes (`name` says its format, `where` is what errors name) for the
    store's region `region`: read, parsed with the catalog's parser and written as a draft
    (published at once, the store rebuilt, with `publish`). Raises PlanError naming the file,
    with nothing written, for an unknown region, an unreadable file or one the parser refuses.
    What `flask plans add` and the upload page both do."""
    where = where or name
    region = region.strip()
    if region not in {r.adcode for r in read_regions(get_store())}:
        raise PlanError(
            where,
            f"地图库中没有区划「{region}」（flask regions list 列出已有的，flask regions add "
            f"添加） the store has no region '{region}' (see flask regions list; add it "
            "with flask regions add)",
        )
    text = plan_text(data, name, where=where)
    taken = [default_doc_id(p) for p in shipped_files()]
    taken += [p.id for p in added_plans(added_dir())]
    plan_id = next_plan_id(taken)
    doc = parse_text(text, plan_id, where)  # a plan the parser refuses is not kept
    plan = write_added_plan(
        added_dir(),
        plan_id,
        text,
        region=region,
        title=doc.title,
        original_name=Path(name).name,
        added_by=by,
        publish=publish,
    )
    if publish:
        _rebuild(
            lambda: remove_added_plan(added_dir(), plan_id),
            ("添加规划", f"plan {Path(name).name} not added"),
            where,
        )
    return plan, doc


def shipped_ids() -> set[str]:
    return {default_doc_id(p) for p in shipped_files()}


def find_added(plan_id: str) -> AddedPlan:
    """The added plan `plan_id`; PlanError for a shipped or unknown id."""
    plan_id = plan_id.strip()
    if plan_id in shipped_ids():
        raise PlanError(
            plan_id,
            f"「{plan_id}」是随附的规划文件，不能在此更改 '{plan_id}' is a shipped plan "
            "document: it cannot be changed here",
        )
    found = next((p for p in added_plans(added_dir()) if p.id == plan_id), None)
    if found is None:
        raise PlanError(
            plan_id,
            f"没有添加过文件「{plan_id}」 document '{plan_id}' was not added (flask plans list)",
        )
    return found


def publish_plan(plan_id: str, by: str) -> AddedPlan:
    """Publish a draft: it joins the catalog (the store rebuilt; a failure leaves a draft)."""
    plan = find_added(plan_id)
    if plan.status == PUBLISHED:
        raise PlanError(plan.id, f"「{plan.id}」已发布 '{plan.id}' is published already")
    published = set_plan_status(added_dir(), plan.id, PUBLISHED, by)
    _rebuild(
        lambda: set_plan_status(added_dir(), plan.id, DRAFT, plan.added_by),
        ("发布", f"'{plan.id}' not published"),
        plan.id,
    )
    return published


def unpublish_plan(plan_id: str, by: str) -> AddedPlan:
    """Take a published plan back to draft: out of the catalog (the store rebuilt; a failure
    leaves it published)."""
    plan = find_added(plan_id)
    if plan.status != PUBLISHED:
        raise PlanError(plan.id, f"「{plan.id}」是草稿，未发布 '{plan.id}' is a draft already")
    draft = set_plan_status(added_dir(), plan.id, DRAFT, by)
    _rebuild(
        lambda: set_plan_status(added_dir(), plan.id, PUBLISHED, plan.published_by or by),
        ("撤回", f"'{plan.id}' not taken back to draft"),
        plan.id,
    )
    return draft


def remove_plan(plan_id: str) -> AddedPlan:
    """Remove an added plan; a published one leaves the catalog first."""
    plan = find_added(plan_id)
    if plan.status == PUBLISHED:
        # Out of the catalog first (back to draft, store rebuilt), then deleted: a failed
        # rebuild leaves it published, as it was.
        set_plan_status(added_dir(), plan.id, DRAFT, plan.added_by)
        _rebuild(
            lambda: set_plan_status(added_dir(), plan.id, PUBLISHED, plan.published_by or ""),
            ("移除", f"'{plan.id}' not removed"),
            plan.id,
        )
    return remove_added_plan(added_dir(), plan.id)


def summary(doc: Document) -> list[str]:
    """What the parser found: measures per level, targets, responsible units."""
    nodes = list(doc.walk())
    levels = Counter(n.level for n in nodes)
    units = list(dict.fromkeys(u.name for n in nodes for u in n.units))
    targets = [t for n in nodes for t in n.targets]
    per_level = "，".join(f"{_LEVELS.get(k, k)} {v}" for k, v in sorted(levels.items()))
    shown = "、".join(units[:8]) + ("…" if len(units) > 8 else "")
    return [
        f"  措施 measures: {len(nodes)}（{per_level}）",
        f"  目标 targets: {len(targets)}"
        + (f"（其中定性 qualitative {sum(t.kind == 'qualitative' for t in targets)}）"),
        f"  责任单位 responsible units: {len(units)}" + (f"：{shown}" if units else ""),
    ]


@plans_cli.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--region", "region", required=True, help="the region's adcode, e.g. 210300")
@click.option("--publish", is_flag=True, help="publish at once (scripts with no review step)")
@click.option("--by", "by", default=None, help="who adds it (default: the system user)")
def add_command(file: Path, region: str, publish: bool, by: str | None) -> None:
    """Add the plan document FILE (.txt in UTF-8/GBK, .docx, .pdf) for the region ADCODE, as a
    draft unless --publish."""
    by = by or cli_user()
    try:
        plan, doc = add_plan(
            read_plan_bytes(file), file.name, region=region, by=by, where=str(file), publish=publish
        )
    except (LutuError, PlanError) as exc:
        raise click.ClickException(str(exc)) from None
    plan_id = plan.id
    regions = {r.adcode: r for r in read_regions(get_store())}
    region = plan.region
    status = f"{plan.status} {STATUS_EN[plan.status]}"
    click.echo(
        f"已添加 added {plan_id}《{doc.title}》 {regions[region].name_zh} {region}，"
        f"{status} -> {plan.folder}"
    )
    for line in summary(doc):
        click.echo(line)
    if publish:
        click.echo(f"地图库已重建 store rebuilt: {store_name(current_app)}")
    else:
        click.echo(
            f"草稿不进入目录；审阅后发布：flask plans publish {plan_id}  drafts are not in the "
            f"catalog; publish once reviewed: flask plans publish {plan_id}"
        )


@plans_cli.command("list")
def list_command() -> None:
    """Every plan document: the shipped ones and the added ones with their status."""
    titles = {k: d["title"] for k, d in catalog_view(get_store()).documents.items()}
    for path in shipped_files():
        doc_id = default_doc_id(path)
        click.echo(f"{doc_id}  随附 shipped      {'-':<6}  {titles.get(doc_id, path.name)}")
    try:
        added = added_plans(added_dir())
    except PlanError as exc:
        raise click.ClickException(str(exc)) from None
    for p in added:
        status = f"{p.status} {STATUS_EN[p.status]}"
        click.echo(
            f"{p.id}  {status:<14} {p.region:<6}  {p.title}  "
            f"({p.original_name}; {p.added_by} {p.added_at})"
        )


@plans_cli.command("publish")
@click.argument("plan_id")
@click.option("--by", "by", default=None, help="who publishes it (default: the system user)")
def publish_command(plan_id: str, by: str | None) -> None:
    """Publish the added draft PLAN_ID: it joins the catalog (the store is rebuilt)."""
    try:
        plan = publish_plan(plan_id, by or cli_user())
    except PlanError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已发布 published {plan.id}《{plan.title}》; 地图库已重建 store rebuilt")


@plans_cli.command("unpublish")
@click.argument("plan_id")
@click.option("--by", "by", default=None, help="who takes it back (default: the system user)")
def unpublish_command(plan_id: str, by: str | None) -> None:
    """Take the published plan PLAN_ID back to draft: it leaves the catalog (store rebuilt)."""
    try:
        plan = unpublish_plan(plan_id, by or cli_user())
    except PlanError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已撤回为草稿 back to draft {plan.id}《{plan.title}》; 地图库已重建 store rebuilt")


@plans_cli.command("remove")
@click.argument("plan_id")
def remove_command(plan_id: str) -> None:
    """Remove the added plan PLAN_ID (shipped ones stay); a published one leaves the catalog."""
    try:
        plan = remove_plan(plan_id)
    except PlanError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已移除 removed {plan.id}《{plan.title}》")


def init_app(app: Flask) -> None:
    app.cli.add_command(plans_cli)
