"""Pattern 1, events: the workflow publishes the latest value per key; clients read or wait.

``DBOS.set_event`` overwrites: a reader sees the value current when it asks, never a history
(use a stream for that). ``get_event`` waits for a key that is not set yet, up to a timeout.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from dbos import DBOS

from ..runtime import validation
from ..runtime.errors import InvalidInputError
from .compute import DEFAULT_FIB_BASE, fibonacci_step
from .lookup import Backend, start_stepped, workflow_summary


class WorkflowEvent(str, Enum):
    """The event keys the events workflow sets (the seed's names)."""

    PROGRESS = "progress"
    STATUS = "status"
    RESULT = "result"


@DBOS.workflow()
async def events_workflow(
    n_steps: int, fib_base: int = DEFAULT_FIB_BASE, pause_seconds: float = 0.0
) -> list[dict[str, int]]:
    """status started -> processing_step_1..N -> completed; progress 0, int(i/N*100) before
    step i+1, then 100; result {"total_steps", "results"}; returns the step results.

    ``pause_seconds`` > 0 adds a durable ``DBOS.sleep_async`` after each status/progress pair,
    so a reader has time to see every value before the next one overwrites it."""
    await DBOS.set_event_async(WorkflowEvent.STATUS.value, "started")
    await DBOS.set_event_async(WorkflowEvent.PROGRESS.value, 0)
    results = []
    for i in range(n_steps):
        await DBOS.set_event_async(WorkflowEvent.STATUS.value, f"processing_step_{i + 1}")
        await DBOS.set_event_async(WorkflowEvent.PROGRESS.value, int(i / n_steps * 100))
        if pause_seconds:
            await DBOS.sleep_async(pause_seconds)
        results.append(await fibonacci_step(fib_base + i))
    await DBOS.set_event_async(WorkflowEvent.PROGRESS.value, 100)
    await DBOS.set_event_async(
        WorkflowEvent.RESULT.value, {"total_steps": n_steps, "results": results}
    )
    await DBOS.set_event_async(WorkflowEvent.STATUS.value, "completed")
    return results


WORKFLOW_NAME = events_workflow.__qualname__


async def start_events(
    n_steps: int,
    workflow_id: str | None = None,
    *,
    fib_base: int = DEFAULT_FIB_BASE,
    pause_seconds: float = 0.0,
    backend: Backend = DBOS,
) -> str:
    """Start an events workflow; returns its id. ``pause_seconds``: durable pause per step."""
    return await start_stepped(
        events_workflow, "events", n_steps, workflow_id, fib_base, pause_seconds, backend
    )


def event_key(key: Any) -> str:
    keys = [k.value for k in WorkflowEvent]
    value = key.value if isinstance(key, WorkflowEvent) else key
    if value not in keys:
        raise InvalidInputError(f"Unknown event key {key!r}: use one of {', '.join(keys)}.")
    return str(value)


async def get_event(
    workflow_id: str, key: WorkflowEvent | str, timeout: float = 5.0, *, backend: Backend = DBOS
) -> Any:
    """The key's current value, waiting up to ``timeout`` seconds (the seed's default 5) for
    it to be set; ``None`` if it is still unset then. An unknown id fails at once."""
    name = event_key(key)
    seconds = validation.timeout_seconds(timeout)
    await workflow_summary(workflow_id, expected=WORKFLOW_NAME, backend=backend)
    return await backend.get_event_async(workflow_id, name, seconds)


async def get_all_events(workflow_id: str, *, backend: Backend = DBOS) -> dict[str, Any]:
    """Every key set so far with its latest value."""
    await workflow_summary(workflow_id, expected=WORKFLOW_NAME, backend=backend)
    if hasattr(backend, "get_all_events_async"):
        return dict(await backend.get_all_events_async(workflow_id))
    # DBOSClient has no get_all_events: read each known key without waiting.
    found = {}
    for key in WorkflowEvent:
        value = await backend.get_event_async(workflow_id, key.value, 0)
        if value is not None:
            found[key.value] = value
    return found
