"""The crash panel's buttons and the pictures drawn from DBOS's records (timeline, loop lag).

Real parts: DBOS in this process and in a crash worker, one SQLite file; the panel's buttons are
pressed with ``Button.click()``, which runs the same handlers a person's click runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dbos import DBOS
from test_durability import until
from test_worker import worker_processes

import wfcomm_helpers
from wfcomm_helpers import timeline, worker
from wfcomm_helpers.durability import prove, step_executions
from wfcomm_helpers.widgets.crash_panel import CrashPanel

pytestmark = pytest.mark.timeout(300)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def events_app(data_dir: Path):
    await wfcomm_helpers.start("events", quiet=True)
    yield
    wfcomm_helpers.shutdown()
    assert worker_processes() == []


async def settle(panel: CrashPanel) -> None:
    await asyncio.wait_for(panel.wait_idle(), 120)


async def test_panel_shows_pending_while_dead_and_recovered_after(events_app):
    panel = CrashPanel("events", n_steps=2, fib_base=31)
    panel.buttons["Kill worker"].click()
    await settle(panel)
    assert panel.notice.value == "No events worker is running."
    panel.buttons["Start worker"].click()
    await settle(panel)
    panel.buttons["Start worker"].click()
    await settle(panel)
    assert panel.notice.value.startswith("events worker already running (pid ")
    panel.buttons["Run workflow"].click()
    wid = await until(lambda: panel.model.workflow_id, "the Run task to set the workflow id", 60)
    await until(
        lambda: any(r.ended is None for r in step_executions("events", wid)), "fib(31) to start", 60
    )
    panel.buttons["Kill worker"].click()
    await until(lambda: not worker.worker_status("events").running, "the worker to die", 60)
    await panel.model.refresh()
    panel.model.changed()
    assert panel.model.workflow_status == "PENDING"
    assert "(worker down: the workflow waits, PENDING)" in panel.status.value
    panel.buttons["Restart"].click()
    await settle(panel)
    assert panel.model.workflow_status == "SUCCESS"
    assert panel.status.value.endswith("(recovered after the crash)")
    report = await prove("events", wid, 2, fib_base=31)
    assert report.ok, str(report)

    picture = await timeline.workflow_timeline(wid, "events")
    assert picture.png.startswith(PNG)
    records = len(await DBOS.list_workflow_steps_async(wid))
    assert repr(picture) == (
        f"Timeline of {wid}: {records} records, 1 killed execution(s), worker down 1 time(s)"
    )


def test_timeline_bars_one_per_record_and_the_killed_execution():
    steps = [
        {
            "function_id": 1,
            "function_name": "DBOS.setEvent",
            "output": None,
            "started_at_epoch_ms": 1000,
            "completed_at_epoch_ms": 1010,
        },
        {
            "function_id": 2,
            "function_name": "fibonacci_step",
            "output": {"n": 30, "fibonacci": 1},
            "started_at_epoch_ms": 4000,
            "completed_at_epoch_ms": 4500,
        },
    ]
    bars = timeline.record_bars(steps)
    assert [(b.lane, b.kind, b.start, b.end) for b in bars] == [
        (" 1 set_event", "set_event", 1.0, 1.01),
        (" 2 fibonacci_step n=30", "step", 4.0, 4.5),
    ]
    runs = [
        timeline.Execution(30, 11, 1.02, None),
        timeline.Execution(30, 12, 4.0, 4.5),
    ]
    killed = timeline.killed_bars(bars, runs, kills=[1.5])
    assert killed == [timeline.Bar(" 2 fibonacci_step n=30", "killed", 1.02, 1.5)]
    assert timeline.down_spans([(0.5, "started"), (1.5, "killed"), (3.0, "started")]) == [
        (1.5, 3.0)
    ]
    assert timeline.draw_timeline(bars + killed, [(1.5, 3.0)], "t").startswith(PNG)


async def test_loop_lag_plot_has_both_runs_samples(dbos_app):
    picture = await timeline.loop_lag_plot(n_steps=2, fib_base=22)
    assert picture.png.startswith(PNG)
    assert repr(picture).startswith("Loop lag: seed (async Fibonacci on the loop) up to ")
    assert "; kit (sync step in a worker thread) up to " in repr(picture)
