"""Large ledger uploads on the web: previewed and committed by a background job whose state
(job.json next to the upload) any worker process reads; the job page shows the stage and
rows done, then the preview, the result or the error. LEDGER_BACKGROUND_BYTES=0 sends every
upload through a job here. Jobs are waited for by polling with a deadline, never timed."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pytest
from support import ROOT, TEST_PASSWORD, assert_offline, csrf, logged_in
from support import boiler_ledger_bytes as ledger_bytes
from support import ledger_boiler as boiler

from geo.ledger.edits import EditStore
from webmap.auth import UserStore
from webmap.ledger_pages import _safe_name
from webmap.uploads import JOB_FILE, PLAN_FILE

PASSWORD = TEST_PASSWORD
BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
DEADLINE_S = 120  # generous: a loaded CI machine; a passing run polls for a second or two


ROWS = [boiler("J-1"), boiler("J-2"), boiler("J-3", "关停")]


@pytest.fixture
def job_app(make_app, tmp_path: Path):
    app = make_app(own_store=True, LEDGER_BACKGROUND_BYTES=0)
    app.instance_path = str(tmp_path / "instance")  # uploads go here, not into the repo
    users = UserStore(app.config["USERS_PATH"])
    for name, role in (("editor1", "editor"), ("editor2", "editor"), ("admin1", "admin")):
        users.add(name, PASSWORD, role)
    return app


def upload(client, data: bytes, filename: str = "台账.csv"):
    return client.post(
        "/ledger/preview",
        data={
            "csrf_token": csrf(client, "/ledger"),
            "layer": "coal_boilers",
            "crs": "",
            "file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def commit(client, token: str, accepted_only: bool = True):
    """Commit the upload; ROWS has a rejected row, so by default the accepted ones only."""
    data = {"csrf_token": csrf(client, "/ledger"), "token": token, "layer": "coal_boilers"}
    if accepted_only:
        data["accepted_only"] = "1"
    return client.post("/ledger/commit", data=data)


def job_token(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    match = re.fullmatch(r"/ledger/jobs/([A-Za-z0-9_-]+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def wait_for(client, token: str) -> dict:
    """The job's state once it is no longer running (polled, with a deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        response = client.get(f"/ledger/jobs/{token}.json")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        job = response.get_json()
        if job["state"] != "running":
            return job
        assert time.monotonic() < deadline, f"the job is still running: {job}"
        time.sleep(0.05)


def folder_of(app, token: str) -> Path:
    return Path(app.instance_path) / "uploads" / token


def plan_parts(html: str) -> list[str]:
    """What a preview says about the rows (its summary, notes and table), without the map."""
    return re.findall(
        r'<p class="lutu-summary">.*?</p>|<ul class="lutu-notes">.*?</ul>'
        r'|<table class="lutu-table lutu-plan">.*?</table>',
        html,
        flags=re.S,
    )


