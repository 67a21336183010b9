"""A crash worker that an earlier kernel left behind: found through its pid file, stopped.

A kernel that dies takes its workers with it (their stdin closes), but a worker can outlive a
kernel killed mid-start. The next kernel stops it before starting its own, so there is never a
second worker for one app.
"""

from __future__ import annotations

import asyncio
import json
import time

import psutil

from .worker_process import MODULE, WorkerSpec


def _stale_worker(spec: WorkerSpec) -> psutil.Process | None:
    """The process the pid file names, if it is alive and really a worker of this app."""
    try:
        record = json.loads(spec.pid_file.read_text())
        proc = psutil.Process(int(record["pid"]))
        cmdline = proc.cmdline()
    except (OSError, ValueError, KeyError, psutil.Error):
        return None
    if MODULE in cmdline and spec.pattern in cmdline:
        return proc
    return None


async def _wait_gone(pid: int, seconds: float, poll_seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.Error:
            return
        await asyncio.sleep(poll_seconds)


async def stop_stale_worker(spec: WorkerSpec, seconds: float, poll_seconds: float) -> str:
    """SIGKILL a worker an earlier kernel left behind and wait (on the loop, looking every
    ``poll_seconds``, at most ``seconds``) until it is gone; returns a sentence to append to a
    notice, or '' if there was none."""
    proc = _stale_worker(spec)
    if proc is None:
        return ""
    proc.kill()
    await _wait_gone(proc.pid, seconds, poll_seconds)
    spec.pid_file.unlink(missing_ok=True)
    return f" (stopped worker {proc.pid} left by an earlier kernel)"
