"""How well the parser holds for the genre: a parsed document scored against a hand-written
expectation (tests/plans/corpus/<id>.json) — structure, responsible units, targets, and the
numbers that must not become targets.

An expectation file holds:

* `measures`: [id, heading, units] for every node, units as names with ★ for a lead unit;
* `targets`: {node, value, unit, bound, kind, comparator[, scope]} — every target, in any order;
* `distractors`: {text, number}: the number inside `text` (first occurrence in the raw text)
  must not be the value of a target whose span covers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plans.model import Document, Target
from plans.parse import parse_file


@dataclass
class Score:
    """One document's figures; precision/recall are 1.0 when there is nothing to find."""

    document: str
    nodes_expected: int
    nodes_found: int
    nodes_matched: int
    units_matched: int  # measures whose unit list (with ★) is exactly as expected
    targets_expected: int
    targets_found: int
    targets_matched: int
    distractors: int
    distractors_taken: list[str] = field(default_factory=list)
    missed_targets: list[dict[str, Any]] = field(default_factory=list)
    extra_targets: list[str] = field(default_factory=list)
    wrong_measures: list[str] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    @property
    def structure_precision(self) -> float:
        return self._ratio(self.nodes_matched, self.nodes_found)

    @property
    def structure_recall(self) -> float:
        return self._ratio(self.nodes_matched, self.nodes_expected)

    @property
    def target_precision(self) -> float:
        return self._ratio(self.targets_matched, self.targets_found)

    @property
    def target_recall(self) -> float:
        return self._ratio(self.targets_matched, self.targets_expected)


def load_expectation(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def target_matches(target: Target, expected: dict[str, Any]) -> bool:
    """A found target is the expected one: value, unit, bound, kind, comparator (and scope)."""
    if (target.value is None) != (expected["value"] is None):
        return False
    if target.value is not None and abs(target.value - float(expected["value"])) > 1e-9:
        return False
    scope = target.scope.label() if target.scope else None
    return (
        target.unit == expected["unit"]
        and target.bound == expected["bound"]
        and target.kind == expected["kind"]
        and target.comparator == expected.get("comparator", target.comparator)
        and ("scope" not in expected or scope == expected["scope"])
    )


def taken_distractors(doc: Document, distractors: list[dict[str, str]]) -> list[str]:
    """The distractors whose number became a target's value."""
    taken = []
    for d in distractors:
        at = doc.raw.find(d["text"])
        if at < 0:
            raise ValueError(f"distractor {d['text']!r} is not in {doc.path}")
        pos = at + d["text"].index(d["number"])
        number = float(d["number"])
        for node in doc.walk():
            for t in node.targets:
                if t.span.start <= pos < t.span.end and t.value == number:
                    taken.append(f"{d['text']} → {node.id}: {t.reads()}")
    return taken


def score(doc: Document, expected: dict[str, Any]) -> Score:
    """Score one parsed document against its expectation."""
    want = {m[0]: (m[1], m[2]) for m in expected["measures"]}
    nodes = list(doc.walk())
    matched = [n for n in nodes if n.id in want and want[n.id][0] == n.heading]
    units_ok = [
        n for n in matched if [u.name + ("★" if u.lead else "") for u in n.units] == want[n.id][1]
    ]
    wrong = [
        f"{n.id} {n.heading} {[u.name + ('★' if u.lead else '') for u in n.units]}"
        for n in nodes
        if n not in units_ok
    ] + [f"missing {i} {h}" for i, (h, _) in want.items() if i not in {n.id for n in nodes}]
    found = [(n.id, t) for n in nodes for t in n.targets]
    free = list(found)
    missed = []
    for e in expected["targets"]:
        hit = next((f for f in free if f[0] == e["node"] and target_matches(f[1], e)), None)
        if hit is None:
            missed.append(e)
        else:
            free.remove(hit)
    return Score(
        document=doc.id,
        nodes_expected=len(want),
        nodes_found=len(nodes),
        nodes_matched=len(matched),
        units_matched=len(units_ok),
        targets_expected=len(expected["targets"]),
        targets_found=len(found),
        targets_matched=len(expected["targets"]) - len(missed),
        distractors=len(expected.get("distractors", [])),
        distractors_taken=taken_distractors(doc, expected.get("distractors", [])),
        missed_targets=missed,
        extra_targets=[f"{i}: {t.reads()} [{t.kind}, {t.bound}] «{t.text}»" for i, t in free],
        wrong_measures=wrong,
    )


def score_file(text_path: Path, expectation_path: Path) -> Score:
    return score(parse_file(text_path), load_expectation(expectation_path))


def markdown_table(scores: list[Score]) -> str:
    """Per document: nodes and structure P/R, units, targets and target P/R, distractors."""
    rows = [
        "| document | nodes exp/found | structure P | structure R | units exact | "
        "targets exp/found | target P | target R | distractors taken |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in scores:
        rows.append(
            f"| {s.document} | {s.nodes_expected}/{s.nodes_found} | "
            f"{s.structure_precision:.2f} | {s.structure_recall:.2f} | "
            f"{s.units_matched}/{s.nodes_expected} | {s.targets_expected}/{s.targets_found} | "
            f"{s.target_precision:.2f} | {s.target_recall:.2f} | "
            f"{len(s.distractors_taken)}/{s.distractors} |"
        )
    return "\n".join(rows)
