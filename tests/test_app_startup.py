"""Start-up fails fast: a store that cannot be opened ends ``python app.py`` with one line on stderr.

Seen before: an unopenable SQLite file printed the error and then hung, because the half-opened aiosqlite
connection's worker thread (not a daemon) kept the process alive. A supervisor must see a failed start at once.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from governance.errors import StorageUnavailable
from storage.sqlite_store import SqliteDocumentStore

APP = Path(__file__).resolve().parent.parent / "app.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python app.py`` with only the given settings (cwd is tmp_path, so no developer's .env is read)."""
    environment = {"PATH": "/usr/bin:/bin", "PORT": str(free_port()), "SCHEDULER_INTERVAL_S": "0", **env}
    return subprocess.run(  # noqa: S603 - this interpreter and this repository's app.py
        [sys.executable, str(APP)], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=10
    )


def garbage_file(tmp_path: Path) -> Path:
    path = tmp_path / "pilotgate.db"
    path.write_bytes(b"this is not a SQLite database\n" * 200)
    return path


def a_file_in_place_of_its_folder(tmp_path: Path) -> Path:
    (tmp_path / "data").write_text("a file where the data folder should be")
    return tmp_path / "data" / "pilotgate.db"


def a_folder_in_place_of_the_file(tmp_path: Path) -> Path:
    path = tmp_path / "pilotgate.db"
    path.mkdir()
    return path


@pytest.mark.parametrize("unopenable", [garbage_file, a_file_in_place_of_its_folder, a_folder_in_place_of_the_file])
def test_an_unopenable_sqlite_store_ends_the_app_with_one_line_on_stderr(tmp_path: Path, unopenable: object) -> None:
    assert callable(unopenable)
    path = unopenable(tmp_path)

    finished = start_app(tmp_path, SQLITE_PATH=str(path))

    assert finished.returncode == 3
    assert finished.stderr.startswith("storage error: cannot open the SQLite store at ")
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr
    assert str(path) in finished.stderr


def test_an_unreachable_cosmos_account_ends_the_app_with_one_line_on_stderr(tmp_path: Path) -> None:
    key = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
    closed = f"http://127.0.0.1:{free_port()}/"

    finished = start_app(tmp_path, STORAGE="cosmos", COSMOS_ENDPOINT=closed, COSMOS_KEY=key)

    assert finished.returncode == 3
    assert finished.stderr.startswith("storage error: Cosmos DB could not open the database")
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr


def test_a_port_in_use_ends_the_app_with_one_line_on_stderr(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        finished = start_app(tmp_path, SQLITE_PATH=str(tmp_path / "pilotgate.db"), PORT=str(port))

    assert finished.returncode == 4
    assert finished.stderr.startswith(f"cannot listen on 127.0.0.1:{port}: ")
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr


async def test_a_store_that_fails_to_open_leaves_no_thread_behind(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    store = SqliteDocumentStore(garbage_file(tmp_path))

    with pytest.raises(StorageUnavailable):
        await store.open()

    workers = [t for t in set(threading.enumerate()) - before if "_connection_worker_thread" in t.name]
    for worker in workers:  # aiosqlite's: not daemons, so one left running keeps the process from exiting
        worker.join(timeout=2)  # told to stop, it ends at once; forgotten, never
        assert not worker.is_alive()
    with pytest.raises(StorageUnavailable):
        await store.ping()  # not half open either
