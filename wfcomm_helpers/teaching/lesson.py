"""Measurements the notebooks make in front of the learner, so each claim is a number printed
(and asserted) in the cell rather than a sentence in the prose.

Everything here is awaited: nothing blocks the kernel's event loop (a second process runs
through ``asyncio.create_subprocess_exec``, not ``!`` or ``subprocess.run``).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS

from ..patterns.events import WorkflowEvent, events_workflow
from ..runtime import lifecycle as runtime, wakeup
from ..runtime.health import LoopLagMonitor
from ..runtime.settings import sqlite_polling_interval

#: DBOS's own default for ``notification_listener_polling_interval_sec`` (SQLite), in seconds.
DBOS_DEFAULT_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class CommandRun:
    """A ``wfcomm`` command run in a second process: its exit code, output, and the event
    loop's worst lag while this kernel waited for it (ms)."""

    exit_code: int
    output: str
    max_lag_ms: float


async def run_cli(*args: str) -> CommandRun:
    """Run ``python -m wfcomm_helpers.cli *args`` in a second process and print its output;
    the kernel's loop keeps running meanwhile (unlike a ``!`` cell, which holds it)."""
    monitor = LoopLagMonitor(interval=0.02).start()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wfcomm_helpers.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    monitor.stop()
    text = out.decode("utf-8", "replace").rstrip()
    print(text)
    return CommandRun(process.returncode or 0, text, monitor.max_ms)


@dataclass
class StatusPoll:
    """What a poller of the ``status`` event saw: each distinct value, and how many reads."""

    seen: list[Any] = field(default_factory=list)
    reads: int = 0


async def poll_status(workflow_id: str, every_seconds: float) -> StatusPoll:
    """Read ``status`` (without waiting) every ``every_seconds`` until it says completed."""
    poll = StatusPoll()
    while not poll.seen or poll.seen[-1] != "completed":
        value = await DBOS.get_event_async(workflow_id, WorkflowEvent.STATUS.value, 0)
        poll.reads += 1
        if value is not None and (not poll.seen or value != poll.seen[-1]):
            poll.seen.append(value)
        await asyncio.sleep(every_seconds)
    return poll


def expected_statuses(n_steps: int) -> list[str]:
    """Every value the events workflow gives ``status``, in order."""
    return ["started", *(f"processing_step_{i + 1}" for i in range(n_steps)), "completed"]


@DBOS.workflow()
async def hop_workflow() -> str:
    """Waits (durably) a moment, then sets the event ``hop`` once."""
    await DBOS.sleep_async(0.2)
    await DBOS.set_event_async("hop", time.time())
    return "set"


async def _one_hop() -> float:
    """Seconds from the workflow's set_event commit to a waiting get_event returning."""
    handle = await DBOS.start_workflow_async(hop_workflow)
    stamp = await DBOS.get_event_async(handle.workflow_id, "hop", 10)
    woke = time.time()
    await handle.get_result()
    return woke - stamp


@dataclass(frozen=True)
class HopTimes:
    """One event hop timed with the kit's same-process wake-up and with DBOS's poll alone."""

    with_wakeup_ms: float
    poll_only_ms: float | None
    poll_interval_s: float | None

    def lines(self) -> list[str]:
        lines = [f"with the kit's wake-up at commit: {self.with_wakeup_ms:.0f} ms"]
        if self.poll_only_ms is None:
            lines.append("PostgreSQL: DBOS's LISTEN/NOTIFY wakes the reader (no poll)")
            return lines
        lines += [
            f"DBOS's poll alone, every {self.poll_interval_s:g} s (the kit's setting): "
            f"{self.poll_only_ms:.0f} ms",
            f"DBOS's default poll is every {DBOS_DEFAULT_POLL_SECONDS:g} s: a plain DBOS app "
            f"on SQLite waits up to {DBOS_DEFAULT_POLL_SECONDS * 1000:.0f} ms for this hop",
        ]
        return lines


async def time_event_hop() -> HopTimes:
    """Time a set_event -> waiting get_event hop with the wake-up, then (SQLite) without it."""
    with_wakeup = await _one_hop()
    if not runtime.current().target.is_sqlite or not wakeup.is_installed():
        return HopTimes(with_wakeup * 1000, None, None)
    wake_receivers = wakeup.wakes_receivers()
    wakeup.uninstall()
    try:
        poll_only = await _one_hop()
    finally:
        wakeup.install(wake_receivers=wake_receivers)
    return HopTimes(with_wakeup * 1000, poll_only * 1000, sqlite_polling_interval())


async def wait_in_recv(workflow_id: str, timeout_seconds: float = 60.0) -> float:
    """Wait until the workflow is inside ``recv``: DBOS registers the waiter, checks for a
    message, then records the recv's deadline (a ``DBOS.sleep`` row in ``operation_outputs``),
    so once that row exists a send wakes a waiting ``recv``. Polls the workflow's steps every
    20 ms; returns the seconds it waited. Raises TimeoutError after ``timeout_seconds``."""

    async def deadline_recorded() -> None:
        while not any(
            step["function_name"] == "DBOS.sleep"
            for step in await DBOS.list_workflow_steps_async(workflow_id)
        ):
            await asyncio.sleep(0.02)

    began = time.perf_counter()
    await asyncio.wait_for(deadline_recorded(), timeout_seconds)
    return time.perf_counter() - began


async def events_run(n_steps: int, pause_seconds: float, fib_base: int = 20) -> Any:
    """Start a paced events workflow; returns its handle."""
    return await DBOS.start_workflow_async(events_workflow, n_steps, fib_base, pause_seconds)
