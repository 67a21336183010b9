"""Kill the crash worker at each phase of each pattern, start it again, and assert from DBOS's
records exactly what was and was not re-run (wfcomm_helpers.durability.prove), and that the
recovered workflow's records are those of the same workflow run without a crash (same order,
ids, names, step results and workflow result).

Real parts: DBOS in this process (the "kernel") and in a worker process, one SQLite file.
Every kill is synchronised on a record (a step, an event, a journal line, a stream value).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from dbos import DBOS
from test_worker import worker_processes

import wfcomm_helpers
from wfcomm_helpers import messaging, streaming, worker
from wfcomm_helpers.durability import CPU_STEP, prove, step_executions
from wfcomm_helpers.runtime.dbos_private import RECV_STEP, SLEEP_STEP

pytestmark = pytest.mark.timeout(300)


async def until(condition: Callable[[], Any], what: str, seconds: float = 90) -> Any:
    """Until ``condition()`` (awaited if it returns an awaitable) is true; returns it. Fails
    after ``seconds`` naming ``what``."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out after {seconds:g} s waiting for {what}"
        await asyncio.sleep(0.02)


async def step_names(wid: str) -> list[str]:
    return [s["function_name"] for s in await DBOS.list_workflow_steps_async(wid)]


@pytest.fixture(params=["events", "messaging", "streaming"])
async def app(request: pytest.FixtureRequest, data_dir: Path):
    await wfcomm_helpers.start(request.param, quiet=True)
    await worker.start_worker(request.param)
    yield request.param
    wfcomm_helpers.shutdown()
    assert worker_processes() == []


async def records(wid: str) -> list[tuple[int, str, Any]]:
    """(function_id, name, output) of each record; outputs only where a run must repeat them
    (the CPU step's result, the message ``recv`` got), not times such as a sleep's deadline."""
    return [
        (
            s["function_id"],
            s["function_name"],
            s["output"] if s["function_name"] in (CPU_STEP, RECV_STEP) else None,
        )
        for s in await DBOS.list_workflow_steps_async(wid)
    ]


async def assert_records_as_without_a_crash(
    wid: str, pattern: str, n_steps: int, decision: bool | None = None, **options: Any
) -> None:
    """Run the same workflow again on the (running) worker with no crash, the same decision
    sent for messaging, and compare its records and result with the crashed one's."""
    reference = await worker.run_on_worker(pattern, n_steps, **options)
    if decision is not None:
        await DBOS.get_event_async(reference, messaging.WAITING_EVENT, 60)
        await messaging.send_decision(reference, decision, "sent while the worker was down")
    results = [await (await DBOS.retrieve_workflow_async(w)).get_result() for w in (wid, reference)]
    assert results[0] == results[1]
    assert await records(wid) == await records(reference)


def only(pattern: str):
    return pytest.mark.parametrize("app", [pattern], indirect=True)


@only("events")
async def test_events_killed_before_the_first_step(app):
    wid = await worker.run_on_worker("events", 2, pause_seconds=1.0)
    await until(
        lambda: _has(wid, SLEEP_STEP, absent="fibonacci_step"), "the pause before step 1", 60
    )
    await worker.kill_worker("events")
    await worker.start_worker("events")
    report = await prove("events", wid, 2)
    assert report.ok, str(report)
    assert [(r.n, r.ended is not None) for r in report.executions] == [(22, True), (23, True)]
    assert len({r.pid for r in report.executions}) == 1  # both ran in the second worker
    await assert_records_as_without_a_crash(wid, "events", 2, pause_seconds=1.0)


async def _has(wid: str, name: str, absent: str | None = None) -> bool:
    names = await step_names(wid)
    return name in names and (absent is None or absent not in names)


@only("events")
async def test_events_killed_mid_step_reruns_that_step_only(app):
    wid = await worker.run_on_worker("events", 2, fib_base=31)
    await until(lambda: _running(wid, 31), "fib(31) to start", 60)
    await worker.kill_worker("events")
    first = step_executions("events", wid)
    assert [(r.n, r.ended) for r in first] == [(31, None)], "the kill came after the step ended"
    await worker.start_worker("events")
    report = await prove("events", wid, 2, fib_base=31)
    assert report.ok, str(report)
    runs = [(r.n, r.ended is not None) for r in report.executions]
    assert runs == [(31, False), (31, True), (32, True)]
    assert any(
        "fib(31) was running when worker 1 died: it ran again in worker 2" in line
        for _, line in report.checks
    )
    await assert_records_as_without_a_crash(wid, "events", 2, fib_base=31)


async def _running(wid: str, n: int) -> bool:
    return any(r.n == n and r.ended is None for r in step_executions("events", wid))


@only("messaging")
async def test_decision_sent_while_the_worker_is_down_is_received_once(app):
    wid = await worker.run_on_worker("messaging", 2, timeout_seconds=60)
    await DBOS.get_event_async(wid, messaging.WAITING_EVENT, 60)
    await worker.kill_worker("messaging")
    decision = messaging.approval(True, "sent while the worker was down")
    sent_at = time.time()
    for _ in range(2):  # a retried send: the idempotency key makes it one message
        await messaging.send_decision(wid, True, "sent while the worker was down")
    await worker.start_worker("messaging")
    report = await prove("messaging", wid, 2, decision=decision, decision_sent_at=sent_at)
    assert report.ok, str(report)
    assert [r.n for r in report.executions] == [22, 23]
    await assert_records_as_without_a_crash(wid, "messaging", 2, True, timeout_seconds=60)


