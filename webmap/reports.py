"""Reports blueprint and CLI: the static map reports of `reports/` as downloads and files.

Web: `/reports` (what can be printed, with a year selector) and
`/reports/<kind>/<key>.<fmt>` — kind measure | county | atlas, fmt pdf | png | svg, `year=`.
CLI: `flask --app app report measure 001/三/八 --out x.pdf`, `… report county 210881`,
`… report atlas yingkou` (with a progress bar). Both render the whole file in memory first, so
a failed request writes nothing; the CLI then writes it beside its target and renames it in.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.cli import with_appcontext

from plans.indicators import FIRST_YEAR, LAST_YEAR
from reports import FontError, Report, ReportError, ReportNotFound, build
from reports.content import FORMATS, KINDS, Settings
from reports.document import single_map, to_pdf
from webmap.errors import error_response
from webmap.files import OutputError, allowed_folder, output_path, write_atomically
from webmap.indicators import year_arg
from webmap.maps import basemap_layers
from webmap.regions import cities_of, counties_of, regions_of
from webmap.store import get_store, is_public_view, store_version

bp = Blueprint("reports", __name__, template_folder="templates")

MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}
# One report at a time per process: a render keeps a core busy for seconds, and two at once
# only make both slower (and double the memory).
_render_lock = threading.Lock()


def settings_from(config: Any) -> Settings:
    """The deployment's report settings (REPORT_* in the app config). The tile background is
    the first configured basemap (LUTU_BASEMAPS), if any: none by default."""
    tile_url, tile_attribution = None, ""
    basemaps = basemap_layers(config)
    if basemaps:
        first = basemaps[0]
        subdomains = str(first.options.get("subdomains") or "a")
        tile_url = first.tiles.replace("{s}", subdomains[0])
        tile_attribution = str(first.options.get("attribution") or "")
    return Settings(
        attribution=config.get("REPORT_ATTRIBUTION") or "",
        map_review_number=config.get("REPORT_MAP_REVIEW_NUMBER") or "",
        font=config.get("REPORT_FONT") or None,
        tile_url=tile_url,
        tile_attribution=tile_attribution,
        tile_timeout_s=float(config.get("REPORT_TILE_TIMEOUT_S") or 2.0),
    )


def _unknown_format(fmt: str) -> str:
    return f"没有「{fmt}」格式 unknown format {fmt!r}; use one of {', '.join(FORMATS)}"


def render(report: Report, fmt: str, progress: Callable[[int], None] | None = None) -> bytes:
    """The report as bytes: the whole PDF, or the first page's map alone as PNG/SVG."""
    if fmt not in FORMATS:
        raise ReportError(_unknown_format(fmt))
    with _render_lock:
        if fmt == "pdf":
            return to_pdf(report, progress)
        return single_map(report, fmt)


# =========================================================================== web


@bp.errorhandler(ReportNotFound)
def _not_found(exc: ReportNotFound) -> tuple[Response | str, int]:
    return error_response(404, "ReportNotFound", str(exc))


@bp.errorhandler(FontError)
def _no_font(exc: FontError) -> tuple[Response | str, int]:
    # The server lacks a font: its operator must act, not the user.
    current_app.logger.error("report font: %s", exc)
    return error_response(500, "FontError", str(exc))


@bp.errorhandler(ReportError)
def _bad_request(exc: ReportError) -> tuple[Response | str, int]:
    return error_response(400, "InvalidParameterValue", str(exc))


def report_url(kind: str, key: str, fmt: str = "pdf", year: int = LAST_YEAR) -> str:
    return url_for("reports.download", kind=kind, key=key, fmt=fmt, year=year)


@bp.get("/reports")
def index() -> str:
    year = year_arg()
    store = get_store()
    cities = [
        {"key": key, "region": regions_of(store)[key], "counties": counties_of(store, adcode)}
        for key, adcode in cities_of(store).items()
    ]
    return render_template(
        "reports.html",
        cities=cities,
        year=year,
        years=range(FIRST_YEAR, LAST_YEAR + 1),
        report_url=report_url,
    )


