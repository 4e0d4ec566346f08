"""The catalog: every plan document parsed, the link table checked against it, and each city
measure paired with the provincial measure it implements. Out come plain rows for the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from geo.store import FeatureStore
from layers.base import MeasureTie
from plans.added import published_plans
from plans.cascade import Cascade
from plans.corrections import CORRECTIONS_FILE, reviewed_document
from plans.errors import PlanError
from plans.links import LINKS_PATH, Link, catalog_links, read_decisions, read_links
from plans.model import Document, Node

PLANS_DIR = Path(__file__).resolve().parent.parent / "data" / "plans"


@dataclass
class Catalog:
    documents: list[Document]
    links: list[Link]
    implements: dict[str, tuple[str, float]] = field(default_factory=dict)  # child -> parent
    cascades: list[Cascade] = field(default_factory=list)  # one per implemented document
    # Document id -> the region adcode a person added it for (plans.added); shipped plans'
    # regions are derived from their title and issuer (plan_area).
    areas: dict[str, str] = field(default_factory=dict)

    def measures(self) -> Iterable[Node]:
        for doc in self.documents:
            yield from doc.walk()


def plan_files(plans_dir: Path = PLANS_DIR) -> list[Path]:
    return sorted(Path(plans_dir).glob("*.txt"))


def inputs(
    plans_dir: Path = PLANS_DIR,
    links_path: Path = LINKS_PATH,
    added_dir: Path | None = None,
    added_links_path: Path | None = None,
) -> list[Path]:
    """Every file whose change changes the catalog: texts (shipped, and added ones published
    with their metadata and corrections), link tables (shipped, and the added links when
    there are any), unit aliases and the parsing code."""
    code = sorted(Path(__file__).parent.glob("*.py"))
    units = Path(__file__).with_name("units.csv")
    added = [
        path
        for p in published_plans(added_dir)
        for path in (p.text_path, p.meta_path, p.text_path.with_name(CORRECTIONS_FILE))
        if path.exists()
    ]
    decided = (
        [Path(added_links_path)] if added_links_path and Path(added_links_path).is_file() else []
    )
    return [*plan_files(plans_dir), *added, Path(links_path), *decided, units, *code]


def load_catalog(
    plans_dir: Path = PLANS_DIR,
    links_path: Path = LINKS_PATH,
    layer_ids: Iterable[str] | None = None,
    added_dir: Path | None = None,
    added_links_path: Path | None = None,
) -> Catalog:
    """Parse every plan (the shipped ones and the published added ones in `added_dir`), check
    the link table against them, add the links an editor confirmed (`added_links_path`) on
    measures the catalog has, pair city and provincial measures."""
    from plans.cascade import match
    from plans.parse import parse_file  # imported here: parsing is the slow, optional part

    added = published_plans(added_dir)
    documents = [parse_file(path) for path in plan_files(plans_dir)]
    documents += [reviewed_document(p) for p in added]  # parsed, then corrected
    seen: dict[str, str] = {}
    for doc in documents:
        if doc.id in seen:
            raise PlanError(
                doc.path,
                f"文件编号 {doc.id} 与 {seen[doc.id]} 重复 document id {doc.id} is taken by "
                f"{seen[doc.id]}",
            )
        seen[doc.id] = doc.path
    ids = {node.id for doc in documents for node in doc.walk()}
    layer_ids = list(layer_ids) if layer_ids is not None else None
    shipped = read_links(links_path, measure_ids=ids, layer_ids=layer_ids)
    decisions = read_decisions(added_links_path, layer_ids=layer_ids)
    links = catalog_links(shipped, decisions, ids)
    catalog = Catalog(documents=documents, links=links, areas={p.id: p.region for p in added})
    by_title = {_plain(doc.title): doc for doc in documents}
    for child in documents:
        for title in child.implements:
            parent = by_title.get(_plain(title))
            if parent is None or parent is child:
                continue
            cascade = match(child, parent)
            catalog.cascades.append(cascade)
            for pair in cascade.pairs:
                catalog.implements[pair.child_id] = (pair.parent_id, round(pair.score, 3))
    return catalog


def _plain(title: str) -> str:
    return re.sub(r"[\s《》“”\"]", "", title)


def region_key(
    adcode: str | None, areas: Mapping[str, Area], region_keys: Mapping[str, str]
) -> str | None:
    """The region (the map's `city=` key) an area belongs to: the area itself when it is a
    region, else the nearest region above it (a county's city)."""
    seen: set[str] = set()
    while adcode and adcode not in seen:
        if adcode in region_keys:
            return region_keys[adcode]
        seen.add(adcode)
        area = areas.get(adcode)
        adcode = area.parent_adcode if area else None
    return None


TABLE_FIELDS: dict[str, dict[str, str]] = {
    "plan_documents": {
        "id": "str",
        "title": "str",
        "issuer": "str",
        "number": "str",
        "date": "str",
        "status": "str",
        "implements": "str",
        "lead_rule": "str",  # stated (…牵头) / first listed (the plan never says 牵头)
        "region": "str",
        "adcode": "str",  # the area a person added the plan for; else from title and issuer
        "measure_count": "int",
        "target_count": "int",
        "cascade": "str",
    },
    "plan_measures": {
        "id": "str",
        "document": "str",
        "level": "int",
        "label": "str",
        "part": "str",
        "parent_id": "str",
        "position": "int",
        "heading": "str",
        "text": "str",
        "units": "str",
        "lead_units": "str",
        "units_inherited": "bool",
        "deadline_year": "int",
        "deadlines": "str",
        "target_count": "int",
        "layers": "str",
        "implements": "str",
        "implements_score": "float",
        "implemented_by": "str",
        "cascade_diff": "str",
    },
    "plan_targets": {
        "id": "str",
        "measure_id": "str",
        "document": "str",
        "indicator": "str",
        "comparator": "str",
        "value": "float",
        "unit": "str",
        "target_year": "int",
        "base_year": "int",
        "aspirational": "bool",
        "text": "str",
        "scope": "str",  # JSON: subject, comparator, value, unit, text, quantity, place, label
        "reads": "str",  # as a planner reads it: 城市建成区内 ≤35 t/h 燃煤锅炉：基本淘汰 (0 台)
        "kind": "str",  # numeric (a written value) / qualitative (全覆盖 → 100 %, 基本淘汰 → 0)
        "bound": "str",  # ≥ ≤ < > ≈ =: how the value bounds the outcome
    },
    "measure_links": {
        "id": "str",
        "measure_id": "str",
        "layer_id": "str",
        "reason": "str",
        "rule": "str",
        "source": "str",  # 随附 shipped (plans/links.csv) / 确认 confirmed by an editor
        "confirmed_by": "str",
        "confirmed_at": "str",  # ISO 8601, UTC
    },
}
TABLE_DESCRIPTIONS = {
    "plan_documents": "规划文件 Plan documents",
    "plan_measures": "规划措施 Plan measures (every numbered item)",
    "plan_targets": "量化目标 Quantitative targets",
    "measure_links": "措施与图层的关联 Measure–layer links",
}


def catalog_rows(
    catalog: Catalog,
    areas: Mapping[str, Area] | None = None,
    region_keys: Mapping[str, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The catalog as rows of the four store tables (lists are joined with 、 or JSON). With
    the store's districts (`areas`) and regions (adcode -> key), each document gets the area it
    governs (`adcode`: the one it was added for, else the one its title or issuer names) and
    that area's region."""
    areas = areas or {}
    layers_of: dict[str, list[str]] = {}
    for link in catalog.links:
        layers_of.setdefault(link.measure_id, []).append(link.layer_id)
    implemented_by: dict[str, list[str]] = {}
    for child, (parent, _score) in catalog.implements.items():
        implemented_by.setdefault(parent, []).append(child)
    # What each city measure kept, added and dropped of the provincial one (clause level), and
    # per city document the measures it added and the provincial ones it dropped.
    diffs = {
        p.child_id: {"kept": p.kept, "added": p.added, "dropped": p.dropped}
        for c in catalog.cascades
        for p in c.pairs
    }
    cascades = {
        c.child: {
            "parent": c.parent,
            "pairs": len(c.pairs),
            "added": c.added,
            "dropped": c.dropped,
            "threshold": c.threshold,
        }
        for c in catalog.cascades
    }

    documents, measures, targets = [], [], []
    for doc in catalog.documents:
        adcode = catalog.areas.get(doc.id) or plan_area(doc.title, doc.issuer, areas)
        nodes = list(doc.walk())
        for position, node in enumerate(nodes):
            parent_id = "/".join([doc.id, *node.path[:-1]]) if node.level > 1 else None
            implements = catalog.implements.get(node.id)
            measures.append(
                {
                    "id": node.id,
                    "document": doc.id,
                    "level": node.level,
                    "label": node.label,
                    "part": node.path[0],
                    "parent_id": parent_id,
                    "position": position,
                    "heading": node.heading,
                    "text": node.text,
                    "units": "、".join(u.name for u in node.units),
                    "lead_units": "、".join(u.name for u in node.units if u.lead),
                    "units_inherited": node.units_inherited,
                    "deadline_year": max((d.year for d in node.deadlines), default=None),
                    "deadlines": json.dumps([d.text for d in node.deadlines], ensure_ascii=False),
                    "target_count": len(node.targets),
                    "layers": ",".join(layers_of.get(node.id, [])),
                    "implements": implements[0] if implements else None,
                    "implements_score": implements[1] if implements else None,
                    "implemented_by": ",".join(sorted(implemented_by.get(node.id, []))),
                    "cascade_diff": _json(diffs.get(node.id)),
                }
            )
            for n, t in enumerate(node.targets, start=1):
                targets.append(
                    {
                        "id": f"{node.id}#{n}",
                        "measure_id": node.id,
                        "document": doc.id,
                        "indicator": t.indicator,
                        "comparator": t.comparator,
                        "value": t.value,
                        "unit": t.unit,
                        "target_year": t.target_year,
                        "base_year": t.base_year,
                        "aspirational": t.aspirational,
                        "text": t.text,
                        "scope": _json(
                            asdict(t.scope) | {"label": t.scope.label(short_units=True)}
                            if t.scope
                            else None
                        ),
                        "reads": t.reads(),
                        "kind": t.kind,
                        "bound": t.bound,
                    }
                )
        documents.append(
            {
                "id": doc.id,
                "title": doc.title,
                "issuer": doc.issuer,
                "number": doc.number,
                "date": doc.date,
                "status": doc.status,
                "implements": json.dumps(doc.implements, ensure_ascii=False),
                "lead_rule": doc.lead_rule,
                "region": region_key(adcode, areas, region_keys or {}),
                "adcode": adcode,
                "measure_count": len(nodes),
                "target_count": sum(len(n.targets) for n in nodes),
                "cascade": _json(cascades.get(doc.id)),
            }
        )
    links = [
        {
            "id": f"{k.measure_id}|{k.layer_id}",
            "measure_id": k.measure_id,
            "layer_id": k.layer_id,
            "reason": k.reason,
            "rule": k.rule,
            "source": k.source,
            "confirmed_by": k.confirmed_by,
            "confirmed_at": k.confirmed_at,
        }
        for k in catalog.links
    ]
    return {
        "plan_documents": documents,
        "plan_measures": measures,
        "plan_targets": targets,
        "measure_links": links,
    }


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


# -- which plans govern a place: derived from the districts the store holds ------------------
@dataclass(frozen=True)
class Area:
    """One district of the store's `districts` table (province, city or county)."""

    adcode: str
    name_zh: str
    level: str
    parent_adcode: str | None


_LEVEL_RANK = {"province": 0, "city": 1, "county": 2}
_SHORT_SUFFIXES = {"province": "省", "city": "市"}  # 辽宁省 → 辽宁, 营口市 → 营口


def plan_area(title: str, issuer: str | None, areas: Mapping[str, Area]) -> str | None:
    """The adcode of the area a plan governs: the most local district of the store its title
    names (else its issuer); a city or province also by its short name (营口, 辽宁). A news
    lead's 辽宁省辽源市 is not read: only the title and issuer are."""
    for text in (title or "", issuer or ""):
        named = []
        for a in areas.values():
            names = [a.name_zh]
            suffix = _SHORT_SUFFIXES.get(a.level)
            if suffix and a.name_zh.endswith(suffix) and len(a.name_zh) > 2:
                names.append(a.name_zh[: -len(suffix)])
            at = min((text.find(n) for n in names if n and n in text), default=-1)
            if at >= 0:
                named.append((-_LEVEL_RANK.get(a.level, 0), at, a.adcode))
        if named:
            return min(named)[2]
    return None


def places_of(properties: Mapping[str, Any], areas: Mapping[str, Area]) -> frozenset[str]:
    """The adcodes a feature lies in: its county, its city and their province, by the districts
    table's parents; a code the table does not know counts its province as the first two digits
    + 0000 (the national adcode scheme). A district feature lies in itself and its parents."""
    found: set[str] = set()
    for key in ("county_adcode", "city_adcode", "adcode"):
        code = properties.get(key)
        while isinstance(code, str) and code and code not in found:
            found.add(code)
            known = areas.get(code)
            if known is not None:
                code = known.parent_adcode
            elif len(code) == 6 and code.isdigit() and not code.endswith("0000"):
                code = code[:2] + "0000"
            else:
                code = None
    return frozenset(found)


# -- the catalog read back from a store: what pages and reports show ---------------------------
@dataclass
class CatalogView:
    documents: dict[str, dict[str, Any]]
    measures: dict[str, dict[str, Any]]  # in document order
    targets: dict[str, list[dict[str, Any]]]  # by measure id
    links: list[dict[str, Any]]
    areas: dict[str, Area] = field(default_factory=dict)  # the store's districts by adcode

    def governs(self, document_id: str, properties: Mapping[str, Any]) -> bool:
        """Whether a plan governs the place of a feature (or district): the plan's area is
        the feature's county, city or province. The one rule popups, measure pages and
        reports use to keep another city's plans out."""
        area = self.documents.get(document_id, {}).get("adcode")
        return area is not None and area in places_of(properties, self.areas)

    def ties(
        self,
        layer_id: str,
        properties: Mapping[str, Any],
        url: Callable[[str], str] | None = None,
    ) -> list[MeasureTie]:
        """The measures a feature is tied to, for its popup: its layer's links, only of the
        plans that govern the feature's place (its own city's and province's)."""
        return [
            MeasureTie(
                id=link["measure_id"],
                heading=self.measures[link["measure_id"]]["heading"],
                rule=link["rule"],
                url=url(link["measure_id"]) if url else None,
            )
            for link in self.links
            if link["layer_id"] == layer_id
            and self.governs(self.measures[link["measure_id"]]["document"], properties)
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
    """The catalog tables of a store, read once: a few hundred measures, filtered in memory."""

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
        t = t | {"scope": json.loads(t.get("scope") or "null")}
        targets.setdefault(t["measure_id"], []).append(t)
    areas = {
        d["adcode"]: Area(d["adcode"], d["name_zh"], d["level"], d["parent_adcode"])
        for d in store_areas(store)
    }
    for d in documents.values():
        d["adcode"] = d.get("adcode") or plan_area(d["title"], d["issuer"], areas)
    return CatalogView(documents, measures, targets, rows("measure_links"), areas)


def store_areas(store: FeatureStore) -> list[dict[str, Any]]:
    """The districts the store knows (no geometry): what plan regions are derived from."""
    if "districts" not in store.layers():
        return []
    names = ["adcode", "name_zh", "level", "parent_adcode"]
    found = store.query("districts", limit=None, properties=names, with_geometry=False)
    return [f.properties for f in found.features]
