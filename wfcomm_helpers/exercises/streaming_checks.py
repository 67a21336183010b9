"""Notebook 03's exercises: read from an offset without waiting (3.1), follow to the close
and count (3.2), and write and close a stream inside a workflow (3.3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dbos import DBOS, error

from ..patterns.streaming import STREAM_KEY, read_stream_chunk, stream_length, streaming_workflow
from .common import (
    CHECK_FIB_BASE,
    CHECK_STEPS,
    CHECK_TOPIC,
    CheckResult,
    body_done,
    call,
    call_while_it_runs,
    compare,
    host,
    host_result,
    not_async,
    not_running,
    start,
)

#: A read that does not wait returns well within this (s).
NO_WAIT_LIMIT_SECONDS = 3.0
#: The stream exercise 3.3 writes to.
LINES_KEY = "lines"
CHECK_LINES = ["first line", "second line", "third line"]


#: Exercise 3.1's open stream: a streaming workflow paused this long (s) in its first step,
#: with two values written, while the learner's read runs; then it is cancelled.
OPEN_PAUSE_SECONDS = 10.0


async def solution_3_1(workflow_id: str, offset: int) -> list[Any]:
    """Every value from ``offset`` on that exists now, without waiting for more."""
    return (await read_stream_chunk(workflow_id, offset)).values


def _offset_verdict(got: Any, values: list[Any], offset: int) -> CheckResult | None:
    if not isinstance(got, list):
        return CheckResult("3.1", False, f"return a list of values, not {type(got).__name__}.")
    if got == values[offset:]:
        return None
    if offset and got == values:
        return CheckResult("3.1", False, "you returned the whole stream: start at the offset.")
    return CheckResult(
        "3.1",
        False,
        f"expected the {len(values) - offset} values from offset {offset}, got {got!r}.",
    )


async def _open_stream_values() -> tuple[Any, list[Any]]:
    """A streaming workflow paused after its first two values (start, progress 1)."""
    handle = await start(
        streaming_workflow, "exercise-streaming", CHECK_STEPS, CHECK_FIB_BASE, OPEN_PAUSE_SECONDS
    )
    await DBOS.read_stream_offset_async(handle.workflow_id, STREAM_KEY, 1)
    return handle, (await read_stream_chunk(handle.workflow_id, 0)).values


def _named_wait(failed: CheckResult | None) -> CheckResult | None:
    """The two ways of waiting on an open stream, named."""
    if failed is not None and "did not return" in failed.detail:
        return CheckResult(
            "3.1",
            False,
            "it waited on an open stream (a read with no timeout follows it to the close): "
            "return what is there now.",
        )
    if failed is not None and "DBOSStreamTimeoutError" in failed.detail:
        return CheckResult(
            "3.1",
            False,
            "DBOSStreamTimeoutError on an open stream means 'nothing more yet': catch it and "
            "return what you have.",
        )
    return failed


async def check_3_1(read_from: Callable[[str, int], Awaitable[list[Any]]]) -> CheckResult:
    """``read_from(id, k)`` must return the values at offsets k, k+1, ... at once: on a running
    workflow's open stream (k = 1), then on a finished one (k = 3)."""
    if stopped := not_running("3.1"):
        return stopped
    handle, values = await _open_stream_values()
    got, _, failed = await call(
        "3.1", read_from, handle.workflow_id, 1, limit=NO_WAIT_LIMIT_SECONDS
    )
    # The paused workflow is left to finish on its own (about 30 s): cancelled, DBOS would log
    # a traceback into whichever cell runs then.
    if verdict := _named_wait(failed) or _offset_verdict(got, values, 1):
        return verdict
    finished = await start(streaming_workflow, "exercise-streaming", CHECK_STEPS, CHECK_FIB_BASE)
    await finished.get_result()
    values = [v async for v in DBOS.read_stream_async(finished.workflow_id, STREAM_KEY)]
    got, _, failed = await call("3.1", read_from, finished.workflow_id, 3)
    return (
        _named_wait(failed)
        or _offset_verdict(got, values, 3)
        or CheckResult(
            "3.1", True, "the values from the offset at once, on an open and a closed stream."
        )
    )


async def solution_3_2(workflow_id: str) -> dict[str, int]:
    """Follow the stream to its close and count the values of each type."""
    counts: dict[str, int] = {}
    async for value in DBOS.read_stream_async(workflow_id, STREAM_KEY):
        counts[value["type"]] = counts.get(value["type"], 0) + 1
    return counts


async def check_3_2(count_types: Callable[[str], Awaitable[dict[str, int]]]) -> CheckResult:
    """``count_types(id)``, called while the workflow runs, must count every value to the end."""
    if stopped := not_running("3.2"):
        return stopped
    handle, got, _, failed = await call_while_it_runs(
        "3.2", count_types, streaming_workflow, "exercise-streaming"
    )
    if failed:  # the workflow finishes on its own in about a second
        return failed
    await handle.get_result()
    expected = {"start": 1, "progress": CHECK_STEPS, "result": CHECK_STEPS, "complete": 1}
    total = stream_length(CHECK_STEPS)
    if isinstance(got, dict) and "complete" not in got and sum(got.values()) < total - 1:
        return CheckResult(
            "3.2",
            False,
            f"it stopped after {sum(got.values())} of {total} values, before the stream closed: "
            "follow it to the close (no timeout).",
        )
    return compare("3.2", got, expected, "the count per type")


async def solution_3_3(lines: list[str]) -> int:
    """Runs inside a workflow: each line is one value of the ``lines`` stream, then the close."""
    for line in lines:
        await DBOS.write_stream_async("lines", line)
    await DBOS.close_stream_async("lines")
    return len(lines)


async def _read_lines(workflow_id: str) -> tuple[list[Any], bool]:
    """What a client reads from ``lines`` (all is written by now), and whether it was closed:
    on an open stream of a running workflow DBOS's per-value timeout expires."""
    values: list[Any] = []
    try:
        async for value in DBOS.read_stream_async(workflow_id, LINES_KEY, timeout_seconds=1.0):
            values.append(value)
    except error.DBOSStreamTimeoutError:
        return values, False
    return values, True


async def check_3_3(write_lines: Callable[[list[str]], Awaitable[Any]]) -> CheckResult:
    """Run ``write_lines(lines)`` as a workflow's code that then stays running; a client must
    read each line as one value, in order, and find the stream closed."""
    if stopped := not_running("3.3"):
        return stopped
    if bad := not_async("3.3", write_lines):
        return bad
    handle = await host(write_lines, CHECK_LINES, hold_seconds=30.0)
    done = await body_done(handle)
    values, closed = await _read_lines(handle.workflow_id) if done else ([], True)
    await DBOS.send_async(handle.workflow_id, "end", CHECK_TOPIC)
    _, failed = await host_result("3.3", handle, 15)
    if failed:
        return failed
    if values == [CHECK_LINES]:
        return CheckResult(
            "3.3", False, "a reader got 1 value, the whole list: write each line as its own value."
        )
    if not values and closed:
        return CheckResult(
            "3.3", False, "a reader found 'lines' closed and empty: close it after the writes."
        )
    if not closed:
        return CheckResult(
            "3.3",
            False,
            f"a reader got {len(values)} value(s) and then waited: the stream is still open; "
            "end it with close_stream_async.",
        )
    return compare("3.3", values, CHECK_LINES, f"what a reader of {LINES_KEY!r} gets")
