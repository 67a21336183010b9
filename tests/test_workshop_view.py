"""The teacher's view (``wfcomm workshop pending``) from the messaging workflow's own events: on a
real SQLite file, through a real ``DBOSClient`` that is forbidden to read step records, the list
names the learner, when she started waiting and her deadline (the ``waiting`` event), leaves out
a workflow that has received (the ``answered`` event), and marks her kernel stopped once it is."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS, DBOSClient

import wfcomm_helpers
from wfcomm_helpers import messaging, workshop
from wfcomm_helpers.patterns.lookup import workflow_summary

TIMEOUT = 300.0


class NoStepRecords:
    """A ``DBOSClient`` whose step records are out of reach: the teacher's view must not need
    DBOS's internal step names."""

    def __init__(self, client: DBOSClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if name.startswith("list_workflow_steps"):
            raise AssertionError(f"the teacher's view called {name}: it must read events only")
        return getattr(self._client, name)


async def test_teacher_view_reads_learner_since_and_deadline_from_events(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WFCOMM_EXECUTOR_ID", "ada")
    runtime = await wfcomm_helpers.start("test", quiet=True)
    client = DBOSClient(system_database_url=runtime.target.url)
    try:
        before = time.time()
        waiting = await messaging.start_messaging(1, "ada-waits", timeout_seconds=TIMEOUT)
        announced = await DBOS.get_event_async(waiting, messaging.WAITING_EVENT, 60)
        after = time.time()
        # Approved, then durable 30 s pauses: still PENDING, but no longer waiting.
        answered = await messaging.start_messaging(
            3, "ada-answered", timeout_seconds=TIMEOUT, pause_seconds=30
        )
        await DBOS.get_event_async(answered, messaging.WAITING_EVENT, 60)
        await messaging.send_decision(answered, True)
        assert await DBOS.get_event_async(answered, messaging.ANSWERED_EVENT, 60) == {
            "received": True,
            "at": pytest.approx(time.time(), abs=60),
        }
        assert (await workflow_summary(answered)).status == "PENDING"

        found = await workshop.waiting_workflows(NoStepRecords(client))
        assert [(w.workflow_id, w.learner) for w in found] == [("ada-waits", "ada")]
        (item,) = found
        assert before <= item.since <= after, (before, item.since, after)
        assert (item.since, item.deadline) == (announced["since"], announced["deadline"])
        assert item.deadline == pytest.approx(item.since + TIMEOUT)
        assert await workshop.waiting_workflows(NoStepRecords(client), "grace") == []

        (running,) = await workshop.with_kernel_state(runtime.target, found)
        assert running.kernel_running is True
        assert running.line(item.since + 10) == (
            f"ada-waits  learner ada  waiting since "
            f"{time.strftime('%H:%M:%S', time.localtime(item.since))}  ({TIMEOUT - 10:.0f} s left)"
        )

        wfcomm_helpers.shutdown()  # her kernel stops: the workflow waits in the database
        found = await workshop.waiting_workflows(NoStepRecords(client))
        assert found == [item]
        (stopped,) = await workshop.with_kernel_state(runtime.target, found)
        assert stopped.kernel_running is False
        assert stopped.line(item.since + 10).endswith(
            "(kernel stopped: it resumes when ada runs the setup cell again)"
        )
    finally:
        client.destroy()
        wfcomm_helpers.shutdown()
