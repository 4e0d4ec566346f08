"""The plan catalog as the pages use it: read once per store from its tables, filtered in
memory (a few hundred measures), with the ties each layer's popups show."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from geo.store import FeatureStore
from layers.base import MeasureTie


@dataclass
class CatalogView:
    documents: dict[str, dict[str, Any]]
    measures: dict[str, dict[str, Any]]  # in document order
    targets: dict[str, list[dict[str, Any]]]  # by measure id
    links: list[dict[str, Any]]

    def ties(self, layer_id: str, url: Callable[[str], str] | None = None) -> list[MeasureTie]:
        """The measures a layer is tied to, for its popups."""
        return [
            MeasureTie(
                id=link["measure_id"],
                heading=self.measures[link["measure_id"]]["heading"],
                rule=link["rule"],
                url=url(link["measure_id"]) if url else None,
            )
            for link in self.links
            if link["layer_id"] == layer_id
        ]

    def links_of(self, measure_id: str) -> list[dict[str, Any]]:
        return [link for link in self.links if link["measure_id"] == measure_id]

    def select(
        self,
        *,
        document: str | None = None,
        part: str | None = None,
        unit: str | None = None,
        year: int | None = None,
        layer: str | None = None,
        has_target: bool | None = None,
        q: str | None = None,
    ) -> list[dict[str, Any]]:
        """Measures matching every given filter; `q` searches heading, text and units."""
        found = []
        for m in self.measures.values():
            if document and m["document"] != document:
                continue
            if part and m["part"] != part:
                continue
            if unit and unit not in (m["units"] or ""):
                continue
            if year is not None and m["deadline_year"] != year:
                continue
            if layer and layer not in (m["layers"] or "").split(","):
                continue
            if has_target is not None and (m["target_count"] > 0) != has_target:
                continue
            if q and not any(q in (m[k] or "") for k in ("id", "heading", "text", "units")):
                continue
            found.append(m)
        return found

    def facets(self) -> dict[str, list[Any]]:
        """The values each filter can take, for the filter form."""
        units: set[str] = set()
        for m in self.measures.values():
            units.update(u for u in (m["units"] or "").split("、") if u)
        return {
            "document": sorted(self.documents),
            "part": sorted(
                {m["part"] for m in self.measures.values()}, key=lambda p: _CN_ORDER.get(p, 99)
            ),
            "year": sorted(
                {m["deadline_year"] for m in self.measures.values() if m["deadline_year"]}
            ),
            "layer": sorted({link["layer_id"] for link in self.links}),
            "unit": sorted(units),
        }


_CN_ORDER = {c: i for i, c in enumerate("一二三四五六七八九十")}


@lru_cache(maxsize=8)  # a store is immutable while open
def catalog_view(store: FeatureStore) -> CatalogView:
    def rows(table: str, order: str | None = None) -> list[dict[str, Any]]:
        if table not in store.layers():
            return []
        sortby = [(order, True)] if order else []
        return [f.properties for f in store.query(table, limit=None, sortby=sortby).features]

    documents = {
        d["id"]: d
        | {
            "implements": json.loads(d["implements"] or "[]"),
            "cascade": json.loads(d["cascade"] or "null"),
        }
        for d in rows("plan_documents")
    }
    measures = {
        m["id"]: m
        | {
            "deadlines": json.loads(m["deadlines"] or "[]"),
            "cascade_diff": json.loads(m["cascade_diff"] or "null"),
        }
        for m in sorted(rows("plan_measures"), key=lambda m: (m["document"], m["position"]))
    }
    targets: dict[str, list[dict[str, Any]]] = {}
    for t in rows("plan_targets"):
        targets.setdefault(t["measure_id"], []).append(t)
    return CatalogView(documents, measures, targets, rows("measure_links"))


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
