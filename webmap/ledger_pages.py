"""Ledger (台账) import on the web, for editors: upload, a preview (map and per-row table of what
will be added, changed or rejected), commit; and the audit log (留痕) with each feature's
history. The same dry run and commit as `flask ledger preview|import` (webmap/ledger.py)."""

from __future__ import annotations

import io
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup
from shapely.geometry import mapping
from shapely.ops import unary_union

from geo.errors import LedgerError
from geo.ledger.edits import EditStore
from geo.ledger.plan import ImportPlan, RowOutcome, convert
from geo.ledger.read import FORMATS
from geo.ledger.template import AUTOMATIC, template_xlsx
from geo.schema import Field
from geo.store import Feature
from layers import all_layers
from layers.base import LayerType
from webmap.auth import current_user, role_required
from webmap.ledger import ACTION_ZH, audit_csv, ledger_layer, plan_json, preview
from webmap.maps import LutuAssets, basemap_layers, render_parts
from webmap.store import build_store, get_store

bp = Blueprint("ledger", __name__, template_folder="templates")

UPLOAD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
UPLOAD_MAX_AGE_S = 24 * 3600  # uploads left by a preview nobody committed are cleared after
ACTION_COLOURS = {
    "add": "#1a9850",
    "change": "#2171b5",
    "unchanged": "#969696",
    "reject": "#d73027",
}
CRS_CHOICES = ("", "EPSG:4490", "EPSG:4326", "EPSG:4529", "EPSG:4530", "EPSG:4550", "EPSG:4551")
CRS_CHOICES += ("GCJ-02", "BD-09")


def _uploads() -> Path:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _clear_stale_uploads(folder: Path) -> None:
    cutoff = time.time() - UPLOAD_MAX_AGE_S
    for old in folder.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)


def _safe_name(filename: str) -> str:
    """The uploaded file's own name (Chinese kept, so messages name it as the planner knows
    it), without folders or characters a file system would trip on."""
    name = Path(filename.replace("\\", "/")).name
    name = re.sub(r"[^\w.\-（）()\u3400-\u9fff]+", "_", name).strip("._") or "ledger"
    return name[-120:]


def _saved(token: str) -> Path:
    if not UPLOAD_TOKEN.match(token):
        abort(400, description="bad upload token")
    folder = _uploads() / token
    files = list(folder.iterdir()) if folder.is_dir() else []
    if len(files) != 1:
        abort(404, description="this upload is gone (committed, or older than a day): upload again")
    return files[0]


def _plan(path: Path, layer_id: str, crs: str | None, repair: bool) -> ImportPlan:
    max_bytes = current_app.config["LEDGER_MAX_BYTES"]
    return preview(get_store(), layer_id, path, crs=crs or None, max_bytes=max_bytes, repair=repair)


def _preview_map(plan: ImportPlan) -> dict[str, Markup] | None:
    """A small offline map of the rows that could be placed, coloured by what happens to them.
    Only row numbers and our own words go into the map: names stay in the escaped table."""
    import folium

    placed = [o for o in plan.outcomes if o.geometry is not None]
    if not placed:
        return None
    features = [
        {
            "type": "Feature",
            "geometry": mapping(o.geometry),
            "properties": {"label": f"第 {o.row} 行 {ACTION_ZH[o.action]}", "action": o.action},
        }
        for o in placed
    ]
    minx, miny, maxx, maxy = unary_union([o.geometry for o in placed]).bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        maxZoom=18,
        control_scale=True,
    )
    m.default_js, m.default_css = [], []  # never folium's CDN lists
    LutuAssets(
        js=[("leaflet", url_for("vendor.leaflet", filename="leaflet.js"))],
        css=[("leaflet_css", url_for("vendor.leaflet", filename="leaflet.css"))],
    ).add_to(m)
    for tile in basemap_layers(current_app.config):
        tile.add_to(m)
    # The district outlines as context: geometry only, no names from data in the map.
    outlines = [
        {"type": "Feature", "geometry": mapping(d.geometry.simplify(0.002)), "properties": {}}
        for d in get_store().query("districts", limit=None).features
        if d.properties.get("level") in ("city", "county")
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": outlines},
        name="行政区 Districts",
        style_function=lambda _f: {"color": "#888", "weight": 1, "fillOpacity": 0},
        interactive=False,
    ).add_to(m)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="台账预览 Preview",
        marker=folium.CircleMarker(radius=6, fill=True, fill_opacity=0.85, weight=1),
        style_function=lambda f: {
            "color": ACTION_COLOURS[f["properties"]["action"]],
            "fillColor": ACTION_COLOURS[f["properties"]["action"]],
            "weight": 2,
        },
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]], max_zoom=15)
    return render_parts(m)


