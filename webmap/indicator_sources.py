"""`flask indicators add/list/remove/preview`: indicator records an administrator adds.

`add` checks the record (it loads, its id is new, its cited plan text is in the store's
catalog: RecordError naming the file and the key otherwise), writes it into
ADDED_INDICATORS_DIR and rebuilds the store, which copies it into its `indicator_records`
table, so every app server reading the store has it; a failure anywhere leaves nothing
written. Every change is in the audit log (subject `indicators`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app, url_for
from flask.cli import AppGroup

from geo.store import FeatureStore
from plans.added_indicators import (
    check_record,
    read_added,
    remove_added,
    restore_added,
    write_added,
)
from plans.indicators import (
    SHIPPED_RECORDS,
    CitationError,
    IndicatorResult,
    catalogue_of,
    citation_texts,
    evaluate_record,
)
from plans.records import Record, RecordError
from webmap.regions import cities_of
from webmap.store import build_store, edit_log, get_store, store_name

indicators_cli = AppGroup("indicators", help="Indicator records added by an administrator.")

PREVIEW_FEATURES = 20  # features behind the number a preview lists


def added_dir() -> Path:
    return Path(current_app.config["ADDED_INDICATORS_DIR"])


def _audit(user: str, action: str, rec_id: str, **entry: Any) -> None:
    edit_log().record(user, action, "indicators", rec_id, **entry)


def checked(text: str, source: str, store: FeatureStore | None = None) -> Record:
    """The record of `text` checked against the store's catalog (RecordError otherwise)."""
    store = store or get_store(public=False)
    return check_record(text, source, citation_texts(store), SHIPPED_RECORDS)


def _rebuild_or_undo(previous: Any, what: str) -> None:
    try:
        build_store(current_app)
    except Exception as exc:
        restore_added(added_dir(), previous)  # nothing half-saved
        raise RecordError(
            f"地图库重建失败，未{what} / store rebuild failed, nothing changed: {exc}"
        ) from None


def save_indicator(text: str, source: str, user: str, edit_of: str | None = None) -> Record:
    """Add the record of `text` (or replace the added record `edit_of`), rebuild the store
    and audit it; raises RecordError, leaving nothing written, when it cannot be saved."""
    rec = checked(text, source)
    added = {a.id for a in read_added(added_dir())}
    if edit_of is None and rec.id in added:
        raise RecordError(
            f"{source}：键 id：已有添加的指标「{rec.id}」，请修改或先移除 / key id: an added "
            f"indicator {rec.id} exists: edit it or remove it first"
        )
    if edit_of is not None and rec.id != edit_of:
        raise RecordError(
            f"{source}：键 id：修改时不能改编号（{edit_of}） / key id: cannot change when "
            f"editing {edit_of}"
        )
    previous = write_added(added_dir(), rec.id, text, user)
    _rebuild_or_undo(previous, f"保存指标「{rec.id}」")
    if rec.id not in catalogue_of(get_store(public=False)).added:
        restore_added(added_dir(), previous)
        build_store(current_app)
        raise RecordError(f"{source}：未能载入地图库 / not taken into the store")
    _audit(
        user,
        "change" if previous.toml is not None else "add",
        rec.id,
        before={"toml": previous.toml} if previous.toml is not None else None,
        after={"toml": text},
        details={"name_zh": rec.name_zh, "layer": rec.layer, "source": source},
    )
    return rec


def remove_indicator(rec_id: str, user: str) -> None:
    """Remove the added record `rec_id` (shipped ones stay), rebuild the store, audit it."""
    rec_id = rec_id.strip()
    if rec_id not in {a.id for a in read_added(added_dir())}:
        raise RecordError(
            f"没有添加过指标「{rec_id}」（随附指标不能移除） / indicator {rec_id!r} was not "
            "added (shipped ones cannot be removed)"
        )
    previous = remove_added(added_dir(), rec_id)
    _rebuild_or_undo(previous, f"移除指标「{rec_id}」")
    _audit(user, "remove", rec_id, before={"toml": previous.toml})


def preview(rec: Record, year: int, store: FeatureStore | None = None) -> IndicatorResult:
    """The record evaluated on the store at `year` (RecordError for a citation not found)."""
    try:
        return evaluate_record(store or get_store(public=False), rec, year)
    except CitationError as exc:
        raise RecordError(f"{rec.source}：键 target.cites：{exc}") from None


