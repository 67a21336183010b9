"""Start, reset and stop DBOS inside a Jupyter kernel (or any asyncio program).

``await start("events")`` is safe to re-run: the same app on the same database is a no-op that
prints the same line; another app or database shuts the first one down cleanly first.
It is async because it must run on the kernel's own event loop: ``DBOS.launch()`` adopts the
running loop, and DBOS 3.4's synchronous API raises inside a running loop, so the queue is
registered with ``register_queue_async``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version

from dbos import DBOS
from sqlalchemy.engine import make_url

from ..teaching import worker
from . import dbos_private, launch, outage, process_hooks, wakeup
from .errors import (
    NotStartedError,
)
from .guard import (
    Guard,
)
from .settings import (
    DatabaseTarget,
    app_name,
    data_dir,
    database_target,
    executor_id,
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


def _database_problem() -> str | None:
    """The running app's database problem (see :meth:`Runtime.database_problem`), or None."""
    return _current.database_problem() if _current is not None else None


async def start(
    app: str, *, database_url: str | None = None, quiet: bool = False, tuned: bool = True
) -> Runtime:
    """Launch DBOS for ``app`` (``"events"``, ``"messaging"``, ...) and print one line.

    ``database_url`` (or ``WFCOMM_DATABASE_URL``) selects Postgres; the default is the app's own
    SQLite file in :func:`wfcomm_helpers.runtime.settings.data_dir`. ``tuned=False`` leaves DBOS's own
    notification delivery (its default SQLite polling interval, no same-process wake-up): the
    differential tests run every scenario both ways.
    """
    global _current
    process_hooks.install_once(shutdown, _database_problem, is_running)
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
    config = launch.dbos_config(
        name, target, tuned
    )  # bad settings fail here, before anything is stopped
    if _current is not None:
        shutdown()
    guard = await launch.launch(name, target, config)
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
    says so in one line on stderr and goes on as DBOS's own. DBOS logs each cancellation as a
    warning: the ``dbos`` logger shows only errors until the next ``start()`` sets it back."""
    try:
        tasks = dbos_private.workflow_tasks()
    except dbos_private.PrivateNameMissing as exc:
        print(
            f"wfcomm: shutdown leaves async workflows running, this DBOS release lacks {exc}; "
            "one still waiting may print an error when its wait ends (start() resumes it).",
            file=sys.stderr,
        )
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
    :func:`~wfcomm_helpers.runtime.settings.data_dir`) is deleted and DBOS restarted on a new one; on
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
