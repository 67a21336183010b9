"""`wfcomm messaging ...`: pattern 2, you send, the workflow receives once."""

from __future__ import annotations

from typing import Any

import typer

from ..connection import Connection
from ..patterns.compute import DEFAULT_FIB_BASE
from ..patterns.messaging import DEFAULT_TIMEOUT_SECONDS, approval, decision_key
from ..runtime import validation
from ..runtime.errors import InvalidInputError
from .options import emit, id_argument, id_option, say, steps_argument, timeout_option
from .session import run, started

app = typer.Typer(
    help="Pattern 2, messaging: you send, the workflow receives once.", no_args_is_help=True
)


@app.command("start")
def messaging_start(
    ctx: typer.Context,
    n_steps: int = steps_argument("How many steps to run once approved (1-100)."),
    workflow_id: str | None = id_option(),
    timeout: float = timeout_option(
        DEFAULT_TIMEOUT_SECONDS,
        "Seconds the workflow waits for a decision.",
        "The approval timeout",
    ),
) -> None:
    """Start a messaging workflow that waits for approval; prints its id."""

    async def action(conn: Connection) -> None:
        wid = await conn.start_messaging(n_steps, workflow_id, timeout, DEFAULT_FIB_BASE)
        started(conn, "Messaging", wid, f"and waits {timeout:g} s for a decision")

    run(ctx, "messaging", action)


def _send(
    ctx: typer.Context, workflow_id: str, message: dict[str, Any], idempotency_key: str | None
) -> None:
    async def action(conn: Connection) -> None:
        await conn.send(workflow_id, message, idempotency_key)
        emit(message)
        once = (
            f" (idempotency key {idempotency_key!r}: delivered once however often sent)"
            if idempotency_key
            else ""
        )
        say(f"Sent to {workflow_id}{once}.")

    run(ctx, "messaging", action)


@app.command("approve")
def messaging_approve(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    message: str = typer.Option("Approved", "--message", help="Text sent with the approval."),
) -> None:
    """Approve: {"approved": true, "message": ...}, once per workflow however often sent."""
    _send(ctx, workflow_id, approval(True, message), decision_key(workflow_id))


@app.command("reject")
def messaging_reject(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    reason: str = typer.Option("Rejected", "--reason", help="Why."),
) -> None:
    """Reject: {"approved": false, "reason": ...}, once per workflow however often sent."""
    _send(ctx, workflow_id, approval(False, reason), decision_key(workflow_id))


@app.command("send")
def messaging_send(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    message: str = typer.Argument(..., help="A JSON object, e.g. '{\"approved\": true}'."),
    idempotency_key: str | None = typer.Option(
        None, "--idempotency-key", help="Deliver once however often this is sent."
    ),
) -> None:
    """Send any JSON object on the workflow's topic."""
    try:
        value = validation.parse_json(message)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"The message is not JSON ({exc}): quote it, e.g. '{{\"approved\": true}}'."
        ) from None
    _send(ctx, workflow_id, validation.json_object(value), idempotency_key)
