"""Indicator records an administrator added, kept as data: one TOML file each in the added
indicators folder (the app's instance/indicators/), `<id>.toml` (the record, schema in
`plans.records`) and `<id>.json` beside it (who added it and when).

A record is checked before it is written (`check_record`: it loads, its id is no shipped
indicator's, its cited plan text is in the catalog) and again when the store is built
(`table_rows`), where a record that no longer passes is left out with its reason instead of
breaking the build for the others. Files are replaced by a rename, so a crash never leaves
half a record behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.files import write_atomically
from plans.records import Record, RecordError, citation_errors, parse_record

__all__ = [
    "AddedRecord",
    "catalog_texts",
    "check_record",
    "inputs",
    "read_added",
    "remove_added",
    "restore_added",
    "table_rows",
    "write_added",
]

META_SUFFIX = ".json"


@dataclass(frozen=True)
class AddedRecord:
    """One added record as its files say."""

    id: str
    toml: str
    source: str  # the file name: <id>.toml
    added_by: str
    added_at: str  # ISO 8601, UTC

    def row(self) -> dict[str, str]:
        return {
            "id": self.id,
            "toml": self.toml,
            "source": self.source,
            "added_by": self.added_by,
            "added_at": self.added_at,
        }


def _files(folder: Path | None) -> list[Path]:
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).glob("*.toml") if not p.name.startswith("."))


def inputs(folder: Path | None) -> list[Path]:
    """Every file whose change changes the store's added records."""
    out = []
    for path in _files(folder):
        out.append(path)
        meta = path.with_suffix(META_SUFFIX)
        if meta.is_file():
            out.append(meta)
    return out


def _read(path: Path) -> AddedRecord:
    meta_path = path.with_suffix(META_SUFFIX)
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError:
            meta = {}
    added_at = meta.get("added_at") or datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(
        timespec="seconds"
    )
    return AddedRecord(
        path.stem,
        path.read_text(encoding="utf-8"),
        path.name,
        str(meta.get("added_by") or ""),
        str(added_at),
    )


def read_added(folder: Path | None) -> list[AddedRecord]:
    """The added records of `folder`, by file name."""
    return [_read(p) for p in _files(folder)]


def catalog_texts(rows: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, list[str]]:
    """Every text of the catalog by measure id (the measure's and its targets'), from the
    catalog's table rows: what a citation must be found in."""
    texts: dict[str, list[str]] = {}
    for table, key in (("plan_measures", "id"), ("plan_targets", "measure_id")):
        for row in rows.get(table, ()):
            texts.setdefault(row[key], []).append(row.get("text") or "")
    return texts


def check_record(
    text: str,
    source: str,
    texts: Mapping[str, list[str]],
    shipped: Iterable[str],
    stem: str | None = None,
) -> Record:
    """The record of `text`, checked for adding: it loads, its id is none of the `shipped`
    ids, and each cited text is in the catalog `texts`. Raises RecordError naming the file
    and the key."""
    rec = parse_record(text, source, stem)
    if rec.id in set(shipped):
        raise RecordError(
            f"{source}：键 id：「{rec.id}」是随附指标，不能用作新指标的编号 / key id: "
            f"{rec.id} is a shipped indicator"
        )
    errors = citation_errors(rec, texts)
    if errors:
        raise RecordError("；".join(errors))
    return rec


def table_rows(
    folder: Path | None, texts: Mapping[str, list[str]], shipped: Iterable[str]
) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of the store's `indicator_records` table: each added record that still
    passes `check_record`, and the reasons of those left out."""
    rows, refused = [], []
    for added in read_added(folder):
        try:
            check_record(added.toml, added.source, texts, shipped, added.id)
        except RecordError as exc:
            refused.append(str(exc))
            continue
        rows.append(added.row())
    return rows, refused


def _replace(path: Path, data: str) -> None:
    write_atomically(path, data.encode("utf-8"))


@dataclass(frozen=True)
class Previous:
    """What a record's files held before a write (None: absent), to undo it."""

    id: str
    toml: str | None
    meta: str | None


def _previous(folder: Path, rec_id: str) -> Previous:
    toml, meta = folder / f"{rec_id}.toml", folder / f"{rec_id}{META_SUFFIX}"
    return Previous(
        rec_id,
        toml.read_text(encoding="utf-8") if toml.is_file() else None,
        meta.read_text(encoding="utf-8") if meta.is_file() else None,
    )


def write_added(folder: Path, rec_id: str, text: str, user: str) -> Previous:
    """Write (or replace) the record `rec_id`, each file by a rename; returns what was there."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    before = _previous(folder, rec_id)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"added_by": user, "added_at": now}
    if before.meta:
        old = json.loads(before.meta)
        meta = {"added_by": old.get("added_by") or user, "added_at": old.get("added_at") or now}
        meta |= {"changed_by": user, "changed_at": now}
    _replace(folder / f"{rec_id}{META_SUFFIX}", json.dumps(meta, ensure_ascii=False, indent=1))
    _replace(folder / f"{rec_id}.toml", text)
    return before


def remove_added(folder: Path, rec_id: str) -> Previous:
    """Remove the record `rec_id`'s files; returns what was there."""
    before = _previous(Path(folder), rec_id)
    for name in (f"{rec_id}.toml", f"{rec_id}{META_SUFFIX}"):
        (Path(folder) / name).unlink(missing_ok=True)
    return before


def restore_added(folder: Path, previous: Previous) -> None:
    """Put a record's files back as they were before a write or a removal."""
    for name, data in (
        (f"{previous.id}.toml", previous.toml),
        (f"{previous.id}{META_SUFFIX}", previous.meta),
    ):
        path = Path(folder) / name
        if data is None:
            path.unlink(missing_ok=True)
        else:
            _replace(path, data)
