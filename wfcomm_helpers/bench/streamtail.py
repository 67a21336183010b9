"""What one tail poll costs as a stream grows to 10,000 values.

The seed re-read the whole stream from offset 0 on every poll
(:func:`wfcomm_helpers.teaching.seed_mistakes.seed_stream_snapshot`, including its 0.1 s cut-off); the
kit asks only for what came after the offset it already has: the call
:func:`wfcomm_helpers.patterns.streaming.read_from_offset` (``offset=k, timeout_seconds=0``,
the read :func:`~wfcomm_helpers.patterns.streaming.read_stream_chunk` makes),
here on a bench workflow that writes far more than the kit's 100-step limit allows.
"""

from __future__ import annotations

import time
from typing import Any

from dbos import DBOS

from ..patterns.lookup import start_handle
from ..patterns.streaming import STREAM_KEY, read_from_offset
from ..teaching.seed_mistakes import seed_stream_snapshot
from .hops import TOPIC, new_id
from .stats import percentile


@DBOS.workflow()
async def bench_long_stream(checkpoints: list[int]) -> int:
    """Write values up to each checkpoint, then wait for a message before going on."""
    written = 0
    for target in checkpoints:
        while written < target:
            await DBOS.write_stream_async(STREAM_KEY, {"i": written})
            written += 1
        await DBOS.recv_async(TOPIC, 600)
    await DBOS.close_stream_async(STREAM_KEY)
    return written


async def kit_poll(wid: str, offset: int) -> list[Any]:
    """One kit poll: the kit's own offset read (:func:`read_from_offset`, what
    :func:`read_stream_chunk` calls after its one-time id check)."""
    return (await read_from_offset(wid, offset)).values


async def _timed(reader: Any, repeats: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        count = len(await reader())
        times.append(time.perf_counter() - began)
    return percentile(times, 50) * 1000, count


async def _wait_for_length(wid: str, length: int) -> None:
    """Block (DBOS's own wait) until the value at offset ``length - 1`` exists."""
    async for _ in DBOS.read_stream_async(wid, STREAM_KEY, offset=length - 1):
        return


async def measure(checkpoints: list[int], repeats: int) -> list[dict[str, float]]:
    """Per checkpoint length: median ms of one seed poll and one kit poll for the newest value."""
    wid = new_id("long-stream")
    handle = await start_handle(bench_long_stream, wid, checkpoints)
    rows = []
    for length in checkpoints:
        await _wait_for_length(wid, length)
        seed_ms, seed_values = await _timed(lambda: seed_stream_snapshot(wid), repeats)
        kit_ms, kit_values = await _timed(lambda: kit_poll(wid, length - 1), repeats)
        assert (seed_values, kit_values) == (length, 1), (seed_values, kit_values, length)
        rows.append({"length": length, "seed_ms": seed_ms, "kit_ms": kit_ms})
        await DBOS.send_async(wid, {"go": True}, TOPIC)
    await handle.get_result()
    return rows
