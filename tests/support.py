"""Constants and small builders shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_SOURCES = [ROOT / "data" / "boundaries", ROOT / "data" / "demo"]
XSS = "<img src=x onerror=alert(1)>"
XSS_BOILER_ID = "test-xss-boiler"
XSS_POSITION = (122.2352, 40.6671)  # 营口 站前区 (WGS84)
CHROMIUM = "/usr/bin/chromium"
BROWSER_FEATURE_LIMIT = 100
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


EXTERNAL_REFERENCE = re.compile(
    r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//""", re.I
)
# With a dot each: a token (URL-safe base64) never has one.
CDN_HOSTS = re.compile(r"cdn\.|cdnjs\.|unpkg\.com|jsdelivr\.|googleapis\.com", re.I)


def assert_offline(html: str) -> None:
    """Nothing on the page loads from another host: every asset is this app's.

    Looks at what a browser would fetch (src/href/action, CSS url()), not at any text, so a
    random token that happens to spell "cdn" is no failure.
    """
    assets = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="([^"]*)"', html)
    assert all(a.startswith(("/", "#", "data:")) for a in assets), assets
    assert not EXTERNAL_REFERENCE.search(html), EXTERNAL_REFERENCE.search(html)
    assert not CDN_HOSTS.search(html), CDN_HOSTS.search(html)


def boiler_feature(**overrides: object) -> dict:
    """A valid coal boiler source feature; tests override what they break."""
    props = {
        "id": "test-boiler-1",
        "name": "测试锅炉",
        "city_adcode": "210800",
        "county_adcode": "210802",
        "enterprise": "测试单位",
        "capacity_t_per_h": 20.0,
        "use": "供暖",
        "status": "运行",
        "replacement": None,
        "status_year": 2021,
        "commissioned_year": 2005,
        "note": None,
        "is_demo": True,
    }
    geometry = {"type": "Point", "coordinates": list(XSS_POSITION)}
    geometry = overrides.pop("geometry", geometry)
    props.update(overrides)
    return {"type": "Feature", "geometry": geometry, "properties": props}


