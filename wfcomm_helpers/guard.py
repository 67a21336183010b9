"""One running app per database: a second process gets one clear line instead of a silent
"recovery" that re-runs the first kernel's PENDING workflows (DBOS's default executor id is
``local`` in every process, so both would claim the same workflows)."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import zlib
from pathlib import Path
from typing import Protocol

import psycopg
from filelock import FileLock, Timeout

from .errors import DatabaseInUseError


class Guard(Protocol):
    def release(self) -> None: ...


def describe_this_process() -> dict[str, object]:
    argv0 = " ".join(sys.argv[:2])
    if "ipykernel" in argv0:
        kind = "Jupyter kernel"
    elif "wfcomm" in argv0:
        kind = "wfcomm command"
    else:
        kind = "Python process"
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "kind": kind,
        "started": time.strftime("%H:%M:%S"),
    }


def _holder_text(owner: dict[str, object]) -> str:
    return (
        f"process {owner.get('pid', '?')} on {owner.get('host', '?')} "
        f"({owner.get('kind', 'unknown')}, started {owner.get('started', '?')})"
    )


class SqliteFileGuard:
    """An OS file lock beside the SQLite file, held while this process runs DBOS on it.

    The OS drops the lock when the process dies (even on SIGKILL), so a crashed kernel never
    leaves the file blocked; the ``.owner`` file beside it only names the holder for messages.
    """

    def __init__(self, sqlite_path: Path) -> None:
        self.lock = FileLock(str(sqlite_path) + ".lock", timeout=0)
        self.owner_file = Path(str(sqlite_path) + ".owner")
        try:
            self.lock.acquire()
        except Timeout:
            raise DatabaseInUseError(
                f"{sqlite_path} is in use by {_holder_text(self._read_owner())}: shut that "
                "kernel down (or run wfcomm_helpers.shutdown() there), or set WFCOMM_DATA_DIR "
                "to use another folder."
            ) from None
        self.owner_file.write_text(json.dumps(describe_this_process()))

    def _read_owner(self) -> dict[str, object]:
        try:
            return dict(json.loads(self.owner_file.read_text()))
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        self.owner_file.unlink(missing_ok=True)
        self.lock.release(force=True)


class PostgresGuard:
    """A session-level advisory lock per (database, app, executor id), held on a connection
    to the server's maintenance database, which exists before DBOS creates the app's own."""

    def __init__(self, conn: psycopg.Connection, database: str, app: str, executor: str,
                 display: str) -> None:
        key = zlib.crc32(f"wfcomm:{database}:{app}:{executor}".encode()) - 2**31
        self.conn = conn
        got = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if not got or not got[0]:
            self.conn.close()
            raise DatabaseInUseError(
                f"App {app} with executor id {executor!r} is already running on {display}: "
                "shut that kernel down, or give this process its own id with "
                "WFCOMM_EXECUTOR_ID=<your-name>."
            )

    def release(self) -> None:
        self.conn.close()