# =============================================================================== pages


@bp.get("/ledger")
@role_required("editor")
def upload_form() -> str:
    layers = [layer for layer in all_layers() if layer.id != "districts"]
    return render_template(
        "ledger_upload.html",
        layers=layers,
        crs_choices=CRS_CHOICES,
        formats=FORMATS,
        max_mb=current_app.config["LEDGER_MAX_BYTES"] // (1024 * 1024),
    )


@bp.post("/ledger/preview")
@role_required("editor")
def preview_upload() -> str | tuple[str, int]:
    layer_id = request.form.get("layer", "")
    crs = request.form.get("crs") or None
    repair = request.form.get("repair") == "1"
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, description="choose a ledger file to upload")
    folder = _uploads()
    _clear_stale_uploads(folder)
    token = secrets.token_urlsafe(18)
    target = folder / token / _safe_name(upload.filename)
    target.parent.mkdir()
    upload.save(target)
    try:
        plan = _plan(target, layer_id, crs, repair)
    except LedgerError as exc:
        shutil.rmtree(target.parent, ignore_errors=True)
        return render_template("ledger_preview.html", error=exc, plan=None), 400
    return render_template(
        "ledger_preview.html",
        plan=plan,
        error=None,
        token=token,
        layer=ledger_layer(layer_id),
        crs=crs or "",
        repair=repair,
        actions=ACTION_ZH,
        colours=ACTION_COLOURS,
        map=_preview_map(plan),
    )


@bp.post("/ledger/commit")
@role_required("editor")
def commit_upload() -> str:
    token = request.form.get("token", "")
    path = _saved(token)
    layer_id = request.form.get("layer", "")
    # Planned again: the store may have changed since the preview.
    repair = request.form.get("repair") == "1"
    plan = _plan(path, layer_id, request.form.get("crs") or None, repair)
    user = current_user()
    assert user is not None  # role_required
    if not plan.accepted:
        abort(400, description="nothing to import: no row would be added or changed")
    done = EditStore(current_app.config["EDITS_PATH"]).commit(plan, user.name)
    build_store(current_app)
    shutil.rmtree(path.parent, ignore_errors=True)
    return render_template("ledger_done.html", plan=plan, done=done, layer=ledger_layer(layer_id))


