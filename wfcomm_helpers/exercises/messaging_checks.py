"""Notebook 02's exercises: approve by code (2.1), a retry that delivers once (2.2), and wait
in ``recv`` with a timeout and act on the payload, inside a workflow (2.3)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from dbos import DBOS

from ..patterns.messaging import TOPIC, approval, messaging_workflow
from ..teaching.seed_mistakes import message_counter_workflow
from .common import (
    CHECK_FIB_BASE,
    CheckResult,
    call,
    compare,
    host,
    host_result,
    not_async,
    not_running,
    start,
)

#: The check's messaging workflow waits this long (s) for the learner's approval.
APPROVAL_WAIT_SECONDS = 3.0


async def solution_2_1(workflow_id: str) -> None:
    """Approve the workflow: the seed's payload on the ``notification`` topic."""
    await DBOS.send_async(workflow_id, approval(True, "approved by code"), TOPIC)


async def check_2_1(approve: Callable[[str], Awaitable[Any]]) -> CheckResult:
    """``approve(id)`` must make a waiting messaging workflow complete."""
    if stopped := not_running("2.1"):
        return stopped
    handle = await start(
        messaging_workflow, "exercise-messaging", 1, APPROVAL_WAIT_SECONDS, CHECK_FIB_BASE
    )
    _, _, failed = await call("2.1", approve, handle.workflow_id)
    if failed:  # end it now rather than after its recv timeout (cancelled, DBOS logs a traceback)
        await DBOS.send_async(handle.workflow_id, approval(False, "the check ended"), TOPIC)
        await handle.get_result()
        return failed
    result = await handle.get_result()
    reason = result.get("reason", "")
    if reason.startswith("Timeout"):
        return CheckResult(
            "2.1",
            False,
            f"the workflow heard nothing on {TOPIC!r} in {APPROVAL_WAIT_SECONDS:g} s: "
            "send on messaging.TOPIC.",
        )
    if reason.startswith("Invalid message"):
        return CheckResult(
            "2.1",
            False,
            'the workflow could not read your message: send {"approved": True, ...}.',
        )
    if result["status"] != "completed":
        return CheckResult("2.1", False, f"the workflow answered: {reason}.")
    return CheckResult("2.1", True, "the workflow received your approval and completed.")


async def solution_2_2(workflow_id: str, message: dict[str, Any]) -> None:
    """Send ``message`` twice, as a retry would, but with one idempotency key."""
    key = f"exercise-2.2:{workflow_id}"
    for _ in range(2):
        await DBOS.send_async(workflow_id, message, TOPIC, idempotency_key=key)


@contextlib.contextmanager
def recorded_sends(workflow_id: str) -> Iterator[list[str | None]]:
    """Record the idempotency key of every ``DBOS.send_async`` to ``workflow_id`` while inside
    (each call still goes to DBOS unchanged)."""
    original = DBOS.__dict__["send_async"]
    keys: list[str | None] = []

    async def recording(
        destination_id: str, message: Any, topic: Any = None, **kwargs: Any
    ) -> None:
        if destination_id == workflow_id:
            keys.append(kwargs.get("idempotency_key"))
        await original.__get__(None, DBOS)(destination_id, message, topic, **kwargs)

    DBOS.send_async = recording  # type: ignore[method-assign]
    try:
        yield keys
    finally:
        DBOS.send_async = original  # type: ignore[method-assign]


async def check_2_2(send_twice: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> CheckResult:
    """``send_twice(id, message)`` must send twice yet deliver one message."""
    if stopped := not_running("2.2"):
        return stopped
    handle = await start(message_counter_workflow, "exercise-counter", 3.0, 0.5)
    message = {"approved": True, "message": "only once"}
    with recorded_sends(handle.workflow_id) as keys:
        _, _, failed = await call("2.2", send_twice, handle.workflow_id, message)
    if failed:  # end it now: after a message the counter waits only its 0.5 s gap
        await DBOS.send_async(handle.workflow_id, "the check ended", TOPIC)
        await handle.get_result()
        return failed
    received = await handle.get_result()
    if len(keys) < 2:
        return CheckResult(
            "2.2",
            False,
            f"it sent {len(keys)} time(s): a retry sends the message again; send twice.",
        )
    if None in keys and len(received) > 1:
        return CheckResult(
            "2.2",
            False,
            f"the workflow received {len(received)}: without an idempotency_key each send is "
            "a new message.",
        )
    if len(set(keys)) > 1:
        return CheckResult(
            "2.2",
            False,
            f"{len(set(keys))} different idempotency keys are {len(set(keys))} messages: "
            "use the same key for every attempt.",
        )
    return compare("2.2", received, [message], "what the workflow received")


async def solution_2_3(timeout_seconds: float) -> str:
    """Runs inside a workflow: wait for a decision, answer by its payload or by the timeout."""
    message = await DBOS.recv_async(TOPIC, timeout_seconds)
    if message is None:
        return "timed out"
    return "approved" if message.get("approved") is True else "rejected"


#: (what the check sends, or None for nothing; the answer it expects)
_CASES = (
    (approval(True, "yes"), "approved"),
    (approval(False, "no"), "rejected"),
    (None, "timed out"),
)
_SILENT_TIMEOUT_SECONDS = 0.5


def _decision_verdict(answers: list[Any]) -> CheckResult | None:
    approved, rejected, silent = answers
    if approved == "timed out":
        return CheckResult(
            "2.3", False, f"it never received the approval sent on {TOPIC!r}: recv on that topic."
        )
    if rejected == "approved":
        return CheckResult("2.3", False, "it approved a rejection: act on message['approved'].")
    if silent == "rejected":
        return CheckResult(
            "2.3", False, "a timeout gives None, not a rejection: answer 'timed out' then."
        )
    expected = [answer for _, answer in _CASES]
    return None if answers == expected else compare("2.3", answers, expected, "the answers")


async def check_2_3(decide: Callable[[float], Awaitable[str]]) -> CheckResult:
    """Run ``decide(timeout)`` as a workflow's code three times: approved, rejected, and sent
    nothing (0.5 s timeout); it must answer "approved", "rejected", "timed out"."""
    if stopped := not_running("2.3"):
        return stopped
    if bad := not_async("2.3", decide):
        return bad
    handles = [await host(decide, _SILENT_TIMEOUT_SECONDS if m is None else 3.0) for m, _ in _CASES]
    for (message, _), handle in zip(_CASES, handles):
        if message is not None:
            await DBOS.send_async(handle.workflow_id, message, TOPIC)
    limits = [5.0 if message is None else 10.0 for message, _ in _CASES]
    outcomes = await asyncio.gather(*(host_result("2.3", h, s) for h, s in zip(handles, limits)))
    for answer, failed in outcomes:
        if failed:
            if "still running" in failed.detail:
                return CheckResult(
                    "2.3",
                    False,
                    f"still waiting long after a {_SILENT_TIMEOUT_SECONDS:g} s timeout: "
                    "pass the timeout to recv_async.",
                )
            return failed
    answers = [answer for answer, _ in outcomes]
    return _decision_verdict(answers) or CheckResult(
        "2.3",
        True,
        "approved, rejected and timed out, each answered from the payload or its absence.",
    )
