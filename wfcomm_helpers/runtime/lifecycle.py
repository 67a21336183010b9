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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
from dbos import DBOS, DBOSConfig
from dbos import error as dbos_error
from sqlalchemy.engine import make_url

from ..patterns.registry import import_workflows
from ..teaching import worker
from . import dbos_private, outage, wakeup
from .errors import (
    DatabaseUnreachableError,
    NotStartedError,
    connection_failure_reason,
)
from .guard import (
    SQLITE_LOCK_WAIT_SECONDS,
    Guard,
    PostgresGuard,
    SqliteFileGuard,
    connect_to_server,
    is_server_full,
    server_full_text,
)
from .settings import (
    MAX_EXECUTOR_THREADS,
    QUEUE_POLLING_INTERVAL_SEC,
    DatabaseTarget,
    app_name,
    application_version,
    data_dir,
    database_target,
    executor_id,
    hide_password,
    postgres_pool_size,
    queue_name,
    sqlite_polling_interval,
)


@dataclass
class Runtime:
    """What this process is running: one app on one database."""

    app: str
    target: DatabaseTarget
    guard: Guard
    tuned: bool = True  # False: DBOS's own notification delivery (tests compare the two)

    def status_line(self) -> str:
        where = (
            f"SQLite file {self.target.sqlite_path.name}"
            if self.target.sqlite_path is not None
            else f"PostgreSQL {make_url(self.target.url).database}"
        )
        return f"DBOS {version('dbos')} is running app {self.app} on {where}."

    def database_problem(self) -> str | None:
        """One line when the SQLite file was deleted (or its folder) while DBOS runs on it,
        else None. DBOS keeps writing to the deleted file, and all of it is lost when this
        process stops: the line says so and what to do."""
        path = self.target.sqlite_path
        if path is None or path.exists():
            return None
        return (
            f"wfcomm: {path} was deleted while DBOS runs on it: what the workflows write now "
            "is lost when this kernel stops; re-run the setup cell to start on a new file."
        )


_current: Runtime | None = None


def current() -> Runtime:
    """The running app, or :class:`NotStartedError` with the fix in one line."""
    if _current is None:
        raise NotStartedError()
    return _current


def is_running() -> bool:
    return _current is not None


def _dbos_config(app: str, target: DatabaseTarget, tuned: bool) -> DBOSConfig:
    config: DBOSConfig = {
        "name": app,
        "system_database_url": target.url,
        "application_version": application_version(app),
        "executor_id": executor_id(),
        "max_executor_threads": MAX_EXECUTOR_THREADS,
        # WARNING keeps cell outputs deterministic: launch logs ~74 INFO lines with times.
        "log_level": "WARNING",
    }
    if not target.is_sqlite:
        config["sys_db_pool_size"] = postgres_pool_size()
    elif tuned:
        config["notification_listener_polling_interval_sec"] = sqlite_polling_interval()
    return config


class _LaunchNoise(logging.Filter):
    """Drops two of DBOS's launch logs that :func:`start` replaces with one true line:

    - the warning that this version is not the latest: in a workshop each learner's kernel runs
      its own version (see :func:`settings.application_version`), so only the newest learner's
      is "latest", and the warning says nothing true to the others;
    - the traceback of a launch that failed because the server is full (start names it)."""

    def __init__(self, version: str) -> None:
        super().__init__()
        self.version = version

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            return not is_server_full(record.exc_info[1])
        message = record.getMessage()
        return not (
            message.startswith(f"Current version '{self.version}'") and "not the latest" in message
        )


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
        if is_server_full(exc):
            raise DatabaseUnreachableError(server_full_text(target.display)) from None
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


async def start(
    app: str, *, database_url: str | None = None, quiet: bool = False, tuned: bool = True
) -> Runtime:
    """Launch DBOS for ``app`` (``"events"``, ``"messaging"``, ...) and print one line.

    ``database_url`` (or ``WFCOMM_DATABASE_URL``) selects Postgres; the default is the app's own
    SQLite file in :func:`wfcomm_helpers.settings.data_dir`. ``tuned=False`` leaves DBOS's own
    notification delivery (its default SQLite polling interval, no same-process wake-up): the
    differential tests run every scenario both ways.
    """
    global _current
    _install_process_hooks()
    logging.getLogger("dbos").setLevel(logging.WARNING)  # shutdown() may have raised it
    name = app_name(app)
    target = database_target(name, database_url)
    wanted = (name, target, tuned)
    if _current is not None and (_current.app, _current.target, _current.tuned) == wanted:
        if _current.database_problem() is not None:
            print(
                f"wfcomm: {target.display} was deleted while DBOS ran on it, with its "
                "workflows; starting DBOS again on a new file.",
                file=sys.stderr,
            )
            shutdown()
            return await start(app, database_url=database_url, quiet=quiet, tuned=tuned)
        if not quiet:
            print(_current.status_line())
        return _current
    config = _dbos_config(name, target, tuned)  # bad settings fail here, before anything is stopped
    if _current is not None:
        shutdown()
    import_workflows()  # every registered pattern's workflows exist before DBOS launches
    guard = _take_guard(name, target)
    try:
        if target.sqlite_path is not None:
            _use_write_ahead_log(target.sqlite_path)
        DBOS(config=config)
        quiet_version = _LaunchNoise(config["application_version"])
        logging.getLogger("dbos").addFilter(quiet_version)
        try:
            DBOS.launch()
        finally:
            logging.getLogger("dbos").removeFilter(quiet_version)
        await DBOS.register_queue_async(
            queue_name(name), polling_interval_sec=QUEUE_POLLING_INTERVAL_SEC
        )
    except Exception as exc:
        DBOS.destroy()
        guard.release()
        if is_server_full(exc):
            raise DatabaseUnreachableError(server_full_text(target.display)) from exc
        raise DatabaseUnreachableError(
            f"DBOS could not start on {target.display}: {hide_password(str(exc).splitlines()[0])}"
        ) from exc
    if tuned:
        wakeup.install(wake_receivers=target.is_sqlite)  # never raises; says so if it is off
    _current = Runtime(app=name, target=target, guard=guard, tuned=tuned)
    if not target.is_sqlite:
        outage.install(target.display)
    if not quiet:
        print(_current.status_line())
    return _current


