"""The messaging panel: Start a workflow that waits for a decision, then Approve or Reject it.

A second row starts another workflow that nobody answers, so its ``recv`` times out. Each row
shows the workflow's own answer (completed / cancelled) next to DBOS's status for it: a
"cancelled" answer is still a SUCCESS to DBOS, because the workflow returned normally.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import ipywidgets as widgets
from dbos import DBOS

from .. import validation
from ..compute import DEFAULT_FIB_BASE
from ..lookup import WorkflowSummary, workflow_summary
from ..messaging import WAITING_EVENT, send_decision, start_messaging
from .common import REFRESH_SECONDS, Panel, styled

#: How long to wait for the workflow to announce that it is waiting (it does so first thing).
ANNOUNCE_TIMEOUT_SECONDS = 10.0


def describe_outcome(summary: WorkflowSummary) -> str:
    output = summary.output
    if summary.status != "SUCCESS" or not isinstance(output, dict):
        return f"no answer ({summary.error or summary.status})"
    if output.get("status") == "completed":
        return f"completed: {len(output.get('results', []))} steps ran"
    return f"cancelled: {output.get('reason')}"


class DecisionView:
    """Countdown, outcome and DBOS status of one messaging workflow, kept up to date."""

    def __init__(self, css_prefix: str) -> None:
        self.countdown = styled(widgets.Label(value=""), f"{css_prefix}-countdown")
        self.outcome = styled(widgets.Label(value=""), f"{css_prefix}-outcome")
        self.dbos_status = styled(widgets.Label(value=""), f"{css_prefix}-dbos-status")
        self.decision_sent = False

    def row(self) -> widgets.HBox:
        return widgets.HBox(
            [
                self.countdown,
                widgets.Label("outcome:"),
                self.outcome,
                self.dbos_status,
            ]
        )

    def clear(self) -> None:
        self.countdown.value, self.outcome.value, self.dbos_status.value = "starting", "", ""
        self.decision_sent = False

    async def follow(self, workflow_id: str) -> WorkflowSummary:
        """Count down to the recv timeout until DBOS reports the workflow done."""
        announced = await DBOS.get_event_async(workflow_id, WAITING_EVENT, ANNOUNCE_TIMEOUT_SECONDS)
        timeout = float(announced["timeout_seconds"]) if announced else math.nan
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            summary = await workflow_summary(workflow_id)
            self.dbos_status.value = f"DBOS status: {summary.status}"
            if summary.is_done:
                self.countdown.value = "done"
                self.outcome.value = describe_outcome(summary)
                return summary
            left = deadline - asyncio.get_running_loop().time()
            if self.decision_sent:
                self.countdown.value = "decision sent: the workflow goes on"
            elif left > 0:
                self.countdown.value = f"waiting for a decision: {math.ceil(left)} s left"
            else:
                self.countdown.value = "recv timed out: the workflow goes on"
            await asyncio.sleep(REFRESH_SECONDS)


class MessagingPanel(Panel):
    def __init__(
        self,
        n_steps: int = 2,
        timeout_seconds: float = 30.0,
        *,
        fib_base: int = DEFAULT_FIB_BASE,
        idle_timeout_seconds: float = 3.0,
    ) -> None:
        super().__init__(busy_label="Messaging workflow")
        self.n_steps = validation.n_steps(n_steps)
        self.timeout_seconds = validation.timeout_seconds(timeout_seconds, "The approval timeout")
        self.idle_timeout_seconds = validation.timeout_seconds(
            idle_timeout_seconds, "The idle workflow's timeout"
        )
        self.fib_base = validation.fib_base(fib_base)
        self.decision: str | None = None
        self.idle_workflow_id: str | None = None
        self.idle_task: asyncio.Task[Any] | None = None

        self.start_button = styled(widgets.Button(description="Start"), "wfcomm-msg-start")
        self.approve_button = styled(
            widgets.Button(description="Approve", button_style="success"), "wfcomm-msg-approve"
        )
        self.reject_button = styled(
            widgets.Button(description="Reject", button_style="danger"), "wfcomm-msg-reject"
        )
        self.text = styled(
            widgets.Text(value="", placeholder="message or reason (optional)"), "wfcomm-msg-text"
        )
        self.view = DecisionView("wfcomm-msg")
        self.idle_start_button = styled(
            widgets.Button(description="Start one nobody answers"), "wfcomm-msg-idle-start"
        )
        self.idle_view = DecisionView("wfcomm-msg-idle")

        self.start_button.on_click(lambda _: self.start())
        self.approve_button.on_click(lambda _: self.approve())
        self.reject_button.on_click(lambda _: self.reject())
        self.idle_start_button.on_click(lambda _: self.start_idle())
        self.widget = self.layout(
            widgets.HBox([self.start_button, self.approve_button, self.reject_button, self.text]),
            self.view.row(),
            widgets.HTML(
                f"<b>Left alone</b>: a second workflow whose recv times out after "
                f"{self.idle_timeout_seconds:g} s"
            ),
            widgets.HBox([self.idle_start_button]),
            self.idle_view.row(),
        )

    # --- the workflow you decide on ------------------------------------------------------------

    def start(self) -> bool:
        return self.run_main(self._run)

    async def _run(self) -> None:
        self.decision = None
        self.view.clear()
        self.workflow_id = await start_messaging(
            self.n_steps, timeout_seconds=self.timeout_seconds, fib_base=self.fib_base
        )
        self.say(f"Started {self.workflow_id}: it waits for Approve or Reject.")
        await self.view.follow(self.workflow_id)

    async def wait_for_recv(self, timeout: float = ANNOUNCE_TIMEOUT_SECONDS) -> str:
        """Wait until the workflow started by Start waits in ``recv``; returns its id (for a
        cell that presses Approve right after Start, as Run All does)."""

        async def waiting() -> str:
            while self.workflow_id is None:
                if not self.busy:
                    raise RuntimeError(self.last_error or "Press Start first.")
                await asyncio.sleep(REFRESH_SECONDS / 10)
            await DBOS.get_event_async(self.workflow_id, WAITING_EVENT, timeout)
            return self.workflow_id

        return await asyncio.wait_for(waiting(), timeout)

    def approve(self) -> bool:
        return self._decide(True)

    def reject(self) -> bool:
        return self._decide(False)

    def _decide(self, approved: bool) -> bool:
        word = "approve" if approved else "reject"
        if self.workflow_id is None:
            self.say(
                "The workflow is still starting: click again in a moment."
                if self.busy
                else f"Press Start first: there is no workflow to {word} yet."
            )
            return False
        if self.decision is not None:
            self.say(
                f"{self.workflow_id} already got '{self.decision}': this click sends nothing "
                "(one decision per workflow, enforced by an idempotency key)."
            )
            return False
        if not self.busy:
            self.say(f"{self.workflow_id} has finished: press Start for a new workflow.")
            return False
        self.decision = word
        self.view.decision_sent = True
        workflow_id, text = self.workflow_id, self.text.value
        self.say(f"Sent '{word}' to {workflow_id}.")
        self.run_side(lambda: send_decision(workflow_id, approved, text))
        return True

    # --- the workflow left to time out ---------------------------------------------------------

    def start_idle(self) -> bool:
        if self.idle_task is not None and not self.idle_task.done():
            self.say(
                f"{self.idle_workflow_id} is still waiting for its timeout: wait for it to end."
            )
            return False
        self.idle_task = self.run_side(self._run_idle)
        return self.idle_task is not None

    async def _run_idle(self) -> None:
        self.idle_view.clear()
        self.idle_workflow_id = await start_messaging(
            self.n_steps, timeout_seconds=self.idle_timeout_seconds, fib_base=self.fib_base
        )
        await self.idle_view.follow(self.idle_workflow_id)
