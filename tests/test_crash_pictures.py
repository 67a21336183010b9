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
from wfcomm_helpers.widgets.timeline_view import timeline_html

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


async def press(panel: CrashPanel, label: str) -> str:
    """Click a panel button (the handler a person's click runs), settle; the notice."""
    panel.buttons[label].click()
    await settle(panel)
    return panel.notice.value


async def test_panel_shows_pending_while_dead_and_recovered_after(events_app):
    panel = CrashPanel("events", n_steps=2, fib_base=31)
    assert await press(panel, "Kill worker") == "No events worker is running."
    await press(panel, "Start worker")
    assert (await press(panel, "Start worker")).startswith("events worker already running (pid ")
    panel.buttons["Run workflow"].click()
    wid = await until(lambda: panel.model.workflow_id, "the Run task to set the workflow id", 60)
    await until(
        lambda: any(r.ended is None for r in step_executions("events", wid)), "fib(31) to start", 60
    )
    # The live timeline: drawn while the workflow runs, one mark per record DBOS holds.
    await until(
        lambda: 'class="wfcomm-timeline-mark"' in panel.timeline.value,
        "the live timeline's first mark",
        60,
    )
    assert panel.model.workflow_status == "PENDING"
    panel.buttons["Kill worker"].click()
    await until(lambda: not worker.worker_status("events").running, "the worker to die", 60)
    await panel.model.refresh()
    panel.model.changed()
    assert panel.model.workflow_status == "PENDING"
    assert "(worker down: the workflow waits, PENDING)" in panel.status.value
    records = len(await DBOS.list_workflow_steps_async(wid))
    assert marks_in(panel.timeline.value) == (records, 1)  # fib(31) was cut short
    assert panel.proof.value == ""
    panel.buttons["Restart"].click()
    await settle(panel)
    assert panel.model.workflow_status == "SUCCESS"
    assert panel.status.value.endswith("(recovered after the crash)")
    report = await prove("events", wid, 2, fib_base=31)
    assert report.ok, str(report)
    records = len(await DBOS.list_workflow_steps_async(wid))
    assert marks_in(panel.timeline.value) == (records, 1)
    assert f'data-records="{records}"' in panel.timeline.value
    # The panel ran the same proof once the workflow succeeded, and lists its lines.
    assert panel.model.proof is not None and str(panel.model.proof) == str(report)
    assert panel.proof.value.count('class="wfcomm-crash-proof-line"') == len(report.checks)
    assert "fib(31) was running when worker 1 died: it ran again in worker 2" in panel.proof.value

    picture = await timeline.workflow_timeline(wid, "events")
    assert picture.png.startswith(PNG)
    records = len(await DBOS.list_workflow_steps_async(wid))
    assert repr(picture) == (
        f"Timeline of {wid}: {records} records, 1 killed execution(s), worker down 1 time(s)"
    )


def marks_in(html: str) -> tuple[int, int]:
    """(record marks, killed-execution marks) in a live timeline's HTML."""
    return html.count('class="wfcomm-timeline-mark"'), html.count('class="wfcomm-timeline-killed"')


async def test_messaging_panel_approve_while_down_is_proved_received_after_restart(data_dir):
    await wfcomm_helpers.start("messaging", quiet=True)
    try:
        panel = CrashPanel("messaging", n_steps=1, timeout_seconds=60)
        notice = await press(panel, "Approve")
        assert notice == "Run a workflow first: there is nobody to approve."
        await press(panel, "Start worker")
        panel.buttons["Run workflow"].click()
        wid = await until(lambda: panel.model.workflow_id, "the workflow's id")

        async def recv_waits() -> bool:  # recv has recorded its deadline: it is waiting
            return "DBOS.sleep" in [s["function_name"] for s in await step_list(wid)]

        await until(recv_waits, f"{wid}'s recv to record its deadline")
        panel.buttons["Kill worker"].click()
        await until_down("messaging")
        panel.buttons["Approve"].click()
        await until(lambda: panel.notice.value.startswith("Sent"), "the approval to be sent")
        assert panel.notice.value == f"Sent the approval to {wid} while the worker is down."
        panel.buttons["Restart"].click()
        await settle(panel)
        assert panel.model.workflow_status == "SUCCESS"
        assert panel.model.proof is not None and panel.model.proof.ok, str(panel.model.proof)
        assert "received after the restart" in panel.proof.value
        assert marks_in(panel.timeline.value) == (len(await step_list(wid)), 0)
    finally:
        wfcomm_helpers.shutdown()
    assert worker_processes() == []


async def step_list(wid: str) -> list:
    return list(await DBOS.list_workflow_steps_async(wid))


async def until_down(pattern: str) -> None:
    await until(
        lambda: not worker.worker_status(pattern).running, f"the {pattern} worker to be down"
    )


def test_live_timeline_html_has_one_mark_per_record_and_each_killed_run():
    bars = [
        timeline.Bar(" 1 set_event", "set_event", 1.0, 1.01),
        timeline.Bar(" 2 fibonacci_step n=30", "step", 4.0, 4.5),
        timeline.Bar(" 2 fibonacci_step n=30", "killed", 1.02, 1.5),
    ]
    html = timeline_html(timeline.Marks(bars, [(1.5, 3.0)], records=2))
    assert marks_in(html) == (2, 1)
    assert 'data-records="2"' in html
    assert (
        "timeline: 2 records (one mark each), 1 killed execution(s), worker down 1 time(s)" in html
    )
    # Marks sit on one time axis (0 to 3.5 s): fib(30)'s record starts at 3/3.5 of the track.
    assert "left:85.71%;width:14.29%" in html
    assert html.count('class="wfcomm-timeline-down"') == 2  # shaded on each of the 2 lanes
    empty = timeline_html(timeline.Marks([], [], records=0))
    assert marks_in(empty) == (0, 0) and 'data-records="0"' in empty


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


async def test_rerunning_a_crash_panel_cell_leaves_one_panels_tasks_and_closes_the_old_widgets():
    """Ten runs of ``CrashPanel("events")``: each panel's button work is stopped and its widgets
    closed by the next run; only the last panel's task runs. No DBOS call: a button's action
    here just waits."""
    forever = asyncio.Event()
    panels: list[CrashPanel] = []
    tasks: list[asyncio.Task] = []
    for _ in range(10):
        panels.append(CrashPanel("events"))
        tasks.append(panels[-1].do(forever.wait))
    other = CrashPanel("messaging")  # another pattern's panel is not a re-run of this cell
    ended = asyncio.gather(*tasks[:-1], return_exceptions=True)
    assert all(isinstance(e, asyncio.CancelledError) for e in await asyncio.wait_for(ended, 60))
    assert [p for p in panels if p.tasks] == [panels[-1]] and not tasks[-1].done()
    assert all(p.widget.comm is None and p.buttons["Run workflow"].disabled for p in panels[:-1])
    assert panels[-1].widget.comm is not None and other.widget.comm is not None
    assert not panels[-1].buttons["Run workflow"].disabled
    forever.set()
    await settle(panels[-1])
    other.close(replaced=True)
    panels[-1].close(replaced=True)
