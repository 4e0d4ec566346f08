"""Ledger (台账) import on the web, for editors: upload, a preview (map and per-row table of what
will be added, changed or rejected), commit; and the audit log (留痕) with each feature's
history. The same dry run and commit as `flask ledger preview|import` (webmap/ledger.py).

An upload larger than LEDGER_BACKGROUND_BYTES is previewed and committed by a background
thread (a job) instead of inside the request: the browser is sent to /ledger/jobs/<token>,
which shows the stage and rows done until the job ends. The upload and its job's state are
kept where whichever worker process answers the next request can read them
(webmap/uploads.py): a folder under instance/uploads, or with DATABASE_URL the database, so
that a job started on one app server is followed and committed from any other.
"""

from __future__ import annotations

import io
import pickle
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup
from shapely.geometry import mapping
from shapely.ops import unary_union

from geo import crs as gcrs
from geo.errors import LayerNotFound, LedgerChoiceError, LedgerError
from geo.ledger.edits import Committed, details_text
from geo.ledger.plan import ImportPlan, RowOutcome, convert
from geo.ledger.read import FORMATS, Progress
from geo.ledger.template import AUTOMATIC, template_xlsx
from geo.schema import Field
from geo.store import Feature
from layers import all_layers, get_layer
from layers.base import LayerType
from webmap.auth import current_user, role_required
from webmap.database import app_database
from webmap.ledger import (
    ACTION_ZH,
    AUDIT_ACTION_ZH,
    LOCAL_ZONE_LABEL,
    NOTHING_TO_IMPORT,
    STAGE_ZH,
    ImportOptions,
    audit_csv,
    delete_feature,
    entry_name,
    layer_name,
    ledger_layer,
    local_time,
    plan_json,
    preview,
)
from webmap.maps import LutuAssets, basemap_layers, render_parts
from webmap.store import build_store, edit_log, get_store, visible_layer
from webmap.uploads import (
    JOB_FILES,
    DatabaseUploads,
    FileUploads,
    Upload,
    Uploads,
    UploadTooLarge,
)

bp = Blueprint("ledger", __name__, template_folder="templates")

UPLOAD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
UPLOAD_MAX_AGE_S = 24 * 3600  # uploads left by a preview nobody committed are cleared after
ACTION_COLOURS = {
    "add": "#1a9850",
    "change": "#2171b5",
    "unchanged": "#969696",
    "reject": "#d73027",
}
# The CRSs the upload and preview forms offer (any other is typed on the command line or the
# API), by what a planner knows them as (geo.crs.crs_label), with the city a zone covers.
_CITY_OF_ZONE = {gcrs.GK_CM123: "营口", gcrs.GK_CM126: "辽源"}
CRS_CHOICES = (
    ("", "自动识别 detect"),
    *(
        (code, " ".join([gcrs.crs_label(code), _CITY_OF_ZONE.get(code, "")]).strip())
        for code in (
            gcrs.CGCS2000,
            gcrs.WGS84,
            gcrs.GK_CM123,
            gcrs.GK_CM126,
            gcrs.GK_ZONE41,
            gcrs.GK_ZONE42,
            gcrs.GCJ02,
            gcrs.BD09,
        )
    ),
)

# Defaults of LEDGER_JOB_STALE_S and LEDGER_JOB_HEARTBEAT_S:
JOB_STALE_S = 10 * 60  # a running job silent this long died with its process
JOB_HEARTBEAT_S = 30  # a running job rewrites its state at least this often, even mid-stage
JOB_STAGES = {"preview": ("read", "check"), "commit": ("read", "check", "write", "rebuild")}
INTERRUPTED = "中断 interrupted: the server stopped while working on this upload"
INTERNAL_ERROR = "内部错误 internal error: the import stopped (the server log says why)"


def _uploads() -> Uploads:
    """Where this app keeps uploads and jobs: its database, else its instance folder."""
    database = app_database()
    if database is not None:
        return DatabaseUploads(database, int(current_app.config["DATABASE_UPLOAD_MAX_BYTES"]))
    return FileUploads(Path(current_app.instance_path) / "uploads")


