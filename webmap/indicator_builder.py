"""The indicator builder: an administrator's form for a new indicator record (or an added
one, to edit), its live preview and the list of the store's indicators.

/admin/indicators              the list; added ones can be edited or removed
/admin/indicators/new          the form (GET), save (POST)
/admin/indicators/<id>/edit    the form filled from an added record, save (POST)
/admin/indicators/preview      the draft form → JSON: the value per city and county and the
                               features behind it, or the draft's errors naming their keys
The form's fields are `plans.drafts`'; saving goes through `indicator_sources.save_indicator`
(checked, written atomically, store rebuilt, audited).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from layers import all_layers
from plans.drafts import draft_table, dump_toml, form_fields, lost_keys
from plans.indicators import FIRST_YEAR, LAST_YEAR
from plans.records import RecordError, describe_as_of, layer_rule
from webmap import indicator_sources as sources
from webmap.auth import current_user, role_required
from webmap.regions import regions_of
from webmap.store import get_store

bp = Blueprint("indicator_builder", __name__, template_folder="templates")

_KEY = re.compile(r"键 (\S+?)：")
OPS = (
    ("in", "属于 in"),
    ("not_in", "不属于 not in"),
    ("==", "等于 ="),
    ("<=", "≤"),
    ("<", "<"),
    (">=", "≥"),
    (">", ">"),
)
SPATIAL = (
    ("none", "无 none"),
    ("inside", "在面图层内 inside"),
    ("outside", "在面图层外 outside"),
    ("within_m", "距图层要素不超过 N 米 within N m of"),
)
AGGREGATES = (
    ("count", "计数 count"),
    ("sum", "数值字段合计 sum of a field"),
    ("share", "占比（%） share of a universe"),
)


def targets_of(store: Any) -> dict[str, dict[str, Any]]:
    """The plan targets of the store's catalog (published plans only) by id."""
    if "plan_targets" not in store.layers():
        return {}
    rows = store.query("plan_targets", limit=None, with_geometry=False).features
    return {f.id: dict(f.properties) for f in rows}


def layers_json() -> dict[str, Any]:
    """Every layer's fields (type, unit, allowed values) and year rule, for the form's JS."""
    out = {}
    for layer in all_layers():
        rule = layer_rule(layer.id)
        out[layer.id] = {
            "name_zh": layer.name_zh,
            "name_en": layer.name_en,
            "geometry": layer.geometry_type,
            "title_field": layer.title_field,
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "label_zh": f.label_zh,
                    "unit": f.unit or "",
                    "allowed": list(f.allowed or ()),
                }
                for f in layer.fields
                if f.name not in ("id", "geometry")
            ],
            "year_rule": describe_as_of(rule),
            "states": list(rule.states),
        }
    return out


def _direction(row: dict[str, Any]) -> str:
    """Lower is better for an upper bound and for "none left" (基本淘汰 → 0), else higher."""
    return "lower" if row.get("bound") in ("≤", "<") or row.get("value") == 0 else "higher"


def _target_options(targets: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": tid,
            "measure": row["measure_id"],
            "text": row.get("text") or "",
            "value": row.get("value"),
            "unit": row.get("unit") or "",
            "deadline": row.get("target_year"),
            "direction": _direction(row),
        }
        for tid, row in targets.items()
    ]


def _errors(exc: Exception) -> list[dict[str, str]]:
    """A RecordError's messages, each with the key it names."""
    out = []
    for message in str(exc).split("；"):
        found = _KEY.search(message)
        out.append({"key": found.group(1) if found else "", "message": message})
    return out


