"""Ledger (台账) commands: `flask ledger template LAYER` writes a layer's Excel template,
`flask ledger preview LAYER FILE` shows, row by row, what importing FILE would add, change or
reject, and why (the dry run; nothing is written); `flask ledger import LAYER FILE` commits the
accepted rows with their audit entries in one transaction and rebuilds the store;
`flask ledger history LAYER ID` and `flask ledger audit` read the audit log (留痕)."""

from __future__ import annotations

import csv
import getpass
import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from shapely.ops import unary_union

from geo.crs import crs_label
from geo.errors import LayerNotFound, LedgerChoiceError, LedgerError
from geo.ledger.edits import AuditEntry, audit_rows
from geo.ledger.plan import ImportPlan, known_header, plan_import
from geo.ledger.read import MAX_BYTES, Progress, read_table
from geo.ledger.template import template_xlsx
from geo.store import Feature, FeatureStore
from layers import all_layers, get_layer
from layers.base import LayerType
from webmap.files import OutputError, allowed_folder, output_path, write_atomically
from webmap.ogc import csv_cell
from webmap.store import build_store, edit_log, get_store, store_name

F = TypeVar("F", bound=Callable[..., Any])
ledger_cli = AppGroup("ledger", help="Planners' ledgers (台账): templates and import previews.")
ACTION_ZH = {"add": "新增", "change": "更新", "unchanged": "不变", "reject": "拒绝"}
NOTHING_TO_IMPORT = "没有可写入的行 nothing to import: no row would be added or changed"
# The stages of an import, as its progress reports name them.
STAGE_ZH = {"read": "读取", "check": "校验与匹配", "write": "写入", "rebuild": "重建地图库"}
# What the audit log can say of a change (imports never delete; people do, one at a time).
AUDIT_ACTION_ZH = {
    "add": "新增",
    "change": "更新",
    "delete": "删除",
    # changes to the catalog (EditStore.record): plan documents, their links, indicators
    "upload": "上传",
    "correct": "更正",
    "publish": "发布",
    "unpublish": "撤回",
    "confirm": "确认",
    "reject": "否决",
    "remove": "移除",
}
# What the audit log calls the catalog tables an EditStore.record entry changes.
CATALOG_SUBJECTS = {
    "plan_documents": ("规划文件", "Plan documents"),
    "measure_links": ("措施关联", "Measure links"),
    "indicators": ("指标", "Indicators"),
}
# The audit log is read in local time; it is stored, and exported as CSV, in ISO 8601 UTC.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
LOCAL_ZONE_LABEL = "北京时间 Asia/Shanghai, UTC+8"
AUDIT_COLUMNS = [
    "时间 at (ISO 8601 UTC)",
    "用户 user",
    "操作 action",
    "图层 layer",
    "要素 feature",
    "字段 field",
    "修改前 before",
    "修改后 after",
    "来源文件 source",
    "批次 batch",
    "说明 details",
]


