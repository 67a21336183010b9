"""The notebooks' exercises: a check per exercise and its reference solution.

A check runs the learner's function against a real workflow and returns one line: passed, or
what is wrong. CI runs every check against the reference solution below, so a solution that
stops working (or a check that stops accepting a right answer) fails the build.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dbos import DBOS

from .events import WorkflowEvent, start_events
from .lookup import workflow_result
from .messaging import TOPIC, approval, start_messaging
from .seed_mistakes import message_counter_workflow
from .streaming import STREAM_KEY, read_stream_chunk, start_streaming
from .widgets.common import one_line

#: Small numbers so a check takes a fraction of a second.
CHECK_STEPS = 3
CHECK_FIB_BASE = 12
#: A learner's function gets this long before the check gives up on it.
CHECK_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    passed: bool
    detail: str

    @property
    def line(self) -> str:
        mark = "✔ passed" if self.passed else "✘ not yet"
        return f"Exercise {self.exercise} {mark}: {self.detail}"

    def __repr__(self) -> str:
        return self.line


async def _call(
    exercise: str, func: Callable[..., Awaitable[Any]], *args: Any
) -> tuple[Any, CheckResult | None]:
    """Call the learner's function; turn every way it can fail into one line."""
    if not asyncio.iscoroutinefunction(func):
        return None, CheckResult(
            exercise, False, f"{getattr(func, '__name__', func)} must be an `async def` function."
        )
    try:
        return await asyncio.wait_for(func(*args), CHECK_TIMEOUT_SECONDS), None
    except NotImplementedError:
        return None, CheckResult(exercise, False, "the stub is still there: write the function.")
    except asyncio.TimeoutError:
        return None, CheckResult(
            exercise,
            False,
            f"it did not return within {CHECK_TIMEOUT_SECONDS:g} s "
            "(is it waiting for something that never comes?).",
        )
    except Exception as exc:
        return None, CheckResult(exercise, False, f"it raised {one_line(exc)}")


def _compare(exercise: str, got: Any, expected: Any, what: str) -> CheckResult:
    if got == expected:
        return CheckResult(exercise, True, f"{what} is {expected!r}.")
    return CheckResult(exercise, False, f"expected {what} to be {expected!r}, got {got!r}.")


# --- 01 events -----------------------------------------------------------------------------------


async def solution_1_1(workflow_id: str) -> Any:
    """The current value of the ``status`` event, without waiting."""
    return await DBOS.get_event_async(workflow_id, WorkflowEvent.STATUS.value, 0)


async def check_1_1(current_status: Callable[[str], Awaitable[Any]]) -> CheckResult:
    """``current_status(id)`` must return the status event of a finished workflow at once."""
    workflow_id = await start_events(CHECK_STEPS, fib_base=CHECK_FIB_BASE)
    await workflow_result(workflow_id)
    got, failed = await _call("1.1", current_status, workflow_id)
    return failed or _compare("1.1", got, "completed", "the status of a finished workflow")


async def solution_1_2(workflow_id: str) -> Any:
    """Wait (up to 10 s) for the ``result`` event: get_event blocks until it is set."""
    return await DBOS.get_event_async(workflow_id, WorkflowEvent.RESULT.value, 10)


async def check_1_2(wait_for_result: Callable[[str], Awaitable[Any]]) -> CheckResult:
    """``wait_for_result(id)``, called right after the start, must wait for the result event."""
    workflow_id = await start_events(CHECK_STEPS, fib_base=CHECK_FIB_BASE)
    got, failed = await _call("1.2", wait_for_result, workflow_id)
    if failed:
        return failed
    expected = {"total_steps": CHECK_STEPS, "results": await workflow_result(workflow_id)}
    if got is None:
        return CheckResult("1.2", False, "it returned None: it did not wait for the event.")
    return _compare("1.2", got, expected, "the result event")


# --- 02 messaging --------------------------------------------------------------------------------


async def solution_2_1(workflow_id: str) -> None:
    """Approve the workflow: the seed's payload on the ``notification`` topic."""
    await DBOS.send_async(workflow_id, approval(True, "approved by code"), TOPIC)