def preview_json(rec: Record, year: int, limit: int = PREVIEW_FEATURES) -> dict[str, Any]:
    """What the builder shows of a draft: the value per city and county, and the first
    `limit` features behind the number with their names and map links."""
    store = get_store(public=False)
    result = preview(rec, year, store)
    city_keys = {code: key for key, code in cities_of(store).items()}
    areas = [
        {
            "adcode": a.adcode,
            "name": a.name_zh,
            "level": a.level,
            "parent": a.parent_adcode,
            "value": a.value,
            "target": a.target,
            "status": a.status,
            "reason": a.status_reason,
            "features": len(a.feature_ids),
        }
        for a in _grouped(result.areas)
    ]
    wanted: list[tuple[str, str]] = []  # (city key, feature id)
    for a in result.areas:
        if a.level == "city":
            wanted += [(city_keys.get(a.adcode, "all"), fid) for fid in a.feature_ids]
    wanted = wanted[:limit]
    from layers import get_layer

    layer = get_layer(rec.layer)
    names: dict[str, Any] = {}
    if wanted:
        rows = store.query(
            rec.layer,
            filters={"id": [fid for _, fid in wanted]},
            limit=None,
            properties=[layer.title_field],
            with_geometry=False,
        ).features
        names = {f.id: f.properties.get(layer.title_field) for f in rows}
    features = [
        {
            "id": fid,
            "name": str(names.get(fid) or fid),
            "url": url_for("pages.map_page", city=city, focus=f"{rec.layer}/{fid}"),
        }
        for city, fid in wanted
    ]
    total = sum(len(a.feature_ids) for a in result.areas if a.level == "city")
    return {
        "ok": True,
        "id": rec.id,
        "year": year,
        "unit": rec.unit,
        "areas": areas,
        "features": features,
        "feature_count": total,
        "status_rule": result.status_rule,
    }


def _grouped(areas: list[Any]) -> list[Any]:
    """Provinces, then each city followed by its counties."""
    out = [a for a in areas if a.level == "province"]
    for city in (a for a in areas if a.level == "city"):
        out += [city, *(a for a in areas if a.level == "county" and a.parent_adcode == city.adcode)]
    return out + [a for a in areas if a not in out]


def listed_indicators() -> list[tuple[Any, Any]]:
    """The store's indicators with their added record's metadata (None: shipped)."""
    catalogue = catalogue_of(get_store(public=False))
    added = {a.id: a for a in read_added(added_dir())}
    return [(ind, added.get(ind.id)) for ind in catalogue.indicators]


def left_out() -> list[tuple[str, str]]:
    """Added records in the folder that the store does not hold, each with why (a record
    that no longer passes its checks, e.g. a plan text since changed)."""
    store = get_store(public=False)
    taken = catalogue_of(store).added
    out = []
    for added in read_added(added_dir()):
        if added.id in taken:
            continue
        try:
            checked(added.toml, added.source, store)
            reason = "地图库尚未重建 / the store is not rebuilt yet"
        except RecordError as exc:
            reason = str(exc)
        out.append((added.id, reason))
    return out


def _read_file(path: str) -> tuple[str, str]:
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8"), file.name
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"无法读取 cannot read {path}: {exc}") from None


@indicators_cli.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--user", default="cli", show_default=True, help="who adds it (audit log)")
@click.option("--replace", is_flag=True, help="replace the added record of the same id")
def add_command(file: str, user: str, replace: bool) -> None:
    """Add the indicator record FILE.toml (checked, then the store is rebuilt)."""
    text, source = _read_file(file)
    try:
        edit_of = None
        if replace:
            rec_id = checked(text, source).id
            edit_of = rec_id if rec_id in {a.id for a in read_added(added_dir())} else None
        rec = save_indicator(text, source, user, edit_of)
    except RecordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已添加 added {rec.id} {rec.name_zh} -> {added_dir() / (rec.id + '.toml')}")
    click.echo(f"地图库已重建 store rebuilt: {store_name(current_app)}")


@indicators_cli.command("list")
def list_command() -> None:
    """The store's indicators, shipped and added."""
    for ind, added in listed_indicators():
        source = f"添加 added by {added.added_by} {added.added_at}" if added else "随附 shipped"
        click.echo(f"{ind.id:<34} {ind.layer:<18} {ind.name_zh}  {source}")


@indicators_cli.command("remove")
@click.argument("indicator_id")
@click.option("--user", default="cli", show_default=True, help="who removes it (audit log)")
def remove_command(indicator_id: str, user: str) -> None:
    """Remove the added indicator INDICATOR_ID (shipped ones stay), then rebuild the store."""
    try:
        remove_indicator(indicator_id, user)
    except RecordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已移除 removed {indicator_id.strip()}; 地图库已重建 store rebuilt")


@indicators_cli.command("preview")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--year", default=2025, show_default=True, type=click.IntRange(2020, 2025))
def preview_command(file: str, year: int) -> None:
    """The value per city and county of the record FILE.toml, without adding it."""
    text, source = _read_file(file)
    try:
        rec = checked(text, source)
        result = preview(rec, year)
    except RecordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{rec.id} {rec.name_zh}（{rec.unit}） {year}年")
    for a in result.areas:
        value = "—" if a.value is None else f"{a.value:g}"
        target = "—" if a.target is None else f"{a.target:g}"
        indent = "  " if a.level == "county" else ""
        click.echo(
            f"{indent}{a.adcode} {a.name_zh:<8} 值 value {value:>8}  目标 target {target:>6}  "
            f"{a.status}  要素 features {len(a.feature_ids)}"
        )
        if a.level == "city" and a.feature_ids:
            click.echo(
                f"    {', '.join(a.feature_ids[:10])}{' …' if len(a.feature_ids) > 10 else ''}"
            )
