"""The plan catalog as the pages show it: `plans.catalog.catalog_view` (the catalog read back
from the store) and the measure text with its targets marked."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from plans.catalog import CatalogView, catalog_view

__all__ = ["CatalogView", "catalog_view", "highlight"]


def highlight(text: str, targets: list[dict[str, Any]]) -> Markup:
    """The measure's text, escaped, with each target's source text marked."""
    spans = []
    for t in targets:
        start = text.find(t["text"])
        if start >= 0:
            spans.append((start, start + len(t["text"])))
    spans.sort()
    out, pos = [], 0
    for start, end in spans:
        if start < pos:  # overlapping targets (分别…): mark the union once
            start = pos
        if end <= start:
            continue
        out.append(Markup.escape(text[pos:start]))
        out.append(Markup('<mark class="lutu-target">{}</mark>').format(text[start:end]))
        pos = end
    out.append(Markup.escape(text[pos:]))
    return Markup("").join(out)
