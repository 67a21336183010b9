"""Pattern 3, streaming: the workflow appends to an ordered, durable log; clients tail it.

Values get offsets 0, 1, 2, ...; reading never consumes, so any number of readers can read
any part any number of times. ``DBOS.read_stream`` yields values until the stream is closed or
the workflow ends: it is a *follow*, not a snapshot. For a snapshot, remember your offset and
ask for what came after it (:func:`read_stream_chunk`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from dbos import DBOS, error

from ..runtime import validation
from ..runtime.errors import UnknownWorkflowError
from ..runtime.settings import sqlite_polling_interval
from .compute import DEFAULT_FIB_BASE, fibonacci_step
from .lookup import Backend, start_stepped, workflow_summary

STREAM_KEY = "progress_stream"


def stream_length(n_steps: int) -> int:
    """start + (progress, result) per step + complete."""
    return 2 * n_steps + 2


def _entry(kind: str, **fields: Any) -> dict[str, Any]:
    return {"timestamp": time.time(), "type": kind, **fields}


@DBOS.workflow()
async def streaming_workflow(
    n_steps: int, fib_base: int = DEFAULT_FIB_BASE, pause_seconds: float = 0.0
) -> list[dict[str, int]]:
    """Writes exactly 2N+2 values to ``progress_stream``, then closes it.

    ``pause_seconds`` > 0 adds a durable ``DBOS.sleep_async`` after each "progress" value."""
    await DBOS.write_stream_async(STREAM_KEY, _entry("start", message=f"Starting {n_steps} steps"))
    results = []
    for i in range(n_steps):
        step = i + 1
        await DBOS.write_stream_async(
            STREAM_KEY,
            _entry(
                "progress",
                step=step,
                total_steps=n_steps,
                message=f"Processing step {step}/{n_steps}",
            ),
        )
        if pause_seconds:
            await DBOS.sleep_async(pause_seconds)
        result = await fibonacci_step(fib_base + i)
        results.append(result)
        await DBOS.write_stream_async(STREAM_KEY, _entry("result", step=step, result=result))
    await DBOS.write_stream_async(
        STREAM_KEY,
        _entry("complete", message=f"Completed {n_steps} steps", total_results=len(results)),
    )
    await DBOS.close_stream_async(STREAM_KEY)
    return results


WORKFLOW_NAME = streaming_workflow.__qualname__


async def start_streaming(
    n_steps: int,
    workflow_id: str | None = None,
    *,
    fib_base: int = DEFAULT_FIB_BASE,
    pause_seconds: float = 0.0,
    backend: Backend = DBOS,
) -> str:
    """Start a streaming workflow; returns its id. ``pause_seconds``: durable pause per step."""
    return await start_stepped(
        streaming_workflow, "streaming", n_steps, workflow_id, fib_base, pause_seconds, backend
    )


@dataclass(frozen=True)
class StreamChunk:
    """What a snapshot read returns: the new values, where to continue, and whether more can
    ever come (closed, or the workflow ended)."""

    values: list[Any] = field(default_factory=list)
    offset: int = 0
    next_offset: int = 0
    closed: bool = False


async def read_stream_chunk(
    workflow_id: str, offset: int = 0, *, backend: Backend = DBOS
) -> StreamChunk:
    """Every value from ``offset`` on that exists now; returns at once.

    With ``timeout_seconds=0`` DBOS yields the values already written, then either ends (the
    stream is closed or the workflow is done) or raises ``DBOSStreamTimeoutError`` (more may
    come). Nothing is re-read: the next call starts at ``next_offset``.
    """
    start = validation.offset(offset)
    await workflow_summary(workflow_id, expected=WORKFLOW_NAME, backend=backend)
    try:
        return await read_from_offset(workflow_id, start, backend=backend)
    except error.DBOSNonExistentWorkflowError:
        raise UnknownWorkflowError(workflow_id) from None


async def read_from_offset(
    workflow_id: str, offset: int, *, backend: Backend = DBOS
) -> StreamChunk:
    """The offset read itself, on any workflow's ``STREAM_KEY`` stream (no checks: see
    :func:`read_stream_chunk`). ``timeout_seconds=0``: the values that exist now, then the
    stream's end (``closed``) or DBOS's ``DBOSStreamTimeoutError`` (more may come)."""
    values: list[Any] = []
    closed = True
    try:
        async for value in backend.read_stream_async(
            workflow_id, STREAM_KEY, offset=offset, timeout_seconds=0
        ):
            values.append(value)
    except error.DBOSStreamTimeoutError:
        closed = False
    return StreamChunk(
        values=values, offset=offset, next_offset=offset + len(values), closed=closed
    )


async def follow_stream(
    workflow_id: str, offset: int = 0, *, backend: Backend = DBOS
) -> AsyncIterator[tuple[int, Any]]:
    """Yield ``(offset, value)`` live as the workflow writes, until the stream is closed."""
    position = validation.offset(offset)
    await workflow_summary(workflow_id, expected=WORKFLOW_NAME, backend=backend)
    # In another process (a DBOSClient) the reader re-reads at DBOS's default of every 1 s:
    # the kit's interval makes a terminal's tail as lively as a notebook's view of a terminal.
    interval = None if backend is DBOS else sqlite_polling_interval()
    try:
        async for value in backend.read_stream_async(
            workflow_id, STREAM_KEY, offset=position, polling_interval_sec=interval
        ):
            yield position, value
            position += 1
    except error.DBOSNonExistentWorkflowError:
        raise UnknownWorkflowError(workflow_id) from None
