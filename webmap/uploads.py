"""Where ledger uploads and their background jobs are kept between requests
(webmap/ledger_pages.py decides what happens to them; this is only storage).

`FileUploads`: a folder per upload under instance/uploads, holding the file, job.json (the
job's state, replaced atomically), plan.pickle (a background preview's plan) and commit.lock.
`DatabaseUploads`: the same in the shared database (geo/migrations/0031_jobs.sql), so that
every app server sees every upload and job; the file's bytes are a bytea of at most
DATABASE_UPLOAD_MAX_BYTES, copied into a local temporary file only while one is read.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from psycopg.types.json import Jsonb

from webmap.database import Database

JOB_FILE = "job.json"
PLAN_FILE = "plan.pickle"
COMMIT_LOCK = "commit.lock"
JOB_FILES = frozenset({JOB_FILE, PLAN_FILE, COMMIT_LOCK})
_CHUNK = 8 * 1024 * 1024  # bytes copied at a time between the database and a local file


class UploadTooLarge(ValueError):
    """An upload bigger than the database keeps."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        mb = limit // (1024 * 1024)
        super().__init__(
            f"文件超过 {mb} MB，数据库不保存更大的上传；请拆分台账 "
            f"the file is larger than the {mb} MB an upload may have in the database "
            "(DATABASE_UPLOAD_MAX_BYTES): split the ledger"
        )


@dataclass(frozen=True)
class Upload:
    """An uploaded ledger file, as kept."""

    token: str
    name: str  # the file's own name (made safe), which messages show
    size: int


class Uploads(Protocol):
    """Uploaded files, their jobs' states, background previews' plans, commit claims."""

    def add(self, token: str, name: str, stream: IO[bytes]) -> Upload:
        """Keep a new upload (UploadTooLarge when the store has a limit and it is over it)."""
        ...

    def get(self, token: str) -> Upload | None:
        """The upload of `token`, None once it is gone (committed, failed, cleared)."""
        ...

    def local_file(self, upload: Upload) -> Any:
        """A context manager: a local path to the upload's bytes while the block runs."""
        ...

    def remove(self, token: str) -> None:
        """The upload and everything of it, its job's state too."""
        ...

    def remove_upload(self, token: str) -> None:
        """The file and what was made of it (plan, commit claim); the job's state stays for
        its page until the stale uploads are cleared."""
        ...

    def clear_stale(self, max_age_s: float) -> None:
        """Forget uploads and jobs nothing has touched for `max_age_s` seconds."""
        ...

    def read_job(self, token: str) -> dict[str, Any] | None: ...

    def write_job(self, token: str, job: dict[str, Any]) -> None:
        """Replace the job's state whole: readers see the old state or the new one."""
        ...

    def save_plan(self, token: str, data: bytes) -> None: ...

    def load_plan(self, token: str) -> bytes | None: ...

    def claim_commit(self, token: str) -> bool:
        """Whether this caller may commit the upload: True once per upload, whichever server
        or process asks; the claim goes with the upload."""
        ...

    def scratch(self) -> Any:
        """A context manager: a local folder for a file only this request reads (the API's
        import), removed afterwards."""
        ...


