"""The crash worker: a separate OS process that runs one pattern's workflows, so a learner can
kill it (SIGKILL) and watch DBOS recover what it was running.

It runs its own DBOS application, ``wfcomm-<pattern>-worker``, on the *same* system database as
the notebook (``wfcomm-<pattern>``), with its own executor id and application version. DBOS
keeps applications apart on one database: each polls only its own queues and recovers only its
own executor's workflows, so the kernel and the worker never run each other's work. (The kit's
guard allows one process per app; this is a second app, with its own lock.)

Started by :mod:`wfcomm_helpers.worker` as ``python -m wfcomm_helpers.teaching.worker_process PATTERN URL``.
It dies with its parent: PR_SET_PDEATHSIG on Linux, and everywhere a watch on its stdin pipe,
which closes when the parent process ends. Its output goes to a log file, never to a cell.

Each execution of the kit's CPU step appends two lines (start, end) to the step journal, so a
learner can see which step ran twice: DBOS records a step's *result* once, not its attempts.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runtime.settings import (
    app_name,
    application_version,
    data_dir,
    executor_id,
    sqlite_polling_interval,
)

#: How often the worker's queue is polled for a workflow the kernel enqueued (seconds).
WORKER_QUEUE_POLLING_SEC = 0.2
#: The command-line module the manager runs (also how it recognises its worker in ``ps``).
MODULE = "wfcomm_helpers.teaching.worker_process"
PATTERNS = ("events", "messaging", "streaming")


@dataclass(frozen=True)
class WorkerSpec:
    """Where one pattern's worker runs and writes (all files in the kit's data folder)."""

    pattern: str

    @property
    def app(self) -> str:
        """``wfcomm-events-worker``: the worker's DBOS application name and queue. With a
        WFCOMM_EXECUTOR_ID (workshop learners on one PostgreSQL server) the id is part of it:
        DBOS hands a recovered workflow to any process of its app, so each learner's worker
        needs an app of its own."""
        learner = executor_id()
        if learner == "local":
            return app_name(self.pattern) + "-worker"
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in learner)
        return f"{app_name(self.pattern)}-{safe}-worker"

    @property
    def kernel_app(self) -> str:
        """``wfcomm-events``: the notebook's app, whose database the worker shares."""
        return app_name(self.pattern)

    @property
    def executor(self) -> str:
        return f"{executor_id()}-worker"

    def _file(self, suffix: str) -> Path:
        return data_dir() / f"{self.app}{suffix}"

    @property
    def pid_file(self) -> Path:
        return self._file(".pid")

    @property
    def lock_file(self) -> Path:
        return self._file(".lock")

    @property
    def log_file(self) -> Path:
        return self._file(".log")

    @property
    def journal(self) -> Path:
        """The step journal: one JSON line per step start and end."""
        return self._file(".steps.jsonl")


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line (opened per line, so a SIGKILL loses at most the line in flight)."""
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def die_with_parent() -> None:
    """Exit when the parent process (the kernel) ends, however it ends."""
    if sys.platform.startswith("linux"):
        try:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # the stdin watch below still covers it

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns when the parent's end of the pipe closes
        os._exit(0)

    threading.Thread(target=watch_stdin, name="wfcomm-parent-watch", daemon=True).start()


def install_step_journal(spec: WorkerSpec) -> None:
    """Journal each execution of the kit's CPU step (``compute.fibonacci_result``) in this
    process: which workflow, which n, this pid, start and end times (epoch seconds)."""
    from dbos import DBOS

    from ..patterns import compute

    original = compute.fibonacci_result

    def journaled(n: int) -> dict[str, int]:
        line = {"workflow_id": DBOS.workflow_id, "n": n, "pid": os.getpid()}
        append_line(spec.journal, {**line, "event": "start", "time": time.time()})
        result = original(n)
        append_line(spec.journal, {**line, "event": "end", "time": time.time()})
        return result

    compute.fibonacci_result = journaled


def write_pid_file(spec: WorkerSpec, database_url: str, ready: bool) -> None:
    record = {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "app": spec.app,
        "database": database_url,
        "ready": ready,
    }
    tmp = spec.pid_file.with_suffix(".pid.tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(spec.pid_file)


def _register_queue_before_launch(spec: WorkerSpec, database_url: str) -> None:
    """Write the worker's queue row before DBOS launches. DBOS's queue manager looks for new
    queue rows at launch and then once a second: a queue registered only after launch is first
    polled about 1 s later, and the kernel's first workflow (or the one recovered after a crash)
    waits that long. Latency only: the same row, with the same settings, is registered after
    launch too. A database not yet set up (no kernel ran on it) just skips this."""
    from dbos import DBOSClient

    try:
        client = DBOSClient(system_database_url=database_url)
    except Exception:  # any failure: DBOS registers the queue again after launch
        return
    try:
        client.register_queue(
            spec.app, polling_interval_sec=WORKER_QUEUE_POLLING_SEC, application_name=spec.app
        )
    except Exception:  # as above
        pass
    finally:
        client.destroy()


async def serve(spec: WorkerSpec, database_url: str) -> None:
    """Launch DBOS as the worker app, say ready in the pid file, run until SIGTERM."""
    from dbos import DBOS

    from ..patterns.registry import import_workflows

    import_workflows()

    config: Any = {
        "name": spec.app,
        "system_database_url": database_url,
        "application_version": application_version(spec.app),
        "executor_id": spec.executor,
        "log_level": "WARNING",
    }
    if database_url.startswith("sqlite"):
        config["notification_listener_polling_interval_sec"] = sqlite_polling_interval()
    await asyncio.to_thread(_register_queue_before_launch, spec, database_url)
    DBOS(config=config)
    DBOS.launch()
    await DBOS.register_queue_async(spec.app, polling_interval_sec=WORKER_QUEUE_POLLING_SEC)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    write_pid_file(spec, database_url, ready=True)
    print(f"worker {os.getpid()} ready: app {spec.app} on {database_url}", flush=True)
    await stop.wait()
    DBOS.destroy()
    spec.pid_file.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    from filelock import FileLock, Timeout

    pattern, database_url = argv
    spec = WorkerSpec(pattern)
    die_with_parent()
    lock = FileLock(str(spec.lock_file), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        print(f"another worker holds {spec.lock_file}: not starting a second one", flush=True)
        return 3
    write_pid_file(spec, database_url, ready=False)
    install_step_journal(spec)
    asyncio.run(serve(spec, database_url))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
