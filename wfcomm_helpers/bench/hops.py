"""Hop latency: from the client action to the value being visible to a reader already waiting.

Three paths, one per pattern, each timed with ``time.perf_counter`` in one process:
- send -> waiting recv: the client sends, the workflow's ``recv_async`` returns;
- set_event -> waiting reader: the workflow sets a key a client's ``get_event_async`` waits on;
- stream write -> tailing reader: the workflow writes, a ``read_stream_async`` loop yields it.
The gap before each hop is 30 ms plus a random part as long as the polling interval, so each
hop lands at a random phase of SQLite's polling loop, as a click does (a fixed gap would land
every hop at the same phase, just after the poll that woke the previous reader). The raw DBOS API is used, so only the configuration differs.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from dbos import DBOS

from ..patterns.lookup import start_handle

TOPIC = "bench"
STREAM = "bench"
PATHS = ("send -> recv", "set_event -> get_event", "write_stream -> tail")

#: Per workflow id, the perf_counter marks its body records (arrivals or writes).
_marks: defaultdict[str, asyncio.Queue[float]] = defaultdict(asyncio.Queue)


def _mark() -> None:
    _marks[DBOS.workflow_id or ""].put_nowait(time.perf_counter())


@DBOS.workflow()
async def bench_receiver(n: int, timeout: float) -> int:
    """Receives ``n`` times; returns how many messages arrived (a timeout gives None)."""
    received = 0
    for _ in range(n):
        received += await DBOS.recv_async(TOPIC, timeout) is not None
        _mark()
    return received


@DBOS.workflow()
async def bench_event_writer(gaps: list[float]) -> int:
    for i, gap in enumerate(gaps):
        await asyncio.sleep(gap)
        _mark()
        await DBOS.set_event_async(f"hop{i}", i)
    return len(gaps)


@DBOS.workflow()
async def bench_stream_writer(gaps: list[float]) -> int:
    for i, gap in enumerate(gaps):
        await asyncio.sleep(gap)
        _mark()
        await DBOS.write_stream_async(STREAM, i)
    await DBOS.close_stream_async(STREAM)
    return len(gaps)


@dataclass(frozen=True)
class Pace:
    """The gap before each hop: ``least`` seconds plus a random part up to ``spread``."""

    spread: float
    least: float = 0.03

    def gaps(self, n: int) -> list[float]:
        return [self.least + random.uniform(0, self.spread) for _ in range(n)]


def new_id(kind: str) -> str:
    return f"bench-{kind}-{uuid.uuid4().hex[:8]}"


@dataclass
class PathRun:
    """One path's latency samples (seconds) and how many values the database holds after."""

    latencies: list[float]
    found: int


async def send_to_recv(n: int, pace: Pace) -> PathRun:
    wid = new_id("recv")
    handle = await start_handle(bench_receiver, wid, n, 60.0)
    latencies = []
    for i, gap in enumerate(pace.gaps(n)):
        await asyncio.sleep(gap)
        sent = time.perf_counter()
        await DBOS.send_async(wid, {"hop": i}, TOPIC)
        latencies.append(await asyncio.wait_for(_marks[wid].get(), 60) - sent)
    return PathRun(latencies, found=await handle.get_result())


async def set_event_to_reader(n: int, pace: Pace) -> PathRun:
    wid = new_id("event")
    handle = await start_handle(bench_event_writer, wid, pace.gaps(n))
    latencies = []
    for i in range(n):
        await DBOS.get_event_async(wid, f"hop{i}", 60)
        seen = time.perf_counter()
        latencies.append(seen - await asyncio.wait_for(_marks[wid].get(), 60))
    await handle.get_result()
    events = await DBOS.get_all_events_async(wid)
    return PathRun(latencies, found=n if events == {f"hop{i}": i for i in range(n)} else -1)


async def write_to_tail(n: int, pace: Pace) -> PathRun:
    wid = new_id("stream")
    handle = await start_handle(bench_stream_writer, wid, pace.gaps(n))
    latencies = []
    async for _ in DBOS.read_stream_async(wid, STREAM):
        seen = time.perf_counter()
        latencies.append(seen - await asyncio.wait_for(_marks[wid].get(), 60))
    await handle.get_result()
    stored = [value async for value in DBOS.read_stream_async(wid, STREAM)]
    return PathRun(latencies, found=len(stored) if stored == list(range(n)) else -1)


async def measure(n: int, pace: Pace) -> dict[str, dict[str, Any]]:
    """Per path, one after the other: latency samples (s) and values found afterwards."""
    runs = [
        await send_to_recv(n, pace),
        await set_event_to_reader(n, pace),
        await write_to_tail(n, pace),
    ]
    return {path: asdict(run) for path, run in zip(PATHS, runs)}
