"""The layer registry: every module in this package that defines `LAYER` is a layer type.

Built-in layers are discovered exactly as a newcomer's module would be, so adding a layer type
means adding one file here and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache

from geo.errors import LayerNotFound
from geo.store.base import Restrictions
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


# Every map, report and indicator is drawn on the districts: they are never restricted.
UNRESTRICTABLE_LAYERS = frozenset({"districts"})


def parse_restrictions(layer_ids: Iterable[str], field_refs: Iterable[str]) -> Restrictions:
    """The configured restricted layers and fields ("layer.field"), checked against the
    registry: a ValueError names any entry that is unknown or cannot be restricted."""
    layers = registry()
    hidden_layers: set[str] = set()
    for layer_id in layer_ids:
        if layer_id not in layers:
            raise ValueError(
                f"RESTRICTED_LAYERS: no layer {layer_id!r}; layers: {', '.join(layers)}"
            )
        if layer_id in UNRESTRICTABLE_LAYERS:
            raise ValueError(f"RESTRICTED_LAYERS: {layer_id!r} is the base of every map")
        hidden_layers.add(layer_id)
    hidden_fields: dict[str, set[str]] = {}
    for ref in field_refs:
        layer_id, _, name = ref.partition(".")
        layer = layers.get(layer_id)
        if layer is None or name not in layer.field_map:
            raise ValueError(f"RESTRICTED_FIELDS: no field {ref!r} (write it as layer.field)")
        if name in layer.locked_fields:
            raise ValueError(
                f"RESTRICTED_FIELDS: {ref!r} cannot be restricted: the map, the API or the time "
                f"views need it (locked: {', '.join(sorted(layer.locked_fields))}); restrict "
                f"the layer {layer_id!r} instead"
            )
        hidden_fields.setdefault(layer_id, set()).add(name)
    return Restrictions(
        frozenset(hidden_layers), {k: frozenset(v) for k, v in hidden_fields.items()}
    )
