"""`python -m plans <command>`: the plan documents from the command line.

python -m plans parse data/plans/001.txt          # metadata, tree, parse report
python -m plans parse data/plans/001.txt --json   # Document.to_json()
python -m plans load [--json]                     # all plans + link table + cascade
python -m plans links                             # link suggestions not in the table yet
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

from plans import commands
from plans.errors import PlanError
from plans.model import Document, Node, Target
from plans.parse import accountability, number_uses, parse_file


def format_target(t: Target) -> str:
    """`indicator comparator value unit (year) «text»`, one target per line."""
    value = "" if t.value is None else f"{t.value:g}"
    parts = [t.indicator or "?", t.comparator or "=", value + (f" {t.unit}" if t.unit else "")]
    if t.scope:  # the threshold says which things count; the requirement is the comparator
        parts = [f"[{t.scope.label()}]", t.comparator, value + (f" {t.unit}" if t.unit else "")]
    year = f"{t.target_year}" if t.target_year else "no year"
    extra = [year]
    if t.base_year:
        extra.append(f"base {t.base_year}")
    if t.aspirational:
        extra.append("力争")
    if t.kind != "numeric":  # the value is implied by the words (全覆盖 → 100 %), not written
        extra.append(t.kind)
    return f"{' '.join(parts)} ({', '.join(extra)}) «{t.text}»"


def print_tree(doc: Document, out: TextIO | None = None) -> None:
    """The hierarchy, indented by depth, with units (★ = lead), deadlines and targets."""
    out = out or sys.stdout

    def show(node: Node, depth: int) -> None:
        pad = "  " * depth
        print(f"{pad}{node.id}  {node.heading}", file=out)
        if node.units:
            names = "、".join(u.name + ("★" if u.lead else "") for u in node.units)
            inherited = "  (+ units from a 以下均需 rule)" if node.units_inherited else ""
            print(f"{pad}    units: {names}{inherited}", file=out)
        if node.deadlines:
            shown = "、".join(
                f"{d.text} → {d.year}{' 年底' if d.end_of_year else ''}" for d in node.deadlines
            )
            print(f"{pad}    deadlines: {shown}", file=out)
        for t in node.targets:
            print(f"{pad}    target: {format_target(t)}", file=out)
        for child in node.children:
            show(child, depth + 1)

    for node in doc.nodes:
        show(node, 0)


def print_report(doc: Document, out: TextIO | None = None) -> list[str]:
    """Counts per level, targets, dropped pieces by reason, numbers that are not targets and
    any text that could not be placed. Returns the accountability problems."""
    out = out or sys.stdout
    levels = Counter(n.level for n in doc.walk())
    targets = [t for n in doc.walk() for t in n.targets]
    print("\nparse report", file=out)
    print(
        "  nodes per level: "
        + ", ".join(f"L{lv} {levels.get(lv, 0)}" for lv in (1, 2, 3, 4))
        + f"  (total {sum(levels.values())})",
        file=out,
    )
    asp = sum(t.aspirational for t in targets)
    no_year = sum(t.target_year is None for t in targets)
    print(f"  targets: {len(targets)} ({asp} aspirational, {no_year} without a year)", file=out)
    by_reason: dict[str, list[int]] = {}
    for d in doc.dropped:
        by_reason.setdefault(d.reason, []).append(len(d.text))
    print(f"  dropped: {len(doc.dropped)} pieces", file=out)
    for reason, sizes in by_reason.items():
        sample = next(d.text for d in doc.dropped if d.reason == reason)
        sample = sample.replace("\n", "⏎").replace("\t", "→")
        sample = sample if len(sample) <= 40 else sample[:40] + "…"
        print(f"    {len(sizes):>4} × {sum(sizes):>5} chars  {reason}  «{sample}»", file=out)
    others = [u for u in number_uses(doc) if u.kind not in ("target", "deadline", "label")]
    print(f"  numbers that are not targets or deadlines: {len(others)}", file=out)
    for u in others:
        print(f"    {u.text:>6}  {u.where:<12} {u.reason}  «{u.context}»", file=out)
    problems = accountability(doc)
    if problems:
        print(f"  text that could not be placed / accounting problems: {len(problems)}", file=out)
        for p in problems:
            print(f"    {p}", file=out)
    else:
        print("  text that could not be placed: none (every character is accounted for)", file=out)
    return problems


def cmd_parse(args: argparse.Namespace) -> int:
    """Parse one plan file and print what the parser found (or its JSON)."""
    try:
        doc = parse_file(args.file, args.id, check=False)
    except PlanError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(doc.to_json(), ensure_ascii=False, indent=1))
        return 1 if accountability(doc) else 0
    print(f"{doc.id}  {doc.title}")
    for label, value in (
        ("issuer", doc.issuer),
        ("number", doc.number),
        ("date", doc.date),
        ("status", doc.status),
        ("implements", "、".join(f"《{t}》" for t in doc.implements) or None),
        ("path", doc.path),
    ):
        print(f"  {label:<10} {value if value is not None else '—'}")
    print()
    print_tree(doc)
    return 1 if print_report(doc) else 0


def add_parse(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("parse", help=cmd_parse.__doc__, description=cmd_parse.__doc__)
    p.add_argument("file", help="a plan text (UTF-8 or GB18030)")
    p.add_argument("--json", action="store_true", help="print Document.to_json()")
    p.add_argument("--id", help="document id (default: the file name's prefix, e.g. 000)")
    p.set_defaults(func=cmd_parse)


# The subcommands: name → function that adds its subparser (setting `func`).
SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "parse": add_parse,
    "load": commands.add_load,
    "links": commands.add_links,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plans", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS.values():
        add(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