def _draft(form: dict[str, list[str]], targets: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """The form's record as TOML text and its file name (RecordError for a bad value)."""
    table = draft_table(form, targets)
    return dump_toml(table), f"{table.get('id') or 'draft'}.toml"


def _year() -> int:
    try:
        year = int(request.form.get("year") or LAST_YEAR)
    except ValueError:
        year = LAST_YEAR
    return min(max(year, FIRST_YEAR), LAST_YEAR)


@bp.post("/admin/indicators/preview")
@role_required("admin")
def preview() -> Response:
    store = get_store(public=False)
    targets = targets_of(store)
    form = request.form.to_dict(flat=False)
    try:
        text, source = _draft(form, targets)
        rec = sources.checked(text, source, store)
        return jsonify({**sources.preview_json(rec, _year()), "toml": text})
    except RecordError as exc:
        return jsonify({"ok": False, "errors": _errors(exc)})


def _page(
    fields: dict[str, Any],
    edit_of: str | None = None,
    errors=(),
    status: int = 200,
    lost: list[str] | None = None,
):
    store = get_store(public=False)
    targets = targets_of(store)
    regions = [r for r in regions_of(store).values() if r.adcode]
    layers = layers_json()
    return render_template(
        "admin_indicator_form.html",
        fields=fields,
        layer_id=fields.get("layer") if fields.get("layer") in layers else next(iter(layers)),
        edit_of=edit_of,
        errors=list(errors),
        lost=lost or [],
        layers=layers,
        targets=_target_options(targets),
        regions=regions,
        ops=OPS,
        spatial=SPATIAL,
        aggregates=AGGREGATES,
        years=range(FIRST_YEAR, LAST_YEAR + 1),
    ), status


def _blank() -> dict[str, Any]:
    """An empty form, on the layer asked for (`?layer=`) or the first that is no base map."""
    asked = request.args.get("layer", "")
    layers = [layer.id for layer in all_layers() if layer.map_group != "base"]
    first = asked if asked in layers_json() else layers[0]
    return {**form_fields({"layer": first}, {}), "filters": [], "where": []}


def _posted_fields(form: dict[str, list[str]]) -> dict[str, Any]:
    """What the form shows again after a failed save: the posted values."""

    def one(key: str) -> str:
        return (form.get(key) or [""])[0]

    def rows(prefix: str) -> list[dict[str, str]]:
        parts = [form.get(f"{prefix}_{p}", []) for p in ("field", "op", "value")]
        return [
            {"field": f, "op": o, "value": v} for f, o, v in zip(*parts, strict=False) if f.strip()
        ]

    plain = (
        *("id", "name_zh", "name_en", "definition_zh", "features_zh", "layer", "unit", "order"),
        *("aggregate", "sum_field", "spatial_rule", "spatial_layer", "spatial_distance_m"),
        *("year_rule", "target", "target_value", "target_deadline", "direction"),
        *("county_target", "basis_zh", "cite_measure", "cite_text"),
    )
    return {
        **{k: one(k) for k in plain},
        "filters": rows("filter"),
        "where": rows("where"),
        "count_states": form.get("count_states", []),
        "areas": form.get("areas", []),
    }


def _save(edit_of: str | None) -> Any:
    store = get_store(public=False)
    form = request.form.to_dict(flat=False)
    try:
        text, source = _draft(form, targets_of(store))
        user = current_user()
        rec = sources.save_indicator(text, source, user.name if user else "", edit_of)
    except RecordError as exc:
        return _page(_posted_fields(form), edit_of, _errors(exc), 400)
    return redirect(url_for("indicators.indicator_page", indicator_id=rec.id, saved=1), 303)


@bp.route("/admin/indicators/new", methods=["GET", "POST"])
@role_required("admin")
def new() -> Any:
    if request.method == "POST":
        return _save(None)
    return _page(_blank())


@bp.route("/admin/indicators/<indicator_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit(indicator_id: str) -> Any:
    added = {a.id: a for a in sources.read_added(sources.added_dir())}
    if indicator_id not in added:
        abort(404)
    if request.method == "POST":
        return _save(indicator_id)
    table = tomllib.loads(added[indicator_id].toml)
    fields = form_fields(table, targets_of(get_store(public=False)))
    return _page(fields, indicator_id, lost=lost_keys(table))


@bp.route("/admin/indicators", methods=["GET", "POST"])
@role_required("admin")
def admin_page() -> Any:
    message, error, status = None, None, 200
    if request.method == "POST" and request.form.get("action") == "remove":
        rec_id = request.form.get("id", "")
        try:
            user = current_user()
            sources.remove_indicator(rec_id, user.name if user else "")
            message = f"已移除 removed {rec_id.strip()}"
        except RecordError as exc:
            error, status = str(exc), 400
    return render_template(
        "admin_indicators.html",
        indicators=sources.listed_indicators(),
        left_out=sources.left_out(),
        message=message,
        error=error,
    ), status


def init_app(app: Flask) -> None:
    app.cli.add_command(sources.indicators_cli)
    app.register_blueprint(bp)
