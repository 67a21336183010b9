"""The messaging routes: the seed's start and send (a JSON object body)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..contract import JSON_MEDIA_TYPE, SEND_MESSAGE, START_MESSAGING
from ..patterns import messaging
from ..patterns.compute import DEFAULT_FIB_BASE
from ..runtime import validation
from ..runtime.errors import InvalidInputError
from .params import ApprovalTimeout, FibBase, IdempotencyKey, StepCount, WorkflowId

router = APIRouter(tags=["messaging"])


@router.post(START_MESSAGING.template)
async def start_messaging(
    workflow_id: WorkflowId,
    n_steps: StepCount,
    timeout: ApprovalTimeout = messaging.DEFAULT_TIMEOUT_SECONDS,
    fib_base: FibBase = DEFAULT_FIB_BASE,
) -> dict[str, Any]:
    """Start a messaging workflow that waits ``timeout`` seconds for a decision."""
    wid = await messaging.start_messaging(
        n_steps, workflow_id, timeout_seconds=timeout, fib_base=fib_base
    )
    return {
        "workflow_id": wid,
        "message": f"Messaging workflow {wid} started, waiting for approval",
        "send_approval": SEND_MESSAGE.path(workflow_id=wid),
        "note": (
            f'Send {{"approved": true}} or {{"approved": false}} within {timeout:g} s; add '
            "?idempotency_key=K to make a retried send count once"
        ),
    }


async def json_body(request: Request) -> Any:
    """The request's body as JSON; :class:`InvalidInputError` (422) with the reason if not."""
    try:
        return validation.parse_json(await request.body())
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"The request body is not JSON ({exc}): send an object such as "
            f'{{"approved": true, "message": "ok"}} with Content-Type: {JSON_MEDIA_TYPE}.'
        ) from None


@router.post(SEND_MESSAGE.template)
async def send_message(
    workflow_id: WorkflowId, request: Request, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Send the body (a JSON object) on the workflow's topic."""
    payload = validation.json_object(await json_body(request))
    await messaging.send_message(workflow_id, payload, idempotency_key=idempotency_key)
    return {
        "workflow_id": workflow_id,
        "message": f"Message sent to {workflow_id} on topic {messaging.TOPIC!r}",
        "payload": payload,
    }
