"""The seed experiment's wrong designs, as runnable code, and small measurements that show them.

Each notebook's "Where the experiment was wrong" cells call these functions and print what they
return; the tests assert on the same values. Nothing here is a pattern to copy: it is kept so a
learner can *see* each mistake happen instead of being told about it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbos import DBOS, StepOptions, error

from ..patterns.compute import FIBONACCI_STEP
from ..patterns.events import events_workflow
from ..patterns.lookup import start_handle
from ..patterns.messaging import TOPIC
from ..patterns.streaming import STREAM_KEY, read_from_offset
from ..runtime import validation
from ..runtime.health import LoopLagMonitor
from ..runtime.validation import new_workflow_id

# The seed's messaging mistakes live in seed_messages and its nest-asyncio advice in
# seed_nest_asyncio; a notebook reaches them from here.
from .seed_messages import (
    EarlySend as EarlySend,
    cancelled_is_success as cancelled_is_success,
    late_recv_workflow as late_recv_workflow,
    message_counter_workflow as message_counter_workflow,
    retried_send as retried_send,
    send_before_recv as send_before_recv,
    send_to_unknown_id as send_to_unknown_id,
)
from .seed_nest_asyncio import nest_asyncio_demo as nest_asyncio_demo

# --- The seed's CPU work on the event loop ------------------------------------------------------


async def seed_async_fibonacci(n: int) -> int:
    """The seed's recursive ``async def`` Fibonacci. Awaiting a coroutine never yields to the
    loop, so the whole computation runs as one uninterrupted slice of the event loop."""
    if n < 2:
        return n
    return await seed_async_fibonacci(n - 1) + await seed_async_fibonacci(n - 2)


async def seed_fibonacci_result(n: int) -> dict[str, int]:
    return {"n": n, "fibonacci": await seed_async_fibonacci(n)}


SEED_FIBONACCI_STEP: StepOptions = {"name": "seed_fibonacci_step", "retries_allowed": True}
#: The Fibonacci steps' names, the seed's and the kit's, as DBOS records them.
_FIBONACCI_STEP_NAMES = {SEED_FIBONACCI_STEP["name"], FIBONACCI_STEP["name"]}


@DBOS.workflow()
async def seed_cpu_on_loop_workflow(n_steps: int, fib_base: int) -> list[dict[str, int]]:
    """The seed's design: an async step that computes on the event loop. Do not copy."""
    return [
        await DBOS.run_step_async(
            SEED_FIBONACCI_STEP,
            seed_fibonacci_result,
            fib_base + i,
        )
        for i in range(n_steps)
    ]


@dataclass(frozen=True)
class LoopLagRun:
    """One workflow run measured from the loop's point of view."""

    label: str
    seconds: float
    max_lag_ms: float
    #: How long a tiny events workflow started alongside took to finish.
    other_workflow_ms: float
    #: Every lag sample (ms), one per LAG_INTERVAL_MS, for a plot (wfcomm_helpers.timeline).
    samples_ms: tuple[float, ...] = ()
    #: The longest Fibonacci step (ms), from its start and end as DBOS recorded them.
    longest_step_ms: float = 0.0

    def line(self) -> str:
        return (
            f"{self.label}: ran {self.seconds:.2f} s, longest step {self.longest_step_ms:.0f} ms, "
            f"loop lag up to {self.max_lag_ms:.0f} ms, a 1-step workflow started alongside took "
            f"{self.other_workflow_ms:.0f} ms"
        )

    @property
    def loop_stood_still(self) -> bool:
        """True when the loop did not tick for most (80 %) of the longest step: the step held
        it. Relative to the step itself, so a loaded machine slows both sides alike."""
        return self.max_lag_ms >= 0.8 * self.longest_step_ms


#: How often the loop-lag comparison samples the loop (ms).
LAG_INTERVAL_MS = 5.0


async def _run_and_measure(label: str, start: Callable[[], Any]) -> LoopLagRun:
    monitor = LoopLagMonitor(interval=LAG_INTERVAL_MS / 1000, keep=100_000).start()
    await asyncio.sleep(0.02)  # let the monitor take its first samples
    monitor.reset()
    began = time.perf_counter()
    handle = await start()
    other_began = time.perf_counter()
    await (await start_handle(events_workflow, new_workflow_id("events"), 1, 0)).get_result()
    other_ms = (time.perf_counter() - other_began) * 1000
    await handle.get_result()
    seconds = time.perf_counter() - began
    await asyncio.sleep(0.02)
    monitor.stop()
    steps = await DBOS.list_workflow_steps_async(handle.workflow_id)
    longest_ms = max(
        (s["completed_at_epoch_ms"] or 0) - (s["started_at_epoch_ms"] or 0)
        for s in steps
        if s["function_name"] in _FIBONACCI_STEP_NAMES
    )
    return LoopLagRun(
        label, seconds, monitor.max_ms, other_ms, tuple(monitor.samples_ms), float(longest_ms)
    )


async def compare_loop_lag(n_steps: int = 3, fib_base: int = 25) -> tuple[LoopLagRun, LoopLagRun]:
    """Run the seed's on-loop workflow, then the kit's events workflow, with the same work."""
    steps, base = validation.workload(n_steps, fib_base)

    return (
        await _run_and_measure(
            "seed (async Fibonacci on the loop)",
            lambda: start_handle(
                seed_cpu_on_loop_workflow, new_workflow_id("seed-cpu"), steps, base
            ),
        ),
        await _run_and_measure(
            "kit (sync step in a worker thread)",
            lambda: start_handle(events_workflow, new_workflow_id("events"), steps, base),
        ),
    )


