"""The curated link table: checked rows, and keyword suggestions that back it."""

from pathlib import Path

import pytest

from layers import all_layers
from plans.catalog import load_catalog
from plans.links import LINKS_PATH, LinkTableError, read_links, suggest

HEADER = "measure_id,layer_id,reason,rule\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "links.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "row", "field", "words"),
    [
        ("001/三/八,coal_boilers,,r\n", 2, "reason", "empty"),
        ("001/三/八,coal_boilers,a,r\n001/三/八,coal_boilers,b,r\n", 3, None, "twice"),
        ("001/三/八,coal_boilers,a,r\n009/一,coal_boilers,a,r\n", 3, "measure_id", "no measure"),
        ("001/三/八,bike_sheds,a,r\n", 2, "layer_id", "no layer"),
    ],
)
def test_bad_rows_are_named(tmp_path, body, row, field, words) -> None:
    with pytest.raises(LinkTableError, match=words) as info:
        read_links(write(tmp_path, body), measure_ids={"001/三/八"}, layer_ids={"coal_boilers"})
    assert (info.value.row, info.value.field) == (row, field)
    assert "links.csv" in str(info.value) and f"row {row}" in str(info.value)


def test_bad_header(tmp_path) -> None:
    with pytest.raises(LinkTableError, match="expected the columns"):
        read_links(write(tmp_path, "", header="a,b\n"))


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(layer_ids=[layer.id for layer in all_layers()])


def test_shipped_table_ties_every_layer(catalog) -> None:
    tied = {link.layer_id for link in catalog.links}
    assert tied == {layer.id for layer in all_layers()}
    assert read_links(LINKS_PATH) == catalog.links


def test_keywords_suggest_every_confirmed_link(catalog) -> None:
    """The table is curated, but each row should be one the layer's keywords point to."""
    keywords = {layer.id: layer.keywords for layer in all_layers()}
    suggested = {(s.measure_id, s.layer_id) for s in suggest(catalog.documents, keywords)}
    missing = [
        (k.measure_id, k.layer_id)
        for k in catalog.links
        if (k.measure_id, k.layer_id) not in suggested
    ]
    assert missing == []
