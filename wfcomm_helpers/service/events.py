"""The events routes: the seed's start, one-key wait and all-events read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..contract import ALL_EVENTS, GET_EVENT, START_EVENTS, EventNotSetError
from ..patterns import events
from ..patterns.compute import DEFAULT_FIB_BASE
from .params import EventTimeout, FibBase, StepCount, WorkflowId

router = APIRouter(tags=["events"])


@router.post(START_EVENTS.template)
async def start_events(
    workflow_id: WorkflowId, n_steps: StepCount, fib_base: FibBase = DEFAULT_FIB_BASE
) -> dict[str, Any]:
    """Start an events workflow; the body lists where to read its events."""
    wid = await events.start_events(n_steps, workflow_id, fib_base=fib_base)
    paths = {
        key.value: GET_EVENT.path(workflow_id=wid, event_key=key.value)
        for key in events.WorkflowEvent
    }
    return {
        "workflow_id": wid,
        "message": f"Events workflow {wid} started with {n_steps} steps",
        "query_endpoints": {**paths, "all_events": ALL_EVENTS.path(workflow_id=wid)},
    }


@router.get(ALL_EVENTS.template)
async def all_events(workflow_id: WorkflowId) -> dict[str, Any]:
    """Every event set so far, with its latest value."""
    return {"workflow_id": workflow_id, "events": await events.get_all_events(workflow_id)}


@router.get(GET_EVENT.template)
async def get_event(workflow_id: WorkflowId, event_key: str, timeout: EventTimeout = 5.0) -> Any:
    """One event's value, waiting up to ``timeout`` seconds; 404 EventNotSetError after it."""
    value = await events.get_event(workflow_id, event_key, timeout)
    if value is None:
        raise EventNotSetError(event_key)
    return {"workflow_id": workflow_id, "event_key": event_key, "value": value}
