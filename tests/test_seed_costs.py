"""The cost of send, set_event and write_stream as notebooks 01 to 03 print it: each call is one
recorded transaction, counted from DBOS's own rows; and ``lesson.wait_in_recv`` returns only once
a send would wake the waiting ``recv``."""

from __future__ import annotations

import asyncio

import pytest
from dbos import DBOS

from wfcomm_helpers import lesson, seed_costs
from wfcomm_helpers.patterns.messaging import TOPIC, WAITING_EVENT, approval, messaging_workflow


async def test_each_send_is_a_message_of_its_own(dbos_app):
    cost = await seed_costs.time_sends(5)
    assert (cost.call, cost.calls, cost.recorded) == ("send", 5, 5)
    assert cost.line().startswith("5 send calls took ")
    assert cost.line().endswith("; 5 messages the workflow received")


@pytest.mark.parametrize("call", ["set_event", "write_stream"])
async def test_each_write_is_one_recorded_transaction(dbos_app, call):
    cost = await seed_costs.time_writes(call, 7)
    assert (cost.call, cost.calls, cost.recorded) == (call, 7, 7)
    assert 0 < cost.seconds < 60
    assert f"7 {call} calls took " in cost.line()


async def test_the_written_values_are_what_a_reader_sees(dbos_app):
    handle = await DBOS.start_workflow_async(seed_costs.writes_workflow, "write_stream", 4)
    await handle.get_result()
    values = [v async for v in DBOS.read_stream_async(handle.workflow_id, seed_costs.COST_KEY)]
    assert values == [0, 1, 2, 3]
    handle = await DBOS.start_workflow_async(seed_costs.writes_workflow, "set_event", 4)
    await handle.get_result()
    assert await DBOS.get_event_async(handle.workflow_id, seed_costs.COST_KEY, 0) == 3


async def test_wait_in_recv_returns_once_the_deadline_is_recorded(dbos_app):
    handle = await DBOS.start_workflow_async(messaging_workflow, 1, 30.0, 5)
    await lesson.wait_in_recv(handle.workflow_id, 30)
    steps = [s["function_name"] for s in await DBOS.list_workflow_steps_async(handle.workflow_id)]
    assert steps[-1] == "DBOS.sleep" and "DBOS.recv" not in steps, steps
    assert await DBOS.get_event_async(handle.workflow_id, WAITING_EVENT, 0)
    await DBOS.send_async(handle.workflow_id, approval(True), TOPIC)
    assert (await handle.get_result())["status"] == "completed"


async def test_wait_in_recv_gives_up_on_a_workflow_without_recv(dbos_app):
    other = await DBOS.start_workflow_async(seed_costs.writes_workflow, "set_event", 1)
    await other.get_result()
    with pytest.raises(asyncio.TimeoutError):
        await lesson.wait_in_recv(other.workflow_id, 0.3)
