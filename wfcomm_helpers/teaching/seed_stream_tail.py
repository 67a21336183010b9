"""The seed's way of tailing a stream, measured against the kit's, on a long stream.

The seed's GET /workflow-stream read from offset 0 inside ``asyncio.timeout(0.1)``: a total
budget of 0.1 s for the *whole* read, not DBOS's per-value ``timeout_seconds``. A client polled
it. So every poll re-reads every value from the start, and once the stream is long enough (or
the machine busy enough) that reading it takes over 0.1 s, every answer is silently cut short.
The kit remembers its offset and asks only for what came after it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS

from ..patterns.lookup import start_handle
from ..patterns.streaming import STREAM_KEY, read_from_offset
from ..runtime.validation import new_workflow_id

#: The seed's total budget for one read (s).
SEED_BUDGET_SECONDS = 0.1


@DBOS.workflow()
async def burst_stream_workflow(bursts: int, per_burst: int, gap_seconds: float) -> int:
    """Writes ``bursts`` bursts of ``per_burst`` values, a durable pause between bursts; the
    last value has type "complete"; then closes the stream. Returns how many it wrote."""
    total = bursts * per_burst
    for index in range(total):
        if index and index % per_burst == 0:
            await DBOS.sleep_async(gap_seconds)
        kind = "complete" if index == total - 1 else "value"
        await DBOS.write_stream_async(STREAM_KEY, {"type": kind, "index": index})
    await DBOS.close_stream_async(STREAM_KEY)
    return total


async def seed_poll(workflow_id: str) -> list[Any]:
    """One poll the seed's way: everything from offset 0 that fits in a 0.1 s total budget."""
    values: list[Any] = []

    async def read_all() -> None:
        async for value in DBOS.read_stream_async(workflow_id, STREAM_KEY):
            values.append(value)

    try:
        await asyncio.wait_for(read_all(), SEED_BUDGET_SECONDS)
    except asyncio.TimeoutError:
        pass  # the seed's answer: whatever arrived, with no sign that it was cut
    return values


@dataclass
class Tail:
    """One poller's account: polls made, values transferred, the longest answer, whether it
    saw the "complete" value, and when it stopped (s after the start). For the seed's poller,
    ``held`` is how many values the stream already held when each poll began."""

    polls: int = 0
    values_read: int = 0
    longest: int = 0
    saw_end: bool = False
    seconds: float = 0.0
    answers: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)

    def add(self, count: int, saw_end: bool) -> None:
        self.polls += 1
        self.values_read += count
        self.longest = max(self.longest, count)
        self.saw_end = self.saw_end or saw_end
        self.answers.append(count)

    @property
    def cut_short(self) -> int:
        """Answers with fewer values than the stream held when the poll began: truncated. A
        read from offset 0 that ran to the end would have returned at least that many."""
        return sum(1 for count, held in zip(self.answers, self.held) if count < held)


@dataclass(frozen=True)
class TailComparison:
    written: int
    seed: Tail
    kit: Tail

    def lines(self) -> list[str]:
        return [
            f"written: {self.written} values",
            (
                f"kit (offset read): {self.kit.polls} polls, {self.kit.values_read} values read "
                f"(each once), saw the end: {self.kit.saw_end}"
            ),
            (
                f"seed (from 0, 0.1 s budget): {self.seed.polls} polls, {self.seed.values_read} "
                f"values read ({self.seed.values_read / max(self.kit.values_read, 1):.1f}x), "
                f"longest answer {self.seed.longest}, {self.seed.cut_short} of its answers held "
                f"fewer values than the stream already did, saw the end: {self.seed.saw_end}"
            ),
        ]


async def _kit_tail(workflow_id: str, every: float, tail: Tail, began: float) -> None:
    position = 0
    while True:
        chunk = await read_from_offset(workflow_id, position)
        position = chunk.next_offset
        tail.add(len(chunk.values), any(v["type"] == "complete" for v in chunk.values))
        if chunk.closed:
            break
        await asyncio.sleep(every)
    tail.seconds = time.perf_counter() - began


async def _seed_tail(
    workflow_id: str, every: float, tail: Tail, kit: Tail, began: float, stop: float
) -> None:
    while not tail.saw_end and time.perf_counter() - began < stop:
        # The kit's tail has read (so DBOS has committed) this many values before the poll.
        tail.held.append(kit.values_read)
        values = await seed_poll(workflow_id)
        tail.add(len(values), any(v["type"] == "complete" for v in values))
        await asyncio.sleep(every)
    tail.seconds = time.perf_counter() - began


async def compare_tails(
    bursts: int = 5, per_burst: int = 120, gap_seconds: float = 0.3, every: float = 0.1
) -> TailComparison:
    """Tail one bursty stream both ways at once, polling every ``every`` s. The seed's poller
    gives up 2 s after the kit's has seen the close (it may never see the end).

    The default 600 values take DBOS (SQLite, 0.3 to 1 ms a value) 0.18 s or more to read from
    offset 0: over the seed's 0.1 s budget on a fast machine too, so its late answers are cut."""
    handle = await start_handle(
        burst_stream_workflow, new_workflow_id("seed-burst-stream"), bursts, per_burst, gap_seconds
    )
    seed, kit = Tail(), Tail()
    began = time.perf_counter()
    seed_task = asyncio.ensure_future(_seed_tail(handle.workflow_id, every, seed, kit, began, 60.0))
    await _kit_tail(handle.workflow_id, every, kit, began)
    try:
        await asyncio.wait_for(asyncio.shield(seed_task), 2.0)
    except asyncio.TimeoutError:
        seed_task.cancel()
    return TailComparison(await handle.get_result(), seed, kit)
