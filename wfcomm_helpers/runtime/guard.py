"""One running app per database: a second process gets one clear line instead of a silent
"recovery" that re-runs the first kernel's PENDING workflows (DBOS's default executor id is
``local`` in every process, so both would claim the same workflows)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import time
import zlib
from pathlib import Path
from typing import Protocol

import psycopg
from filelock import FileLock, Timeout
from sqlalchemy.engine import make_url

from .errors import DatabaseInUseError, DatabaseUnreachableError

#: How long to wait for another program's SQLite write lock before saying so.
SQLITE_LOCK_WAIT_SECONDS = 2.0


class Guard(Protocol):
    def launched(self) -> None: ...
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
        "parent": os.getppid(),  # a kernel's Jupyter server: gone means nothing can use it
        "host": socket.gethostname(),
        "kind": kind,
        "started": time.strftime("%H:%M:%S"),
    }


def _holder_text(owner: dict[str, object]) -> str:
    return (
        f"process {owner.get('pid', '?')} on {owner.get('host', '?')} "
        f"({owner.get('kind', 'unknown')}, started {owner.get('started', '?')})"
    )


def is_held(sqlite_path: Path) -> dict[str, object] | None:
    """Who holds ``sqlite_path`` now (the owner's pid, host, kind, start time), or None when no
    process does. A process asking about a file it holds itself gets its own description back:
    compare ``owner["pid"]`` with ``os.getpid()``."""
    lock = FileLock(str(sqlite_path) + ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return _read_owner(Path(str(sqlite_path) + ".owner"))
    except OSError:
        return None  # the folder is missing or read-only: nobody can hold a lock there
    lock.release(force=True)
    return None


def is_orphaned(owner: dict[str, object]) -> bool:
    """The holder runs on this machine and the process that started it (a kernel's Jupyter
    server) is gone: no notebook can reach it any more, so it only blocks the file."""
    parent = owner.get("parent")
    if owner.get("host") != socket.gethostname() or not isinstance(parent, int) or parent <= 1:
        return False
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _read_owner(owner_file: Path) -> dict[str, object]:
    try:
        return dict(json.loads(owner_file.read_text()))
    except (OSError, ValueError):
        return {}


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
            holder = _holder_text(_read_owner(self.owner_file))
            raise DatabaseInUseError(
                f"{sqlite_path} is in use by {holder}: shut that "
                "kernel down (or run wfcomm_helpers.shutdown() there), or set WFCOMM_DATA_DIR "
                "to use another folder."
            ) from None
        try:
            check_sqlite_writable(sqlite_path)
        except Exception:
            self.lock.release(force=True)
            raise
        self.owner_file.write_text(json.dumps(describe_this_process()))

    def launched(self) -> None:
        """The lock is held for as long as DBOS runs: nothing changes at launch."""

    def release(self) -> None:
        self.owner_file.unlink(missing_ok=True)
        self.lock.release(force=True)


def check_sqlite_writable(sqlite_path: Path) -> None:
    """Fail fast, in one line, when the SQLite file is read-only or another program (not a
    kit process: those hold the lock file) holds a write transaction on it. DBOS would wait
    30 s for the lock, then print a traceback. The probe writes nothing: it rolls back."""
    if not sqlite_path.exists():
        return
    try:
        conn = sqlite3.connect(sqlite_path, timeout=SQLITE_LOCK_WAIT_SECONDS, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # OperationalError, or "file is not a database"
        reason = str(exc)
        if "locked" in reason or "busy" in reason:
            raise DatabaseInUseError(
                f"{sqlite_path} is locked by another program with an unfinished write (a "
                "database browser with unsaved changes, a stuck script): commit or close it "
                "there, then run this again."
            ) from None
        if "readonly" in reason or "read-only" in reason:
            raise DatabaseUnreachableError(
                f"{sqlite_path} is read-only: make it writable (ls -l and lsattr show why), "
                "or set WFCOMM_DATA_DIR to another folder."
            ) from None
        raise DatabaseUnreachableError(
            f"Cannot open {sqlite_path} as a SQLite database ({reason}): move it aside, or "
            "set WFCOMM_DATA_DIR to another folder."
        ) from None


def connect_to_server(url: str) -> psycopg.Connection:
    """A connection to the server's maintenance database ``postgres``, which exists before DBOS
    creates the app's own: the reachability check and the launch lock use it."""
    conninfo = make_url(url).set(drivername="postgresql", database="postgres")
    return psycopg.connect(
        conninfo.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
    )


def postgres_lock_key(database: str, app: str, executor: str) -> int:
    """The guard's key for one database, app and executor id (a signed 32-bit int), so
    workshop learners with their own WFCOMM_EXECUTOR_ID never collide."""
    return zlib.crc32(f"wfcomm:{database}:{app}:{executor}".encode()) - 2**31


def _session_prefix(key: int) -> str:
    return f"wfcomm {key & 0xFFFFFFFF:08x} "


def session_name(key: int, app: str, executor: str) -> str:
    """The ``application_name`` every server session of a guarded app carries (DBOS's pool and
    its LISTEN connection), as pg_stat_activity shows it: ``wfcomm 1a2b3c4d
    wfcomm-messaging/ada`` (printable ASCII, at most the 63 characters PostgreSQL keeps).
    ``key`` is :func:`postgres_lock_key`; its part alone identifies the app."""
    name = f"{_session_prefix(key)}{app}/{executor}"
    return "".join(ch if " " <= ch <= "~" else "?" for ch in name)[:63]


#: A process that just ended (a killed kernel being restarted) leaves its server sessions for
#: a moment: the server ends them when it reads the closed socket, within milliseconds.
ENDED_SESSIONS_WAIT_SECONDS = 2.0


def _sessions_ended(conn: psycopg.Connection, app: str, key: int) -> bool:
    """Whether no session named for ``key`` is open, or all end within
    :data:`ENDED_SESSIONS_WAIT_SECONDS` (checked every 50 ms)."""
    deadline = time.monotonic() + ENDED_SESSIONS_WAIT_SECONDS
    while guard_holders(conn, {app: key}):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class PostgresGuard:
    """One running app per (database, app, executor id) on a server, with no connection of its
    own once DBOS runs: the app's DBOS sessions carry :func:`session_name`, so another process
    sees them in pg_stat_activity, and they end with the process (even on SIGKILL). While this
    process launches DBOS, a session-level advisory lock on ``conn`` (to the maintenance
    database) keeps a second one from launching at the same moment; :meth:`launched` closes
    it."""

    def __init__(
        self, conn: psycopg.Connection, database: str, app: str, executor: str, display: str
    ) -> None:
        key = postgres_lock_key(database, app, executor)
        self.conn: psycopg.Connection | None = conn
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if not got or not got[0] or not _sessions_ended(conn, app, key):
            self.release()
            raise DatabaseInUseError(
                f"App {app} with executor id {executor!r} is already running on {display}: "
                "shut that kernel down, or give this process its own id with "
                "WFCOMM_EXECUTOR_ID=<your-name>."
            )

    def launched(self) -> None:
        """DBOS runs: its own sessions mark the app as running from now on, so the launch
        lock's connection is closed and the kernel holds only DBOS's."""
        self.release()

    def release(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def guard_holders(conn: psycopg.Connection, keys: dict[str, int]) -> set[str]:
    """Which names in ``keys`` (name -> :func:`postgres_lock_key`) have their app running on
    the server now (a session named :func:`session_name`) or launching (the launch lock held
    by another session), asked on ``conn``."""
    rows = conn.execute(
        "SELECT application_name, NULL::bigint, NULL::bigint FROM pg_stat_activity "
        "WHERE application_name LIKE 'wfcomm %%' UNION ALL "
        "SELECT NULL, classid::bigint, objid::bigint FROM pg_locks "
        "WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND pid <> pg_backend_pid()"
    ).fetchall()
    names = [name for name, _, _ in rows if name]
    # pg_locks splits a bigint key into its high and low 32 bits, each shown unsigned.
    locks = {(classid, objid) for name, classid, objid in rows if not name}
    return {
        name
        for name, key in keys.items()
        if ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF) in locks
        or any(shown.startswith(_session_prefix(key)) for shown in names)
    }


def advisory_lock_holders(url: str, keys: dict[str, int]) -> set[str]:
    """:func:`guard_holders` on a connection of its own: the kernels that are running. Opens
    and closes one connection; raises ``psycopg.Error`` when the server cannot be asked."""
    with connect_to_server(url) as conn:
        return guard_holders(conn, keys)