@only("messaging")
async def test_recv_timeout_keeps_its_original_deadline_across_the_crash(app):
    timeout = 6.0
    wid = await worker.run_on_worker("messaging", 1, timeout_seconds=timeout)
    await DBOS.get_event_async(wid, messaging.WAITING_EVENT, 60)
    await until(lambda: _has(wid, SLEEP_STEP), "the recv deadline record", 60)
    await worker.kill_worker("messaging")
    await asyncio.sleep(2.0)  # not synchronisation: the worker stays down 2 s of the 6
    restarted = time.time()
    await worker.start_worker("messaging")
    report = await prove("messaging", wid, 1, decision=None)
    assert report.ok, str(report)
    steps = await DBOS.list_workflow_steps_async(wid)
    recv = next(s for s in steps if s["function_name"] == RECV_STEP)
    deadline = float(
        next(s for s in steps if s["function_id"] == recv["function_id"] + 1)["output"]
    )
    assert deadline < restarted + timeout - 1.5, "the deadline was set again after the restart"
    ended = recv["completed_at_epoch_ms"] / 1000
    assert ended >= deadline - 0.05, "recv returned before its deadline"
    # The recovered recv (its record starts after the restart) waited only what was left: a
    # fresh 6 s timeout would end 6 s after it began, however slow the restart was.
    waited = ended - recv["started_at_epoch_ms"] / 1000
    assert waited < timeout - 1.5, (deadline, ended, restarted, waited)
    result = await DBOS.retrieve_workflow_async(wid)
    assert (await result.get_result())["status"] == "cancelled"


@only("streaming")
async def test_reader_tailing_across_the_crash_sees_each_value_once(app):
    wid = await worker.run_on_worker("streaming", 3, pause_seconds=0.5)
    seen: list[tuple[int, Any]] = []

    async def tail() -> None:
        async for offset, value in streaming.follow_stream(wid):
            seen.append((offset, value))

    reader = asyncio.ensure_future(tail())
    await until(lambda: _at_least(seen, 3), "three stream values", 60)  # start, progress, result
    await worker.kill_worker("streaming")
    at_kill = len(seen)
    await worker.start_worker("streaming")
    await asyncio.wait_for(reader, 120)
    report = await prove("streaming", wid, 3, stream_seen=seen)
    assert report.ok, str(report)
    assert 3 <= at_kill < streaming.stream_length(3)
    await assert_records_as_without_a_crash(wid, "streaming", 3, pause_seconds=0.5)


async def _at_least(values: list, count: int) -> bool:
    return len(values) >= count


@only("events")
@pytest.mark.timeout(900)  # 20 DBOS launches: minutes on a loaded machine
async def test_twenty_kills_and_restarts_leave_no_duplicate_and_no_process(app):
    # 125 records in all (2 + 4 per step + 3). A restart replays what is recorded, and a sleep
    # whose deadline passed while the worker was down returns at once, so one restart can add a
    # whole step's 4 records before the kill lands: 30 steps keep the workflow unfinished
    # through 20 kills (at most 80 records) until the last restart.
    n_steps, options = 30, {"fib_base": 0, "pause_seconds": 0.5}
    total = 2 + 4 * n_steps + 3
    wid = await worker.run_on_worker("events", n_steps, **options)
    for kill in range(20):
        before = len(await step_names(wid))
        assert before < total, f"the workflow ended after {kill} kills: give it more steps"
        assert (await worker.start_worker("events")).running
        await until(lambda: _more(wid, before), "a new step record", 60)
        await worker.kill_worker("events")
        assert worker_processes() == []
    assert len(await step_names(wid)) < total
    await worker.start_worker("events")
    report = await prove("events", wid, n_steps, fib_base=0)
    assert report.ok, str(report)
    assert sorted({r.n for r in report.executions}) == list(range(n_steps))
    assert len(await step_names(wid)) == total
    await assert_records_as_without_a_crash(wid, "events", n_steps, **options)


async def _more(wid: str, count: int) -> bool:
    return len(await step_names(wid)) > count


async def test_postgres_worker_killed_mid_step_reruns_that_step_only(data_dir, pg_url):
    await wfcomm_helpers.start("events", database_url=pg_url, quiet=True)
    try:
        await worker.start_worker("events", database_url=pg_url)
        wid = await worker.run_on_worker("events", 2, fib_base=31)
        await until(lambda: _running(wid, 31), "fib(31) to start", 60)
        await worker.kill_worker("events")
        await worker.start_worker("events", database_url=pg_url)
        report = await prove("events", wid, 2, fib_base=31)
        assert report.ok, str(report)
        assert [(r.n, r.ended is not None) for r in report.executions] == [
            (31, False),
            (31, True),
            (32, True),
        ]
    finally:
        wfcomm_helpers.shutdown()
    assert worker_processes() == []