class FileUploads:
    """Uploads as folders under `folder` (instance/uploads), read by every worker process of
    one server. No upload takes a job file's name (ledger_pages._safe_name), so the plan
    unpickled is always one this server wrote."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _root(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def add(self, token: str, name: str, stream: IO[bytes]) -> Upload:
        target = self._root() / token / name
        target.parent.mkdir()
        with open(target, "wb") as fh:
            shutil.copyfileobj(stream, fh)
        return Upload(token, name, target.stat().st_size)

    def get(self, token: str) -> Upload | None:
        folder = self._root() / token
        files = [f for f in folder.iterdir() if _is_upload(f)] if folder.is_dir() else []
        if len(files) != 1:
            return None
        return Upload(token, files[0].name, files[0].stat().st_size)

    @contextmanager
    def local_file(self, upload: Upload) -> Iterator[Path]:
        yield self._root() / upload.token / upload.name

    def remove(self, token: str) -> None:
        shutil.rmtree(self._root() / token, ignore_errors=True)

    def remove_upload(self, token: str) -> None:
        folder = self._root() / token
        for item in folder.iterdir() if folder.is_dir() else ():
            if item.name != JOB_FILE and not item.name.startswith("."):
                item.unlink(missing_ok=True)

    def clear_stale(self, max_age_s: float) -> None:
        cutoff = time.time() - max_age_s
        for old in self._root().iterdir():
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)

    def read_job(self, token: str) -> dict[str, Any] | None:
        try:
            job = json.loads((self._root() / token / JOB_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return job if isinstance(job, dict) else None

    def write_job(self, token: str, job: dict[str, Any]) -> None:
        """Replaced whole. Not fsynced: a progress report, written often, worth nothing after a
        crash. OSError once the folder is gone."""
        folder = self._root() / token
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{JOB_FILE}.", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(job, fh, ensure_ascii=False)
            os.replace(tmp, folder / JOB_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def save_plan(self, token: str, data: bytes) -> None:
        folder = self._root() / token
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{PLAN_FILE}.", suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, folder / PLAN_FILE)

    def load_plan(self, token: str) -> bytes | None:
        try:
            return (self._root() / token / PLAN_FILE).read_bytes()
        except FileNotFoundError:
            return None

    def claim_commit(self, token: str) -> bool:
        # The lock file is created or found there, atomically, by whichever process asks.
        try:
            os.close(os.open(self._root() / token / COMMIT_LOCK, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        import secrets

        folder = self._root() / secrets.token_urlsafe(18)
        folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _is_upload(path: Path) -> bool:
    """The uploaded file, not a job's files (temporary ones start with a dot, which no upload
    name does)."""
    return path.name not in JOB_FILES and not path.name.startswith(".")


class DatabaseUploads:
    """Uploads and jobs as rows of the shared database (tables uploads, upload_jobs).

    The plan unpickled was written by one of this deployment's servers: whoever can write
    these tables can already write every user and layer."""

    def __init__(self, database: Database, max_bytes: int) -> None:
        self.database = database
        self.max_bytes = max_bytes

    def add(self, token: str, name: str, stream: IO[bytes]) -> Upload:
        data = stream.read(self.max_bytes + 1)  # one byte more tells a file over the limit
        if len(data) > self.max_bytes:
            raise UploadTooLarge(self.max_bytes)
        with self.database.connect() as con:
            con.execute(
                "INSERT INTO uploads (token, file_name, size, content) VALUES (%s, %s, %s, %s)",
                (token, name, len(data), data),
            )
        return Upload(token, name, len(data))

    def get(self, token: str) -> Upload | None:
        with self.database.connect() as con:
            row = con.execute(
                "SELECT file_name, size FROM uploads WHERE token = %s", (token,)
            ).fetchone()
        return Upload(token, row[0], row[1]) if row else None

    @contextmanager
    def local_file(self, upload: Upload) -> Iterator[Path]:
        """The bytes copied into a temporary folder under the file's own name (messages name
        it), in slices; FileNotFoundError if the upload went meanwhile."""
        with tempfile.TemporaryDirectory(prefix="lutu-upload-") as folder:
            path = Path(folder) / upload.name
            with open(path, "wb") as fh, self.database.connect() as con:
                cursor = con.cursor(binary=True)  # bytea as text is hex: 4x slower to read
                for start in range(1, max(upload.size, 1) + 1, _CHUNK):
                    row = cursor.execute(
                        "SELECT substring(content FROM %s FOR %s) FROM uploads WHERE token = %s",
                        (start, _CHUNK, upload.token),
                    ).fetchone()
                    if row is None:
                        raise FileNotFoundError(upload.name)
                    fh.write(row[0])
            yield path

    def remove(self, token: str) -> None:
        with self.database.connect() as con:
            con.execute("DELETE FROM uploads WHERE token = %s", (token,))
            con.execute("DELETE FROM upload_jobs WHERE token = %s", (token,))

    def remove_upload(self, token: str) -> None:
        with self.database.connect() as con:
            con.execute("DELETE FROM uploads WHERE token = %s", (token,))

    def clear_stale(self, max_age_s: float) -> None:
        # An upload whose job still reports (a long commit) is not stale, however old.
        with self.database.connect() as con:
            con.execute(
                "DELETE FROM uploads u WHERE u.created_at < now() - make_interval(secs => %s)"
                " AND NOT EXISTS (SELECT 1 FROM upload_jobs j WHERE j.token = u.token"
                " AND j.updated_at >= now() - make_interval(secs => %s))",
                (max_age_s, max_age_s),
            )
            con.execute(
                "DELETE FROM upload_jobs WHERE updated_at < now() - make_interval(secs => %s)",
                (max_age_s,),
            )

    def read_job(self, token: str) -> dict[str, Any] | None:
        with self.database.connect() as con:
            row = con.execute("SELECT state FROM upload_jobs WHERE token = %s", (token,)).fetchone()
        return row[0] if row and isinstance(row[0], dict) else None

    def write_job(self, token: str, job: dict[str, Any]) -> None:
        with self.database.connect() as con:
            con.execute(
                "INSERT INTO upload_jobs (token, state) VALUES (%s, %s) ON CONFLICT (token)"
                " DO UPDATE SET state = excluded.state, updated_at = now()",
                (token, Jsonb(job)),
            )

    def save_plan(self, token: str, data: bytes) -> None:
        with self.database.connect() as con:
            con.execute("UPDATE uploads SET plan = %s WHERE token = %s", (data, token))

    def load_plan(self, token: str) -> bytes | None:
        with self.database.connect() as con:
            cursor = con.cursor(binary=True)
            row = cursor.execute("SELECT plan FROM uploads WHERE token = %s", (token,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def claim_commit(self, token: str) -> bool:
        with self.database.connect() as con:
            claimed = con.execute(
                "UPDATE uploads SET committing = true WHERE token = %s AND NOT committing",
                (token,),
            )
            return claimed.rowcount == 1

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="lutu-upload-") as folder:
            yield Path(folder)
