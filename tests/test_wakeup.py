"""The same-process wake-up: a reader waiting in this process wakes at the writer's commit,
not at DBOS's next poll. SQLite's poll is set to 30 s here, so a reader that the wake-up
missed would still be waiting when the 10 s deadline passes. Each reader is seen registered
with DBOS before the value is written, so the wake-up (not the reader's first read) is what
is tested."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS, SetWorkflowID

import wfcomm_helpers
from wfcomm_helpers import messaging
from wfcomm_helpers.runtime import lifecycle as runtime, wakeup
from wfcomm_helpers.runtime.dbos_private import polling_interval_sec, waiting_reader

SLOW_POLL_SEC = 30.0
DEADLINE_SEC = 10.0
GO, KEY = "go", "answer"


@DBOS.workflow()
async def gated_writer() -> None:
    """Waits for a message, then sets an event, writes one stream value and closes the stream."""
    await DBOS.recv_async(GO, 60)
    await DBOS.set_event_async(KEY, "set")
    await DBOS.write_stream_async(KEY, "written")
    await DBOS.close_stream_async(KEY)


@DBOS.workflow()
async def counting_receiver(n: int) -> list[Any]:
    """Receives ``n`` times in a row; a wake with no message behind it would show as None."""
    return [await DBOS.recv_async(GO, 30) for _ in range(n)]


@pytest.fixture
async def slow_poll_app(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[runtime.Runtime]:
    monkeypatch.setenv("WFCOMM_SQLITE_POLL_SEC", str(SLOW_POLL_SEC))
    app = await wfcomm_helpers.start("test", quiet=True)
    assert polling_interval_sec() == SLOW_POLL_SEC
    yield app
    wfcomm_helpers.shutdown()


async def registered(kind: str, workflow_id: str, key: str, previous: Any = None) -> Any:
    """Until DBOS lists a waiting reader of ``kind`` for ``key`` of ``workflow_id`` (the reader
    is blocked, not reading) other than ``previous``; returns it."""
    deadline = time.monotonic() + DEADLINE_SEC
    while (signal := waiting_reader(kind, workflow_id, key)) is None or signal is previous:
        assert time.monotonic() < deadline, f"no new {kind} reader registered for {key}"
        await asyncio.sleep(0.001)
    return signal


async def start_gated() -> str:
    wid = f"gated-{time.time_ns()}"
    with SetWorkflowID(wid):
        await DBOS.start_workflow_async(gated_writer)
    await registered("recv", wid, GO)
    return wid


async def test_installed_on_each_database(running_app: runtime.Runtime) -> None:
    """Fails on a DBOS release that moved the hooks (the kit then falls back to the poll).
    Sends wake receivers only on SQLite: PostgreSQL's NOTIFY already does."""
    sqlite = running_app.target.is_sqlite
    assert wakeup.is_installed()
    assert wakeup.wakes_receivers() is sqlite
    assert wakeup.install(wake_receivers=sqlite) is True  # a second install is a no-op
    assert wakeup.wakes_receivers() is sqlite


async def test_each_pattern_wakes_a_waiting_reader_at_commit(
    slow_poll_app: runtime.Runtime,
) -> None:
    """One test, not three: stopping DBOS waits up to 10 s for the sleeping 30 s poller."""
    # send -> waiting recv (the messaging notebook's workflow)
    wid = await messaging.start_messaging(1, timeout_seconds=60)
    await registered("recv", wid, messaging.TOPIC)
    await messaging.send_decision(wid, approved=True)
    handle = await DBOS.retrieve_workflow_async(wid)
    result = await asyncio.wait_for(handle.get_result(), DEADLINE_SEC)
    assert result["status"] == "completed"

    # set_event -> waiting get_event
    wid = await start_gated()
    reader = asyncio.ensure_future(DBOS.get_event_async(wid, KEY, 60))
    await registered("event", wid, KEY)
    await DBOS.send_async(wid, None, GO)
    assert await asyncio.wait_for(reader, DEADLINE_SEC) == "set"

    # write_stream -> tailing reader
    wid = await start_gated()

    async def tail() -> list[Any]:
        return [value async for value in DBOS.read_stream_async(wid, KEY)]

    stream_reader = asyncio.ensure_future(tail())
    await registered("stream", wid, KEY)
    await DBOS.send_async(wid, None, GO)
    assert await asyncio.wait_for(stream_reader, DEADLINE_SEC) == ["written"]


async def test_back_to_back_messages_each_arrive_once_in_order(
    running_app: runtime.Runtime,
) -> None:
    """Exactly once, in order, with each message sent the moment the workflow's next ``recv``
    waits. DBOS's ``recv`` returns None for a wake with no message behind it, so a stray wake
    would show here as a None. The stray wake the kit's design avoids (a PostgreSQL NOTIFY
    arriving after the kit's own wake, at the next ``recv``) needs a loaded machine to show:
    the benchmark's 30 learners caught it, this quiet test does not on its own."""
    n = 150
    wid = f"counting-{time.time_ns()}"
    with SetWorkflowID(wid):
        handle = await DBOS.start_workflow_async(counting_receiver, n)
    waiting = None
    for i in range(n):
        waiting = await registered("recv", wid, GO, waiting)
        await DBOS.send_async(wid, i, GO)
    assert await asyncio.wait_for(handle.get_result(), 60) == list(range(n))


@DBOS.workflow()
async def timed_receiver(timeout: float) -> list[Any]:
    """Receives twice on GO; returns each value with how long its recv took, in seconds."""
    results: list[Any] = []
    for _ in range(2):
        began = time.monotonic()
        value = await DBOS.recv_async(GO, timeout)
        results.append((value, time.monotonic() - began))
    return results


async def test_a_retried_send_that_stores_nothing_wakes_nobody(
    running_app: runtime.Runtime,
) -> None:
    """Issue 11's fault: a send whose idempotency key was already used stores nothing, so the
    next ``recv`` must go on waiting its whole timeout (DBOS alone does), not return None at
    the retry."""
    timeout = 3.0
    wid = f"timed-{time.time_ns()}"
    with SetWorkflowID(wid):
        handle = await DBOS.start_workflow_async(timed_receiver, timeout)
    first = await registered("recv", wid, GO)
    await DBOS.send_async(wid, "M1", GO, idempotency_key="K")
    await registered("recv", wid, GO, first)
    await DBOS.send_async(wid, "M1", GO, idempotency_key="K")  # the retry: DBOS stores nothing
    (value1, _), (value2, waited) = await asyncio.wait_for(handle.get_result(), 30)
    assert (value1, value2) == ("M1", None)
    assert waited >= timeout - 0.1, f"the second recv returned None after {waited:.2f} s"
