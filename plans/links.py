"""The curated link table (plans/links.csv): which measures tie to which layers, and why.

Keyword matching only suggests links (`suggest`); a person confirms a link by adding its row to
the table, with a one-line reason and the rule the link implies for the layer's features.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from plans.model import Document

LINKS_PATH = Path(__file__).with_name("links.csv")
COLUMNS = ("measure_id", "layer_id", "reason", "rule")


class LinkTableError(ValueError):
    """A bad row in the link table: names the file, the row (1-based, header = row 1) and field."""

    def __init__(self, message: str, *, path: str, row: int, field: str | None = None) -> None:
        self.path, self.row, self.field = path, row, field
        where = f"file {path}, row {row}" + (f", field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Link:
    measure_id: str
    layer_id: str
    reason: str
    rule: str


@dataclass(frozen=True)
class Suggestion:
    measure_id: str
    layer_id: str
    keywords: tuple[str, ...]


def read_links(
    path: Path = LINKS_PATH,
    *,
    measure_ids: Iterable[str] | None = None,
    layer_ids: Iterable[str] | None = None,
) -> list[Link]:
    """Read and check the table; unknown measures or layers are errors naming the row."""
    known_measures = set(measure_ids) if measure_ids is not None else None
    known_layers = set(layer_ids) if layer_ids is not None else None
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise LinkTableError(
                f"expected the columns {', '.join(COLUMNS)}, found "
                f"{', '.join(reader.fieldnames or ['nothing'])}",
                path=str(path),
                row=1,
            )
        links: list[Link] = []
        seen = set()
        for number, row in enumerate(reader, start=2):
            for name in COLUMNS:
                if not (row.get(name) or "").strip():
                    raise LinkTableError("empty", path=str(path), row=number, field=name)
            link = Link(*(row[name].strip() for name in COLUMNS))
            if known_measures is not None and link.measure_id not in known_measures:
                raise LinkTableError(
                    f"no measure {link.measure_id!r} in the catalog",
                    path=str(path),
                    row=number,
                    field="measure_id",
                )
            if known_layers is not None and link.layer_id not in known_layers:
                raise LinkTableError(
                    f"no layer {link.layer_id!r}", path=str(path), row=number, field="layer_id"
                )
            if (link.measure_id, link.layer_id) in seen:
                raise LinkTableError("the same link twice", path=str(path), row=number)
            seen.add((link.measure_id, link.layer_id))
            links.append(link)
    return links


def suggest(
    documents: Sequence[Document], keywords: Mapping[str, Sequence[str]], min_level: int = 2
) -> list[Suggestion]:
    """Measures whose heading or text mention a layer's keywords (the person decides)."""
    found = []
    for doc in documents:
        for node in doc.walk():
            if node.level < min_level:
                continue
            text = node.heading + node.text
            for layer_id, words in keywords.items():
                hits = tuple(w for w in words if w in text)
                if hits:
                    found.append(Suggestion(node.id, layer_id, hits))
    return found