@bp.post("/ledger/api/<layer_id>")
@role_required("editor")
def api_import(layer_id: str) -> tuple[Response, int]:
    """Programmatic import (an API token as `Authorization: Bearer …`): the file as the
    multipart field `file`, `crs=`, `repair=1`; `commit=1` writes the accepted rows (with the
    audit entries, as the token's user), otherwise the answer is the dry run. JSON either way."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return jsonify(_api_error(400, "no file: send it as the multipart field 'file'")), 400
    folder = _uploads() / secrets.token_urlsafe(18)
    folder.mkdir()
    path = folder / _safe_name(upload.filename)
    try:
        upload.save(path)
        repair = request.values.get("repair") == "1"
        try:
            plan = _plan(path, layer_id, request.values.get("crs") or None, repair)
        except LedgerError as exc:
            return jsonify(_api_error(400, str(exc))), 400
        body = plan_json(plan)
        if request.values.get("commit") == "1":
            if not plan.accepted:
                return jsonify(_api_error(422, "nothing to import") | body), 422
            user = current_user()
            assert user is not None  # role_required
            done = EditStore(current_app.config["EDITS_PATH"]).commit(plan, user.name)
            build_store(current_app)
            body["committed"] = {"batch": done.batch, "added": done.added, "changed": done.changed}
        return jsonify(body), 200
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _api_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "code": "LedgerError", "message": message}}


@bp.get("/ledger/template/<layer_id>.xlsx")
def template(layer_id: str) -> Response:
    try:
        layer = ledger_layer(layer_id)
    except LedgerError as exc:
        abort(404, description=str(exc))
    return send_file(
        io.BytesIO(template_xlsx(layer)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"绿图_台账模板_{layer.name_zh}_{layer.id}.xlsx",
    )


@bp.get("/audit")
@role_required("editor")
def audit() -> str | Response:
    layer = request.args.get("layer") or None
    edits = EditStore(current_app.config["EDITS_PATH"])
    if request.args.get("f") == "csv":
        return send_file(
            io.BytesIO(audit_csv(edits.audit(layer=layer))),
            mimetype="text/csv",
            as_attachment=True,
            download_name="绿图_留痕.csv",
        )
    return render_template(
        "audit.html",
        entries=edits.audit(layer=layer, limit=500),
        layer=layer,
        layers=[lt for lt in all_layers() if lt.id != "districts"],
        actions=ACTION_ZH,
    )


@bp.get("/audit/<layer_id>/<path:feature_id>")
@role_required("editor")
def history(layer_id: str, feature_id: str) -> str:
    entries = EditStore(current_app.config["EDITS_PATH"]).audit(
        layer=layer_id, feature_id=feature_id
    )
    return render_template(
        "audit_history.html",
        entries=entries,
        layer_id=layer_id,
        feature_id=feature_id,
        actions=ACTION_ZH,
        changed=_changed_fields,
    )


def _changed_fields(entry: Any) -> list[tuple[str, Any, Any]]:
    before = (entry.before or {}).get("properties", {})
    after = (entry.after or {}).get("properties", {})
    rows = [(n, before.get(n), after.get(n)) for n in after if before.get(n) != after.get(n)]
    if (entry.before or {}).get("geometry") != (entry.after or {}).get("geometry"):
        rows.append(("geometry", (entry.before or {}).get("geometry"), entry.after["geometry"]))
    return rows


def init_app(app: Any) -> None:
    app.config.setdefault("LEDGER_MAX_BYTES", 50 * 1024 * 1024)
    # Flask refuses a larger upload before reading it (413), whatever the view.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["LEDGER_MAX_BYTES"] + 1024 * 1024
    app.register_blueprint(bp)


# =============================================================================== editing


def _edit_form_fields(layer: LayerType) -> list[Field]:
    """The fields a person edits: not the id, the demo flag or the county codes (those come
    from the position)."""
    return [f for f in layer.fields if f.name not in AUTOMATIC and f.name != "id"]


@bp.route("/edit/<layer_id>/<path:feature_id>", methods=["GET", "POST"])
@role_required("editor")
def edit_feature(layer_id: str, feature_id: str) -> str | tuple[str, int]:
    """Edit one feature's attributes and status (with its status year); saved with an audit
    entry, and the store (and so the indicators) rebuilt."""
    try:
        layer = ledger_layer(layer_id)
    except LedgerError as exc:
        abort(404, description=str(exc))
    feature = get_store().get(layer_id, feature_id)  # FeatureNotFound -> 404
    fields = _edit_form_fields(layer)
    values = dict(feature.properties)
    errors: dict[str, str] = {}
    saved = None
    if request.method == "POST":
        for f in fields:
            raw = request.form.get(f.name)
            if f.type == "bool":
                raw = "是" if raw == "1" else "否"
            try:
                values[f.name] = convert(f, raw)
            except ValueError as exc:
                errors[f.name] = str(exc)
                continue
            problem = f.check(values[f.name])
            if problem:
                errors[f.name] = problem
        if not errors:
            for check in layer.row_checks:
                if not check.ok(values):
                    errors[check.field] = check.message
        if not errors:
            saved = _save_edit(layer, feature, values)
    status = 400 if errors else 200
    page = render_template(
        "edit_feature.html",
        layer=layer,
        feature=feature,
        fields=fields,
        values=values,
        errors=errors,
        saved=saved,
    )
    return page, status


def _save_edit(layer: LayerType, feature: Feature, values: dict[str, Any]) -> dict[str, Any]:
    """One change, written like an import of one row: audit entry and store rebuild."""
    before = dict(feature.properties)
    after = {f.name: values.get(f.name) for f in layer.fields}
    changes = {n: (before.get(n), v) for n, v in after.items() if before.get(n) != v}
    if not changes:
        return {"changed": []}
    outcome = RowOutcome(
        index=0,
        row=0,
        action="change",
        feature_id=feature.id,
        properties=after,
        geometry=feature.geometry,
        before=before,
        changes=changes,
    )
    plan = ImportPlan(layer.id, "网页编辑 web edit", "EPSG:4326", {}, [], [], [outcome])
    user = current_user()
    assert user is not None  # role_required
    EditStore(current_app.config["EDITS_PATH"]).commit(plan, user.name)
    build_store(current_app)
    return {"changed": sorted(changes)}
