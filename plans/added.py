"""Plan documents added by a person, kept as data: one folder per document in the added-plans
folder (the app's instance/plans/), `<id>/<id>.txt` (the text, UTF-8, as the parser reads it)
and `<id>/plan.json` (region adcode, status, original file name, who added it and when).

A document is a draft (草稿) until published (已发布); only published ones join the catalog
(`published_plans`). Folders are written and removed by a rename and the metadata is replaced
by a rename, so a crash never leaves half a document behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from geo.files import write_atomically
from plans.errors import PlanError

__all__ = [
    "DRAFT",
    "PUBLISHED",
    "AddedPlan",
    "added_plans",
    "next_plan_id",
    "published_plans",
    "remove_added_plan",
    "set_plan_status",
    "write_added_plan",
]

DRAFT = "草稿"
PUBLISHED = "已发布"
STATUS_EN = {DRAFT: "draft", PUBLISHED: "published"}
META_FILE = "plan.json"
_PLAN_ID = re.compile(r"\d{3}")


@dataclass(frozen=True)
class AddedPlan:
    """One added plan document, as its metadata file says."""

    id: str  # "005": the next free id after the shipped 000–004
    region: str  # the adcode of the region it governs, given by the person who added it
    status: str  # DRAFT or PUBLISHED
    title: str  # as parsed when added
    original_name: str  # the uploaded file's name: 鞍山市清洁取暖实施方案.docx
    added_at: str  # ISO 8601, UTC
    added_by: str
    published_at: str | None = None
    published_by: str | None = None
    folder: Path | None = None  # where it lives (not stored)

    @property
    def text_path(self) -> Path:
        return self._folder / f"{self.id}.txt"

    @property
    def meta_path(self) -> Path:
        return self._folder / META_FILE

    @property
    def _folder(self) -> Path:
        if self.folder is None:
            raise ValueError(f"plan {self.id} has no folder")
        return self.folder

    def to_json(self) -> dict[str, str | None]:
        return {k: v for k, v in asdict(self).items() if k != "folder"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read(folder: Path) -> AddedPlan:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        plan = AddedPlan(**meta, folder=folder)
    except (OSError, ValueError, TypeError) as exc:
        raise PlanError(
            str(folder / META_FILE), f"规划元数据无法读取 unreadable plan metadata: {exc}"
        ) from None
    if plan.id != folder.name or plan.status not in STATUS_EN:
        raise PlanError(
            str(folder / META_FILE),
            f"规划元数据不符 plan metadata does not match: id {plan.id!r} in folder "
            f"{folder.name!r}, status {plan.status!r}",
        )
    return plan


def added_plans(plans_dir: Path | None) -> list[AddedPlan]:
    """Every added plan, drafts too, in id order (half-written folders, whose names start
    with a dot, are not among them)."""
    if plans_dir is None or not Path(plans_dir).is_dir():
        return []
    return [
        _read(d)
        for d in sorted(Path(plans_dir).iterdir())
        if _PLAN_ID.fullmatch(d.name) and (d / META_FILE).is_file()
    ]


def published_plans(plans_dir: Path | None) -> list[AddedPlan]:
    """The added plans that join the catalog."""
    return [p for p in added_plans(plans_dir) if p.status == PUBLISHED]


def next_plan_id(taken: list[str]) -> str:
    """The next three-digit document id after every id taken (shipped and added), so an id
    is not reused while anything may still name it."""
    numbers = [int(t) for t in taken if _PLAN_ID.fullmatch(t)]
    following = max(numbers, default=-1) + 1
    if following > 999:
        raise PlanError(
            "<plans>", "文件编号已用尽（000–999） no document id left (000–999 are taken)"
        )
    return f"{following:03d}"


def write_added_plan(
    plans_dir: Path,
    plan_id: str,
    text: str,
    *,
    region: str,
    title: str,
    original_name: str,
    added_by: str,
    publish: bool = False,
) -> AddedPlan:
    """Write an added plan's folder: into a hidden temporary folder first, renamed into place
    once complete."""
    plans_dir = Path(plans_dir)
    target = plans_dir / plan_id
    if target.exists():
        raise PlanError(str(target), f"文件 {plan_id} 已存在 document {plan_id} exists already")
    now = _now()
    plan = AddedPlan(
        id=plan_id,
        region=region,
        status=PUBLISHED if publish else DRAFT,
        title=title,
        original_name=original_name,
        added_at=now,
        added_by=added_by,
        published_at=now if publish else None,
        published_by=added_by if publish else None,
    )
    plans_dir.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{plan_id}-", dir=plans_dir))
    try:
        (temp / f"{plan_id}.txt").write_text(text, encoding="utf-8")
        _write_meta(temp, plan)
        temp.chmod(0o755)  # mkdtemp makes it 0700
        os.rename(temp, target)  # fails if another add took the id meanwhile
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return replace(plan, folder=target)


def _write_meta(folder: Path, plan: AddedPlan) -> None:
    text = json.dumps(plan.to_json(), ensure_ascii=False, indent=1)
    write_atomically(folder / META_FILE, (text + "\n").encode("utf-8"), mode=0o644)


def _find(plans_dir: Path, plan_id: str) -> AddedPlan:
    found = next((p for p in added_plans(plans_dir) if p.id == plan_id), None)
    if found is None:
        raise PlanError(plan_id, f"没有添加过文件「{plan_id}」 document '{plan_id}' was not added")
    return found


def set_plan_status(plans_dir: Path, plan_id: str, status: str, by: str) -> AddedPlan:
    """Publish a draft (or take a document back to draft): its metadata replaced at once."""
    plan = _find(plans_dir, plan_id)
    if status not in STATUS_EN:
        raise PlanError(plan_id, f"未知状态 unknown status {status!r}")
    if status == PUBLISHED:
        changed = replace(plan, status=status, published_at=_now(), published_by=by)
    else:
        changed = replace(plan, status=status, published_at=None, published_by=None)
    _write_meta(plan._folder, changed)
    return changed


def remove_added_plan(plans_dir: Path, plan_id: str) -> AddedPlan:
    """Remove an added plan's folder: renamed out of the way first, then deleted."""
    plan = _find(plans_dir, plan_id)
    trash = Path(tempfile.mkdtemp(prefix=f".{plan_id}-removed-", dir=plans_dir))
    os.rename(plan._folder, trash / plan_id)
    shutil.rmtree(trash)
    return plan
