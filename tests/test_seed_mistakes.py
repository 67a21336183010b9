"""The seed's wrong claims, as the notebooks show them: each demo returns what the notebook
prints, and here it is asserted exactly."""

from __future__ import annotations

import asyncio
import time

from dbos import DBOS

from wfcomm_helpers import seed_mistakes
from wfcomm_helpers.patterns.compute import fibonacci


def is_refusal(line: str, call: str) -> bool:
    """DBOS's refusal of a sync call in a running loop: its type and the async call it points to
    (DBOS may reword the rest in any release)."""
    return line.startswith("RuntimeError: ") and f"{call}_async(" in line


async def test_the_seeds_sync_calls_raise_in_a_running_loop(dbos_app):
    refusals = await seed_mistakes.seed_sync_calls("any-id")
    assert set(refusals) == {"DBOS.get_event", "DBOS.send", "DBOS.read_stream"}
    for call, line in refusals.items():
        assert is_refusal(line, call.removeprefix("DBOS.")), line


async def test_nest_asyncio2_does_not_change_dboss_check():
    works, send = await seed_mistakes.nest_asyncio_demo()
    assert works == "after nest_asyncio2.apply(), asyncio.run inside the loop: works"
    prefix = "after nest_asyncio2.apply(), DBOS.send: "
    assert send.startswith(prefix) and is_refusal(send.removeprefix(prefix), "send"), send


async def test_the_seeds_async_fibonacci_holds_the_loop(dbos_app):
    assert await seed_mistakes.seed_async_fibonacci(20) == fibonacci(20) == 6765
    # fib(25) on the loop, timed at its quickest of three; the loop lag seen while the seed's
    # workflow runs its steps fib(28..29) is at least that long:
    # nothing else ran on the loop meanwhile.
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        await seed_mistakes.seed_async_fibonacci(25)
        timings.append((time.perf_counter() - began) * 1000)
    # Steps of fib(28) and fib(29), long enough that no scheduling hiccup on a loaded machine
    # looks like a held loop (fib(27), 50 ms, did once beside a CI run).
    seed_run, kit_run = await seed_mistakes.compare_loop_lag(n_steps=2, fib_base=28)
    assert seed_run.max_lag_ms >= 0.8 * min(timings), (seed_run, timings)
    assert seed_run.label.startswith("seed") and kit_run.label.startswith("kit")
    # What 01's cell asserts, judged against the steps' own recorded lengths.
    assert seed_run.longest_step_ms > 0 and kit_run.longest_step_ms > 0, (seed_run, kit_run)
    assert seed_run.loop_stood_still and not kit_run.loop_stood_still, (seed_run, kit_run)


async def test_seed_cpu_workflow_returns_the_seeds_results(dbos_app):
    handle = await DBOS.start_workflow_async(seed_mistakes.seed_cpu_on_loop_workflow, 2, 10)
    assert await handle.get_result() == [{"n": 10, "fibonacci": 55}, {"n": 11, "fibonacci": 89}]


async def test_offset_read_returns_at_once_while_read_stream_waits_for_the_close(dbos_app):
    timing = await seed_mistakes.compare_stream_reads(n_values=4, gap_seconds=0.3)
    # The offset read and the seed's snapshot both come back before the second value exists
    # (it is 0.3 s of durable sleep away); only the plain read waits for the close.
    assert (timing.offset_read_values, timing.offset_read_closed) == (1, False)
    assert timing.seed_snapshot_values == 1
    assert timing.follow_values == 4
    assert timing.follow_seconds > timing.offset_read_seconds


async def test_send_to_an_unknown_id_fails_and_a_send_before_recv_waits(dbos_app):
    refused = await seed_mistakes.send_to_unknown_id("nobody")
    assert refused.startswith("DBOSNonExistentWorkflowError: ") and "nobody" in refused, refused
    early = await seed_mistakes.send_before_recv(delay_seconds=0.5)
    assert early == seed_mistakes.EarlySend(
        sent_before_recv=True, received={"approved": True, "message": "sent early"}
    )


async def test_a_retried_send_is_two_messages_unless_it_has_a_key(dbos_app):
    message = {"approved": True, "message": "go"}
    without_key, with_key = await asyncio.gather(
        seed_mistakes.retried_send(None), seed_mistakes.retried_send("retry-key")
    )
    assert without_key == [message, message]
    assert with_key == [message]


async def test_a_cancelled_answer_is_a_dbos_success(dbos_app):
    assert await seed_mistakes.cancelled_is_success() == ("cancelled", "SUCCESS")
