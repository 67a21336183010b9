"""Notebook 01's exercises: read the status event (1.1), wait for the result event (1.2), and
publish events from inside a workflow (1.3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dbos import DBOS

from ..patterns.events import WorkflowEvent, events_workflow
from .common import (
    CHECK_STEPS,
    CHECK_TOPIC,
    CheckResult,
    call,
    call_while_it_runs,
    compare,
    host,
    host_result,
    not_async,
    not_running,
    start,
)

STATUS = WorkflowEvent.STATUS.value
PROGRESS = WorkflowEvent.PROGRESS.value
RESULT = WorkflowEvent.RESULT.value
#: DBOS's own workflow states: not what the ``status`` event holds.
DBOS_STATES = {
    "PENDING",
    "ENQUEUED",
    "SUCCESS",
    "ERROR",
    "CANCELLED",
    "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
}
#: A read that does not wait answers well within this (s); a timeout of 1 s or more is waiting.
NO_WAIT_SECONDS = 1.0


@DBOS.workflow()
async def gated_status_workflow() -> str:
    """Sets no status until the check says go, then processing_step_1, then completed."""
    await DBOS.recv_async(CHECK_TOPIC, 60)
    await DBOS.set_event_async(PROGRESS, 0)
    await DBOS.set_event_async(STATUS, "processing_step_1")
    await DBOS.recv_async(CHECK_TOPIC, 60)
    await DBOS.set_event_async(PROGRESS, 100)
    await DBOS.set_event_async(STATUS, "completed")
    return "done"


async def solution_1_1(workflow_id: str) -> Any:
    """The current value of the ``status`` event, without waiting."""
    return await DBOS.get_event_async(workflow_id, "status", 0)


def _status_verdict(got: Any, seconds: float, expected: Any) -> CheckResult | None:
    if seconds >= NO_WAIT_SECONDS:
        return CheckResult(
            "1.1", False, f"it took {seconds:.1f} s: it waited (a timeout of 0 answers at once)."
        )
    if got == expected:
        return None
    if got == "completed":
        return CheckResult(
            "1.1",
            False,
            "it answered 'completed' for a workflow still running: read the event, "
            "do not hard-code the answer.",
        )
    if got in DBOS_STATES:
        return CheckResult(
            "1.1", False, f"{got!r} is DBOS's state of the workflow, not its 'status' event."
        )
    return CheckResult(
        "1.1", False, f"expected the 'status' event to be {expected!r}, got {got!r}."
    )


async def check_1_1(current_status: Callable[[str], Awaitable[Any]]) -> CheckResult:
    """``current_status(id)`` must return the status event as it is now: unset (None), then
    processing_step_1, then completed, each at once."""
    if stopped := not_running("1.1"):
        return stopped
    handle = await start(gated_status_workflow, "exercise-status")
    wid = handle.workflow_id
    for expected in (None, "processing_step_1", "completed"):
        if expected is not None:
            await DBOS.send_async(wid, "go", CHECK_TOPIC)
            await DBOS.get_event_async(wid, STATUS, 60)  # set (or already set)
            if expected == "completed":
                await handle.get_result()
        got, seconds, failed = await call("1.1", current_status, wid, limit=2 * NO_WAIT_SECONDS)
        verdict = failed or _status_verdict(got, seconds, expected)
        if verdict:
            for _ in range(2):  # let it end on its own: a cancelled workflow logs a traceback
                await DBOS.send_async(wid, "go", CHECK_TOPIC)
            return verdict
    return CheckResult("1.1", True, "None before any status, then each status as it was set.")


async def solution_1_2(workflow_id: str) -> Any:
    """Wait (up to 10 s) for the ``result`` event: get_event waits until it is set."""
    return await DBOS.get_event_async(workflow_id, "result", 10)


async def check_1_2(wait_for_result: Callable[[str], Awaitable[Any]]) -> CheckResult:
    """``wait_for_result(id)``, called right after the start, must wait for the result event."""
    if stopped := not_running("1.2"):
        return stopped
    handle, got, seconds, failed = await call_while_it_runs(
        "1.2", wait_for_result, events_workflow, "exercise-events"
    )
    if failed:  # the workflow finishes on its own in about a second
        return failed
    returned = await handle.get_result()
    if got is None:
        return CheckResult(
            "1.2",
            False,
            f"it returned None after {seconds:.1f} s, before the result event was set: "
            "it did not wait (long enough).",
        )
    if got == returned:
        return CheckResult(
            "1.2", False, "that is the workflow's return value, not its 'result' event."
        )
    return compare(
        "1.2", got, {"total_steps": CHECK_STEPS, "results": returned}, "the result event"
    )


async def solution_1_3(n_steps: int) -> int:
    """Runs inside a workflow: status "working", progress after each step, status "completed"."""
    await DBOS.set_event_async("status", "working")
    for step in range(1, n_steps + 1):
        await DBOS.sleep_async(0.05)  # the work of one step
        await DBOS.set_event_async("progress", int(step / n_steps * 100))
    await DBOS.set_event_async("status", "completed")
    return n_steps


async def check_1_3(report: Callable[[int], Awaitable[Any]]) -> CheckResult:
    """Run ``report(3)`` as a workflow's code; a client must then read status "completed" and
    progress 100."""
    if stopped := not_running("1.3"):
        return stopped
    if bad := not_async("1.3", report):
        return bad
    handle = await host(report, CHECK_STEPS)
    _, failed = await host_result("1.3", handle, 15)
    if failed:
        return failed
    seen = await DBOS.get_all_events_async(handle.workflow_id)
    seen = {k: v for k, v in seen.items() if not k.startswith("exercise_")}
    if not seen:
        return CheckResult(
            "1.3",
            False,
            "a client sees no events: publish with await DBOS.set_event_async(key, value).",
        )
    if seen.get(STATUS) != "completed":
        return CheckResult(
            "1.3",
            False,
            f"a client reads status {seen.get(STATUS)!r}: publish 'completed' at the end.",
        )
    return compare("1.3", seen.get(PROGRESS), 100, "the last progress a client reads")