def _safe_name(filename: str) -> str:
    """The uploaded file's own name (Chinese kept, so messages name it as the planner knows
    it), without folders or characters a file system would trip on."""
    name = Path(filename.replace("\\", "/")).name
    name = re.sub(r"[^\w.\-（）()\u3400-\u9fff]+", "_", name).strip("._") or "ledger"
    name = name[-120:]
    return f"ledger_{name}" if name in JOB_FILES else name


BAD_TOKEN = "上传编号无效 bad upload token"
UPLOAD_GONE = (
    "此上传已不在（已写入，或超过一天）：请重新上传 "
    "this upload is gone (committed, or older than a day): upload again"
)


def _saved(uploads: Uploads, token: str) -> Upload:
    if not UPLOAD_TOKEN.match(token):
        abort(400, description=BAD_TOKEN)
    upload = uploads.get(token)
    if upload is None:
        abort(404, description=UPLOAD_GONE)
    return upload


def _keep_upload(uploads: Uploads, file: Any) -> Upload:
    """A new upload kept under a new token (the stale ones cleared first)."""
    uploads.clear_stale(UPLOAD_MAX_AGE_S)
    try:
        return uploads.add(secrets.token_urlsafe(18), _safe_name(file.filename), file.stream)
    except UploadTooLarge as exc:
        abort(413, description=str(exc))


def _plan(
    path: Path, layer_id: str, options: ImportOptions, progress: Progress | None = None
) -> ImportPlan:
    max_bytes = current_app.config["LEDGER_MAX_BYTES"]
    return preview(get_store(), layer_id, path, options, max_bytes=max_bytes, progress=progress)


