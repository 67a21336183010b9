"""The crash panel: Start worker, Run workflow, Kill worker, Restart (and Approve for messaging),
a live status line, a live timeline of the workflow's records, and the proof once it is done.

:class:`CrashModel` holds the state and does the work (the worker calls and DBOS reads);
:class:`CrashPanel` is the view: buttons that schedule the model's coroutines on the kernel's
loop and a line that follows the model. Nothing here blocks the loop: every wait is an
``await``, and the status is re-read every :data:`REFRESH_SECONDS` only while a workflow is
unfinished; the timeline is HTML built from the same read (no picture rendering on the loop).
When the workflow ends ``SUCCESS`` the model runs :func:`~wfcomm_helpers.durability.prove` once
and the panel lists its lines. Background work never prints; a failure becomes the notice line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

import ipywidgets as widgets
from dbos import DBOS

from ..durability import DurabilityReport, prove
from ..patterns import messaging
from ..runtime.errors import WfcommError
from ..teaching import worker
from ..teaching.timeline import Marks, timeline_marks
from .common import close_tree, take_place
from .model import started
from .timeline_view import timeline_html

#: How often the status line re-reads the workflow while it is unfinished (seconds).
REFRESH_SECONDS = 0.25

#: What Run starts on the worker, per pattern: paced so a person can watch and kill.
RUN_OPTIONS: dict[str, dict[str, Any]] = {
    "events": {"n_steps": 5, "pause_seconds": 1.0},
    "messaging": {"n_steps": 3, "timeout_seconds": 120.0, "pause_seconds": 1.0},
    "streaming": {"n_steps": 5, "pause_seconds": 1.0},
}


class CrashModel:
    """State of one pattern's crash demo: the worker line, the workflow and its DBOS status,
    how many records DBOS holds for it, and the last notice."""

    def __init__(self, pattern: str, **run_options: Any) -> None:
        self.pattern = pattern
        self.run_options = {**RUN_OPTIONS[pattern], **run_options}
        self.workflow_id: str | None = None
        self.workflow_status = ""
        self.records = 0
        self.notice = ""
        self.worker_line = str(worker.worker_status(pattern))
        self.recovered = False
        self.marks: Marks | None = None
        self.decision: dict[str, Any] | None = None
        self.decision_sent_at: float | None = None
        self.proof: DurabilityReport | None = None
        self.listeners: list[Callable[[], None]] = []

    def changed(self) -> None:
        for listener in self.listeners:
            listener()

    def status_line(self) -> str:
        """``worker: ... | workflow X: PENDING, 7 records (worker down: DBOS waits)``."""
        line = self.worker_line
        if self.workflow_id is not None:
            line += (
                f" | workflow {self.workflow_id}: {self.workflow_status}, {self.records} records"
            )
            if self.workflow_status == "PENDING" and "not running" in self.worker_line:
                line += " (worker down: the workflow waits, PENDING)"
            elif self.recovered and self.workflow_status == "SUCCESS":
                line += " (recovered after the crash)"
        return line

    async def start_worker(self) -> None:
        self.notice = str(await worker.start_worker(self.pattern))

    async def kill_worker(self) -> None:
        status = await worker.kill_worker(self.pattern)
        if "killed" in str(status) and self.workflow_status in ("PENDING", "ENQUEUED"):
            self.recovered = True
        self.notice = str(status)

    async def restart(self) -> None:
        """Kill if running, then start: what a crashed server's supervisor does."""
        if worker.worker_status(self.pattern).running:
            await self.kill_worker()
        await self.start_worker()

    async def run_workflow(self) -> None:
        options = dict(self.run_options)
        n_steps = options.pop("n_steps")
        start = worker.run_on_worker(self.pattern, n_steps, **options)
        self.workflow_id = await started(start)  # a re-run cell never cancels the start
        self.recovered = False
        self.marks = self.proof = self.decision = self.decision_sent_at = None
        self.notice = f"Started {self.workflow_id} on the {self.pattern} worker."

    async def approve(self) -> None:
        """Messaging: send the approval (one per workflow, idempotency key); works while the
        worker is down, and then the proof checks it was received after the restart."""
        if self.workflow_id is None:
            self.notice = "Run a workflow first: there is nobody to approve."
            return
        down = not worker.worker_status(self.pattern).running
        decision = messaging.approval(True, "approved from the crash panel")
        await messaging.send_decision(self.workflow_id, True, decision["message"])
        self.decision, self.decision_sent_at = decision, (time.time() if down else None)
        where = "while the worker is down" if down else "to the running worker"
        self.notice = f"Sent the approval to {self.workflow_id} {where}."

    async def prove_once(self) -> None:
        """After a ``SUCCESS``, check what the pattern promises across a crash (once)."""
        if self.proof is not None or self.workflow_id is None or self.workflow_status != "SUCCESS":
            return
        self.proof = await prove(
            self.pattern,
            self.workflow_id,
            self.run_options["n_steps"],
            fib_base=self.run_options.get("fib_base"),
            decision=self.decision,
            decision_sent_at=self.decision_sent_at,
        )

    def timeline(self) -> str:
        """The live timeline's HTML (empty before a workflow ran)."""
        return "" if self.marks is None else timeline_html(self.marks)

    async def refresh(self) -> bool:
        """Re-read the worker and the workflow; True while the workflow is unfinished."""
        self.worker_line = str(worker.worker_status(self.pattern))
        if self.workflow_id is None:
            return False
        found = await DBOS.list_workflows_async(workflow_ids=[self.workflow_id], load_input=False)
        self.workflow_status = str(found[0].status) if found else "unknown"
        self.marks = await timeline_marks(self.workflow_id, self.pattern)
        self.records = self.marks.records
        return self.workflow_status in ("PENDING", "ENQUEUED")


