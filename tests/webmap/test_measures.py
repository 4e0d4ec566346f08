"""/measures and /measures/<id>, with their JSON twins."""

import json
from pathlib import Path

import jsonschema
import pytest
from support import XSS_BOILER_ID


def test_index_lists_documents_and_measures(client) -> None:
    html = client.get("/measures").get_data(as_text=True)
    assert "营口市“十四五”节能减排综合工作方案" in html
    assert "推动煤炭清洁高效利用" in html
    assert 'href="/measures/001/%E4%B8%89/%E5%85%AB"' in html


def test_json_twin_and_filters(client) -> None:
    data = client.get("/measures?f=json").get_json()
    assert len(data["documents"]) == 5 and data["numberMatched"] == len(data["measures"]) > 100
    by_accept = client.get("/measures", headers={"Accept": "application/json"}).get_json()
    assert by_accept["numberMatched"] == data["numberMatched"]

    def ids(**args) -> set[str]:
        query = "&".join(f"{k}={v}" for k, v in args.items())
        return {m["id"] for m in client.get(f"/measures?f=json&{query}").get_json()["measures"]}

    assert "001/三/八" in ids(layer="coal_boilers")
    assert ids(layer="coal_boilers") <= ids(q="锅炉") | ids(q="余热")
    assert all(i.startswith("001/") for i in ids(document="001"))
    assert all(i.split("/")[1] == "三" for i in ids(document="001", part="三"))
    with_targets = client.get("/measures?f=json&has_target=1").get_json()["measures"]
    assert with_targets and all(m["targets"] for m in with_targets)
    assert "001/三/八" in ids(year=2025, unit="市发改委")
    assert ids(q="不存在的词语") == set()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/measures?year=abc", 400),
        ("/measures?has_target=maybe", 400),
        ("/measures?layer=bike_sheds", 404),
        ("/measures?f=xml", 400),
        ("/measures/009/一", 404),
    ],
)
def test_bad_requests(client, url, status) -> None:
    assert client.get(url).status_code == status


def test_measure_page(client) -> None:
    html = client.get("/measures/001/三/八").get_data(as_text=True)
    assert "推动煤炭清洁高效利用" in html
    assert '<mark class="lutu-target">' in html  # targets highlighted
    assert "市发改委（市能源局）" in html
    assert "燃煤锅炉" in html and "L.lutu.viewLayer" in html  # a map of the linked layers
    assert "https://" not in html


def test_measure_json_twin(client) -> None:
    m = client.get("/measures/001/三/八?f=json").get_json()
    assert m["heading"] == "推动煤炭清洁高效利用" and m["document"] == "001"
    assert {link["layer_id"] for link in m["links"]} >= {"coal_boilers", "built_up_areas"}
    (t,) = m["targets"]  # the 35 t/h is the scope of the target; the target is none left
    assert t["scope"]["unit"] == "蒸吨/小时" and t["scope"]["value"] == 35
    assert (t["comparator"], t["value"], t["unit"]) == ("基本淘汰", 0, "台")


def test_cascade_on_both_pages(client) -> None:
    city = client.get("/measures/000/二/八").get_data(as_text=True)
    assert "/measures/003/%E4%BA%8C/%E5%85%AB" in city
    province = client.get("/measures/003/二/八?f=json").get_json()
    assert "000/二/八" in province["implemented_by"]


def test_popups_link_to_their_measures(client) -> None:
    html = client.get(f"/map/popup/coal_boilers/{XSS_BOILER_ID}").get_data(as_text=True)
    assert 'href="/measures/001/%E4%B8%89/%E5%85%AB"' in html


def test_cascade_kept_added_dropped(client) -> None:
    city = client.get("/measures/000/二/八?f=json").get_json()
    diff = city["cascade_diff"]
    assert diff["kept"] > 0 and diff["added"]  # the city restated and added clauses
    html = client.get("/measures?document=000").get_data(as_text=True)
    assert "落实上级文件" in html and "000/一/二" in html  # 主要目标 is the city's own


SCHEMAS = Path(__file__).resolve().parents[2] / "webmap" / "schemas"


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        ("/measures?f=json", "measures"),
        ("/measures?f=json&layer=villages", "measures"),
        ("/measures/001/三/八?f=json", "measure"),
        ("/measures/004/四/一/4?f=json", "measure"),
        ("/measures/000/二/八?f=json", "measure"),
        ("/measures/003/二/八?f=json", "measure"),
    ],
)
def test_json_twins_validate(client, url, schema) -> None:
    spec = json.loads((SCHEMAS / f"{schema}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(spec)
    jsonschema.validate(client.get(url).get_json(), spec)


def test_schema_check_can_fail() -> None:
    spec = json.loads((SCHEMAS / "measure.schema.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "001/三/八"}, spec)
