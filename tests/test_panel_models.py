"""The panels' models, driven without a kernel: DBOS runs in this test process on a SQLite file
(pytest-asyncio's loop), and each test records every change of the model's observable state.

The sequences asserted are exact: a phase or notice that appears out of order, twice, or not
at all fails the test. Waits are on the model's own tasks (``wait_idle``) or its trait changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from dbos import DBOS
from test_durability import until
from test_widgets import EXPECTED_LOG  # the 3-step log, fib_base 15
from traitlets import HasTraits

import wfcomm_helpers
from wfcomm_helpers import events, messaging, streaming
from wfcomm_helpers.patterns.messaging import WAITING_EVENT
from wfcomm_helpers.widgets.events_model import EventsModel
from wfcomm_helpers.widgets.messaging_model import MessagingModel
from wfcomm_helpers.widgets.model import DBOS_STOPPED, PanelModel, next_change
from wfcomm_helpers.widgets.streaming_model import StreamingModel


def record(model: HasTraits, name: str) -> list[Any]:
    """Every new value of ``model.name``, in order, from now on."""
    seen: list[Any] = []
    model.observe(lambda change: seen.append(change["new"]), names=name)
    return seen


def busy(what: str, workflow_id: str | None = None) -> str:
    who = (
        f"{what.capitalize()} workflow {workflow_id}"
        if workflow_id
        else f"The {what} workflow you started"
    )
    return f"{who} is still running: wait for it to finish before you start another."


async def test_events_model_runs_through_its_phases_and_says_each_one(dbos_app) -> None:
    model = EventsModel(fib_base=18)
    phases, notices = record(model, "phase"), record(model, "notice")
    assert model.start(3) is True
    assert model.start(3) is False  # a double click
    assert model.notice == busy("events")
    await model.wait_idle()
    wid = model.workflow_id
    assert phases == ["starting", "running", "done"]
    assert notices == [
        "Starting an events workflow…",
        busy("events"),
        busy("events", wid),  # the same refusal, once the workflow has its id
        f"Started {wid} with 3 steps.",
        f"Started {wid} with 3 steps; DBOS status SUCCESS.",
    ]
    assert (model.progress, model.status, model.result, model.error) == (
        100,
        "completed",
        "3 steps: fib(18)=2584, fib(19)=4181, fib(20)=6765",
        None,
    )
    assert sorted(model.events) == ["progress", "result", "status"]
    model.close()


async def test_events_model_bad_step_count_fails_in_one_line(dbos_app) -> None:
    model = EventsModel(fib_base=18)
    phases = record(model, "phase")
    model.start(500)
    await model.wait_idle()
    assert phases == ["starting", "failed"]
    assert (model.notice, model.status, model.workflow_id) == (
        "The step count must be between 1 and 100, not 500.",
        "not started",
        None,
    )
    model.close()


async def test_messaging_model_approve_sequence_and_misclicks(dbos_app) -> None:
    model = MessagingModel(2, 30, fib_base=10)
    main_phases, notices = record(model.main, "phase"), record(model, "notice")
    assert model.decide(True) is False
    assert model.notice == "Press Start first: there is no workflow to approve yet."
    model.start()
    # Right after Start the workflow has no id yet: the click is early, not "Press Start first".
    assert model.decide(True) is False
    assert model.notice == "The workflow is still starting: click again in a moment."
    wid = await model.wait_for_recv()
    assert model.decide(True, "looks good") is True
    assert model.decide(False) is False
    await model.wait_idle()
    assert main_phases == ["starting", "waiting", "decided", "done"]
    already = (
        f"{wid} already got 'approve': this click sends nothing "
        "(one decision per workflow, enforced by an idempotency key)."
    )
    assert notices == [
        "Press Start first: there is no workflow to approve yet.",
        "Starting a messaging workflow…",
        "The workflow is still starting: click again in a moment.",
        f"Started {wid}: it waits for Approve or Reject.",
        f"Sent 'approve' to {wid}.",
        already,
        f"Sent 'approve' to {wid}; it answered completed: 2 steps ran.",
    ]
    assert (model.main.outcome, model.main.dbos_status, model.main.countdown) == (
        "completed: 2 steps ran",
        "SUCCESS",
        "done",
    )
    assert model.decide(True) is False
    assert model.notice == f"{wid} has finished: press Start for a new workflow."
    model.close()


async def test_messaging_model_idle_workflow_times_out_and_a_second_click_names_it(
    dbos_app,
) -> None:
    model = MessagingModel(1, 30, fib_base=10, idle_timeout_seconds=1)
    phases, countdowns = record(model.idle, "phase"), record(model.idle, "countdown")
    assert model.start_idle() is True
    assert model.start_idle() is False  # before the workflow even has an id
    assert model.notice == "The workflow left alone is still starting: wait for it to end."
    await changed_until(
        model.idle, lambda: model.idle.workflow_id is not None, "the idle workflow's id"
    )
    assert model.start_idle() is False
    assert model.notice == (
        f"{model.idle.workflow_id} is still waiting for its timeout: wait for it to end."
    )
    await model.wait_idle()
    # "timed-out" shows only if a re-read falls between the recv's timeout and the return.
    assert phases[:2] == ["starting", "waiting"] and phases[-1] == "done", phases
    assert set(phases[2:-1]) <= {"timed-out"}, phases
    assert countdowns[:2] == ["starting", "waiting for a decision: 1 s left"]
    assert model.idle.outcome == "cancelled: Timeout: no message on topic 'notification' within 1 s"
    assert model.idle.dbos_status == "SUCCESS"
    model.close()


async def test_a_workflow_the_panel_stopped_following_is_not_called_finished(dbos_app) -> None:
    model = MessagingModel(1, 30, fib_base=10)
    model.start()
    wid = await model.wait_for_recv()
    model.task.cancel()
    await model.wait_idle()
    assert (model.phase, model.main.phase, model.main.countdown) == (
        "stopped",
        "stopped",
        "no longer followed by this panel",
    )
    assert model.notice == f"Stopped following {wid}; the workflow goes on in DBOS."
    assert model.decide(True) is False
    assert model.notice == f"This panel no longer follows {wid}: press Start for a new workflow."
    assert (await DBOS.get_workflow_status_async(wid)).status == "PENDING"  # still waiting
    model.close()


#: Loop turns between Start and the re-run of the cell: the sweep crosses the moment DBOS has
#: recorded the workflow but not yet created the task that runs it.
RERUN_AFTER_TURNS = range(0, 60, 2)
PATTERNS = {
    "events": (lambda: EventsModel(fib_base=10), lambda m: m.start(1), events.WORKFLOW_NAME),
    "messaging": (
        lambda: MessagingModel(1, 60, fib_base=10),
        lambda m: m.start(),
        messaging.WORKFLOW_NAME,
    ),
    "streaming": (
        lambda: StreamingModel(1, fib_base=10),
        lambda m: m.start(),
        streaming.WORKFLOW_NAME,
    ),
}


def starting() -> list[asyncio.Task[Any]]:
    """The workflow starts (``start_events`` ...) still running on this loop."""
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.startswith("start_")]


async def succeeded(workflow_id: str) -> bool:
    status = await DBOS.get_workflow_status_async(workflow_id)
    return status is not None and status.status == "SUCCESS"


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
async def test_a_rerun_right_after_start_leaves_no_workflow_pending(dbos_app, pattern) -> None:
    """A re-run cancels the old panel's tasks, never a workflow start: each workflow DBOS
    recorded runs to SUCCESS (messaging: once a decision is sent), and no other exists."""
    make, start, name = PATTERNS[pattern]
    last: PanelModel | None = None
    for turns in RERUN_AFTER_TURNS:
        model = make()
        model.replace(last)  # what a re-run of the cell does to the previous panel
        assert start(model) is True
        last = model
        for _ in range(turns):
            await asyncio.sleep(0)
    await until(lambda: not starting(), "the starts the re-runs left in flight")
    started = await DBOS.list_workflows_async()
    assert {w.name for w in started} == {name}
    for w in started:
        if pattern == "messaging":  # it waits for a decision: the learner sends it later
            await until(
                lambda w=w: DBOS.get_event_async(w.workflow_id, WAITING_EVENT, 0),
                f"{w.workflow_id} to wait for a decision",
            )
            await messaging.send_decision(w.workflow_id, True)
        await until(lambda w=w: succeeded(w.workflow_id), f"{w.workflow_id} to end SUCCESS")
    statuses = {w.workflow_id: w.status for w in await DBOS.list_workflows_async()}
    assert statuses == {w.workflow_id: "SUCCESS" for w in started}
    assert last is not None
    last.close()


async def test_streaming_model_two_readers_get_every_value_and_reread_does_not_consume(
    dbos_app,
) -> None:
    model = StreamingModel(3, fib_base=15)
    assert model.read_again(0) is False
    assert model.notice == "Press Start first: there is no stream to read yet."
    phases, notices, states = (
        record(model, "phase"),
        record(model, "notice"),
        record(model, "stream_state"),
    )
    model.start()
    await model.wait_idle()
    wid = model.workflow_id
    assert phases == ["starting", "open", "done"]
    assert states == ["open", "closed"]
    assert notices == [
        "Starting a streaming workflow…",
        f"Started {wid}: two readers are reading its stream.",
        f"Started {wid}: it closed its stream, and each reader got all 8 values.",
    ]
    assert model.tail == EXPECTED_LOG and model.live == EXPECTED_LOG
    model.read_again(5)
    await model.wait_idle()
    assert model.reread == EXPECTED_LOG[5:]
    assert model.notice == (
        "Re-read 3 values from offset 5; reader 1 still has 8: reading does not consume."
    )
    model.read_again(-1)
    await model.wait_idle()
    assert model.notice == "The stream offset counts from 0; -1 is negative."
    model.close()


async def test_shutdown_stops_a_watching_model_and_its_health_quietly(dbos_app) -> None:
    model = MessagingModel(1, 30, fib_base=10)
    model.health.start()
    model.start()
    await model.wait_for_recv()
    await changed_until(
        model.health,
        lambda: not model.health.line.startswith("kernel health: starting"),
        "the health strip's first reading",
    )
    wfcomm_helpers.shutdown()
    await model.wait_idle()
    await changed_until(model.health, lambda: not model.health.running, "the health to stop")
    assert (model.phase, model.notice, model.error) == ("dbos-stopped", DBOS_STOPPED, None)
    assert model.health.line == (
        "kernel health: stopped (DBOS was shut down: re-run the setup cell)"
    )
    assert model.start() is False and model.notice == DBOS_STOPPED
    assert not model.health.monitor.running


async def changed_until(
    model: HasTraits, condition: Callable[[], bool], what: str, seconds: float = 60
) -> None:
    """Wait on ``model``'s trait changes until ``condition()``; after ``seconds`` fail naming
    ``what``."""

    async def changes() -> None:
        while not condition():
            await next_change(model)

    try:
        await asyncio.wait_for(changes(), seconds)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {seconds:g} s waiting for {what}") from None


async def test_close_cancels_everything_and_is_safe_twice(dbos_app) -> None:
    model = EventsModel(fib_base=24)
    model.health.start()
    model.start(3)
    task = model.task
    model.close()
    model.close()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and not model.busy
    assert (model.phase, model.health.running) == ("closed", False)
    assert model.health.line == "kernel health: stopped (the panel was closed)"
    assert model.start(3) is False
    assert model.notice == (
        "This panel is closed (its workflows go on in DBOS): run the setup cell, then this cell, "
        "for a new one."
    )


@pytest.mark.parametrize(
    ("state", "notice"),
    [
        ({"phase": "idle"}, ""),
        (
            {"phase": "idle", "previous_workflow_id": "w1"},
            (
                "Workflow w1 from the previous run of this cell goes on in DBOS; that panel was "
                "closed, this one starts fresh."
            ),
        ),
        ({"phase": "running", "refusal": "busy", "workflow_id": "w1"}, busy("events", "w1")),
        ({"phase": "dbos-stopped"}, DBOS_STOPPED),
        (
            {"phase": "replaced"},
            "A newer run of this cell replaced this panel: it no longer updates.",
        ),
        ({"phase": "failed", "error": "Boom: one line"}, "Boom: one line"),
        ({"phase": "stopped"}, "Stopped."),
    ],
)
def test_each_common_state_has_its_notice(state: dict[str, Any], notice: str) -> None:
    model = PanelModel("Events workflow")
    for name in ("workflow_id", "previous_workflow_id", "error", "phase", "refusal"):
        if name in state:
            setattr(model, name, state[name])
    assert model.notice == notice
