"""What every store's "build it when its inputs changed" shares: the fingerprint of the inputs,
reading and validating the sources, laying edits over them and making the attribute tables.
Each store says only how to read the fingerprint it was built with and how to write itself."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from geo.schema import LayerSchema
from geo.sources import LayerData, fingerprint, load_sources
from geo.store.base import AttributeTable

TablesMaker = Callable[[dict[str, LayerData]], Sequence[AttributeTable]]
Overlay = Callable[[dict[str, LayerData]], None]
Writer = Callable[[Mapping[str, LayerData], Mapping[str, str], Sequence[AttributeTable]], None]


def ensure_loaded(
    loaded_fingerprint: Callable[[], str | None],
    write: Writer,
    store_format: int,
    schemas: Sequence[LayerSchema],
    source_dirs: Sequence[Path],
    *,
    extra_inputs: Sequence[Path] = (),
    tables: TablesMaker | None = None,
    overlay: Overlay | None = None,
) -> bool:
    """Write the store (`write(data, meta, tables)`) unless `loaded_fingerprint()` already
    names these inputs in this store format; returns whether it wrote.

    `extra_inputs` are further files whose change means a rebuild; `tables` makes the
    attribute tables from the layers as loaded (edits laid over), called only when writing;
    `overlay` lays planners' edits over the layers read from the sources. A source that fails
    validation raises SourceError (a failing `tables` its own error) before anything is written.
    """
    wanted = f"{fingerprint(schemas, source_dirs, extra_inputs)}-format{store_format}"
    if loaded_fingerprint() == wanted:
        return False
    data = load_sources(schemas, source_dirs)
    if overlay is not None:
        overlay(data)
    extra = tables(data) if tables is not None else ()
    meta = {"sources_fingerprint": wanted, "layers": json.dumps(sorted(data))}
    write(data, meta, extra)
    return True
