"""The catalog of the five shipped plans, as rows for the store."""

import pytest

from layers import all_layers
from plans.catalog import TABLE_FIELDS, catalog_rows, load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(layer_ids=[layer.id for layer in all_layers()])


def test_five_documents_with_regions(catalog, store) -> None:
    """Each document's area and region come from the store's districts and regions (the
    title or issuer names the place), not from a table of issuers in code."""
    assert [d.id for d in catalog.documents] == ["000", "001", "002", "003", "004"]
    rows = store.query("plan_documents", limit=None, sortby=[("id", True)]).features
    assert [(r.properties["adcode"], r.properties["region"]) for r in rows] == [
        ("210800", "yingkou"),
        ("210800", "yingkou"),
        ("220400", "liaoyuan"),
        ("210000", "liaoning"),
        ("220400", "liaoyuan"),
    ]


def test_city_measures_point_to_the_provincial_ones(catalog) -> None:
    assert catalog.implements["000/二/八"][0] == "003/二/八"
    assert catalog.implements["000/五/十八"][0] == "003/五/十八"
    assert all(
        child.startswith("000/") and parent.startswith("003/")
        for child, (parent, _) in catalog.implements.items()
    )


def test_rows_fit_the_tables(catalog) -> None:
    rows = catalog_rows(catalog)
    assert set(rows) == set(TABLE_FIELDS)
    for table, fields in TABLE_FIELDS.items():
        for row in rows[table]:
            assert set(row) == set(fields), table
    measures = {m["id"]: m for m in rows["plan_measures"]}
    boilers = measures["001/三/八"]
    assert boilers["heading"] == "推动煤炭清洁高效利用"
    assert "coal_boilers" in boilers["layers"].split(",")
    assert boilers["deadline_year"] == 2025 and boilers["target_count"] >= 1
    assert measures["003/二/八"]["implemented_by"] == "000/二/八"
    assert len({m["id"] for m in rows["plan_measures"]}) == len(rows["plan_measures"])


def test_qualitative_targets_are_rows_like_numeric_ones(catalog) -> None:
    targets = catalog_rows(catalog)["plan_targets"]
    covered = [t for t in targets if t["comparator"] == "全覆盖"]
    assert covered and all(
        (t["kind"], t["value"], t["unit"], t["bound"]) == ("qualitative", 100.0, "%", "=")
        for t in covered
    )
    vehicles = next(t for t in targets if t["text"] == "基本淘汰国三及以下排放标准汽车")
    assert (vehicles["value"], vehicles["unit"], vehicles["kind"]) == (0.0, "辆", "qualitative")
    assert {t["kind"] for t in targets} == {"numeric", "qualitative"}
