"""Scenarios for the differential test: what a DBOS caller observes, run by one workflow.

A :class:`Scenario` is a list of rounds. The workflow first waits on a gate (so messages can be
sent before its first ``recv``), then in each round announces the round (``set_event``),
``recv``s on the round's topic, and reports what it got three ways: an event per round, the
overwritten events ``last`` and ``seen``, and a stream value. The driver sends each round's
messages once that round's ``recv`` waits (or has already returned), while a reader tails the
stream, another waits on the round's event, and one that began waiting on ``seen`` before the
first round reads it while the rounds overwrite it. :func:`expected` says what DBOS promises,
from the messages actually stored (a reused idempotency key stores nothing).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS, SetWorkflowID

from wfcomm_helpers.runtime.dbos_private import waiting_reader

GATE, STREAM = "gate", "received"
TOPICS = ("a", "b")
#: A recv that will get a message waits this long at most; one that will not, SHORT.
LONG_SEC, SHORT_SEC = 30.0, 1.0
#: A None may come this much before its timeout (clock granularity), never earlier; and at most
#: this much after it (a machine with a load of ~36 on 2 cores was seen past 5 s with a batch
#: of 8 scenarios at once; still far less than the LONG wait a late wake-up would show).
EARLY_MARGIN_SEC, LATE_MARGIN_SEC = 0.2, 10.0
DEADLINE_SEC = 60.0


@dataclass(frozen=True)
class Send:
    """One send, ``copies`` times (a retry with a key, or distinct messages without one)."""

    topic: str
    value: str
    key: str | None = None
    copies: int = 1
    concurrent: bool = False  # the copies go out at once, from concurrent senders


@dataclass(frozen=True)
class Round:
    topic: str  # the recv's
    sends: tuple[Send, ...] = ()  # sent once this round's recv waits


@dataclass(frozen=True)
class Scenario:
    rounds: tuple[Round, ...]
    early: tuple[Send, ...] = ()  # sent before the workflow's first recv


@dataclass
class Observed:
    """Everything a caller sees of one run."""

    received: list[Any]
    none_on_time: list[bool]  # per round: a None came at its timeout (not before, not much after)
    round_events: list[Any]  # what a reader waiting on each round's event got
    seen_first: Any  # what the reader waiting on the overwritten ``seen`` from the start got
    all_events: dict[str, Any]
    stream: list[Any]
    timeouts: list[float] = field(default_factory=list)
    took: list[float] = field(default_factory=list)  # seconds each round's recv took


def expected(scenario: Scenario) -> list[Any]:
    """What each round's recv returns under DBOS's rules: per topic, oldest stored first; a
    send whose idempotency key was used before stores nothing."""
    stored: dict[str, deque[str]] = {topic: deque() for topic in TOPICS}
    used: set[str] = set()

    def send(item: Send) -> None:
        for _ in range(item.copies):
            if item.key is not None:
                if item.key in used:
                    continue
                used.add(item.key)
            stored[item.topic].append(item.value)

    for item in scenario.early:
        send(item)
    received = []
    for round_ in scenario.rounds:
        for item in round_.sends:
            send(item)
        queue = stored[round_.topic]
        received.append(queue.popleft() if queue else None)
    return received


def plan(scenario: Scenario) -> list[tuple[str, float]]:
    """(topic, timeout) per round: long where a message will come, short where none will."""
    return [
        (round_.topic, LONG_SEC if value is not None else SHORT_SEC)
        for round_, value in zip(scenario.rounds, expected(scenario))
    ]


@DBOS.workflow()
async def differential_workflow(rounds: list[tuple[str, float]]) -> list[tuple[Any, float]]:
    """The workflow side of a scenario; returns (value, seconds its recv took) per round."""
    await DBOS.recv_async(GATE, LONG_SEC)
    results = []
    for i, (topic, timeout) in enumerate(rounds):
        await DBOS.set_event_async("round", i)
        began = time.monotonic()
        value = await DBOS.recv_async(topic, timeout)
        results.append((value, time.monotonic() - began))
        await DBOS.set_event_async("last", value)
        await DBOS.set_event_async("seen", {"round": i, "value": value})
        await DBOS.set_event_async(f"round-{i}", value)
        await DBOS.write_stream_async(STREAM, value)
    await DBOS.close_stream_async(STREAM)
    return results


async def _send(workflow_id: str, item: Send) -> None:
    def one() -> Any:
        return DBOS.send_async(workflow_id, item.value, item.topic, idempotency_key=item.key)

    if item.concurrent:
        await asyncio.gather(*(one() for _ in range(item.copies)))
    else:
        for _ in range(item.copies):
            await one()


async def _until(condition: Any, what: str) -> None:
    """Until ``await condition()`` is true; fails after DEADLINE_SEC naming ``what``."""
    deadline = time.monotonic() + DEADLINE_SEC
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.005)


async def _round_waits(workflow_id: str, i: int, topic: str) -> None:
    """Until round ``i``'s recv waits in DBOS, or has already returned."""

    async def ready() -> bool:
        events = await DBOS.get_all_events_async(workflow_id)
        if f"round-{i}" in events:
            return True
        # Round i-1's recv unregistered before "round" became i: a waiter now is round i's.
        return events.get("round") == i and waiting_reader("recv", workflow_id, topic) is not None

    await _until(ready, f"round {i}'s recv waits")


async def run(scenario: Scenario) -> Observed:
    """Run ``scenario`` on the DBOS running in this process and return what was observed."""
    workflow_id = f"differential-{uuid.uuid4().hex[:12]}"
    rounds = plan(scenario)
    with SetWorkflowID(workflow_id):
        handle = await DBOS.start_workflow_async(differential_workflow, rounds)

    async def tail() -> list[Any]:
        return [value async for value in DBOS.read_stream_async(workflow_id, STREAM)]

    stream = asyncio.ensure_future(tail())
    seen_first = asyncio.ensure_future(DBOS.get_event_async(workflow_id, "seen", LONG_SEC))

    async def gated() -> bool:
        return (
            waiting_reader("recv", workflow_id, GATE) is not None
            and waiting_reader("event", workflow_id, "seen") is not None
        )

    await _until(gated, "the workflow waits at its gate and a reader waits on 'seen'")
    for item in scenario.early:
        await _send(workflow_id, item)
    await DBOS.send_async(workflow_id, "go", GATE)
    round_events = []
    for i, round_ in enumerate(scenario.rounds):
        reader = asyncio.ensure_future(DBOS.get_event_async(workflow_id, f"round-{i}", LONG_SEC))
        await _round_waits(workflow_id, i, round_.topic)
        for item in round_.sends:
            await _send(workflow_id, item)
        round_events.append(await asyncio.wait_for(reader, DEADLINE_SEC))
    results = await asyncio.wait_for(handle.get_result(), DEADLINE_SEC)
    return Observed(
        received=[value for value, _ in results],
        none_on_time=[
            value is not None or timeout - EARLY_MARGIN_SEC <= took <= timeout + LATE_MARGIN_SEC
            for (value, took), (_, timeout) in zip(results, rounds)
        ],
        round_events=round_events,
        seen_first=await asyncio.wait_for(seen_first, DEADLINE_SEC),
        all_events=await DBOS.get_all_events_async(workflow_id),
        stream=await asyncio.wait_for(stream, DEADLINE_SEC),
        timeouts=[timeout for _, timeout in rounds],
        took=[took for _, took in results],
    )
