"""Pattern 2, messaging: a client sends, the workflow waits on a topic and consumes once.

``recv`` sees only its topic, oldest message first; receiving and checkpointing are one
transaction, so a message is consumed exactly once even across a crash. A send from outside a
workflow is a *new* message every time, unless it carries an idempotency key.
"""

from __future__ import annotations

import time
from typing import Any

from dbos import DBOS, error

from ..runtime import validation
from ..runtime.errors import InvalidInputError, UnknownWorkflowError
from .compute import DEFAULT_FIB_BASE, fibonacci_step
from .lookup import Backend, start_workflow, workflow_summary

TOPIC = "notification"
DEFAULT_TIMEOUT_SECONDS = 60.0
#: The event the workflow sets when it starts waiting, so a panel can show the countdown and a
#: teacher who waits since when: {"timeout_seconds": t, "since": epoch s, "deadline": epoch s}.
WAITING_EVENT = "waiting"
#: The event the workflow sets once its recv returned: {"received": bool, "at": epoch s}
#: ("received" is False on a timeout). A workflow with this event waits no more.
ANSWERED_EVENT = "answered"


def cancelled(reason: str) -> dict[str, Any]:
    return {"status": "cancelled", "reason": reason, "results": []}


def decide(message: Any, timeout_seconds: float) -> str | None:
    """Why the workflow must not go ahead, or None when the message approves it."""
    if message is None:
        return f"Timeout: no message on topic {TOPIC!r} within {timeout_seconds:g} s"
    if not isinstance(message, dict) or not isinstance(message.get("approved"), bool):
        return "Invalid message: expected a JSON object with a boolean 'approved'"
    if not message["approved"]:
        return (
            f"Not approved: {message.get('reason') or message.get('message') or 'no reason given'}"
        )
    return None


@DBOS.workflow()
async def messaging_workflow(
    n_steps: int,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    fib_base: int = DEFAULT_FIB_BASE,
    pause_seconds: float = 0.0,
) -> dict[str, Any]:
    """Wait for an approval on ``notification``; run the steps only if approved.

    ``pause_seconds`` > 0 adds a durable ``DBOS.sleep_async`` before each step.

    Rejected, invalid or timed out -> {"status": "cancelled", ...}; DBOS still records the
    workflow as SUCCESS: "cancelled" is this workflow's answer, not DBOS's CANCELLED state.
    """
    since = time.time()  # recorded once: a recovered run replays the event, not this value
    await DBOS.set_event_async(
        WAITING_EVENT,
        {"timeout_seconds": timeout_seconds, "since": since, "deadline": since + timeout_seconds},
    )
    message = await DBOS.recv_async(TOPIC, timeout_seconds)
    await DBOS.set_event_async(ANSWERED_EVENT, {"received": message is not None, "at": time.time()})
    reason = decide(message, timeout_seconds)
    if reason is not None:
        return cancelled(reason)
    results = []
    for i in range(n_steps):
        if pause_seconds:
            await DBOS.sleep_async(pause_seconds)
        results.append(await fibonacci_step(fib_base + i))
    return {"status": "completed", "results": results}


WORKFLOW_NAME = messaging_workflow.__qualname__


async def start_messaging(
    n_steps: int,
    workflow_id: str | None = None,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    fib_base: int = DEFAULT_FIB_BASE,
    pause_seconds: float = 0.0,
    backend: Backend = DBOS,
) -> str:
    """Start a messaging workflow that waits up to ``timeout_seconds`` for a decision.
    ``pause_seconds``: durable pause before each step once approved."""
    steps, base = validation.workload(n_steps, fib_base)
    seconds = validation.timeout_seconds(timeout_seconds, "The approval timeout")
    pause = validation.pause_seconds(pause_seconds)
    wid = workflow_id if workflow_id is not None else validation.new_workflow_id("messaging")
    args = (steps, seconds, base, pause) if pause else (steps, seconds, base)
    return await start_workflow(messaging_workflow, wid, *args, backend=backend)


def approval(approved: bool, text: str = "") -> dict[str, Any]:
    """The seed's payloads: {"approved": true, "message": ...} or {"approved": false, "reason": ...}."""
    if approved:
        return {"approved": True, "message": text or "Approved"}
    return {"approved": False, "reason": text or "Rejected"}


async def send_message(
    workflow_id: str,
    message: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    backend: Backend = DBOS,
) -> None:
    """Send ``message`` on the ``notification`` topic.

    With an ``idempotency_key`` a retried or double-clicked send is delivered once; without one
    every call is a new message. Unknown ids fail at once (DBOS raises for them too).
    """
    payload = validation.json_object(message)
    if idempotency_key is not None and not str(idempotency_key).strip():
        raise InvalidInputError("The idempotency key is empty: leave it out or give it text.")
    await workflow_summary(workflow_id, expected=WORKFLOW_NAME, backend=backend)
    try:
        await backend.send_async(workflow_id, payload, TOPIC, idempotency_key=idempotency_key)
    except error.DBOSNonExistentWorkflowError:
        raise UnknownWorkflowError(workflow_id) from None


def decision_key(workflow_id: str) -> str:
    """One decision per workflow: Approve and Reject share this key, so a double click, or a
    click on both, delivers only the first."""
    return f"decision:{workflow_id}"


async def send_decision(
    workflow_id: str, approved: bool, text: str = "", *, backend: Backend = DBOS
) -> None:
    await send_message(
        workflow_id,
        approval(approved, text),
        idempotency_key=decision_key(workflow_id),
        backend=backend,
    )
