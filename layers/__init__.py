"""The layer registry: every module in this package that defines `LAYER` is a layer type.

Built-in layers are discovered exactly as a newcomer's module would be, so adding a layer type
means adding one file here and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from geo.errors import LayerNotFound
from layers.base import LayerType

# Modules of this package that hold shared code rather than a layer type.
_NOT_LAYERS = frozenset({"base", "demo"})


@cache
def registry() -> dict[str, LayerType]:
    """All layer types by id, base layers (districts, areas) first, then by name."""
    found: dict[str, LayerType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_LAYERS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        layer = getattr(module, "LAYER", None)
        if not isinstance(layer, LayerType):
            continue
        if layer.id in found:
            raise ValueError(f"layer id {layer.id} is defined twice")
        found[layer.id] = layer
    return dict(
        sorted(found.items(), key=lambda kv: (kv[1].map_group != "base", kv[1].demo_order, kv[0]))
    )


def get_layer(layer_id: str) -> LayerType:
    try:
        return registry()[layer_id]
    except KeyError:
        raise LayerNotFound(layer_id) from None


def all_layers() -> list[LayerType]:
    return list(registry().values())
