"""Start, kill and watch a pattern's crash worker (see :mod:`wfcomm_helpers.teaching.worker_process`).

``await start_worker("events")`` starts one worker process; ``await kill_worker("events")``
SIGKILLs it, as a crash would; ``worker_status("events")`` says whether one runs. Starting while
one runs, or killing while none runs, returns a one-line notice and changes nothing. A worker
left by an earlier kernel (its pid file in the data folder, its command line ours, its parent
gone) is stopped before a new one starts, never duplicated. ``stop_all_workers()`` runs at
``wfcomm_helpers.shutdown()`` and at exit; a kernel that dies takes its workers with it.

``await run_on_worker("events", 3, pause_seconds=1)`` starts a pattern's workflow that the worker
runs (enqueued on the worker's queue through a ``DBOSClient``); the kernel reads its events,
messages, streams and steps as usual, with ``DBOS`` (it shares the database).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ..runtime.errors import InvalidInputError, WfcommError
from ..runtime.settings import database_target
from .stale_worker import stop_stale_worker
from .worker_process import MODULE, PATTERNS, WorkerSpec

#: How long a new worker may take to launch DBOS before the kit gives up (seconds).
START_DEADLINE_SECONDS = 60.0
#: Between two looks at a starting or dying worker (seconds).
POLL_SECONDS = 0.05


class WorkerError(WfcommError):
    """The worker could not start (its log's last line says why)."""


@dataclass
class WorkerStatus:
    """One line about a pattern's worker; ``running`` and ``pid`` for code."""

    pattern: str
    running: bool
    pid: int | None
    notice: str

    def __str__(self) -> str:
        return self.notice


@dataclass
class _Worker:
    """This kernel's record of one pattern's worker: the process and its history."""

    spec: WorkerSpec
    process: subprocess.Popen[bytes] | None = None
    #: (epoch seconds, "started" | "killed" | "stopped"), for the timeline's worker lane.
    history: list[tuple[float, str]] = field(default_factory=list)
    client: Any = None
    #: The database URL the worker was started on (the client enqueues there).
    url: str | None = None
    #: True while a start or a kill is under way: a second click gets a notice, not a race.
    busy: bool = False
    #: True once ``process`` was sent SIGKILL: it is dying, perhaps not yet reaped.
    killed: bool = False


_workers: dict[str, _Worker] = {}


def _worker(pattern: str) -> _Worker:
    if pattern not in PATTERNS:
        raise InvalidInputError(f"No worker for {pattern!r}: use one of {', '.join(PATTERNS)}.")
    if pattern not in _workers:
        _workers[pattern] = _Worker(WorkerSpec(pattern))
    return _workers[pattern]


def _alive(worker: _Worker) -> bool:
    """Running, and not sent SIGKILL: a killed process may take a moment to become a zombie
    that ``poll()`` can reap, and must not count as running meanwhile."""
    return worker.process is not None and not worker.killed and worker.process.poll() is None


async def _reap(process: subprocess.Popen[bytes]) -> None:
    """Wait, on the loop, for a process sent SIGKILL to end (moments: it cannot refuse)."""
    while process.poll() is None:
        await asyncio.sleep(POLL_SECONDS)


def worker_history(pattern: str) -> list[tuple[float, str]]:
    """When this kernel started and killed the pattern's worker: [(epoch s, what), ...]."""
    return list(_worker(pattern).history)


def worker_status(pattern: str) -> WorkerStatus:
    """Whether this kernel's worker for ``pattern`` runs, as one line."""
    worker = _worker(pattern)
    if _alive(worker):
        pid = worker.process.pid  # type: ignore[union-attr]
        return WorkerStatus(pattern, True, pid, f"{pattern} worker: running (pid {pid}).")
    return WorkerStatus(pattern, False, None, f"{pattern} worker: not running.")


async def start_worker(pattern: str, *, database_url: str | None = None) -> WorkerStatus:
    """Start the pattern's worker on the notebook's database and wait until it is ready.

    Returns at once with a notice if this kernel's worker already runs. ``database_url``
    as for :func:`wfcomm_helpers.start` (default: the notebook's SQLite file or
    ``WFCOMM_DATABASE_URL``). Raises :class:`WorkerError` with the log's last line if the
    worker exits before it is ready."""
    worker = _worker(pattern)
    if worker.busy:
        return _busy_notice(pattern)
    if _alive(worker):
        pid = worker.process.pid  # type: ignore[union-attr]
        return WorkerStatus(pattern, True, pid, f"{pattern} worker already running (pid {pid}).")
    worker.busy = True
    _stop_workers_at_exit()
    try:
        return await _start(worker, database_url)
    finally:
        worker.busy = False


_exit_hook_installed = False


def _stop_workers_at_exit() -> None:
    """Once, at the first start (importing the kit changes nothing): stop every worker this
    process started when the interpreter exits."""
    global _exit_hook_installed
    if not _exit_hook_installed:
        _exit_hook_installed = True
        atexit.register(stop_all_workers)


def _busy_notice(pattern: str) -> WorkerStatus:
    return WorkerStatus(
        pattern, False, None, f"The {pattern} worker is starting or stopping: wait a moment."
    )


async def _start(worker: _Worker, database_url: str | None) -> WorkerStatus:
    spec, pattern = worker.spec, worker.spec.pattern
    target = database_target(spec.kernel_app, database_url)
    spec.pid_file.parent.mkdir(parents=True, exist_ok=True)  # the data folder, also for Postgres
    if worker.url not in (None, target.url) and worker.client is not None:
        worker.client.destroy()
        worker.client = None
    worker.url = target.url
    if worker.process is not None and worker.killed:
        await _reap(worker.process)  # a kill whose wait was cancelled: finish it, then start
    stale = await stop_stale_worker(spec, START_DEADLINE_SECONDS, POLL_SECONDS)
    spec.pid_file.unlink(missing_ok=True)
    worker.killed = False
    with spec.log_file.open("ab") as log:
        worker.process = subprocess.Popen(
            [sys.executable, "-m", MODULE, pattern, target.url],
            stdin=subprocess.PIPE,  # closes when this process dies: the worker then exits
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    await _wait_ready(worker)
    worker.history.append((time.time(), "started"))
    pid = worker.process.pid
    return WorkerStatus(pattern, True, pid, f"{pattern} worker started (pid {pid}){stale}.")


async def _wait_ready(worker: _Worker) -> None:
    process, spec = worker.process, worker.spec
    assert process is not None
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkerError(
                f"The {spec.pattern} worker exited ({_last_log_line(spec)}): see {spec.log_file}."
            )
        try:
            record = json.loads(spec.pid_file.read_text())
            if record.get("pid") == process.pid and record.get("ready"):
                return
        except (OSError, ValueError):
            pass
        await asyncio.sleep(POLL_SECONDS)
    await _kill(worker)
    raise WorkerError(
        f"The {spec.pattern} worker did not start within {START_DEADLINE_SECONDS:g} s: "
        f"see {spec.log_file}."
    )


def _last_log_line(spec: WorkerSpec) -> str:
    try:
        lines = spec.log_file.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


async def _kill(worker: _Worker) -> int:
    """SIGKILL the worker and reap it. The pid file goes at once (SIGKILL cannot be caught, the
    process is gone): the wait only reaps, so a cancelled wait (a re-run panel) loses nothing."""
    process = worker.process
    assert process is not None
    process.kill()
    worker.killed = True
    worker.spec.pid_file.unlink(missing_ok=True)
    await _reap(process)
    return process.pid


async def kill_worker(pattern: str) -> WorkerStatus:
    """SIGKILL the pattern's worker, as a crash would: no clean-up runs in it, its workflows
    stay PENDING until a worker starts again. A notice if none runs."""
    worker = _worker(pattern)
    if worker.busy:
        return _busy_notice(pattern)
    if not _alive(worker):
        stale = await stop_stale_worker(worker.spec, START_DEADLINE_SECONDS, POLL_SECONDS)
        return WorkerStatus(pattern, False, None, f"No {pattern} worker is running{stale}.")
    worker.history.append((time.time(), "killed"))  # recorded before the wait: see _kill
    pid = await _kill(worker)
    return WorkerStatus(pattern, False, None, f"{pattern} worker killed (pid {pid}, SIGKILL).")


def stop_all_workers() -> None:
    """Kill every worker this kernel started and close its client (no waiting on the loop:
    SIGKILL is immediate; the zombie is reaped here)."""
    for worker in _workers.values():
        if _alive(worker):
            worker.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            worker.process.wait()  # type: ignore[union-attr]
            worker.spec.pid_file.unlink(missing_ok=True)
            worker.history.append((time.time(), "stopped"))
        elif worker.process is not None and worker.killed:
            worker.process.wait()  # a Kill whose reap was cancelled: SIGKILL sent, ends at once
        if worker.client is not None:
            worker.client.destroy()
            worker.client = None


def worker_client(pattern: str) -> Any:
    """An :class:`~wfcomm_helpers.patterns.lookup.AppClient` acting for the worker's app (cached) on the database the worker was
    last started on (default: the notebook's): what enqueues onto the worker's queue."""
    from ..patterns.lookup import AppClient

    worker = _worker(pattern)
    if worker.client is None:
        url = worker.url or database_target(worker.spec.kernel_app).url
        worker.client = AppClient(system_database_url=url, application_name=worker.spec.app)
    return worker.client


async def run_on_worker(
    pattern: str, n_steps: int, workflow_id: str | None = None, **options: Any
) -> str:
    """Start the pattern's workflow so that the worker runs it; returns its id. ``options``
    as for ``start_events`` / ``start_messaging`` / ``start_streaming`` (``pause_seconds``,
    ``fib_base``, ``timeout_seconds``). Works while the worker is down: it waits, ENQUEUED."""
    from ..patterns import events, messaging, streaming

    starts = {
        "events": events.start_events,
        "messaging": messaging.start_messaging,
        "streaming": streaming.start_streaming,
    }
    client = worker_client(pattern)
    return await starts[pattern](n_steps, workflow_id, backend=client, **options)
