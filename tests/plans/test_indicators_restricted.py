"""Indicators and restricted data: an indicator computed from a restricted layer or column is
absent from the restricted view (not 无数据), and asking for it is an unknown id."""

from __future__ import annotations

import pytest

from geo.store import GeoPackageStore
from geo.store.base import Restrictions
from geo.store.restricted import RestrictedStore
from plans.indicators import SHIPPED_INDICATORS, columns_read, evaluate, visible, visible_indicators

pytestmark = pytest.mark.both_stores


def ids_reading(layer: str) -> set[str]:
    return {i.id for i in SHIPPED_INDICATORS if layer in i.layers}


def test_every_column_read_is_a_field_of_its_layer(store: GeoPackageStore) -> None:
    for layer, columns in columns_read(store).items():
        assert set(columns) <= set(store.layer(layer).fields), layer


def test_a_restricted_layer_takes_its_indicators_with_it(store: GeoPackageStore) -> None:
    public = RestrictedStore(store, Restrictions(frozenset({"coal_boilers"})))
    shown = {r.indicator.id for r in evaluate(public, 2025)}
    assert shown == {i.id for i in SHIPPED_INDICATORS} - ids_reading("coal_boilers")
    assert {i.id for i in visible_indicators(store)} == {i.id for i in SHIPPED_INDICATORS}
    boiler = next(i for i in SHIPPED_INDICATORS if "coal_boilers" in i.layers)
    assert visible(store, boiler) and not visible(public, boiler)
    with pytest.raises(KeyError):
        evaluate(public, 2025, [boiler.id])


def test_a_restricted_column_takes_the_indicators_reading_it(store: GeoPackageStore) -> None:
    public = RestrictedStore(
        store, Restrictions(fields={"wastewater_plants": frozenset({"network_rectification"})})
    )
    shown = {r.indicator.id for r in evaluate(public, 2025)}
    assert not shown & ids_reading("wastewater_plants")
    assert ids_reading("villages") <= shown
    # A column no indicator reads leaves every indicator in place.
    unread = RestrictedStore(store, Restrictions(fields={"villages": frozenset({"households"})}))
    assert len(evaluate(unread, 2025)) == len(SHIPPED_INDICATORS)
