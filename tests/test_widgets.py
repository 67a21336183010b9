"""The panels, driven headless in a real kernel: press the buttons a learner presses
(``Button.click()`` runs the on_click handlers in the kernel), await the panel's work, and assert
on the exact widget state."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.kernel


def state(kernel, expression: str, before: str = ""):
    """Run ``before``, then evaluate ``expression`` in the same cell and return it (JSON).
    Reading in the same cell as the clicks sees the notice before background work replaces it."""
    out = kernel.run(f"{before}\nimport json as _j\nprint(_j.dumps({expression}))")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start(kernel, app: str, panel: str) -> None:
    kernel.run(
        "import asyncio\nimport wfcomm_helpers\nfrom dbos import DBOS\n"
        f"from wfcomm_helpers.widgets import {panel}\n"
        f"await wfcomm_helpers.start({app!r}, quiet=True)"
    )


def busy(what: str) -> str:
    return f"The {what} workflow you started is still running: wait for it to finish before you start another."


WAIT_FOR_RECV = "await p.wait_for_recv()\n"


def wait_until(condition: str, what: str, seconds: float = 45) -> str:
    """Kernel code: poll ``condition`` (an expression) until it holds; after ``seconds`` (less
    than a cell's timeout) the cell fails with "timed out ... waiting for <what>"."""
    message = f"timed out after {seconds:g} s waiting for {what}"
    return (
        f"_deadline = asyncio.get_running_loop().time() + {seconds}\n"
        f"while not ({condition}):\n"
        f"    assert asyncio.get_running_loop().time() < _deadline, {message!r}\n"
        "    await asyncio.sleep(0.01)\n"
    )


def test_events_panel_runs_to_completed_and_refuses_a_double_click(kernel):
    start(kernel, "events", "EventsPanel")
    kernel.run("p = EventsPanel(n_steps=3, fib_base=18)")
    assert state(kernel, "p.notice.value", "p.start_button.click()\np.start_button.click()") == (
        busy("events")
    )
    kernel.run("await p.wait_idle()")
    got = state(
        kernel,
        "[p.progress.value, p.status.value, p.result.value, p.last_error, "
        "sorted(_j.loads(__import__('html').unescape(p.all_events.value[5:-6])))]",
    )
    assert got == [
        100,
        "completed",
        "3 steps: fib(18)=2584, fib(19)=4181, fib(20)=6765",
        None,
        ["progress", "result", "status"],
    ]
    # Once the workflow has started, a click names it; after the end, Start runs a new one.
    first = state(kernel, "p.workflow_id")
    assert state(
        kernel,
        "p.notice.value",
        "p.start_button.click()\n"
        + wait_until("p.workflow_id is not None", "the workflow to start")
        + "p.start_button.click()",
    ) == busy("events").replace(
        "The events workflow you started", "Events workflow " + state(kernel, "p.workflow_id")
    )
    kernel.run("await p.wait_idle()")
    assert state(kernel, f"[p.status.value, p.workflow_id != {first!r}]") == ["completed", True]


def test_events_panel_bad_step_count_is_one_line(kernel):
    start(kernel, "events", "EventsPanel")
    kernel.run(
        "p = EventsPanel(n_steps=3, fib_base=18)\n"
        "p.steps.max = 1000; p.steps.value = 500\n"
        "p.start_button.click()\nawait p.wait_idle()"
    )
    assert state(kernel, "[p.notice.value, p.status.value, p.workflow_id]") == [
        "The step count must be between 1 and 100, not 500.",
        "not started",
        None,
    ]


def test_messaging_panel_approve_reject_and_misclicks(kernel):
    start(kernel, "messaging", "MessagingPanel")
    kernel.run("p = MessagingPanel(n_steps=2, timeout_seconds=30, fib_base=10)")
    assert state(kernel, "p.notice.value", "p.approve_button.click()") == (
        "Press Start first: there is no workflow to approve yet."
    )
    assert state(kernel, "p.notice.value", "p.start_button.click()\np.start_button.click()") == (
        busy("messaging")
    )
    assert state(
        kernel,
        "p.notice.value",
        WAIT_FOR_RECV + "p.text.value = 'looks good'\n"
        "p.approve_button.click()\np.approve_button.click()\np.reject_button.click()",
    ) == (
        f"{state(kernel, 'p.workflow_id')} already got 'approve': this click sends nothing "
        "(one decision per workflow, enforced by an idempotency key)."
    )
    kernel.run("await p.wait_idle()")
    assert state(
        kernel,
        "[p.view.outcome.value, p.view.dbos_status.value, p.view.countdown.value, p.last_error]",
    ) == ["completed: 2 steps ran", "DBOS status: SUCCESS", "done", None]
    assert state(kernel, "p.notice.value", "p.approve_button.click()") == (
        f"{state(kernel, 'p.workflow_id')} has finished: press Start for a new workflow."
    )

    kernel.run(
        "p.start_button.click()\n"
        + WAIT_FOR_RECV
        + "p.text.value = 'too risky'\np.reject_button.click()\nawait p.wait_idle()"
    )
    assert state(kernel, "[p.view.outcome.value, p.view.dbos_status.value, p.last_error]") == [
        "cancelled: Not approved: too risky",
        "DBOS status: SUCCESS",
        None,
    ]


def test_messaging_panel_countdown_and_idle_workflow_times_out(kernel):
    start(kernel, "messaging", "MessagingPanel")
    kernel.run("p = MessagingPanel(n_steps=1, fib_base=10, idle_timeout_seconds=2)")
    assert (
        state(kernel, "p.notice.value", "p.idle_start_button.click()\np.idle_start_button.click()")
        == "The workflow left alone is still starting: wait for it to end."
    )  # not "None is ..."
    # The countdown shows whole seconds left while the workflow waits.
    kernel.run(wait_until("p.idle_view.countdown.value.startswith('waiting')", "the countdown"))
    assert state(kernel, "p.idle_view.countdown.value") in (
        "waiting for a decision: 2 s left",
        "waiting for a decision: 1 s left",
    )
    kernel.run("await p.wait_idle()")
    assert state(
        kernel,
        "[p.idle_view.outcome.value, p.idle_view.dbos_status.value, "
        "p.idle_view.countdown.value, p.last_error]",
    ) == [
        "cancelled: Timeout: no message on topic 'notification' within 2 s",
        "DBOS status: SUCCESS",
        "done",
        None,
    ]


EXPECTED_LOG = [
    "[0] start: Starting 3 steps",
    "[1] progress: Processing step 1/3",
    "[2] result: step 1: fib(15) = 610",
    "[3] progress: Processing step 2/3",
    "[4] result: step 2: fib(16) = 987",
    "[5] progress: Processing step 3/3",
    "[6] result: step 3: fib(17) = 1597",
    "[7] complete: Completed 3 steps",
]


def test_streaming_panel_two_readers_and_reread(kernel):
    start(kernel, "streaming", "StreamingPanel")
    kernel.run("p = StreamingPanel(n_steps=3, fib_base=15)")
    assert state(kernel, "p.notice.value", "p.reread_button.click()") == (
        "Press Start first: there is no stream to read yet."
    )
    assert state(kernel, "p.notice.value", "p.start_button.click()\np.start_button.click()") == (
        busy("streaming")
    )
    kernel.run("await p.wait_idle()")
    got = state(
        kernel, "[p.log.lines(), p.live.lines(), p.log.count.value, p.closed.value, p.last_error]"
    )
    assert got == [EXPECTED_LOG, EXPECTED_LOG, "8 values", "closed", None]
    kernel.run("p.offset.value = 5\np.reread_button.click()\nawait p.wait_idle()")
    assert state(kernel, "[p.reread.lines(), p.notice.value, p.log.n]") == [
        EXPECTED_LOG[5:],
        "Re-read 3 values from offset 5; reader 1 still has 8: reading does not consume.",
        8,
    ]
    kernel.run("p.offset.value = -1\np.reread_button.click()\nawait p.wait_idle()")
    assert state(kernel, "p.notice.value") == "The stream offset counts from 0; -1 is negative."


def test_rerunning_a_panel_cell_closes_the_previous_panel_and_says_so(kernel):
    start(kernel, "events", "EventsPanel")
    kernel.run(
        "old = EventsPanel(n_steps=3, fib_base=24)\n"
        "old.start_button.click()\n"
        + wait_until("old.workflow_id is not None", "the first panel's workflow to start")
        + "p = EventsPanel(n_steps=3, fib_base=18)"
    )
    old_id = state(kernel, "old.workflow_id")
    assert state(kernel, "p.notice.value") == (
        f"Workflow {old_id} from the previous run of this cell goes on in DBOS; that panel was "
        "closed, this one starts fresh."
    )
    kernel.run("await old.wait_idle()")
    assert state(
        kernel, "[old.notice.value, old.start_button.disabled, old.health.widget.value]"
    ) == [
        "A newer run of this cell replaced this panel: it no longer updates.",
        True,
        "kernel health: stopped (this panel was replaced)",
    ]
    # The workflow itself was never touched: DBOS runs it to the end.
    kernel.run(f"await (await DBOS.retrieve_workflow_async({old_id!r})).get_result()")


#: The panel tasks running in the kernel: those whose coroutine is the kit's own code (the
#: workflows themselves run inside DBOS's wrappers and are not counted).
PANEL_TASKS = (
    "sorted(t.get_coro().__qualname__ for t in asyncio.all_tasks() "
    "if 'wfcomm_helpers' in t.get_coro().cr_code.co_filename)"
)
ONE_PANEL_TASKS = ["HealthModel._refresh", "LoopLagMonitor._run"]


#: One run of each panel cell, each panel displayed and started.
EVERY_PANEL_CELL = (
    "e = EventsPanel(n_steps=1, fib_base=5); e.widget; e.start()\n"
    "m = MessagingPanel(n_steps=1, fib_base=5); m.widget; m.start()\n"
    "s = StreamingPanel(n_steps=1, fib_base=5); s.widget; s.start()"
)
#: The three crash panel cells (no button pressed: no worker is started).
CRASH_PANEL_CELLS = "\n".join(
    f"c_{p} = CrashPanel('{p}'); c_{p}.widget" for p in ("events", "messaging", "streaming")
)
#: Finish the last panels' work, and the workflow starts a re-run let finish (shielded, they
#: run to their end on their own: the kit never cancels a start DBOS may have recorded).
FINISH_EVERY_PANEL = (
    "await m.wait_for_recv()\nm.approve()\nfor x in (e, m, s): await x.wait_idle()\n"
    + wait_until(
        "not [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.startswith('start_')]",
        "the replaced panels' workflow starts to end",
    )
)


@pytest.mark.parametrize("reruns", [1, 10])
def test_rerunning_every_panel_cell_leaves_the_tasks_of_one_panel_per_pattern(kernel, reruns):
    """Issue 11: re-running a panel cell (here with its workflow started each time) must not
    leave the previous panel's follower, health strip and loop-lag sampler running."""
    start(kernel, "events", "EventsPanel")
    kernel.run("from wfcomm_helpers.widgets import MessagingPanel, StreamingPanel")
    for _ in range(reruns):
        kernel.run(EVERY_PANEL_CELL)
    kernel.run(FINISH_EVERY_PANEL)
    assert state(kernel, PANEL_TASKS) == sorted(ONE_PANEL_TASKS * 3)


#: The widget models alive in the kernel: one open comm each.
WIDGET_COMMS = "len(__import__('comm').get_comm_manager().comms)"


def test_rerunning_every_panel_cell_closes_the_replaced_panels_widgets(kernel):
    """Issue 11: a replaced panel's widgets (children, layouts, styles) are closed, so ten runs
    of the panel cells leave as many widget models as one run."""
    start(kernel, "events", "EventsPanel")
    kernel.run("from wfcomm_helpers.widgets import CrashPanel, MessagingPanel, StreamingPanel")
    kernel.run(EVERY_PANEL_CELL + "\n" + CRASH_PANEL_CELLS)
    kernel.run(FINISH_EVERY_PANEL)
    after_one = state(kernel, WIDGET_COMMS)
    assert after_one > 50  # the comm count is what it claims to be: the six panels' widgets
    for _ in range(9):
        kernel.run(EVERY_PANEL_CELL + "\n" + CRASH_PANEL_CELLS)
    kernel.run(FINISH_EVERY_PANEL)
    assert state(kernel, WIDGET_COMMS) == after_one


def test_health_strip_shows_memory_and_loop_lag(kernel):
    start(kernel, "events", "EventsPanel")
    kernel.run(
        "import re\np = EventsPanel(n_steps=1, fib_base=5)\n"
        + wait_until("'memory' in p.health.widget.value", "the health strip's first reading")
    )
    line = state(kernel, "p.health.widget.value")
    assert line.startswith("kernel health: memory ") and " MB · event-loop lag " in line, line
    assert state(kernel, "p.health.widget._dom_classes") == ["wfcomm-health"]


def test_buttons_after_the_clean_up_cell_say_to_rerun_the_setup_cell(kernel):
    """Run All ends with the clean-up cell, which stops DBOS; a learner then presses Start."""
    start(kernel, "messaging", "MessagingPanel")
    kernel.run("p = MessagingPanel()\nwfcomm_helpers.shutdown()")
    stopped = (
        "DBOS is not running in this kernel (the clean-up cell stops it): re-run the setup "
        "cell, then press the button again."
    )
    assert state(kernel, "[p.start(), p.start_idle(), p.notice.value, p.busy]") == [
        False,
        False,
        stopped,
        False,
    ]
    assert state(kernel, "p.notice.value", "p.approve_button.click()") == (
        "Press Start first: there is no workflow to approve yet."
    )