def _plan_upload(
    uploads: Uploads,
    upload: Upload,
    layer_id: str,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportPlan:
    with uploads.local_file(upload) as path:
        return _plan(path, layer_id, options, progress)


COLUMN_PREFIX = "column:"  # form fields column:<file column> = <layer field>


def form_options(form: Any) -> ImportOptions:
    """The reading options of the upload, preview and commit forms (and the import API)."""

    def number(name: str, low: int, high: int) -> int | None:
        raw = (form.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isdigit() or not low <= int(raw) <= high:
            abort(
                400,
                description=f"{name}：{raw!r} 不是 {low}–{high} 之间的整数 "
                f"is not a number from {low} to {high}",
            )
        return int(raw)

    columns = {
        key[len(COLUMN_PREFIX) :]: value
        for key, value in form.items()
        if key.startswith(COLUMN_PREFIX) and value
    }
    for pair in form.getlist("column"):  # the API's column=列名=field
        column, sep, target = pair.partition("=")
        if sep and target:
            columns[column.strip()] = target.strip()
    return ImportOptions(
        crs=form.get("crs") or None,
        columns=columns,
        sheet=form.get("sheet") or None,
        header_row=number("header_row", 1, 1_048_576),
        source_layer=form.get("source_layer") or None,
        repair=form.get("repair") == "1",
        as_of_year=number("as_of_year", 1949, 2100),
    )


def _in_background(upload: Upload) -> bool:
    """Whether this upload is worked on by a background job (0: every upload is)."""
    limit = int(current_app.config["LEDGER_BACKGROUND_BYTES"])
    return limit <= 0 or upload.size > limit


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
def preview_upload() -> str | tuple[str, int] | Response:
    """A new upload's preview, or (with `token`) the same upload previewed again with other
    reading choices: the header row, the GeoPackage layer, unknown columns' fields."""
    layer_id = request.form.get("layer", "")
    options = form_options(request.form)
    token = request.form.get("token", "")
    uploads = _uploads()
    if token:
        upload = _saved(uploads, token)
    else:
        file = request.files.get("file")
        if file is None or not file.filename:
            abort(400, description="请选择要上传的台账文件 choose a ledger file to upload")
        upload = _keep_upload(uploads, file)
        token = upload.token
    try:
        if _in_background(upload):
            ledger_layer(layer_id)  # an unknown layer is said at once, not by a job
            return _start_preview(uploads, upload, layer_id, options)
        plan = _plan_upload(uploads, upload, layer_id, options)
    except LedgerChoiceError as exc:  # a question, not a failure: the upload stays, the
        return _error_page(exc, token, layer_id, options)  # person chooses, we read again
    except LedgerError as exc:
        uploads.remove(token)
        return _error_page(exc, None, layer_id, options), 400
    return _preview_page(plan, token, layer_id, options)


def _error_page(
    error: LedgerError | str, token: str | None, layer_id: str, options: ImportOptions
) -> str:
    choice = error if isinstance(error, LedgerChoiceError) else None
    return render_template(
        "ledger_preview.html",
        error=error,
        choice=choice,
        plan=None,
        token=token,
        layer_id=layer_id,
        options=options,
    )


def _preview_page(plan: ImportPlan, token: str, layer_id: str, options: ImportOptions) -> str:
    layer = ledger_layer(layer_id)
    return render_template(
        "ledger_preview.html",
        plan=plan,
        error=None,
        choice=None,
        token=token,
        layer=layer,
        layer_id=layer_id,
        options=options,
        field_choices=[f for f in layer.fields if f.name not in ("is_demo",)],
        actions=ACTION_ZH,
        colours=ACTION_COLOURS,
        crs_choices=CRS_CHOICES,
        crs_label=gcrs.crs_label,
        map=_preview_map(plan),
    )


@bp.post("/ledger/commit")
@role_required("editor")
def commit_upload() -> str | Response:
    token = request.form.get("token", "")
    uploads = _uploads()
    if UPLOAD_TOKEN.match(token):  # else _saved says 400
        job = _job_state(uploads, token)
        if job is not None and job["state"] == "running":
            abort(409, description="此上传正在处理中，请稍候。This upload is being worked on.")
    upload = _saved(uploads, token)
    layer_id = request.form.get("layer", "")
    # Planned again: the store may have changed since the preview.
    options = form_options(request.form)
    accepted_only = request.form.get("accepted_only") == "1"
    user = current_user()
    assert user is not None  # role_required
    if _in_background(upload):
        return _start_commit(uploads, upload, layer_id, options, accepted_only)
    try:
        plan = _plan_upload(uploads, upload, layer_id, options)
        _check_committable(plan, accepted_only)
        done = edit_log().commit(plan, user.name, accepted_only=accepted_only)
    except LedgerError as exc:
        abort(400, description=str(exc))
    build_store(current_app)
    uploads.remove(token)
    return render_template(
        "ledger_done.html",
        plan=plan,
        done=done,
        rejected=plan.count("reject"),
        layer=ledger_layer(layer_id),
    )


def _check_committable(plan: ImportPlan, accepted_only: bool) -> None:
    """All or nothing: rejected rows stop the commit unless the person chose to leave them
    out; a plan without any row to write is refused too."""
    rejected = plan.count("reject")
    if rejected and not accepted_only:
        raise LedgerError(
            f"{rejected} 行被拒绝，未写入任何行；改正后重新上传，或勾选「只导入可接受的行」 "
            f"{rejected} row(s) rejected: nothing written"
        )
    if not plan.accepted:
        raise LedgerError(NOTHING_TO_IMPORT)


# =============================================================================== jobs


def _stopped(reason: str, job: dict[str, Any]) -> str:
    """Why a job stopped and what of it is in: a commit's rows are, all of them, once its
    write stage ended (one transaction), even when the store rebuild after it did not."""
    written = job.get("kind") == "commit" and (
        job.get("stage") == "rebuild"
        or (job.get("stage") == "write" and job.get("total") and job.get("done") == job["total"])
    )
    if written:
        return (
            f"{reason}；各行已写入（见留痕），地图库将在下次导入或服务器重启时重建 "
            "the rows were written (see the audit log), the map is rebuilt with "
            "them at the next import or server start"
        )
    return f"{reason}；未写入任何行，请重新上传 nothing was written: upload the file again"


def _job_state(uploads: Uploads, token: str) -> dict[str, Any] | None:
    """The job of an upload, if it has one, as it stands: a job still running but silent for
    LEDGER_JOB_STALE_S died with its process (a restart, a kill, its whole server gone; a
    commit's transaction then rolled back) and is reported failed, its upload removed."""
    job = uploads.read_job(token)
    if job is None:
        return None
    stale_s = float(current_app.config["LEDGER_JOB_STALE_S"])
    if job.get("state") == "running" and time.time() - float(job["updated"]) > stale_s:
        error = _stopped(INTERRUPTED, job)
        job |= {"state": "failed", "error": error, "updated": round(time.time(), 3)}
        uploads.write_job(token, job)
        uploads.remove_upload(token)
    return job


class _Job:
    """A running job's state, kept in memory and written to its upload's store on every
    change."""

    def __init__(self, uploads: Uploads, token: str, state: dict[str, Any]) -> None:
        self.uploads = uploads
        self.token = token
        self.state = state
        self._lock = threading.Lock()  # the worker and its heartbeat both write
        self.update()

    def update(self, **changes: Any) -> None:
        with self._lock:
            self.state.update(changes)
            self.state["updated"] = round(time.time(), 3)
            self.uploads.write_job(self.token, self.state)

    def progress(self, stage: str, done: int, total: int | None) -> None:
        self.update(stage=stage, stage_zh=STAGE_ZH.get(stage, stage), done=done, total=total)


Work = Callable[[_Job], dict[str, Any]]


def _start_job(
    uploads: Uploads, token: str, kind: str, user: str, meta: dict[str, Any], work: Work
) -> None:
    now = round(time.time(), 3)
    job = _Job(
        uploads,
        token,
        {
            "kind": kind,
            "stage": "read",
            "stage_zh": STAGE_ZH["read"],
            "done": 0,
            "total": None,
            "state": "running",
            "error": None,
            "started": now,
            "updated": now,
            "user": user,
            **meta,
        },
    )
    app = current_app._get_current_object()  # the thread outlives this request's context
    thread = threading.Thread(
        target=_run_job, args=(app, job, work), name=f"lutu-ledger-{kind}", daemon=True
    )
    thread.start()


def _run_job(app: Flask, job: _Job, work: Work) -> None:
    """A job's thread: `work` in an app context (the config, the store), its outcome written
    to the job's state. Never raises: nobody would hear it."""
    stop = threading.Event()
    every = float(app.config["LEDGER_JOB_HEARTBEAT_S"])
    beat = threading.Thread(target=_heartbeat, args=(job, stop, every), name="lutu-ledger-beat")
    beat.daemon = True
    beat.start()
    outcome: dict[str, Any]
    try:
        with app.app_context():
            outcome = {"state": "done", **work(job)}
    except LedgerChoiceError as exc:  # the upload stays for the person's choice
        choice = {"option": exc.option, "choices": list(exc.choices)}
        outcome = {"state": "failed", "error": str(exc), "choice": choice}
    except LedgerError as exc:
        outcome = {"state": "failed", "error": str(exc)}
    except Exception:
        app.logger.exception("ledger %s job %s failed", job.state["kind"], job.token)
        outcome = {"state": "failed", "error": _stopped(INTERNAL_ERROR, job.state)}
    finally:
        stop.set()
        beat.join()
    try:
        # A commit's upload goes once the commit is over (done or not), a failed preview's
        # too; before the final state is written, so "done" means a second commit finds it gone.
        failed = outcome["state"] == "failed" and "choice" not in outcome
        if failed or job.state["kind"] == "commit":
            job.uploads.remove_upload(job.token)
        job.update(**outcome)
    except Exception:  # the folder or the database is gone
        app.logger.exception("ledger job %s: cannot record its outcome", job.token)


def _heartbeat(job: _Job, stop: threading.Event, every_s: float) -> None:
    """Keeps a job's `updated` fresh through long steps that report nothing (the rebuild), so
    that only a job whose process died looks stale."""
    while not stop.wait(every_s):
        try:
            job.update()
        except Exception:
            return  # the folder or the database is gone: nothing left to report to


def _start_preview(
    uploads: Uploads, upload: Upload, layer_id: str, options: ImportOptions
) -> Response:
    def work(job: _Job) -> dict[str, Any]:
        plan = _plan_upload(uploads, upload, layer_id, options, progress=job.progress)
        uploads.save_plan(upload.token, pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL))
        return {"counts": {a: plan.count(a) for a in ACTION_ZH}}

    return _launch(uploads, upload, "preview", layer_id, options, work)


def _start_commit(
    uploads: Uploads, upload: Upload, layer_id: str, options: ImportOptions, accepted_only: bool
) -> Response:
    user = current_user()
    assert user is not None  # role_required
    job = _job_state(uploads, upload.token)
    if job is not None and job.get("user") != user.name and not user.can("admin"):
        abort(403, description="这是他人的上传。This upload belongs to another user.")
    try:
        ledger_layer(layer_id)
    except LedgerError as exc:
        abort(400, description=str(exc))
    # One commit per upload, whichever process or server is asked twice; the claim goes with
    # the upload when the commit is over.
    if not uploads.claim_commit(upload.token):
        abort(409, description="此上传正在写入。This upload is already being committed.")
    name = user.name

    def work(job: _Job) -> dict[str, Any]:
        plan = _plan_upload(uploads, upload, layer_id, options, progress=job.progress)
        _check_committable(plan, accepted_only)
        edits = edit_log()
        done = edits.commit(plan, name, progress=job.progress, accepted_only=accepted_only)
        job.progress("rebuild", 0, None)
        build_store(current_app)
        return {"committed": asdict(done), "rejected": plan.count("reject")}

    return _launch(uploads, upload, "commit", layer_id, options, work, accepted_only=accepted_only)


def _launch(
    uploads: Uploads,
    upload: Upload,
    kind: str,
    layer_id: str,
    options: ImportOptions,
    work: Work,
    **extra: Any,
) -> Response:
    user = current_user()
    assert user is not None  # role_required
    meta = {"file": upload.name, "layer": layer_id, "options": options.to_json(), **extra}
    _start_job(uploads, upload.token, kind, user.name, meta, work)
    return redirect(url_for("ledger.job_page", token=upload.token), 303)


def _own_job(token: str) -> tuple[Uploads, dict[str, Any]]:
    """Where the job of `token` is kept, and the job, for the user who started it or an
    admin."""
    if not UPLOAD_TOKEN.match(token):
        abort(400, description=BAD_TOKEN)
    uploads = _uploads()
    job = _job_state(uploads, token)
    if job is None:
        abort(
            404,
            description="没有这次导入：已结束超过一天，或从未开始 "
            "no such import: it ended more than a day ago, or never began",
        )
    user = current_user()
    assert user is not None  # role_required
    if job.get("user") != user.name and not user.can("admin"):
        abort(403, description="这是他人的导入。This import was started by another user.")
    return uploads, job


@bp.get("/ledger/jobs/<token>")
@role_required("editor")
def job_page(token: str) -> str | tuple[str, int] | Response:
    """A job's progress while it runs (refreshing itself); its outcome when it is over."""
    _uploads_, job = _own_job(token)
    if job["state"] == "failed":
        options = ImportOptions.from_json(job.get("options") or {})
        if job.get("choice"):  # which layer of the file? asked, with the upload kept
            question = LedgerChoiceError(job["error"], **job["choice"])
            return _error_page(question, token, job.get("layer", ""), options)
        return _error_page(job["error"], None, job.get("layer", ""), options), 400
    if job["state"] == "done" and job["kind"] == "preview":
        return redirect(url_for("ledger.preview_page", token=token), 303)
    layer = ledger_layer(job["layer"])
    if job["state"] == "done":
        return render_template(
            "ledger_done.html",
            plan=None,
            done=Committed(**job["committed"]),
            rejected=job["rejected"],
            layer=layer,
        )
    return render_template(
        "ledger_job.html",
        job=job,
        token=token,
        layer=layer,
        stages=_stages(job),
        elapsed=max(0, round(time.time() - job["started"])),
    )


def _stages(job: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(stage, its Chinese name, "is-done" | "is-current" | "") for the job's stage list."""
    names = JOB_STAGES[job["kind"]]
    at = names.index(job["stage"]) if job["stage"] in names else -1
    return [
        (s, STAGE_ZH[s], "is-current" if i == at else "is-done" if i < at else "")
        for i, s in enumerate(names)
    ]


@bp.get("/ledger/jobs/<token>.json")
@role_required("editor")
def job_status(token: str) -> Response:
    """The job's state as it is kept (what the job page's script polls)."""
    _uploads_, job = _own_job(token)
    return jsonify(job)


@bp.get("/ledger/preview/<token>")
@role_required("editor")
def preview_page(token: str) -> str | Response:
    """The preview a background job made: the same page as a preview made in the request."""
    uploads, job = _own_job(token)
    if job["kind"] != "preview" or job["state"] != "done":
        return redirect(url_for("ledger.job_page", token=token), 303)
    data = uploads.load_plan(token)
    if data is None:
        abort(404, description=UPLOAD_GONE)
    plan = pickle.loads(data)  # written by one of our servers (webmap/uploads.py)
    return _preview_page(plan, token, job["layer"], ImportOptions.from_json(job["options"]))


@bp.post("/ledger/api/<layer_id>")
@role_required("editor")
def api_import(layer_id: str) -> tuple[Response, int]:
    """Programmatic import (an API token as `Authorization: Bearer …`): the file as the
    multipart field `file`; `crs=`, `header_row=`, `source_layer=`, `as_of_year=`,
    `column=列名=field` (repeated), `repair=1`; `commit=1` writes the accepted rows (with the
    audit entries, as the token's user) — all or nothing unless `accepted_only=1` —, otherwise
    the answer is the dry run. JSON either way."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return jsonify(
            _api_error(
                400,
                "没有文件：请以 multipart 字段 file 发送 no file: send it "
                "as the multipart field 'file'",
            )
        ), 400
    # Read within this request only: a local file, whatever keeps the other uploads.
    with _uploads().scratch() as folder:
        path = folder / _safe_name(upload.filename)
        upload.save(path)
        try:
            plan = _plan(path, layer_id, form_options(request.values))
        except LedgerError as exc:
            return jsonify(_api_error(400, str(exc))), 400
        body = plan_json(plan)
        if request.values.get("commit") == "1":
            accepted_only = request.values.get("accepted_only") == "1"
            try:
                _check_committable(plan, accepted_only)
            except LedgerError as exc:
                return jsonify(_api_error(422, str(exc)) | body), 422
            user = current_user()
            assert user is not None  # role_required
            done = edit_log().commit(plan, user.name, accepted_only=accepted_only)
            build_store(current_app)
            body["committed"] = {"batch": done.batch, "added": done.added, "changed": done.changed}
        return jsonify(body), 200


def _api_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "code": "LedgerError", "message": message}}


@bp.get("/ledger/template/<layer_id>.xlsx")
def template(layer_id: str) -> Response:
    """The layer's Excel template; for anonymous readers without restricted fields (and none
    for a restricted layer)."""
    visible_layer(layer_id)  # 404 when unknown or restricted for this reader
    try:
        layer = ledger_layer(layer_id)
    except LedgerError as exc:
        abort(404, description=str(exc))
    shown = get_store().layer(layer_id).fields
    hidden = [f.name for f in layer.fields if f.name not in shown]
    return send_file(
        io.BytesIO(template_xlsx(layer, skip=[*AUTOMATIC, *hidden])),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"绿图_台账模板_{layer.name_zh}_{layer.id}.xlsx",
    )


@bp.get("/audit")
@role_required("editor")
def audit() -> str | Response:
    layer = request.args.get("layer") or None
    edits = edit_log()
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
        actions=AUDIT_ACTION_ZH,
        details=details_text,
        **_audit_words(),
    )


def _audit_words() -> dict[str, Any]:
    """What the audit pages say times, layers and features with: local time (the zone said
    once, in the header), 燃煤锅炉 for coal_boilers, a feature's name beside its id."""
    return {
        "when": local_time,
        "zone": LOCAL_ZONE_LABEL,
        "layer_name": layer_name,
        "feature_name": entry_name,
        "field_label": _field_label,
    }


def _field_label(layer_id: str, name: str) -> str:
    """A changed field as the history lists it: 状态 status."""
    if name == "geometry":
        return "位置 geometry"
    try:
        f = get_layer(layer_id).field_map.get(name)
    except LayerNotFound:
        f = None
    return f"{f.label_zh} {name}" if f is not None else name


@bp.get("/audit/<layer_id>/<path:feature_id>")
@role_required("editor")
def history(layer_id: str, feature_id: str) -> str:
    entries = edit_log().audit(layer=layer_id, feature_id=feature_id)
    return render_template(
        "audit_history.html",
        entries=entries,
        layer_id=layer_id,
        feature_id=feature_id,
        actions=AUDIT_ACTION_ZH,
        changed=_changed_fields,
        details=details_text,
        **_audit_words(),
    )


def _changed_fields(entry: Any) -> list[tuple[str, Any, Any]]:
    """(field, before, after) of what an entry changed; every field for an add or delete."""
    before, after = entry.before or {}, entry.after or {}
    old, new = before.get("properties", {}), after.get("properties", {})
    names = [*new, *(n for n in old if n not in new)]
    rows = [(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]
    if before.get("geometry") != after.get("geometry"):
        rows.append(("geometry", before.get("geometry"), after.get("geometry")))
    return rows


def init_app(app: Any) -> None:
    app.config.setdefault("LEDGER_MAX_BYTES", 50 * 1024 * 1024)
    # Uploads larger than this are previewed and committed by a background job with a
    # progress page (0: every upload); smaller ones within the request, as always.
    app.config.setdefault("LEDGER_BACKGROUND_BYTES", 1024 * 1024)
    # A running job silent this long died with its process; it rewrites its state at least
    # every LEDGER_JOB_HEARTBEAT_S, even mid-stage (keep it well below the first).
    app.config.setdefault("LEDGER_JOB_STALE_S", JOB_STALE_S)
    app.config.setdefault("LEDGER_JOB_HEARTBEAT_S", JOB_HEARTBEAT_S)
    # With DATABASE_URL uploads are kept in the database (bytea): larger ones are refused.
    app.config.setdefault("DATABASE_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
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


@bp.post("/edit/<layer_id>/<path:feature_id>/delete")
@role_required("editor")
def delete(layer_id: str, feature_id: str) -> str:
    """Delete one feature (the edit page's 删除 form, which asks for a confirmation tick): the
    audit entry keeps what it was, the store and the indicators are rebuilt without it."""
    try:
        layer = ledger_layer(layer_id)
    except LedgerError as exc:
        abort(404, description=str(exc))
    if request.form.get("confirm") != "1":
        abort(400, description="请勾选「确认删除」 tick 确认删除 to confirm the deletion")
    user = current_user()
    assert user is not None  # role_required
    reason = (request.form.get("reason") or "").strip()[:200] or None
    feature = get_store().get(layer_id, feature_id)  # FeatureNotFound -> 404
    batch = delete_feature(layer_id, feature, user.name, reason)
    return render_template("ledger_deleted.html", layer=layer, feature_id=feature_id, batch=batch)


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
    edit_log().commit(plan, user.name)
    build_store(current_app)
    return {"changed": sorted(changes)}
