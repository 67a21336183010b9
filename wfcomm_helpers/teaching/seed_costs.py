"""The seed called ``send``, ``set_event`` and ``write_stream`` "non-blocking". The ``*_async``
calls do leave the event loop free (the database work runs in a thread), but the caller waits
for a transaction each time: cheap, not free. These time N calls in a row and count what DBOS
recorded, so a notebook cell can print the cost per call next to the claim.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from dbos import DBOS

from ..patterns.lookup import start_handle
from ..patterns.messaging import TOPIC
from ..runtime.validation import new_workflow_id
from .seed_messages import message_counter_workflow

#: The event key / stream key the measuring workflow writes (never the lessons' own keys).
COST_KEY = "cost_probe"
#: The name DBOS 3.x records in ``operation_outputs`` for each call, by call.
RECORDED_AS = {"set_event": "DBOS.setEvent", "write_stream": "DBOS.writeStream"}

Write = Literal["set_event", "write_stream"]


@dataclass(frozen=True)
class CallCost:
    """``calls`` calls of ``call`` took ``seconds`` in total; ``recorded`` is what DBOS kept of
    them (messages received, or rows named ``RECORDED_AS[call]``), described by ``recorded_as``."""

    call: str
    calls: int
    seconds: float
    recorded: int
    recorded_as: str

    @property
    def ms_each(self) -> float:
        return self.seconds * 1000 / self.calls

    def line(self) -> str:
        return (
            f"{self.calls} {self.call} calls took {self.seconds * 1000:.0f} ms "
            f"({self.ms_each:.1f} ms each, a database transaction each); "
            f"{self.recorded} {self.recorded_as}"
        )


async def time_sends(count: int = 20) -> CallCost:
    """Time ``count`` sends from this kernel (no idempotency key: each is a new message) to a
    workflow that counts what it receives."""
    handle = await start_handle(message_counter_workflow, new_workflow_id("seed-counter"), 5.0, 0.3)
    began = time.perf_counter()
    for i in range(count):
        await DBOS.send_async(handle.workflow_id, {"approved": True, "message": str(i)}, TOPIC)
    seconds = time.perf_counter() - began
    received = len(await handle.get_result())
    return CallCost("send", count, seconds, received, "messages the workflow received")


@DBOS.workflow()
async def writes_workflow(call: Write, count: int) -> float:
    """Makes ``count`` calls of ``call`` in a row on COST_KEY; returns the seconds they took
    (measured inside the workflow, so only the calls are timed). Closes the stream after."""
    began = time.perf_counter()
    for i in range(count):
        if call == "set_event":
            await DBOS.set_event_async(COST_KEY, i)
        else:
            await DBOS.write_stream_async(COST_KEY, i)
    seconds = time.perf_counter() - began
    if call == "write_stream":
        await DBOS.close_stream_async(COST_KEY)
    return seconds


async def time_writes(call: Write, count: int = 20) -> CallCost:
    """Time ``count`` ``set_event`` or ``write_stream`` calls inside a workflow and count the
    rows DBOS recorded for them in ``operation_outputs`` (one per call)."""
    handle = await start_handle(
        writes_workflow, new_workflow_id(f"seed-{call.replace('_', '-')}"), call, count
    )
    seconds = await handle.get_result()
    steps = await DBOS.list_workflow_steps_async(handle.workflow_id)
    recorded = sum(1 for step in steps if step["function_name"] == RECORDED_AS[call])
    return CallCost(call, count, seconds, recorded, "of them recorded in operation_outputs")