async def check_2_1(approve: Callable[[str], Awaitable[Any]]) -> CheckResult:
    """``approve(id)`` must make a waiting messaging workflow complete."""
    workflow_id = await start_messaging(1, timeout_seconds=5, fib_base=CHECK_FIB_BASE)
    _, failed = await _call("2.1", approve, workflow_id)
    if failed:
        return failed
    result = await workflow_result(workflow_id, timeout=15)
    if result["status"] != "completed":
        return CheckResult("2.1", False, f"the workflow answered: {result['reason']}.")
    return CheckResult("2.1", True, "the workflow received your approval and completed.")


async def solution_2_2(workflow_id: str, message: dict[str, Any]) -> None:
    """Send ``message`` twice, as a retry would, but with one idempotency key."""
    key = f"exercise-2.2:{workflow_id}"
    for _ in range(2):
        await DBOS.send_async(workflow_id, message, TOPIC, idempotency_key=key)


async def check_2_2(send_twice: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> CheckResult:
    """``send_twice(id, message)`` must send twice yet deliver one message."""
    handle = await DBOS.start_workflow_async(message_counter_workflow, 3.0, 0.3)
    message = {"approved": True, "message": "only once"}
    _, failed = await _call("2.2", send_twice, handle.workflow_id, message)
    if failed:
        return failed
    received = await handle.get_result()
    return _compare("2.2", len(received), 1, "the number of messages the workflow received")


# --- 03 streaming --------------------------------------------------------------------------------


async def solution_3_1(workflow_id: str, offset: int) -> list[Any]:
    """Every value from ``offset`` on that exists now, without waiting for more."""
    return (await read_stream_chunk(workflow_id, offset)).values


async def _finished_stream() -> tuple[str, list[Any]]:
    workflow_id = await start_streaming(CHECK_STEPS, fib_base=CHECK_FIB_BASE)
    values = [v async for v in DBOS.read_stream_async(workflow_id, STREAM_KEY)]
    return workflow_id, values


async def check_3_1(read_from: Callable[[str, int], Awaitable[list[Any]]]) -> CheckResult:
    """``read_from(id, 3)`` must return the values at offsets 3, 4, ... of a closed stream."""
    workflow_id, values = await _finished_stream()
    got, failed = await _call("3.1", read_from, workflow_id, 3)
    if failed:
        return failed
    if not isinstance(got, list):
        return CheckResult("3.1", False, f"return a list of values, not {type(got).__name__}.")
    if got == values:
        return CheckResult("3.1", False, "you returned the whole stream: start at the offset.")
    if got == values[3:]:
        return CheckResult("3.1", True, f"{len(got)} values from offset 3, in order.")
    return CheckResult(
        "3.1", False, f"expected {len(values) - 3} values from offset 3, got {len(got)}."
    )


async def solution_3_2(workflow_id: str) -> dict[str, int]:
    """Follow the stream to its close and count the values of each type."""
    counts: dict[str, int] = {}
    async for value in DBOS.read_stream_async(workflow_id, STREAM_KEY):
        counts[value["type"]] = counts.get(value["type"], 0) + 1
    return counts


async def check_3_2(count_types: Callable[[str], Awaitable[dict[str, int]]]) -> CheckResult:
    """``count_types(id)``, called while the workflow runs, must count every value to the end."""
    workflow_id = await start_streaming(CHECK_STEPS, fib_base=CHECK_FIB_BASE)
    got, failed = await _call("3.2", count_types, workflow_id)
    if failed:
        return failed
    expected = {"start": 1, "progress": CHECK_STEPS, "result": CHECK_STEPS, "complete": 1}
    return _compare("3.2", got, expected, "the count per type")


#: Each check with its reference solution (CI runs every pair).
CHECKS = {
    "1.1": (check_1_1, solution_1_1),
    "1.2": (check_1_2, solution_1_2),
    "2.1": (check_2_1, solution_2_1),
    "2.2": (check_2_2, solution_2_2),
    "3.1": (check_3_1, solution_3_1),
    "3.2": (check_3_2, solution_3_2),
}
