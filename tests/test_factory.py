from pathlib import Path

from app import create_app


def test_config_layers_defaults_env_and_test_config(monkeypatch, store_path: Path) -> None:
    monkeypatch.setenv("LUTU_MAP_FEATURE_LIMIT", "77")
    monkeypatch.setenv("LUTU_BASEMAPS", "osm")
    app = create_app(
        {
            "STORE_PATH": str(store_path),
            "BUILD_ON_START": False,
            "WARM_CACHES": False,
            "BASEMAPS": "",
        }
    )
    assert app.config["MAP_FEATURE_LIMIT"] == 77  # from the environment, parsed as JSON
    assert app.config["BASEMAPS"] == ""  # the test config wins over the environment
    assert not app.testing


def test_testing_flag(app) -> None:
    assert app.testing


def test_builds_store_on_first_start_and_not_again(tmp_path: Path, source_dirs) -> None:
    config = {
        "STORE_PATH": str(tmp_path / "s.gpkg"),
        "WARM_CACHES": False,
        "SOURCE_DIRS": [str(p) for p in source_dirs],
    }
    create_app(config)
    first = (tmp_path / "s.gpkg").stat().st_mtime_ns
    create_app(config)
    assert (tmp_path / "s.gpkg").stat().st_mtime_ns == first


def test_build_store_command(runner) -> None:
    result = runner.invoke(args=["build-store"])
    assert result.exit_code == 0
    assert "up to date" in result.output
