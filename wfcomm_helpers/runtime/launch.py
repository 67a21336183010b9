"""Configure and launch DBOS once: its config, the guard on its database, the launch itself."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
from dbos import DBOS, DBOSConfig
from sqlalchemy.engine import make_url

from ..patterns.registry import import_workflows
from .errors import DatabaseUnreachableError, connection_failure_reason
from .guard import (
    SQLITE_LOCK_WAIT_SECONDS,
    Guard,
    PostgresGuard,
    SqliteFileGuard,
    connect_to_server,
    postgres_lock_key,
    session_name,
)
from .server_full import is_server_full, server_full_text
from .settings import (
    MAX_EXECUTOR_THREADS,
    QUEUE_POLLING_INTERVAL_SEC,
    DatabaseTarget,
    application_version,
    executor_id,
    hide_password,
    postgres_pool_size,
    queue_name,
    sqlite_polling_interval,
)


def refuse_when_full(exc: BaseException, display: str) -> None:
    """Raise the full server's one line (:func:`server_full_text`, for the database shown as
    ``display``) when ``exc`` is PostgreSQL refusing a session for lack of slots; else return."""
    if is_server_full(exc):
        raise DatabaseUnreachableError(server_full_text(display)) from None


def dbos_config(app: str, target: DatabaseTarget, tuned: bool) -> DBOSConfig:
    """DBOS's configuration for ``app`` on ``target``; ``tuned`` sets the kit's SQLite poll."""
    config: DBOSConfig = {
        "name": app,
        "system_database_url": target.url,
        "application_version": application_version(app),
        "executor_id": executor_id(),
        "max_executor_threads": MAX_EXECUTOR_THREADS,
        # WARNING keeps cell outputs deterministic: at INFO launch logs many lines with times.
        "log_level": "WARNING",
    }
    if not target.is_sqlite:
        config["sys_db_pool_size"] = postgres_pool_size()
        # Names DBOS's sessions (in place of its "dbos_transact") so they show this app as
        # running: the kit's guard needs no connection of its own (guard.PostgresGuard).
        database = make_url(target.url).database or "postgres"
        key = postgres_lock_key(database, app, executor_id())
        name = session_name(key, app, executor_id())
        config["db_engine_kwargs"] = {"connect_args": {"application_name": name}}
    elif tuned:
        config["notification_listener_polling_interval_sec"] = sqlite_polling_interval()
    return config


class _LaunchNoise(logging.Filter):
    """Drops two of DBOS's launch logs that :func:`~.lifecycle.start` replaces with one line:

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
        refuse_when_full(exc, target.display)
        raise DatabaseUnreachableError(
            f"Cannot reach PostgreSQL at {target.display} ({connection_failure_reason(exc)}): "
            f"start the server (e.g. sudo pg_ctlcluster 15 main start), or {target.fix_advice}."
        ) from None
    return PostgresGuard(conn, database, app, executor_id(), target.display)


def _use_write_ahead_log(path: Path) -> None:
    """Switch the SQLite file to write-ahead logging (stored in the file, so once per file).
    DBOS leaves SQLite's rollback journal, whose commits sync several times: with the log a
    notebook hop is faster (measured in docs/benchmarks.md), and another process reading (the
    ``wfcomm`` command) no longer blocks the kernel's writes. Still a full sync per commit."""
    with closing(sqlite3.connect(path, timeout=SQLITE_LOCK_WAIT_SECONDS)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


async def launch(name: str, target: DatabaseTarget, config: DBOSConfig) -> Guard:
    """Take ``target``'s guard, launch DBOS with ``config`` (every registered pattern's
    workflows imported first) and register the app's queue; returns the guard held.
    Any failure stops DBOS, releases the guard and raises :class:`DatabaseUnreachableError`."""
    import_workflows()
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
        guard.launched()
    except Exception as exc:
        DBOS.destroy()
        guard.release()
        refuse_when_full(exc, target.display)
        raise DatabaseUnreachableError(
            f"DBOS could not start on {target.display}: {hide_password(str(exc).splitlines()[0])}"
        ) from exc
    return guard
