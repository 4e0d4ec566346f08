"""The store as a Flask resource."""

import os

from webmap.store import _warm, get_store


def test_warming_reads_positions_for_every_region(app) -> None:
    _warm(app)
    with app.app_context():
        cached = get_store()._positions
    assert {key[0] for key in cached} >= {"villages", "coal_boilers"}
    assert len(cached) >= 4  # no filter, and one per city/province region


def test_store_is_reopened_when_the_file_is_replaced(app, store_path) -> None:
    with app.app_context():
        first = get_store()
        assert get_store() is first
        os.utime(store_path, ns=(1, 1))  # a rebuild swaps in a new file; here only the stamp
        assert get_store() is not first
