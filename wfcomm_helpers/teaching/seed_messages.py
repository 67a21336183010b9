"""The seed's messaging mistakes, each shown next to what DBOS really does: a send to an id that
does not exist yet, a send before ``recv``, a retried send, the cost of one send, a rejected
workflow that DBOS calls SUCCESS. Registered only by a notebook's ``seed_mistakes`` import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbos import DBOS, error

from ..patterns.lookup import start_handle, workflow_result, workflow_summary
from ..patterns.messaging import TOPIC, send_decision, start_messaging
from ..runtime.validation import new_workflow_id

# --- Messages -----------------------------------------------------------------------------------


async def send_to_unknown_id(workflow_id: str = "no-such-workflow") -> str:
    """The seed says messages can be sent before the workflow starts: not before it exists."""
    try:
        await DBOS.send_async(workflow_id, {"approved": True}, TOPIC)
    except error.DBOSNonExistentWorkflowError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


REACHED_RECV_EVENT = "reached_recv"


@DBOS.workflow()
async def late_recv_workflow(delay_seconds: float, timeout_seconds: float) -> Any:
    """Sleeps (durably) before it listens, so a send can arrive before ``recv``."""
    await DBOS.sleep_async(delay_seconds)
    await DBOS.set_event_async(REACHED_RECV_EVENT, True)
    return await DBOS.recv_async(TOPIC, timeout_seconds)


@dataclass(frozen=True)
class EarlySend:
    sent_before_recv: bool
    received: Any


async def send_before_recv(delay_seconds: float = 0.5) -> EarlySend:
    """Send to a workflow that exists but has not reached ``recv`` yet: the message waits."""
    handle = await start_handle(
        late_recv_workflow, new_workflow_id("seed-late-recv"), delay_seconds, 5.0
    )
    wid = handle.workflow_id
    await DBOS.send_async(wid, {"approved": True, "message": "sent early"}, TOPIC)
    reached = await DBOS.get_event_async(wid, REACHED_RECV_EVENT, 0)
    return EarlySend(sent_before_recv=reached is None, received=await handle.get_result())


@DBOS.workflow()
async def message_counter_workflow(first_wait_seconds: float, gap_seconds: float) -> list[Any]:
    """Receives every message on the topic until none arrives for ``gap_seconds``."""
    received: list[Any] = []
    message = await DBOS.recv_async(TOPIC, first_wait_seconds)
    while message is not None:
        received.append(message)
        message = await DBOS.recv_async(TOPIC, gap_seconds)
    return received


async def retried_send(idempotency_key: str | None, attempts: int = 2) -> list[Any]:
    """Send the same approval ``attempts`` times, as a retry or a double click does, and return
    what a workflow that reads every message received."""
    handle = await start_handle(message_counter_workflow, new_workflow_id("seed-counter"), 5.0, 0.3)
    for _ in range(attempts):
        await DBOS.send_async(
            handle.workflow_id,
            {"approved": True, "message": "go"},
            TOPIC,
            idempotency_key=idempotency_key,
        )
    return await handle.get_result()


async def cancelled_is_success(timeout_seconds: float = 5.0) -> tuple[str, str]:
    """Reject a messaging workflow: its answer says "cancelled", DBOS's status says SUCCESS."""
    wid = await start_messaging(1, timeout_seconds=timeout_seconds, fib_base=0)
    await send_decision(wid, False, "rejected in the demo")
    result = await workflow_result(wid, timeout=timeout_seconds + 10)
    summary = await workflow_summary(wid)
    return result["status"], summary.status
