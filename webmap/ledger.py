"""Ledger (台账) commands: `flask ledger template LAYER` writes a layer's Excel template,
`flask ledger preview LAYER FILE` shows, row by row, what importing FILE would add, change or
reject, and why (the dry run; nothing is written to the store)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from shapely.ops import unary_union

from geo.errors import LayerNotFound, LedgerError
from geo.ledger.plan import ImportPlan, plan_import
from geo.ledger.read import MAX_BYTES, read_table
from geo.ledger.template import template_xlsx
from geo.store import FeatureStore
from layers import all_layers, get_layer
from layers.base import LayerType
from webmap.files import OutputError, output_path, write_atomically
from webmap.store import get_store

ledger_cli = AppGroup("ledger", help="Planners' ledgers (台账): templates and import previews.")
ACTION_ZH = {"add": "新增", "change": "更新", "unchanged": "不变", "reject": "拒绝"}


def preview(
    store: FeatureStore,
    layer_id: str,
    path: Path,
    *,
    crs: str | None = None,
    columns: dict[str, str] | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> ImportPlan:
    """The dry run of importing `path` into a layer of `store`."""
    layer = _ledger_layer(layer_id)
    table = read_table(path, max_bytes=max_bytes, sheet=sheet)
    existing = store.query(layer_id, limit=None).features if layer_id in store.layers() else []
    districts = store.query("districts", limit=None).features
    cities = [d for d in districts if d.properties.get("level") == "city"]
    return plan_import(
        table,
        layer,
        existing,
        districts,
        crs=crs,
        columns=columns,
        title_field=layer.title_field,
        area=unary_union([c.geometry for c in cities]) if cities else None,
        area_name="、".join(c.properties["name_zh"] for c in cities) or None,
    )


def _ledger_layer(layer_id: str) -> LayerType:
    """A layer planners keep ledgers of (not the district outlines)."""
    if layer_id == "districts":
        raise LedgerError("districts are the official boundaries, not a ledger layer")
    try:
        return get_layer(layer_id)
    except LayerNotFound:
        names = ", ".join(lt.id for lt in all_layers() if lt.id != "districts")
        raise LedgerError(f"unknown layer {layer_id!r}; ledgers go into: {names}") from None


def plan_json(plan: ImportPlan) -> dict[str, Any]:
    """The plan for programs: counts, notes, and each row with its action and reasons."""
    return {
        "layer": plan.layer,
        "file": plan.path,
        "source_crs": plan.source_crs,
        "columns": plan.columns,
        "ignored_columns": plan.ignored_columns,
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
        layer = _ledger_layer(layer_id)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    allowed = Path(current_app.config.get("REPORT_DIR") or os.getcwd())
    try:
        target = output_path(out, f"绿图_台账模板_{layer.name_zh}_{layer.id}.xlsx", allowed)
    except OutputError as exc:
        raise click.ClickException(str(exc)) from None
    write_atomically(target, template_xlsx(layer))
    click.echo(str(target))


@ledger_cli.command("preview")
@click.argument("layer_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--crs", default=None, help="the file's coordinates: EPSG:4490, EPSG:4529, GCJ-02, BD-09 …"
)
@click.option(
    "--column",
    "column_pairs",
    multiple=True,
    metavar="列名=field",
    help="map a file column to a layer field (repeat)",
)
@click.option("--sheet", default=None, help="the Excel sheet (default: the first)")
@click.option("--json", "as_json", is_flag=True, help="the plan as JSON")
def preview_command(
    layer_id: str,
    file: Path,
    crs: str | None,
    column_pairs: tuple[str, ...],
    sheet: str | None,
    as_json: bool,
) -> None:
    """Show what importing FILE into LAYER_ID would do, row by row. Writes nothing."""
    columns = {}
    for pair in column_pairs:
        column, sep, target = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not 列名=field", param_hint="--column")
        columns[column.strip()] = target.strip()
    try:
        plan = preview(get_store(), layer_id, file, crs=crs, columns=columns, sheet=sheet)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(plan_json(plan), ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(plan.summary())
        click.echo(f"坐标系 CRS: {plan.source_crs}")
        for note in plan.notes:
            click.echo(f"  · {note}")
        for o in plan.outcomes:
            what = ACTION_ZH[o.action]
            detail = ""
            if o.action == "change":
                detail = "：" + "、".join(sorted(o.changes))
            click.echo(f"  第 {o.row} 行 {what} {o.feature_id or ''}{detail}")
            for error in o.errors:
                click.echo(f"      ✗ {error}")
    if plan.count("reject"):
        raise SystemExit(1)  # a script sees that the ledger needs fixing


def init_app(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
