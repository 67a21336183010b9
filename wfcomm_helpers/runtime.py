"""Start, reset and stop DBOS inside a Jupyter kernel (or any asyncio program).

``await start("events")`` is safe to re-run: the same app on the same database is a no-op that
prints the same line; another app or database shuts the first one down cleanly first.
It is async because it must run on the kernel's own event loop: ``DBOS.launch()`` adopts the
running loop, and DBOS 3.4's synchronous API raises inside a running loop, so the queue is
registered with ``register_queue_async``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import psycopg
from dbos import DBOS, DBOSConfig
from sqlalchemy.engine import make_url

from . import events, messaging, outage, seed_mistakes, streaming, wakeup, worker  # noqa: F401  (registers the workflows before launch)
from .errors import (
    DatabaseUnreachableError,
    NotStartedError,
    WfcommError,
    connection_failure_reason,
)
from .guard import (
    SQLITE_LOCK_WAIT_SECONDS,
    Guard,
    PostgresGuard,
    SqliteFileGuard,
    connect_to_server,
)
from .settings import (
    QUEUE_POLLING_INTERVAL_SEC,
    DatabaseTarget,
    app_name,
    application_version,
    database_target,
    executor_id,
    queue_name,
    sqlite_polling_interval,
)


@dataclass
class Runtime:
    """What this process is running: one app on one database."""

    app: str
    target: DatabaseTarget
    guard: Guard

    def status_line(self) -> str:
        where = (
            f"SQLite file {self.target.sqlite_path.name}"
            if self.target.sqlite_path is not None
            else f"PostgreSQL {make_url(self.target.url).database}"
        )
        return f"DBOS {version('dbos')} is running app {self.app} on {where}."


_current: Runtime | None = None


def current() -> Runtime:
    """The running app, or :class:`NotStartedError` with the fix in one line."""
    if _current is None:
        raise NotStartedError()
    return _current


def is_running() -> bool:
    return _current is not None


def _dbos_config(app: str, target: DatabaseTarget) -> DBOSConfig:
    config: DBOSConfig = {
        "name": app,
        "system_database_url": target.url,
        "application_version": application_version(app),
        "executor_id": executor_id(),
        # WARNING keeps cell outputs deterministic: launch logs ~74 INFO lines with times.
        "log_level": "WARNING",
    }
    if target.is_sqlite:
        config["notification_listener_polling_interval_sec"] = sqlite_polling_interval()
    return config


def _take_guard(app: str, target: DatabaseTarget) -> Guard:
    if target.sqlite_path is not None:
        folder = target.sqlite_path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".wfcomm-write-probe"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise DatabaseUnreachableError(
                f"Cannot write to {folder} ({exc.strerror}): set WFCOMM_DATA_DIR to a folder "
                "you can write to."
            ) from None
        return SqliteFileGuard(target.sqlite_path)
    database = make_url(target.url).database or "postgres"
    try:
        conn = connect_to_server(target.url)
    except psycopg.Error as exc:
        raise DatabaseUnreachableError(
            f"Cannot reach PostgreSQL at {target.display} ({connection_failure_reason(exc)}): "
            "start the server (e.g. sudo pg_ctlcluster 15 main start), fix WFCOMM_DATABASE_URL, "
            "or unset it to use SQLite."
        ) from None
    return PostgresGuard(conn, database, app, executor_id(), target.display)


def _use_write_ahead_log(path: Path) -> None:
    """Switch the SQLite file to write-ahead logging (stored in the file, so once per file).
    DBOS leaves SQLite's rollback journal, whose commits sync several times: with the log a
    notebook hop fell from 9 to 7 ms (docs/benchmarks.md), and another process reading (the
    ``wfcomm`` command) no longer blocks the kernel's writes. Still a full sync per commit."""
    with closing(sqlite3.connect(path, timeout=SQLITE_LOCK_WAIT_SECONDS)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


async def start(app: str, *, database_url: str | None = None, quiet: bool = False) -> Runtime:
    """Launch DBOS for ``app`` (``"events"``, ``"messaging"``, ...) and print one line.

    ``database_url`` (or ``WFCOMM_DATABASE_URL``) selects Postgres; the default is the app's own
    SQLite file in :func:`wfcomm_helpers.settings.data_dir`.
    """
    global _current
    name = app_name(app)
    target = database_target(name, database_url)
    if _current is not None and (_current.app, _current.target) == (name, target):
        if not quiet:
            print(_current.status_line())
        return _current
    config = _dbos_config(name, target)  # bad settings fail here, before anything is stopped
    if _current is not None:
        shutdown()
    guard = _take_guard(name, target)
    try:
        if target.sqlite_path is not None:
            _use_write_ahead_log(target.sqlite_path)
        DBOS(config=config)
        DBOS.launch()
        await DBOS.register_queue_async(
            queue_name(name), polling_interval_sec=QUEUE_POLLING_INTERVAL_SEC
        )
    except Exception as exc:
        DBOS.destroy()
        guard.release()
        raise DatabaseUnreachableError(
            f"DBOS could not start on {target.display}: {str(exc).splitlines()[0]}"
        ) from exc
    if not wakeup.install(wake_receivers=target.is_sqlite):
        print(
            "wfcomm: this DBOS release lacks the hooks of the same-process wake-up; readers "
            "wake on DBOS's poll or NOTIFY instead (slower, still correct).",
            file=sys.stderr,
        )
    _current = Runtime(app=name, target=target, guard=guard)
    if not target.is_sqlite:
        outage.install(target.display)
    if not quiet:
        print(_current.status_line())
    return _current


def shutdown() -> None:
    """Stop DBOS in this process, and any crash worker it started (wfcomm_helpers.worker),
    and release the database for other processes."""
    global _current
    worker.stop_all_workers()
    if _current is None:
        return
    runtime, _current = _current, None
    DBOS.destroy()
    runtime.guard.release()
    _restore_default_executor()


def _restore_default_executor() -> None:
    """DBOS makes its own thread pool the loop's default executor and shuts it down in
    ``destroy()``; without a fresh one every later ``asyncio.to_thread`` on this loop (the
    kernel's) would fail with "cannot schedule new futures after shutdown"."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="wfcomm-"))


async def reset(*, quiet: bool = False) -> Runtime:
    """A clean slate: stop DBOS, delete this app's workflows, start again. On PostgreSQL only
    this process's executor id's workflows go (other learners' stay)."""
    runtime = current()
    app, target = runtime.app, runtime.target
    if target.sqlite_path is not None:
        shutdown()
        for suffix in ("", "-wal", "-shm"):
            target.sqlite_path.with_name(target.sqlite_path.name + suffix).unlink(missing_ok=True)
        return await start(app, database_url=target.url, quiet=quiet)
    # Only this executor's: on a workshop server every learner runs the same app.
    old = await DBOS.list_workflows_async(
        application_name=app, executor_id=executor_id(), load_input=False, load_output=False
    )
    if old:
        await DBOS.cancel_workflows_async([w.workflow_id for w in old])
        await DBOS.delete_workflows_async([w.workflow_id for w in old])
    if not quiet:
        print(runtime.status_line())
    return runtime


def _install_one_line_errors() -> None:
    """In IPython, show the kit's own errors as one line instead of a traceback wall."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency via ipykernel
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):  # type: ignore[no-untyped-def]
        print(f"{etype.__name__}: {value}", file=sys.stderr)
        return None

    shell.set_custom_exc((WfcommError,), show)


atexit.register(shutdown)
_install_one_line_errors()
logging.getLogger("dbos").setLevel(logging.WARNING)