_on_shutdown: list[Callable[[], object]] = []


def on_shutdown(callback: Callable[[], object]) -> None:
    """Call ``callback()`` once, at the next :func:`shutdown`, before DBOS stops: for work
    that waits on DBOS outside a workflow (a panel's ``handle.get_result()`` task), which
    DBOS's handles cannot finish once DBOS is gone. E.g. ``on_shutdown(task.cancel)``."""
    _on_shutdown.append(callback)


def shutdown() -> None:
    """Stop DBOS in this process, and any crash worker it started (wfcomm_helpers.worker),
    and release the database for other processes."""
    global _current
    worker.stop_all_workers()
    if _current is None:
        return
    runtime, _current = _current, None
    callbacks, _on_shutdown[:] = list(_on_shutdown), []
    for callback in callbacks:
        callback()
    _stop_workflow_tasks()
    DBOS.destroy()
    runtime.guard.release()
    _restore_default_executor()


def _stop_workflow_tasks() -> None:
    """Cancel the async workflows still running on their event loop (the kernel's): DBOS's
    ``destroy()`` leaves them, and one waiting in ``recv`` would wake at its timeout and print
    a "System database accessed before DBOS was launched" traceback into an earlier cell.
    Cancelled, they write nothing and stay PENDING: the next ``start()`` recovers them.

    Relies on a private DBOS name (:func:`dbos_private.workflow_tasks`); without it, shutdown
    goes on as DBOS's own. DBOS logs each cancellation as a warning: the ``dbos`` logger shows
    only errors until the next ``start()`` sets it back."""
    try:
        tasks = dbos_private.workflow_tasks()
    except dbos_private.PrivateNameMissing:
        return
    logging.getLogger("dbos").setLevel(logging.ERROR)
    for task in tasks:
        if not task.done():
            task.get_loop().call_soon_threadsafe(task.cancel)


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
    """A clean slate: delete this app's workflows. The app's own SQLite file (the default, in
    :func:`~wfcomm_helpers.settings.data_dir`) is deleted and DBOS restarted on a new one; on
    PostgreSQL, or a SQLite file named by ``WFCOMM_DATABASE_URL``, which may hold other apps'
    workflows, only this app's workflows of this executor id go (other learners' stay)."""
    runtime = current()
    app, target = runtime.app, runtime.target
    if target.sqlite_path is not None and target.sqlite_path == data_dir() / f"{app}.sqlite":
        shutdown()
        for suffix in ("", "-wal", "-shm"):
            target.sqlite_path.with_name(target.sqlite_path.name + suffix).unlink(missing_ok=True)
        return await start(app, database_url=target.url, quiet=quiet, tuned=runtime.tuned)
    old = await DBOS.list_workflows_async(
        application_name=app, executor_id=executor_id(), load_input=False, load_output=False
    )
    if old:
        await DBOS.cancel_workflows_async([w.workflow_id for w in old])
        await DBOS.delete_workflows_async([w.workflow_id for w in old])
    if not quiet:
        print(runtime.status_line())
    return runtime


_process_hooks_installed = False


def _install_process_hooks() -> None:
    """Once per process, at the first :func:`start` (importing the kit changes nothing): stop
    DBOS at interpreter exit, and in IPython show DBOS's errors while stopped as one line."""
    global _process_hooks_installed
    if _process_hooks_installed:
        return
    _process_hooks_installed = True
    atexit.register(shutdown)
    _explain_dbos_not_running()
    _warn_when_the_database_is_deleted()


def _ipython() -> Any:
    """The running IPython shell (a kernel's), or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency via ipykernel
        return None
    return get_ipython()


def _warn_when_the_database_is_deleted() -> None:
    """In IPython, before each cell: one line on stderr when the running app's SQLite file
    is gone (see :meth:`Runtime.database_problem`). A ``stat`` per cell."""
    shell = _ipython()
    if shell is None:
        return

    def before_cell(*_: object) -> None:
        problem = _current.database_problem() if _current is not None else None
        if problem is not None:
            print(problem, file=sys.stderr)

    shell.events.register("pre_run_cell", before_cell)


def _explain_dbos_not_running() -> None:
    """In IPython: a DBOS error raised while the kit has DBOS stopped (a cell run after the
    clean-up cell, or after a failed setup) shows :class:`NotStartedError`'s one line instead
    of DBOS's "No DBOS was created yet" traceback. Any other error keeps IPython's own display.
    Both go through ``showtraceback``, so the cell fails and Run All stops there."""
    shell = _ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):  # type: ignore[no-untyped-def]
        if is_running():
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            shell.showtraceback((NotStartedError, NotStartedError(), None))

    shell.set_custom_exc((dbos_error.DBOSException,), show)
