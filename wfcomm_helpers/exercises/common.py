"""What every exercise check shares: the one-line result, calling the learner's function
safely, and the host workflow that runs a learner's workflow-side code inside DBOS."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dbos import DBOS

from ..patterns.lookup import start_handle
from ..runtime import lifecycle as runtime, validation
from ..widgets.common import one_line

#: A learner's function gets this long before the check gives up on it.
CHECK_TIMEOUT_SECONDS = 15.0
#: Small numbers so a check takes about a second.
CHECK_STEPS = 3
CHECK_FIB_BASE = 12
#: The durable pause per step of the check's workflows (s): long enough that a reader that
#: does not wait sees the workflow unfinished, on any machine.
CHECK_PAUSE_SECONDS = 0.3
#: The check's own topic for "go on" and "you may end now" (never the learner's topic).
CHECK_TOPIC = "exercise-check"


@dataclass(frozen=True)
class CheckResult:
    """One exercise's verdict; ``line`` is what the notebook shows."""

    exercise: str
    passed: bool
    detail: str

    @property
    def line(self) -> str:
        mark = "✔ passed" if self.passed else "✘ not yet"
        return f"Exercise {self.exercise} {mark}: {self.detail}"

    def __repr__(self) -> str:
        return self.line


def not_running(exercise: str) -> CheckResult | None:
    """One line when DBOS is not running in this process (a fresh kernel, or the clean-up cell
    stopped it): the check needs the notebook's DBOS, so it says which cell to run."""
    if runtime.is_running():
        return None
    return CheckResult(
        exercise,
        False,
        "DBOS is not running in this kernel (a fresh kernel, or the clean-up cell stopped it): "
        "run the setup cell, then this check again.",
    )


def not_async(exercise: str, func: Any) -> CheckResult | None:
    if asyncio.iscoroutinefunction(func):
        return None
    name = getattr(func, "__name__", func)
    return CheckResult(exercise, False, f"{name} must be an `async def` function.")


def raised(exercise: str, exc: BaseException, who: str = "it") -> CheckResult:
    """A learner's error in one line; a synchronous DBOS call in async code is named as such."""
    if isinstance(exc, NotImplementedError):
        return CheckResult(exercise, False, "the stub is still there: write the function.")
    if isinstance(exc, RuntimeError) and "_async" in str(exc):
        return CheckResult(
            exercise,
            False,
            f"{who} made a synchronous DBOS call inside the event loop: "
            "await the *_async method instead.",
        )
    return CheckResult(exercise, False, f"{who} raised {one_line(exc)}")


async def call(
    exercise: str,
    func: Callable[..., Awaitable[Any]],
    *args: Any,
    limit: float = CHECK_TIMEOUT_SECONDS,
) -> tuple[Any, float, CheckResult | None]:
    """Call the learner's function within ``limit`` seconds.

    Returns (value, seconds it took, None) or (None, seconds, the failure as one line)."""
    if bad := not_async(exercise, func):
        return None, 0.0, bad
    began = time.perf_counter()
    try:
        value = await asyncio.wait_for(func(*args), limit)
        return value, time.perf_counter() - began, None
    except asyncio.TimeoutError:
        failed = CheckResult(
            exercise,
            False,
            f"it did not return within {limit:g} s (is it waiting for something that never comes?).",
        )
    except Exception as exc:
        failed = raised(exercise, exc)
    return None, time.perf_counter() - began, failed


def compare(exercise: str, got: Any, expected: Any, what: str) -> CheckResult:
    if got == expected:
        return CheckResult(exercise, True, f"{what} is {expected!r}.")
    return CheckResult(exercise, False, f"expected {what} to be {expected!r}, got {got!r}.")


async def cancel(handle: Any) -> None:
    """Cancel a check's workflow and take its handle's outcome, so the cancellation is never
    printed later as "Task exception was never retrieved" in some other cell."""
    await DBOS.cancel_workflow_async(handle.workflow_id)
    try:
        await asyncio.wait_for(handle.get_result(), CHECK_TIMEOUT_SECONDS)
    except Exception:  # DBOS raises DBOSAwaitedWorkflowCancelledError: that is the point
        pass