# --- Sync DBOS calls in a running loop ---------------------------------------------------------


@dataclass(frozen=True)
class HeldRead:
    """The seed's synchronous ``get_event``, emulated: what it returned after holding the loop
    ``held_seconds``, and how soon the async read had the result once the loop was free."""

    value: Any
    held_seconds: float
    result_after_seconds: float

    def line(self) -> str:
        return (
            f"sync get_event held the loop {self.held_seconds:.2f} s and returned {self.value!r}; "
            f"with the loop free, get_event_async had the result {self.result_after_seconds:.2f} s later"
        )


async def get_event_holding_the_loop(timeout_seconds: float = 1.5) -> HeldRead:
    """Start a one-step events workflow on this loop, then wait for its ``result`` the seed's
    way: a blocking ``get_event`` that holds the loop (dbos 3.4 refuses it on the loop, so it
    runs in a thread while the loop thread blocks on it). The workflow cannot run meanwhile:
    the read waits its whole timeout and returns None."""
    handle = await start_handle(
        events_workflow, new_workflow_id("events"), 1, 20, 0.2
    )  # pauses 0.2 s first
    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        read = pool.submit(DBOS.get_event, handle.workflow_id, "result", timeout_seconds)
        value = read.result()  # blocks the loop thread, as the seed's call did
    held = time.perf_counter() - began
    freed = time.perf_counter()
    await DBOS.get_event_async(handle.workflow_id, "result", 30)
    return HeldRead(value, held, time.perf_counter() - freed)


def sync_call_error(call: Callable[[], Any]) -> str:
    """Run a synchronous DBOS call and return what it raised, in one line."""
    try:
        call()
    except RuntimeError as exc:
        return f"RuntimeError: {exc}"
    return "no error"


async def seed_sync_calls(workflow_id: str) -> dict[str, str]:
    """The seed's synchronous calls, made where a cell or a callback makes them: in a running
    event loop. dbos >= 2.10 refuses each one before touching the database."""
    assert asyncio.get_running_loop()
    return {
        "DBOS.get_event": sync_call_error(lambda: DBOS.get_event(workflow_id, "status", 0)),
        "DBOS.send": sync_call_error(lambda: DBOS.send(workflow_id, {"approved": True}, TOPIC)),
        "DBOS.read_stream": sync_call_error(
            lambda: list(DBOS.read_stream(workflow_id, STREAM_KEY))
        ),
    }


# --- Streams: a follow waits for the close; an offset read returns at once ----------------------


@dataclass(frozen=True)
class StreamReadTiming:
    offset_read_seconds: float
    offset_read_values: int
    offset_read_closed: bool
    seed_snapshot_values: int
    follow_seconds: float
    follow_values: int

    def lines(self) -> list[str]:
        return [
            (
                f"offset read (timeout_seconds=0): {self.offset_read_values} value(s) in "
                f"{self.offset_read_seconds * 1000:.0f} ms, closed={self.offset_read_closed}"
            ),
            (
                f"seed's snapshot (read_stream, 0.1 s timeout): {self.seed_snapshot_values} "
                "value(s), no sign that it was cut short"
            ),
            (
                f"read_stream with no timeout: {self.follow_values} value(s) after "
                f"{self.follow_seconds:.2f} s (it waited for the close)"
            ),
        ]


async def seed_stream_snapshot(workflow_id: str) -> list[Any]:
    """The seed's GET /workflow-stream: read from offset 0 and stop at a 0.1 s gap. A slow step
    silently truncates the answer, and every poll re-reads everything from 0."""
    values: list[Any] = []
    try:
        async for value in DBOS.read_stream_async(workflow_id, STREAM_KEY, timeout_seconds=0.1):
            values.append(value)
    except error.DBOSStreamTimeoutError:
        pass
    return values


@DBOS.workflow()
async def paced_stream_workflow(n_values: int, gap_seconds: float) -> int:
    """Writes ``n_values`` values to the stream, one every ``gap_seconds`` (a durable sleep
    stands in for a slow step, so the timing is the same on every machine), then closes it."""
    for i in range(n_values):
        if i:
            await DBOS.sleep_async(gap_seconds)
        await DBOS.write_stream_async(STREAM_KEY, {"type": "value", "index": i})
    await DBOS.close_stream_async(STREAM_KEY)
    return n_values


async def compare_stream_reads(n_values: int = 4, gap_seconds: float = 0.3) -> StreamReadTiming:
    """Start a stream that gains a value every ``gap_seconds`` and read it three ways."""
    handle = await start_handle(
        paced_stream_workflow, new_workflow_id("seed-paced-stream"), n_values, gap_seconds
    )
    wid = handle.workflow_id
    await DBOS.read_stream_offset_async(wid, STREAM_KEY, 0)  # wait for the first value
    began = time.perf_counter()
    chunk = await read_from_offset(wid, 0)
    offset_seconds = time.perf_counter() - began
    snapshot = await seed_stream_snapshot(wid)
    began = time.perf_counter()
    followed = [value async for value in DBOS.read_stream_async(wid, STREAM_KEY)]
    return StreamReadTiming(
        offset_read_seconds=offset_seconds,
        offset_read_values=len(chunk.values),
        offset_read_closed=chunk.closed,
        seed_snapshot_values=len(snapshot),
        follow_seconds=time.perf_counter() - began,
        follow_values=len(followed),
    )