@dataclass(frozen=True)
class ImportOptions:
    """How to read a ledger and what its rows mean: the same choices on the command line, the
    upload form and the import API, kept with a background job and its commit."""

    crs: str | None = None
    columns: dict[str, str] = dc_field(default_factory=dict)  # file column -> field
    sheet: str | None = None
    header_row: int | None = None  # 1-based, as the person sees it (None: found)
    source_layer: str | None = None  # of a GeoPackage or zip holding several
    repair: bool = False
    as_of_year: int | None = None  # the ledger's 统计年份

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportOptions:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def preview(
    store: FeatureStore,
    layer_id: str,
    path: Path,
    options: ImportOptions | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    area_tolerance_m: float | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """The dry run of importing `path` into a layer of `store`; `progress` hears the "read"
    and "check" stages (see geo.ledger.read.Progress)."""
    options = options or ImportOptions()
    layer = ledger_layer(layer_id)
    table = read_table(
        path,
        max_bytes=max_bytes,
        sheet=options.sheet,
        layer=options.source_layer,
        header_row=options.header_row,
        known=known_header(layer),
        progress=progress,
    )
    existing = store.query(layer_id, limit=None).features if layer_id in store.layers() else []
    districts = store.query("districts", limit=None).features
    cities = [d for d in districts if d.properties.get("level") == "city"]
    if area_tolerance_m is None and has_app_context():
        area_tolerance_m = float(current_app.config["LEDGER_AREA_TOLERANCE_M"])
    return plan_import(
        table,
        layer,
        existing,
        districts,
        crs=options.crs,
        columns=options.columns,
        title_field=layer.title_field,
        area=unary_union([c.geometry for c in cities]) if cities else None,
        area_name="、".join(c.properties["name_zh"] for c in cities) or None,
        area_tolerance_m=area_tolerance_m,
        repair=options.repair,
        as_of_year=options.as_of_year,
        progress=progress,
    )


def _columns(pairs: tuple[str, ...]) -> dict[str, str]:
    """--column 列名=field, repeated."""
    columns = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep:
            raise click.BadParameter(
                f"「{pair}」不是「列名=field」 {pair!r} is not 列名=field", param_hint="--column"
            )
        columns[column.strip()] = target.strip()
    return columns


def ledger_layer(layer_id: str) -> LayerType:
    """A layer planners keep ledgers of (not the district outlines)."""
    if layer_id == "districts":
        raise LedgerError(
            "行政区划是官方边界，不能导入台账 districts are the official boundaries, not a ledger "
            "layer"
        )
    try:
        return get_layer(layer_id)
    except LayerNotFound:
        names = ", ".join(lt.id for lt in all_layers() if lt.id != "districts")
        raise LedgerError(
            f"没有图层「{layer_id}」 unknown layer {layer_id!r}; ledgers go into: {names}"
        ) from None


def plan_json(plan: ImportPlan) -> dict[str, Any]:
    """The plan for programs: counts, notes, and each row with its action, reasons and
    warnings."""
    return {
        "layer": plan.layer,
        "file": plan.path,
        "source_crs": plan.source_crs,
        "header_row": plan.header_row,
        "columns": plan.columns,
        "ignored_columns": plan.ignored_columns,
        "candidates": plan.candidates,
        "as_of_year": plan.as_of_year,
        "notes": plan.notes,
        "counts": {a: plan.count(a) for a in ACTION_ZH},
        "rows": [
            {
                "row": o.row,
                "action": o.action,
                "id": o.feature_id,
                "matched_by": o.matched_by,
                "changes": {k: [_plain(old), _plain(new)] for k, (old, new) in o.changes.items()},
                "errors": [
                    {"row": e.row, "field": e.field, "message": e.message} for e in o.errors
                ],
                "warnings": [
                    {"row": w.row, "field": w.field, "message": w.message} for w in o.warnings
                ],
            }
            for o in plan.outcomes
        ],
    }


def _plain(value: Any) -> Any:
    return value.wkt if hasattr(value, "wkt") else value


@ledger_cli.command("template")
@click.argument("layer_id")
@click.option(
    "--out", default=None, help="the .xlsx to write (default: 绿图_台账模板_<layer>.xlsx)"
)
def template_command(layer_id: str, out: str | None) -> None:
    """Write the Excel template of a layer: its columns, drop-down lists, field notes."""
    try:
        layer = ledger_layer(layer_id)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    allowed = allowed_folder(current_app.config)
    try:
        target = output_path(out, f"绿图_台账模板_{layer.name_zh}_{layer.id}.xlsx", allowed)
    except OutputError as exc:
        raise click.ClickException(str(exc)) from None
    write_atomically(target, template_xlsx(layer))
    click.echo(str(target))


def _plan_arguments(command: F) -> F:
    """The layer, the file and how to read it: the same for `preview` and `import`."""
    for option in reversed(
        (
            click.argument("layer_id"),
            click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
            click.option(
                "--crs",
                default=None,
                help="the file's coordinates: EPSG:4490, EPSG:4529, GCJ-02, BD-09 …",
            ),
            click.option(
                "--column",
                "column_pairs",
                multiple=True,
                metavar="列名=field",
                help="map a file column to a layer field (repeat)",
            ),
            click.option("--sheet", default=None, help="the Excel sheet (default: the first)"),
            click.option(
                "--header-row",
                type=click.IntRange(min=1),
                default=None,
                help="the row (Excel) or line (CSV) of the header (default: found below titles)",
            ),
            click.option(
                "--source-layer",
                default=None,
                help="the layer of a GeoPackage (or Shapefile of a zip) holding several",
            ),
            click.option(
                "--as-of-year",
                type=click.IntRange(1949, 2100),
                default=None,
                help="the ledger's 统计年份: dates yes/no flags given without their year",
            ),
            click.option(
                "--repair", is_flag=True, help="make invalid polygons valid (make_valid), noted"
            ),
            click.option(
                "--progress/--no-progress",
                default=None,
                help="report rows read, checked and written on stderr (default: on a terminal)",
            ),
        )
    ):
        command = option(command)
    return command


def _options(
    crs: str | None,
    column_pairs: tuple[str, ...],
    sheet: str | None,
    header_row: int | None,
    source_layer: str | None,
    as_of_year: int | None,
    repair: bool,
) -> ImportOptions:
    return ImportOptions(
        crs=crs,
        columns=_columns(column_pairs),
        sheet=sheet,
        header_row=header_row,
        source_layer=source_layer,
        repair=repair,
        as_of_year=as_of_year,
    )


@ledger_cli.command("preview")
@_plan_arguments
@click.option("--json", "as_json", is_flag=True, help="the plan as JSON")
def preview_command(
    layer_id: str,
    file: Path,
    progress: bool | None,
    as_json: bool,
    **reading: Any,
) -> None:
    """Show what importing FILE into LAYER_ID would do, row by row. Writes nothing."""
    plan = _cli_plan(layer_id, file, _options(**reading), _reporter(progress))
    if as_json:
        click.echo(json.dumps(plan_json(plan), ensure_ascii=False, indent=1, default=str))
    else:
        _print_plan(plan)
    if plan.count("reject"):
        raise SystemExit(1)  # a script sees that the ledger needs fixing


def audit_csv(entries: Sequence[AuditEntry]) -> bytes:
    """The audit log as CSV for Excel: a BOM so Excel reads the Chinese as UTF-8, one row per
    changed field, cells a spreadsheet never runs as formulas."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(AUDIT_COLUMNS)
    for row in audit_rows(entries):
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def _cli_plan(
    layer_id: str, file: Path, options: ImportOptions, progress: Progress | None = None
) -> ImportPlan:
    """The dry run for the `preview` and `import` commands; a bad file is a clean error (a
    choice to make, such as the layer of a GeoPackage, is said with its option)."""
    try:
        return preview(get_store(), layer_id, file, options, progress=progress)
    except LedgerChoiceError as exc:
        choices = "\n".join(f"  --{exc.option.replace('_', '-')} {c}" for c in exc.choices)
        raise click.ClickException(f"{exc}\n{choices}") from None
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None


def _reporter(wanted: bool | None) -> Progress | None:
    """Progress on stderr (stdout stays the plan, e.g. --json): on a terminal one line kept
    up to date, elsewhere (when asked with --progress) a line per report."""
    terminal = sys.stderr.isatty()
    if not (terminal if wanted is None else wanted):
        return None

    def report(stage: str, done: int, total: int | None) -> None:
        rows = f"{done:,} / {total:,}" if total else f"{done:,}"
        line = f"{STAGE_ZH.get(stage, stage)} {stage}: {rows} 行 rows"
        finished = total is None or done >= total  # a count without total: a line each
        if terminal:
            click.echo(f"\r{line}\033[K", nl=finished, err=True)
        else:
            click.echo(line, err=True)

    return report


def _print_plan(plan: ImportPlan) -> None:
    click.echo(plan.summary())
    click.echo(f"坐标系 CRS: {crs_label(plan.source_crs)}")
    for note in plan.notes:
        click.echo(f"  · {note}")
    for column, fields in plan.candidates.items():
        hint = " / ".join(fields) if fields else "field"
        click.echo(
            f"  · 未识别的列 unknown column {column!r}：如要导入，用 --column '{column}=<{hint}>'"
        )
    for o in plan.outcomes:
        detail = "：" + "、".join(sorted(o.changes)) if o.action == "change" else ""
        click.echo(f"  第 {o.row} 行 {ACTION_ZH[o.action]} {o.feature_id or ''}{detail}")
        for error in o.errors:
            click.echo(f"      ✗ {error}")
        for warning in o.warnings if o.action != "reject" else ():
            click.echo(f"      ⚠ {warning}")


@ledger_cli.command("import")
@_plan_arguments
@click.option(
    "--accepted-only",
    is_flag=True,
    help="import the accepted rows and leave the rejected ones out (default: all or nothing)",
)
@click.option("--user", default=None, help="who imports (default: the login name)")
@click.option("--yes", is_flag=True, help="do not ask before writing")
def import_command(
    layer_id: str,
    file: Path,
    progress: bool | None,
    accepted_only: bool,
    user: str | None,
    yes: bool,
    **reading: Any,
) -> None:
    """Import FILE into LAYER_ID: the dry run, then (after confirmation) every accepted row
    and its audit entry in one transaction, then the store rebuilt. All or nothing: a file
    with a rejected row writes nothing, unless --accepted-only leaves those rows out."""
    report = _reporter(progress)
    plan = _cli_plan(layer_id, file, _options(**reading), report)
    _print_plan(plan)
    accepted, rejected = plan.accepted, plan.count("reject")
    if rejected and not accepted_only:
        raise click.ClickException(
            f"{rejected} 行被拒绝，未写入任何行；改正后重试，或加 --accepted-only 只导入可接受的 "
            f"{len(accepted)} 行 {rejected} row(s) rejected: nothing written. "
            f"Fix them, or give --accepted-only to import the {len(accepted)} accepted row(s) "
            "and leave the rejected ones out"
        )
    if not accepted:
        raise click.ClickException(NOTHING_TO_IMPORT)
    if not yes:
        left_out = f"（略过拒绝的 {rejected} 行）" if rejected else ""
        click.confirm(f"写入 {len(accepted)} 行{left_out}？", abort=True)
    edits = edit_log()
    try:
        done = edits.commit(
            plan, user or getpass.getuser(), progress=report, accepted_only=accepted_only
        )
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"已写入 committed: 新增 {done.added}，更新 {done.changed}（批次 batch {done.batch}）"
    )
    if report is not None:
        report("rebuild", 0, None)
    if build_store(current_app):
        click.echo(f"地图库已重建 store rebuilt: {store_name(current_app)}")


def local_time(at: str) -> str:
    """An audit time as stored (ISO 8601, UTC) as a planner reads it: 2026-12-03 19:45 in
    LOCAL_ZONE (pages say the zone once, in their header)."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def layer_name(layer_id: str) -> tuple[str, str]:
    """(Chinese, English) name of a layer in the audit log (or of the catalog table an entry
    changed); its id when it is no longer one."""
    if layer_id in CATALOG_SUBJECTS:
        return CATALOG_SUBJECTS[layer_id]
    try:
        layer = get_layer(layer_id)
    except LayerNotFound:
        return layer_id, ""
    return layer.name_zh, layer.name_en


def entry_name(entry: AuditEntry) -> str:
    """The feature's name as the entry recorded it (after the change, or what was deleted),
    by its layer's title field."""
    state = entry.after or entry.before or {}
    props = state.get("properties", {})
    try:
        title_field = get_layer(entry.layer).title_field
    except LayerNotFound:
        title_field = "name"
    return str(props.get(title_field) or props.get("name") or "")


def delete_feature(layer_id: str, feature: Feature, user: str, reason: str | None = None) -> str:
    """Delete one feature of a ledger layer, as the caller read it from the store: the audit
    entry keeps what it was; the store is rebuilt. Returns the batch id."""
    edits = edit_log()
    batch = edits.delete(
        layer_id, feature.id, feature.properties, feature.geometry, user, reason=reason
    )
    build_store(current_app)
    return batch


@ledger_cli.command("delete")
@click.argument("layer_id")
@click.argument("feature_id")
@click.option("--user", default=None, help="who deletes (default: the login name)")
@click.option("--reason", default=None, help="why, kept in the audit log, e.g. 已拆除")
@click.option("--yes", is_flag=True, help="do not ask before deleting")
def delete_command(
    layer_id: str, feature_id: str, user: str | None, reason: str | None, yes: bool
) -> None:
    """Delete FEATURE_ID from LAYER_ID (a shipped or an imported feature); the audit log
    keeps what it was. Importing it again brings it back."""
    try:
        layer = ledger_layer(layer_id)
        feature = get_store(public=False).get(layer_id, feature_id)
    except (LedgerError, LayerNotFound, KeyError) as exc:
        raise click.ClickException(str(exc)) from None
    title = feature.properties.get(layer.title_field) or ""
    if not yes:
        click.confirm(f"删除 {layer.name_zh} {feature_id} {title}？", abort=True)
    batch = delete_feature(layer_id, feature, user or getpass.getuser(), reason)
    click.echo(f"已删除 deleted: {layer_id}/{feature_id}（批次 batch {batch}）")


@ledger_cli.command("history")
@click.argument("layer_id")
@click.argument("feature_id")
def history_command(layer_id: str, feature_id: str) -> None:
    """Every recorded change of one feature, newest first."""
    entries = edit_log().audit(layer=layer_id, feature_id=feature_id)
    if not entries:
        raise click.ClickException(
            f"{layer_id}/{feature_id} 没有变更记录 no recorded change of {layer_id}/{feature_id}"
        )
    name_zh, name_en = layer_name(layer_id)
    click.echo(f"{name_zh} {name_en} {feature_id} {entry_name(entries[0])}（{LOCAL_ZONE_LABEL}）")
    for e in entries:
        label = AUDIT_ACTION_ZH.get(e.action, e.action)
        click.echo(f"{local_time(e.at)} {e.user} {label} ({e.source}, {e.batch})")
        if e.after is None:
            continue  # a deletion: `before` holds what was deleted
        before = (e.before or {}).get("properties", {})
        for name, value in (e.after or {}).get("properties", {}).items():
            if before.get(name) != value:
                click.echo(f"    {name}: {before.get(name)!r} → {value!r}")


@ledger_cli.command("audit")
@click.option("--layer", default=None)
@click.option("--out", default=None, help="write the log as CSV (UTF-8 with BOM for Excel)")
@click.option("--limit", type=int, default=50, show_default=True, help="entries shown")
def audit_command(layer: str | None, out: str | None, limit: int) -> None:
    """The audit log (留痕): who changed what, when, before and after."""
    edits = edit_log()
    if out is None:
        entries = edits.audit(layer=layer, limit=limit)
        if entries:
            click.echo(f"时间 times: {LOCAL_ZONE_LABEL}")
        for e in entries:
            action = AUDIT_ACTION_ZH.get(e.action, e.action)
            where = f"{layer_name(e.layer)[0]} {e.feature_id} {entry_name(e)}".rstrip()
            click.echo(f"{local_time(e.at)} {e.user} {action} {where} ({e.source})")
        return
    allowed = allowed_folder(current_app.config)
    try:
        target = output_path(out, "绿图_留痕.csv", allowed)
    except OutputError as exc:
        raise click.ClickException(str(exc)) from None
    write_atomically(target, audit_csv(edits.audit(layer=layer)))
    click.echo(str(target))


def init_app(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