async def start(workflow: Callable[..., Any], prefix: str, *args: Any) -> Any:
    """Start a check's workflow in this process under a new ``prefix-...`` id and keep the
    handle (:func:`~wfcomm_helpers.patterns.lookup.start_handle`)."""
    return await start_handle(workflow, validation.new_workflow_id(prefix), *args)


async def call_while_it_runs(
    exercise: str, func: Callable[[str], Awaitable[Any]], workflow: Callable[..., Any], prefix: str
) -> tuple[Any, Any, float, CheckResult | None]:
    """Start ``workflow`` paced (CHECK_STEPS steps, CHECK_PAUSE_SECONDS apart), then call the
    learner's ``func(workflow_id)`` at once: (handle, value, seconds, failure or None) as
    :func:`call` returns them."""
    handle = await start(workflow, prefix, CHECK_STEPS, CHECK_FIB_BASE, CHECK_PAUSE_SECONDS)
    got, seconds, failed = await call(exercise, func, handle.workflow_id)
    return handle, got, seconds, failed


# --- Workflow-side exercises: the learner's code runs inside this workflow -----------------------

#: The learner's functions by token, for the host workflow to find (this process only).
_BODIES: dict[str, Callable[..., Awaitable[Any]]] = {}
#: What the learner's code raised, by host workflow id: reported in one line by the check
#: (raised inside the workflow, DBOS would log it as a full traceback on stderr).
_RAISED: dict[str, Exception] = {}
#: The event the host sets when the learner's code has returned.
BODY_DONE_EVENT = "exercise_body_done"


@DBOS.workflow()
async def exercise_host_workflow(token: str, args: list[Any], hold_seconds: float) -> Any:
    """Runs the learner's ``async def`` body as this workflow's code, then (``hold_seconds`` > 0)
    stays running until the check says "end" on CHECK_TOPIC, so a reader can tell a closed
    stream from a workflow that merely ended. What the learner's code raises ends the workflow
    with ``None``, kept in ``_RAISED`` for :func:`host_result` to report."""
    try:
        result = await _BODIES[token](*args)
    except Exception as exc:
        _RAISED[str(DBOS.workflow_id)] = exc
        return None
    await DBOS.set_event_async(BODY_DONE_EVENT, True)
    if hold_seconds:
        await DBOS.recv_async(CHECK_TOPIC, hold_seconds)
    return result


async def host(body: Callable[..., Awaitable[Any]], *args: Any, hold_seconds: float = 0.0) -> Any:
    """Start the host workflow on ``body``; returns its handle."""
    token = uuid.uuid4().hex
    _BODIES[token] = body
    return await start(exercise_host_workflow, "exercise", token, list(args), hold_seconds)


async def body_done(handle: Any, limit: float = 15.0) -> bool:
    """Wait until the learner's code has returned inside the host workflow: True; False when
    the workflow ended first (the code raised) or ``limit`` seconds passed."""
    ended = asyncio.ensure_future(handle.get_result())
    ended.add_done_callback(lambda done: done.cancelled() or done.exception())
    done = asyncio.ensure_future(DBOS.get_event_async(handle.workflow_id, BODY_DONE_EVENT, limit))
    await asyncio.wait({asyncio.shield(ended), done}, return_when=asyncio.FIRST_COMPLETED)
    if not done.done():
        done.cancel()
        return False
    return bool(done.result())


async def host_result(exercise: str, handle: Any, limit: float) -> tuple[Any, CheckResult | None]:
    """The host workflow's return value, or one line: it raised, or it was still running after
    ``limit`` seconds (then it is cancelled, so nothing keeps waiting)."""
    waiter = asyncio.ensure_future(handle.get_result())
    # Shielded (a timeout must not cancel the workflow's own task); its outcome is read here.
    waiter.add_done_callback(lambda done: done.cancelled() or done.exception())
    try:
        result = await asyncio.wait_for(asyncio.shield(waiter), limit)
    except asyncio.TimeoutError:
        await cancel(handle)
        return None, CheckResult(
            exercise, False, f"the workflow was still running after {limit:g} s"
        )
    except Exception as exc:
        return None, raised(exercise, exc, "the workflow")
    if (exc := _RAISED.pop(handle.workflow_id, None)) is not None:
        return None, raised(exercise, exc, "the workflow")
    return result, None