class CrashPanel:
    """``CrashPanel("events").widget`` in a cell; ``await panel.wait_idle()`` in a later one.

    A new crash panel of the same pattern (a re-run of its cell) closes the previous one:
    its tasks stop and its widgets close; the worker and the workflow go on."""

    def __init__(self, pattern: str, **run_options: Any) -> None:
        self.model = CrashModel(pattern, **run_options)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.follower: asyncio.Task[Any] | None = None
        buttons = {
            "Start worker": self.model.start_worker,
            "Run workflow": self.model.run_workflow,
            "Kill worker": self.model.kill_worker,
            "Restart": self.model.restart,
        }
        if pattern == "messaging":
            buttons["Approve"] = self.model.approve
        self.buttons = {}
        for label, action in buttons.items():
            button = widgets.Button(description=label)
            button.add_class("wfcomm-crash-" + label.split()[0].lower())
            button.on_click(lambda _, act=action: self.do(act))
            self.buttons[label] = button
        self.status = widgets.HTML(value=self.model.status_line())
        self.status.add_class("wfcomm-crash-status")
        self.notice = widgets.Label(value="")
        self.notice.add_class("wfcomm-crash-notice")
        self.timeline = widgets.HTML(value="")
        self.timeline.add_class("wfcomm-crash-timeline")
        self.proof = widgets.HTML(value="")
        self.proof.add_class("wfcomm-crash-proof")
        self.model.listeners.append(self.show)
        self.widget = widgets.VBox(
            [
                widgets.HBox(list(self.buttons.values()), layout={"flex_flow": "row wrap"}),
                self.status,
                self.notice,
                self.timeline,
                self.proof,
            ]
        )
        self.widget.add_class("wfcomm-crash")
        previous = take_place((CrashPanel, pattern), self)
        if previous is not None:
            previous.close(replaced=True)

    def close(self, *, replaced: bool = False) -> None:
        """Stop the buttons' work and the status re-read (the worker keeps running, a started
        workflow goes on in DBOS) and disable the buttons; when ``replaced``, close the
        widgets too. Safe to call twice."""
        for task in (*self.tasks, self.follower):
            if task is not None and not task.done():
                task.cancel()
        if self.show in self.model.listeners:
            self.model.listeners.remove(self.show)
        for control in self.buttons.values():
            control.disabled = True
        if replaced:
            close_tree(self.widget)

    def show(self) -> None:
        self.status.value = self.model.status_line()
        self.notice.value = self.model.notice
        self.timeline.value = self.model.timeline()
        proof = self.model.proof
        self.proof.value = "" if proof is None else proof_html(proof)

    def do(self, action: Callable[[], Awaitable[None]]) -> asyncio.Task[Any]:
        """Schedule one button's work; then follow the workflow until it is finished."""
        task = asyncio.ensure_future(self._guarded(action))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _guarded(self, action: Callable[[], Awaitable[None]]) -> None:
        await self._noting_failure(action)
        self.model.changed()
        if self.follower is None or self.follower.done():
            self.follower = asyncio.ensure_future(self._follow())

    async def _noting_failure(self, action: Callable[[], Awaitable[None]]) -> None:
        try:
            await action()
        except Exception as exc:  # a button's failure is the notice, never a traceback
            first = str(exc).strip().splitlines()[:1]
            self.model.notice = (
                str(exc)
                if isinstance(exc, WfcommError)
                else (f"{type(exc).__name__}: {first[0] if first else ''}")
            )

    async def _follow(self) -> None:
        while await self.model.refresh():
            self.model.changed()
            await asyncio.sleep(REFRESH_SECONDS)
        self.model.changed()
        await self._noting_failure(self.model.prove_once)
        self.model.changed()

    async def wait_idle(self) -> None:
        """Wait for the buttons' work and for the status line to settle."""
        while self.tasks or (self.follower is not None and not self.follower.done()):
            await asyncio.gather(*self.tasks, *([self.follower] if self.follower else []))


def proof_html(report: DurabilityReport) -> str:
    """The proof's lines (``str(report)``), one ``div`` each, words wrapped."""
    lines = "".join(
        f'<div class="wfcomm-crash-proof-line">{escape(line)}</div>'
        for line in str(report).splitlines()
    )
    return f'<div style="white-space:normal;font-size:12px;line-height:1.5">{lines}</div>'
