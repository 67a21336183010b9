"""Messaging: approve, reject and timeout outcomes, delivery before recv, exactly-once."""

from __future__ import annotations

from typing import Any, AsyncIterator

import pytest
from dbos import DBOS, DBOSClient

import wfcomm_helpers
from wfcomm_helpers import messaging
from wfcomm_helpers.patterns.compute import fibonacci_result
from wfcomm_helpers.patterns.lookup import (
    AppClient,
    start_workflow,
    workflow_result,
    workflow_summary,
)
from wfcomm_helpers.runtime.errors import InvalidInputError, UnknownWorkflowError

BASE = 5


@DBOS.workflow()
async def collect_messages(first_timeout: float) -> list[Any]:
    """Test-only: receive every message on the kit's topic until none is left."""
    received = [await DBOS.recv_async(messaging.TOPIC, first_timeout)]
    while received[-1] is not None:
        received.append(await DBOS.recv_async(messaging.TOPIC, 0.2))
    return received[:-1]


async def test_approve_runs_the_steps(running_app) -> None:
    wid = await messaging.start_messaging(3, timeout_seconds=30, fib_base=BASE)
    await messaging.send_decision(wid, True, "ship it")
    assert await workflow_result(wid, timeout=30) == {
        "status": "completed",
        "results": [fibonacci_result(BASE + i) for i in range(3)],
    }
    assert (await workflow_summary(wid)).status == "SUCCESS"


async def test_reject_cancels_yet_dbos_records_success(running_app) -> None:
    wid = await messaging.start_messaging(3, timeout_seconds=30, fib_base=BASE)
    await messaging.send_decision(wid, False, "budget")
    assert await workflow_result(wid, timeout=30) == {
        "status": "cancelled",
        "reason": "Not approved: budget",
        "results": [],
    }
    # "cancelled" is the workflow's answer; to DBOS the workflow succeeded.
    assert (await workflow_summary(wid)).status == "SUCCESS"


async def test_timeout_cancels_yet_dbos_records_success(running_app) -> None:
    wid = await messaging.start_messaging(2, timeout_seconds=0.3, fib_base=BASE)
    assert await workflow_result(wid, timeout=30) == {
        "status": "cancelled",
        "reason": "Timeout: no message on topic 'notification' within 0.3 s",
        "results": [],
    }
    assert (await workflow_summary(wid)).status == "SUCCESS"


async def test_a_message_that_is_not_an_approval_cancels(running_app) -> None:
    wid = await messaging.start_messaging(1, timeout_seconds=30, fib_base=BASE)
    await messaging.send_message(wid, {"approved": "yes"})
    assert (await workflow_result(wid, timeout=30))["reason"] == (
        "Invalid message: expected a JSON object with a boolean 'approved'"
    )


@pytest.fixture
async def stopped_app(running_app) -> AsyncIterator[DBOSClient]:
    """The app's database exists but no app runs on it: enqueued workflows wait, as they do
    while a kernel is restarting. Yields a client; the test restarts the app itself."""
    url = running_app.target.url
    wfcomm_helpers.shutdown()
    client = AppClient(system_database_url=url, application_name=running_app.app)
    yield client
    client.destroy()


async def test_a_message_sent_before_recv_is_received(stopped_app: DBOSClient, running_app) -> None:
    wid = await messaging.start_messaging(1, timeout_seconds=30, fib_base=BASE, backend=stopped_app)
    assert (await workflow_summary(wid, backend=stopped_app)).status == "ENQUEUED"
    await messaging.send_decision(wid, True, backend=stopped_app)

    await wfcomm_helpers.start("test", database_url=running_app.target.url, quiet=True)
    assert (await workflow_result(wid, timeout=30))["status"] == "completed"


async def test_the_same_idempotency_key_is_consumed_once(
    stopped_app: DBOSClient, running_app
) -> None:
    keyed = await start_workflow(collect_messages, "collect-keyed", 30.0, backend=stopped_app)
    plain = await start_workflow(collect_messages, "collect-plain", 30.0, backend=stopped_app)
    for _ in range(2):  # a double click, or a retried request
        await stopped_app.send_async(keyed, {"n": 1}, messaging.TOPIC, idempotency_key="click-1")
        await stopped_app.send_async(plain, {"n": 1}, messaging.TOPIC)

    await wfcomm_helpers.start("test", database_url=running_app.target.url, quiet=True)
    assert await workflow_result(keyed, timeout=30) == [{"n": 1}]
    assert await workflow_result(plain, timeout=30) == [{"n": 1}, {"n": 1}]


async def test_approve_and_reject_share_one_decision(running_app) -> None:
    wid = await messaging.start_messaging(1, timeout_seconds=30, fib_base=BASE)
    await messaging.send_decision(wid, True, "first")
    await messaging.send_decision(wid, False, "second click")
    assert (await workflow_result(wid, timeout=30))["status"] == "completed"


async def test_send_to_an_unknown_id_fails_clearly(running_app) -> None:
    with pytest.raises(UnknownWorkflowError) as caught:
        await messaging.send_decision("nobody", True)
    assert str(caught.value).startswith("No workflow with id 'nobody' in this database:")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (None, 'The message must be a JSON object such as {"approved": true}, not null.'),
        ([1, 2], 'The message must be a JSON object such as {"approved": true}, not an array.'),
        (True, 'The message must be a JSON object such as {"approved": true}, not a boolean.'),
        ({1}, 'The message must be a JSON object such as {"approved": true}, not a Python set.'),
        (
            {"blob": "x" * 70_000},
            "The message is 70012 bytes: keep it under 65536 bytes (store big data elsewhere "
            "and send a reference).",
        ),
    ],
)
async def test_bad_messages_get_one_line(dbos_app, message: Any, error: str) -> None:
    wid = await messaging.start_messaging(1, timeout_seconds=0.1, fib_base=BASE)
    with pytest.raises(InvalidInputError) as caught:
        await messaging.send_message(wid, message)
    assert str(caught.value) == error
    assert (await workflow_result(wid, timeout=30))["status"] == "cancelled"