def write_collection(path: Path, features: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
TEST_PASSWORD = "correct horse battery staple"


def csrf(client: Any, url: str = "/login") -> str:
    """The session's CSRF token, as the form on `url` carries it."""
    match = CSRF_INPUT.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def app_users(app: Any) -> Any:
    """The app's users (its database's when it has one, else its users file), to add some."""
    from webmap.auth import UserStore
    from webmap.database import app_database

    return UserStore(app_database(app) or app.config["USERS_PATH"])


def logged_in(app: Any, name: str, password: str = TEST_PASSWORD) -> Any:
    """A new test client with a session of `name` (who must exist in the app's users)."""
    client = app.test_client()
    data = {"name": name, "password": password, "csrf_token": csrf(client)}
    response = client.post("/login", data=data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return client


# A coal-boiler ledger (台账) as planners keep it: the template's Chinese headings, a GBK CSV.
BOILER_LEDGER_HEADERS = [
    *("编号", "锅炉名称", "使用单位", "额定蒸发量（蒸吨/小时）", "用途", "状态", "替代方式"),
    *("状态变更年份（年）", "经度", "纬度"),
]


def ledger_boiler(
    fid: str, status: str = "运行", name: str | None = None, lon: float = 122.2352
) -> list[object]:
    """One valid ledger row (in 营口 站前区 at the default position)."""
    return [
        fid,
        name or f"{fid}号锅炉",
        "某热力公司",
        20,
        "供暖",
        status,
        "",
        2024,
        lon,
        40.6671,
    ]


def boiler_ledger_bytes(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BOILER_LEDGER_HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("gbk")


@contextmanager
def served(app: Any) -> Iterator[str]:
    """`app` served on a free loopback port in a thread, for the browser tests; its URL."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@dataclass
class Served:
    """An app served by gunicorn in its own process (tests kill it to show what survives)."""

    url: str
    process: subprocess.Popen

    def kill(self) -> None:
        """SIGKILL the server, master and workers alike (killing the master alone would
        leave its workers running)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def gunicorn_served(env: dict[str, str], folder: Path, workers: int = 2) -> Iterator[Served]:
    """The app under gunicorn (`-w workers`) in its own process, configured by the LUTU_*
    variables in `env` (none inherited from the test run), its log and instance files in
    `folder`; yields it once it answers, stops it afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LUTU_")},
        "LUTU_SECRET_KEY_PATH": str(folder / "secret_key"),
        "LUTU_USERS_PATH": str(folder / "users.sqlite"),
        "LUTU_REGIONS_DIR": str(folder / "regions"),
        "LUTU_ADDED_PLANS_DIR": str(folder / "plans"),
        "LUTU_ADDED_LINKS_PATH": str(folder / "links.csv"),
        "LUTU_ADDED_INDICATORS_DIR": str(folder / "indicators"),
        "NO_PROXY": "*",
        **env,
    }
    log = folder / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    cmd = [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120"]
    cmd += ["--error-logfile", str(log), "app:create_app()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/ogc/conformance", timeout=10).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = log.read_text() if log.exists() else ""
                    raise RuntimeError(f"gunicorn did not start: {log_text[-2000:]}") from None
                time.sleep(0.2)
        yield Served(url, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def app_config(store: Path, source_dirs: list[Path], folder: Path, **extra: Any) -> dict:
    """A test app's config: the given store and sources, its writable files in `folder`."""
    return {
        "TESTING": True,
        "STORE_PATH": str(store),
        "SOURCE_DIRS": [str(p) for p in source_dirs],
        "BUILD_ON_START": False,
        "WARM_CACHES": False,
        "SECRET_KEY": "test-secret-key",
        "USERS_PATH": str(folder / "users.sqlite"),
        "EDITS_PATH": str(folder / "edits.sqlite"),
        "REGIONS_DIR": str(folder / "regions"),
        "ADDED_PLANS_DIR": str(folder / "plans"),
        "ADDED_LINKS_PATH": str(folder / "links.csv"),
        "ADDED_INDICATORS_DIR": str(folder / "indicators"),
        **extra,
    }


def recorded_page(
    browser: Any, height: int = 800, width: int = 1280
) -> tuple[Any, dict[str, list[str]]]:
    """A Chromium page that may only talk to the loopback server: every other request is
    blocked and listed, as are console errors, dialogs and the loopback requests made."""
    page = browser.new_page(viewport={"width": width, "height": height})
    record: dict[str, list[str]] = {"external": [], "errors": [], "dialogs": [], "requests": []}

    def route(r: Any) -> None:
        if r.request.url.startswith(("http://127.0.0.1", "data:")):
            record["requests"].append(r.request.url)
            r.continue_()
        else:
            record["external"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and record["errors"].append(m.text))
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.on("dialog", lambda d: (record["dialogs"].append(d.message), d.dismiss()))
    return page, record


def browser_login(page: Any, base: str, name: str) -> None:
    """Log `name` in on the login page as a person does (typed, then submitted)."""
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form.lutu-login button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def open_map(browser: Any, url: str, **page_args: Any) -> tuple[Any, dict[str, list[str]]]:
    """A recorded page on a map, once every layer has drawn and the first zoom has settled."""
    from layers import all_layers

    page, record = recorded_page(browser, **page_args)
    page.goto(url)
    page.wait_for_function(
        "ids => window.lutu && lutu.pending === 0 && ids.every(id => id in lutu.drawn)",
        arg=[layer.id for layer in all_layers()],
        timeout=30_000,
    )
    # The layers load as the first zoom animation starts; Leaflet drops a setView made while
    # it still runs (1 test run in 3 did), so a test moves the map only once it has settled.
    page.wait_for_function(
        "() => !Object.values(window).find(v => v instanceof L.Map)._animatingZoom",
        timeout=10_000,
    )
    return page, record


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|「[^」]*」|\([^)]*\)|（[^）]*）")


def chinese_first(message: str) -> bool:
    """Whether a message a person reads says it in Chinese before English: the first Chinese
    character comes before the first English word (quoted values and brackets aside)."""
    text = _QUOTED.sub("", message)
    chinese = re.search(r"[\u4e00-\u9fff]", text)
    english = re.search(
        r"[A-Za-z]{3,}",
        re.sub(
            r"\b(?:EPSG|CGCS|WGS|GCJ|BD|CSV|WKT|GBK|UTF|Excel|WPS|GeoPackage|GeoJSON|Shapefile|zip|xlsx|xls|shp|dbf|cpg|prj|shx|gpkg|make_valid|SRID|WKB|JSON)\w*",
            "",
            text,
        ),
    )
    return chinese is not None and (english is None or chinese.start() < english.start())


def store_contents(store: Any) -> tuple[dict[str, Any], list[Any]]:
    """A store's layers (as LayerData, in store order) and attribute tables read back: what
    another store is loaded from to hold exactly the same."""
    from geo.sources import LayerData
    from geo.store import AttributeTable
    from layers import get_layer

    data, tables = {}, []
    for layer_id, info in store.layers().items():
        features = store.query(layer_id, limit=None).features
        rows = [f.properties for f in features]
        if info.geometry_type is None:
            tables.append(AttributeTable(layer_id, dict(info.fields), rows))
            continue
        data[layer_id] = LayerData(
            schema=get_layer(layer_id),
            ids=[f.id for f in features],
            properties=rows,
            geometries=[f.geometry for f in features],
        )
    return data, tables
