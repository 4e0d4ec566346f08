"""Parser corpus figures: how well the plan parser holds for the genre (issue 15).

    .venv/bin/python bench/parser_corpus.py

Scores the parser on the hand-written corpus (tests/plans/corpus/<id>.txt against <id>.json)
and on the five seeds (data/plans/<id>.txt against tests/plans/golden/<id>.json) with
`plans.corpus.score`: per document, structure precision/recall (a node counts when its id and
heading are as expected), measures whose responsible units (and 牵头) are exactly as expected,
target precision/recall (a target counts when node, value, unit, bound, kind and comparator —
and the scope where one is expected — match), and distractor numbers taken as targets. Prints
a Markdown table; the figures are in bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "plans"))

from plans.corpus import load_expectation, markdown_table, score  # noqa: E402
from plans.parse import parse_file  # noqa: E402

CORPUS = ROOT / "tests" / "plans" / "corpus"
SEEDS = ["000", "001", "002", "003", "004"]


def main() -> None:
    from test_corpus import seed_expectation  # the goldens in the corpus format

    scores = [
        score(parse_file(CORPUS / f"{p.stem}.txt"), load_expectation(p))
        for p in sorted(CORPUS.glob("*.json"))
    ]
    scores += [
        score(parse_file(ROOT / "data" / "plans" / f"{d}.txt"), seed_expectation(d)) for d in SEEDS
    ]
    print(markdown_table(scores))
    for s in scores:
        for line in s.missed_targets:
            print(f"{s.document}: missed {line}")
        for text in s.extra_targets + s.distractors_taken:
            print(f"{s.document}: extra {text}")


if __name__ == "__main__":
    main()
