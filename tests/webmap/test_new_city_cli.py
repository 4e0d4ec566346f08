"""A new city and a new plan from nothing to a dashboard card with the command line alone, as
a script would do it (issue #15): the commands README.md lists under "A new city", run on an
app with a store of its own, with the example files of data/examples/anshan/."""

from __future__ import annotations

from support import ROOT

EXAMPLE = ROOT / "data" / "examples" / "anshan"


def test_a_new_city_from_the_command_line(make_app) -> None:
    app = make_app(own_store=True)
    runner = app.test_cli_runner()

    def run(*args: str) -> str:
        result = runner.invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("regions", "add", "210300", "--name-en", "Anshan")
    run("ledger", "import", "coal_boilers", str(EXAMPLE / "燃煤锅炉台账.csv"), "--yes")
    added = run(
        "plans", "add", str(EXAMPLE / "鞍山市燃煤锅炉整治和清洁取暖实施方案.txt"),
        "--region", "210300", "--publish",
    )  # fmt: skip
    assert "005" in added and "已发布" in added
    assert "coal_boilers" in run("plans", "links", "005")  # suggested by its keywords
    run("plans", "link", "confirm", "005/二/一/1", "coal_boilers", "--reason", "淘汰小锅炉")
    preview = run("indicators", "preview", str(EXAMPLE / "anshan_small_boilers.toml"))
    assert "AS-001, AS-003, AS-005, AS-007" in preview
    run("indicators", "add", str(EXAMPLE / "anshan_small_boilers.toml"))

    client = app.test_client()
    dashboard = client.get("/dashboard?city=anshan").get_data(as_text=True)
    assert "鞍山市仍在运行的35蒸吨/小时及以下燃煤锅炉" in dashboard
    items = client.get(
        "/ogc/collections/indicators/items?f=json&indicator_id=anshan_small_boilers&year=2025"
    ).get_json()["features"]
    values = {f["id"]: f["properties"]["value"] for f in items}
    assert values["anshan_small_boilers/210300/2025"] == 4
    popup = client.get("/map/popup/coal_boilers/AS-001").get_data(as_text=True)
    assert "分类推进淘汰" in popup  # the confirmed link: the plan's measure in the popup
    page = client.get("/indicators/anshan_small_boilers?city=anshan").get_data(as_text=True)
    assert "铁东供热站1号锅炉" in page and "海城纺织厂锅炉" not in page