@bp.get("/reports/<kind>/<path:key>.<fmt>")
def download(kind: str, key: str, fmt: str) -> Response:
    if kind not in KINDS:
        raise ReportNotFound(
            f"没有「{kind}」类报告 unknown report kind {kind!r}; use one of {', '.join(KINDS)}"
        )
    if fmt not in FORMATS:
        raise ReportError(_unknown_format(fmt))
    year = year_arg()
    # The same store, report and year give the same file: answer a repeat from the browser's
    # copy before rendering anything.
    view = "public" if is_public_view() else "whole"  # restricted data only in the whole
    etag = hashlib.sha1(f"{store_version()}|{view}|{kind}|{key}|{year}|{fmt}".encode()).hexdigest()
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers={"ETag": f'W/"{etag}"'})
    report = build(get_store(), kind, key, year, settings_from(current_app.config))
    body = render(report, fmt)
    # Flask writes the Chinese file name as RFC 5987 `filename*`, with an ASCII fallback.
    response = send_file(
        io.BytesIO(body),
        mimetype=MIMETYPES[fmt],
        as_attachment=True,  # a download button saves a file; <img src> still shows it
        download_name=report.filename(fmt),
        etag=False,
        max_age=60,
    )
    response.set_etag(etag, weak=True)
    response.cache_control.public = False
    response.cache_control.private = True
    return response


# =========================================================================== CLI


@click.command("report")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("key")
@click.option(
    "--year",
    type=click.IntRange(FIRST_YEAR, LAST_YEAR),
    default=LAST_YEAR,
    show_default=True,
    help="data as of the end of this year",
)
@click.option(
    "--out",
    "out",
    default=None,
    help="output file (pdf, png or svg by its suffix); default: the report's own name",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="pdf (every page) or png/svg (the first map alone); default: from --out",
)
@click.option(
    "--public",
    is_flag=True,
    help="as anonymous readers see it: without the restricted layers and fields",
)
@with_appcontext
def report_command(
    kind: str, key: str, year: int, out: str | None, fmt: str | None, public: bool
) -> None:
    """Print a report: KIND is measure (KEY 001/三/八), county (KEY an adcode, e.g. 210881)
    or atlas (KEY yingkou, liaoyuan or a city adcode). The command line sees everything,
    restricted data included, unless --public."""
    config = current_app.config
    try:
        fmt = fmt or (Path(out).suffix.lstrip(".").lower() if out else "pdf")
        if fmt not in FORMATS:
            raise ReportError(
                f"无法从「{out}」判断格式，请用 --format pdf|png|svg "
                f"cannot tell the format from {out!r}; use --format pdf|png|svg"
            )
        allowed = allowed_folder(config)
        report = build(get_store(public=public), kind, key, year, settings_from(config))
        target = output_path(out, report.filename(fmt), allowed)
        if target.suffix.lower() != f".{fmt}":
            raise ReportError(
                f"输出文件 {target.name} 的扩展名不是 .{fmt} output {target.name} does not end in "
                f".{fmt}"
            )
        if fmt == "pdf" and len(report.pages) > 1:
            label = f"{report.title}（{len(report.pages)} 幅图）"
            with click.progressbar(length=len(report.pages) + 1, label=label) as bar:
                data = render(report, fmt, progress=lambda _n: bar.update(1))
                bar.update(1)  # the layout into PDF pages
        else:
            data = render(report, fmt)
        write_atomically(target, data)
    except (ReportError, OutputError) as exc:  # FontError, ReportNotFound: nothing written
        raise click.ClickException(str(exc)) from None
    click.echo(f"{target}（{len(data):,} 字节 bytes）")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["report_years"] = list(range(FIRST_YEAR, LAST_YEAR + 1))
    app.cli.add_command(report_command)