def test_a_large_upload_is_previewed_by_a_job(job_app, make_app, tmp_path) -> None:
    editor = logged_in(job_app, "editor1")
    token = job_token(upload(editor, ledger_bytes(ROWS)))
    job = wait_for(editor, token)
    assert job["state"] == "done" and job["error"] is None, job
    assert job["kind"] == "preview" and job["user"] == "editor1"
    assert (job["stage"], job["stage_zh"], job["done"], job["total"]) == (
        "check",
        "校验与匹配",
        3,
        3,
    )
    assert job["counts"] == {"add": 2, "change": 0, "unchanged": 0, "reject": 1}
    assert job["started"] <= job["updated"]
    # The state is a file any worker process reads; the plan is kept for the preview page.
    folder = folder_of(job_app, token)
    assert json.loads((folder / JOB_FILE).read_text(encoding="utf-8")) == job
    assert sorted(p.name for p in folder.iterdir()) == sorted([JOB_FILE, PLAN_FILE, "台账.csv"])

    done = editor.get(f"/ledger/jobs/{token}")
    assert done.status_code == 303 and done.headers["Location"] == f"/ledger/preview/{token}"
    page = editor.get(f"/ledger/preview/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'name="token" value="{token}"' in html and "folium-map" in html
    assert_offline(html)

    # The same page as a preview made within the request (a small upload, as before).
    small_app = make_app()  # the default limit; its users are job_app's (the same file)
    small_app.instance_path = str(tmp_path / "small")
    sync = upload(logged_in(small_app, "editor1"), ledger_bytes(ROWS))
    assert sync.status_code == 200
    expected = plan_parts(sync.get_data(as_text=True))
    assert len(expected) == 3 and plan_parts(html) == expected
    assert EditStore(job_app.config["EDITS_PATH"]).audit() == []  # a preview writes nothing


def test_a_large_upload_is_committed_by_a_job(job_app) -> None:
    editor = logged_in(job_app, "editor1")
    token = job_token(upload(editor, ledger_bytes(ROWS)))
    assert wait_for(editor, token)["state"] == "done"
    assert job_token(commit(editor, token)) == token
    job = wait_for(editor, token)
    assert job["state"] == "done" and job["kind"] == "commit", job
    assert job["committed"]["added"] == 2 and job["committed"]["changed"] == 0
    assert job["rejected"] == 1 and job["stage"] == "rebuild"
    entries = EditStore(job_app.config["EDITS_PATH"]).audit()
    assert {(e.user, e.feature_id, e.batch) for e in entries} == {
        ("editor1", "J-1", job["committed"]["batch"]),
        ("editor1", "J-2", job["committed"]["batch"]),
    }
    popup = editor.get("/map/popup/coal_boilers/J-1")  # the store was rebuilt
    assert popup.status_code == 200 and "J-1号锅炉" in popup.get_data(as_text=True)

    page = editor.get(f"/ledger/jobs/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "已写入" in html and "新增 2" in html
    assert job["committed"]["batch"] in html and "未写入（拒绝） 1" in html
    # The upload went once the commit was over; the report stays, a second commit is refused.
    assert [p.name for p in folder_of(job_app, token).iterdir()] == [JOB_FILE]
    assert commit(editor, token).status_code == 404
    assert editor.get(f"/ledger/preview/{token}").status_code == 303  # to the result
    assert len(EditStore(job_app.config["EDITS_PATH"]).audit()) == 2


def test_a_commit_is_refused_while_a_job_runs(job_app) -> None:
    editor = logged_in(job_app, "editor1")
    token = job_token(upload(editor, ledger_bytes(ROWS)))
    wait_for(editor, token)
    folder = folder_of(job_app, token)
    job = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
    # As another worker process sees a commit in progress: its state, or its lock.
    running = job | {"kind": "commit", "state": "running", "updated": time.time()}
    (folder / JOB_FILE).write_text(json.dumps(running), encoding="utf-8")
    assert commit(editor, token).status_code == 409
    (folder / JOB_FILE).write_text(json.dumps(job), encoding="utf-8")
    (folder / "commit.lock").touch()
    assert commit(editor, token).status_code == 409
    assert EditStore(job_app.config["EDITS_PATH"]).audit() == []
    assert (folder / "台账.csv").exists()  # the upload stays for the running commit


def test_a_bad_file_fails_its_job_with_the_row_and_column(job_app) -> None:
    store = Path(job_app.config["STORE_PATH"])
    before = store.read_bytes()
    editor = logged_in(job_app, "editor1")
    token = job_token(upload(editor, (BAD / "duplicate_headers.csv").read_bytes(), "重复表头.csv"))
    job = wait_for(editor, token)
    assert job["state"] == "failed" and job["kind"] == "preview"
    assert job["error"] == (
        "重复表头.csv 第 1 行 row 1「名称」：列名重复（第 2 列与第 3 列） column name appears "
        "twice (columns 2 and 3)"
    )
    page = editor.get(f"/ledger/jobs/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "无法导入" in html
    assert "重复表头.csv 第 1 行 row 1「名称」" in html and "uploads" not in html
    # Nothing kept but the report; nothing written.
    assert [p.name for p in folder_of(job_app, token).iterdir()] == [JOB_FILE]
    assert commit(editor, token).status_code == 404
    assert store.read_bytes() == before
    assert not Path(job_app.config["EDITS_PATH"]).exists()


def test_a_commit_job_with_nothing_to_import_fails_and_writes_nothing(job_app) -> None:
    editor = logged_in(job_app, "editor1")
    token = job_token(upload(editor, ledger_bytes([boiler("J-9", "关停")])))
    assert wait_for(editor, token)["counts"]["reject"] == 1
    job_token(commit(editor, token, accepted_only=True))
    job = wait_for(editor, token)
    assert job["state"] == "failed" and "nothing to import" in job["error"]
    assert EditStore(job_app.config["EDITS_PATH"]).audit() == []
    assert editor.get(f"/ledger/jobs/{token}").status_code == 400


def test_an_unexpected_error_fails_the_job_and_is_logged(job_app, monkeypatch, caplog) -> None:
    def broken(_app) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr("webmap.ledger_pages.build_store", broken)
    editor = logged_in(job_app, "editor1")
    token = job_token(upload(editor, ledger_bytes(ROWS)))
    wait_for(editor, token)
    job_token(commit(editor, token))
    job = wait_for(editor, token)
    assert job["state"] == "failed" and job["error"].startswith("内部错误 internal error")
    assert "the rows were written" in job["error"] and "disk full" not in job["error"]
    assert len(EditStore(job_app.config["EDITS_PATH"]).audit()) == 2  # one transaction, in
    assert "disk full" in caplog.text
    assert [p.name for p in folder_of(job_app, token).iterdir()] == [JOB_FILE]


def test_only_the_owner_or_an_admin_sees_a_job(job_app) -> None:
    editor = logged_in(job_app, "editor1")
    token = job_token(upload(editor, ledger_bytes(ROWS)))
    wait_for(editor, token)
    other = logged_in(job_app, "editor2")
    for url in (f"/ledger/jobs/{token}", f"/ledger/jobs/{token}.json", f"/ledger/preview/{token}"):
        assert other.get(url).status_code == 403, url
    assert commit(other, token).status_code == 403
    assert EditStore(job_app.config["EDITS_PATH"]).audit() == []
    admin = logged_in(job_app, "admin1")
    assert admin.get(f"/ledger/jobs/{token}.json").get_json()["user"] == "editor1"
    assert admin.get(f"/ledger/preview/{token}").status_code == 200
    anonymous = job_app.test_client()
    polled = anonymous.get(f"/ledger/jobs/{token}.json", headers={"Accept": "application/json"})
    assert polled.status_code == 401
    assert anonymous.get(f"/ledger/jobs/{token}").status_code == 302  # to the login page
    assert editor.get(f"/ledger/jobs/{'x' * 20}").status_code == 404  # well-formed, unknown
    assert editor.get("/ledger/jobs/bad").status_code == 400
    assert editor.get("/ledger/jobs/bad.json").status_code == 400
    assert editor.get(f"/ledger/preview/{'y' * 20}").status_code == 404


def running_job(app, token: str, **state: object) -> Path:
    """A job as another worker process would have left it, mid-way."""
    folder = folder_of(app, token)
    folder.mkdir(parents=True)
    (folder / "台账.xlsx").write_bytes(b"PK")
    now = time.time()
    job = {
        "kind": "commit",
        "stage": "write",
        "stage_zh": "写入",
        "done": 41000,
        "total": 100000,
        "state": "running",
        "error": None,
        "started": now - 20,
        "updated": now,
        "user": "editor1",
        "file": "台账.xlsx",
        "layer": "coal_boilers",
        "crs": "",
        "repair": False,
    }
    (folder / JOB_FILE).write_text(json.dumps(job | state), encoding="utf-8")
    return folder


def test_the_job_page_shows_stage_and_rows_and_refreshes_itself(job_app) -> None:
    editor = logged_in(job_app, "editor1")
    running_job(job_app, "r" * 24)
    page = editor.get(f"/ledger/jobs/{'r' * 24}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="1">' in html  # works without JavaScript
    assert '<progress id="lutu-job-bar" value="41000" max="100000">' in html
    assert html.index("写入") < html.index("write")  # Chinese first
    assert "41,000 / 100,000 行 rows" in html and "台账.xlsx" in html
    assert 'class="is-done">读取' in html and 'class="is-current">写入' in html
    assert 'src="/assets/lutu-ledger-job.js"' in html
    script = editor.get("/assets/lutu-ledger-job.js")
    assert script.status_code == 200 and b"innerHTML" not in script.data
    script.close()

    running_job(job_app, "s" * 24, stage="rebuild", stage_zh="重建地图库", done=0, total=None)
    html = editor.get(f"/ledger/jobs/{'s' * 24}").get_data(as_text=True)
    assert '<progress id="lutu-job-bar">' in html  # indeterminate: no count
    assert "重建地图库" in html and 'class="is-current">重建地图库' in html


def test_a_job_whose_process_died_is_reported_interrupted(job_app) -> None:
    editor = logged_in(job_app, "editor1")
    folder = running_job(job_app, "d" * 24, updated=time.time() - 11 * 60)
    job = editor.get(f"/ledger/jobs/{'d' * 24}.json").get_json()
    assert job["state"] == "failed" and job["error"].startswith("中断 interrupted")
    page = editor.get(f"/ledger/jobs/{'d' * 24}")
    assert page.status_code == 400 and "中断 interrupted" in page.get_data(as_text=True)
    assert [p.name for p in folder.iterdir()] == [JOB_FILE]  # the upload removed
    # A commit that died rebuilding the store had written its rows: the message says so.
    running_job(job_app, "w" * 24, stage="rebuild", total=None, updated=time.time() - 700)
    error = editor.get(f"/ledger/jobs/{'w' * 24}.json").get_json()["error"]
    assert error.startswith("中断 interrupted") and "the rows were written" in error
    assert "nothing was written" in job["error"]
    # A quiet job that is not that old is still running.
    running_job(job_app, "q" * 24, updated=time.time() - 9 * 60)
    assert editor.get(f"/ledger/jobs/{'q' * 24}.json").get_json()["state"] == "running"


def test_an_upload_never_takes_a_job_file_name() -> None:
    assert _safe_name("job.json") == "ledger_job.json"
    assert _safe_name("plan.pickle") == "ledger_plan.pickle"
    assert _safe_name("../.job.json") == "ledger_job.json"
    assert _safe_name("台账.xlsx") == "台账.xlsx"


def test_a_large_geopackage_asks_for_its_layer_and_keeps_the_upload(job_app) -> None:
    """Which layer of a GeoPackage: a question the job page asks with a drop-down, the upload
    kept; the answer starts a new preview of the same upload."""
    gpkg = ROOT / "tests" / "data" / "realistic" / "营口市园区及专用线.gpkg"
    editor = logged_in(job_app, "editor1")
    form = {"csrf_token": csrf(editor, "/ledger"), "layer": "parks"}
    first = editor.post(
        "/ledger/preview",
        data={**form, "file": (io.BytesIO(gpkg.read_bytes()), gpkg.name)},
        content_type="multipart/form-data",
    )
    token = job_token(first)
    job = wait_for(editor, token)
    assert job["state"] == "failed" and job["choice"]["choices"] == ["园区", "铁路专用线"]
    page = editor.get(f"/ledger/jobs/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'select name="source_layer"' in html
    assert f'name="token" value="{token}"' in html
    assert gpkg.name in [p.name for p in folder_of(job_app, token).iterdir()]  # kept
    again = editor.post("/ledger/preview", data={**form, "token": token, "source_layer": "园区"})
    assert job_token(again) == token
    assert wait_for(editor, token)["counts"]["add"] == 3
