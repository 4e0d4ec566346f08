"""`python -m plans load` and `python -m plans links`: the catalog from the command line."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from plans.catalog import PLANS_DIR, load_catalog
from plans.links import LINKS_PATH, read_decisions, suggest


def _layer_keywords() -> dict[str, tuple[str, ...]]:
    # The layer registry lives beside plans/; only these commands need it.
    from layers import all_layers

    return {layer.id: layer.keywords for layer in all_layers()}


def cmd_load(args: argparse.Namespace) -> int:
    """Parse every plan, check the link table and pair city with provincial measures."""
    catalog = load_catalog(Path(args.plans), Path(args.links), layer_ids=_layer_keywords())
    if args.json:
        print(
            json.dumps(
                {
                    "documents": [doc.to_json() for doc in catalog.documents],
                    "links": [vars(link) for link in catalog.links],
                    "implements": {
                        c: {"measure": p, "score": s} for c, (p, s) in catalog.implements.items()
                    },
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    for doc in catalog.documents:
        levels = Counter(node.level for node in doc.walk())
        targets = sum(len(node.targets) for node in doc.walk())
        print(f"{doc.id} {doc.title}  {doc.number or ''} {doc.date or ''} {doc.status or ''}")
        print(
            "    levels "
            + "  ".join(f"L{k}:{v}" for k, v in sorted(levels.items()))
            + f"  targets:{targets}  dropped:{len(doc.dropped)}"
        )
    print(f"关联 links: {len(catalog.links)} in {args.links}")
    print(
        f"落实 implements: {len(catalog.implements)} 条市级措施对应省级措施 city measures paired "
        "with provincial ones"
    )
    print(
        "应用启动时把目录载入地图库 The app loads the catalog into its store at start "
        "(or: .venv/bin/flask --app app build-store)."
    )
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    """Keyword suggestions that the curated table does not have yet (a person decides)."""
    keywords = _layer_keywords()
    added = Path(args.added) if args.added else None
    catalog = load_catalog(
        Path(args.plans), Path(args.links), layer_ids=keywords, added_links_path=added
    )
    confirmed = {(k.measure_id, k.layer_id) for k in catalog.links}
    decided = {d.key for d in read_decisions(added)}  # rejected ones are not suggested again
    headings = {node.id: node.heading for node in catalog.measures()}
    fresh = [
        s
        for s in suggest(catalog.documents, keywords)
        if (s.measure_id, s.layer_id) not in confirmed | decided
    ]
    for s in fresh:
        print(
            f"{s.measure_id},{s.layer_id},{headings[s.measure_id]}（关键词：{'、'.join(s.keywords)}）,"
        )
    print(
        f"# {len(fresh)} 条建议不在 {args.links} 中，已确认 {len(confirmed)} 条 "
        f"{len(fresh)} suggestions not in {args.links}; {len(confirmed)} confirmed links"
    )
    return 0


def _add(subparsers: argparse._SubParsersAction, name: str, func, json_option: bool) -> None:
    p = subparsers.add_parser(name, help=func.__doc__, description=func.__doc__)
    p.add_argument("--plans", default=str(PLANS_DIR), help="folder of plan texts")
    p.add_argument("--links", default=str(LINKS_PATH), help="the link table")
    if json_option:
        p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    p.set_defaults(func=func)


def add_load(subparsers: argparse._SubParsersAction) -> None:
    _add(subparsers, "load", cmd_load, json_option=True)


def add_links(subparsers: argparse._SubParsersAction) -> None:
    _add(subparsers, "links", cmd_links, json_option=False)
    p = subparsers.choices["links"]
    p.add_argument(
        "--added",
        default=None,
        help="the added-links file (instance/links.csv): its decisions are not suggested again",
    )
