"""Idle CPU: what a kernel costs while its workflows wait, per SQLite polling interval.

On SQLite one DBOS thread polls every waiting key each interval (no LISTEN/NOTIFY), so the
cost grows with the number of waiters and falls with a longer interval. Two loads:
- ``workflows``: that many workflows blocked in ``recv`` (the messaging notebook's wait);
- ``panels``: that many sets of one live panel per pattern: a workflow blocked in ``recv``, a
  client blocked in ``get_event`` and a client tailing an open stream. The stream already has a
  value, so DBOS's poll finds a row and wakes the tail to re-read every interval: the dearest.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import psutil
from dbos import DBOS

from ..patterns.lookup import start_handle
from .hops import STREAM, TOPIC, bench_receiver, bench_stream_writer, new_id

HOUR = 3600.0


async def _tail(wid: str) -> None:
    async for _ in DBOS.read_stream_async(wid, STREAM):
        pass


@dataclass
class Waiters:
    receivers: list[str] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)
    tasks: list[asyncio.Task[object]] = field(default_factory=list)

    async def end(self) -> None:
        """Release every waiter, so the next load starts from none."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for receiver in self.receivers:
            await DBOS.send_async(receiver, {"done": True}, TOPIC)
        for writer in self.writers:
            await DBOS.cancel_workflow_async(writer)


async def _waiters(load: str, count: int) -> Waiters:
    waiters = Waiters()
    for _ in range(count):
        receiver = new_id("idle-recv")
        await start_handle(bench_receiver, receiver, 1, HOUR)
        waiters.receivers.append(receiver)
        if load == "workflows":
            continue
        writer = new_id("idle-stream")
        await start_handle(bench_stream_writer, writer, [0.0, HOUR])
        waiters.writers.append(writer)
        waiters.tasks.append(asyncio.ensure_future(DBOS.get_event_async(receiver, "never", HOUR)))
        waiters.tasks.append(asyncio.ensure_future(_tail(writer)))
    return waiters


LOADS = ("workflows", "panels")


async def measure(load: str, count: int, seconds: float) -> float:
    """Percent of one core this process uses over ``seconds`` with the load waiting."""
    waiters = await _waiters(load, count)
    await asyncio.sleep(0.5)  # let every waiter block and the first stream value land
    process = psutil.Process()
    before_cpu, before = process.cpu_times(), time.perf_counter()
    await asyncio.sleep(seconds)
    after_cpu, after = process.cpu_times(), time.perf_counter()
    await waiters.end()
    used = (after_cpu.user + after_cpu.system) - (before_cpu.user + before_cpu.system)
    return 100 * used / (after - before)
