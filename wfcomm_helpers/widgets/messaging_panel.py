"""The messaging panel's view: Start, Approve, Reject and the notice in one row; each
workflow's countdown, outcome and DBOS status as separate fields; a second row for a workflow
nobody answers. The work is done by :class:`.messaging_model.MessagingModel`."""

from __future__ import annotations

import ipywidgets as widgets
from traitlets import dlink

from ..patterns.compute import DEFAULT_FIB_BASE
from .common import Panel, button, row, styled, text_label
from .messaging_model import ANNOUNCE_TIMEOUT_SECONDS, DecisionModel, MessagingModel

__all__ = ["DecisionView", "MessagingPanel"]


class DecisionView:
    """Countdown, outcome and DBOS status of one messaging workflow, linked to its model."""

    def __init__(self, model: DecisionModel, css_prefix: str) -> None:
        self.model = model
        self.countdown = text_label(f"{css_prefix}-countdown")
        self.outcome = text_label(f"{css_prefix}-outcome")
        self.dbos_status = text_label(f"{css_prefix}-dbos-status")
        dlink((model, "countdown"), (self.countdown, "value"))
        dlink((model, "outcome"), (self.outcome, "value"))
        dlink((model, "dbos_status"), (self.dbos_status, "value"), _status_text)

    def row(self) -> widgets.HBox:
        return row(
            widgets.Label("workflow:"),
            self.countdown,
            widgets.Label("outcome:"),
            self.outcome,
            self.dbos_status,
        )


def _status_text(status: str) -> str:
    return f"DBOS status: {status}" if status else ""


class MessagingPanel(Panel):
    def __init__(
        self,
        n_steps: int = 2,
        timeout_seconds: float = 30.0,
        *,
        fib_base: int = DEFAULT_FIB_BASE,
        idle_timeout_seconds: float = 3.0,
    ) -> None:
        model = MessagingModel(
            n_steps, timeout_seconds, fib_base=fib_base, idle_timeout_seconds=idle_timeout_seconds
        )
        super().__init__(busy_label="Messaging workflow", model=model)
        self.model: MessagingModel
        self.n_steps, self.fib_base = model.n_steps, model.fib_base
        self.timeout_seconds = model.timeout_seconds
        self.idle_timeout_seconds = model.idle_timeout_seconds
        self.start_button = button("Start", "wfcomm-msg-start")
        self.approve_button = button("Approve", "wfcomm-msg-approve", button_style="success")
        self.reject_button = button("Reject", "wfcomm-msg-reject", button_style="danger")
        self.text = styled(
            widgets.Text(value="", placeholder="message or reason (optional)"), "wfcomm-msg-text"
        )
        self.view = DecisionView(model.main, "wfcomm-msg")
        self.idle_start_button = button("Start one nobody answers", "wfcomm-msg-idle-start")
        self.idle_view = DecisionView(model.idle, "wfcomm-msg-idle")

        self.start_button.on_click(lambda _: self.start())
        self.approve_button.on_click(lambda _: self.approve())
        self.reject_button.on_click(lambda _: self.reject())
        self.idle_start_button.on_click(lambda _: self.start_idle())
        self.buttons = [
            self.start_button,
            self.approve_button,
            self.reject_button,
            self.idle_start_button,
        ]
        self.widget = self.layout(
            row(self.start_button, self.approve_button, self.reject_button, self.text),
            row(self.notice),
            self.view.row(),
            widgets.HTML(
                f"<b>Left alone</b>: a second workflow whose recv times out after "
                f"{self.idle_timeout_seconds:g} s"
            ),
            row(self.idle_start_button, self.idle_view.row()),
        )

    @property
    def idle_workflow_id(self) -> str | None:
        return self.model.idle.workflow_id

    def start(self) -> bool:
        return self.model.start()

    async def wait_for_recv(self, timeout: float = ANNOUNCE_TIMEOUT_SECONDS) -> str:
        """Wait until the workflow started by Start waits in ``recv``; returns its id (for a
        cell that presses Approve right after Start, as Run All does)."""
        return await self.model.wait_for_recv(timeout)

    def approve(self) -> bool:
        return self.model.decide(True, self.text.value)

    def reject(self) -> bool:
        return self.model.decide(False, self.text.value)

    def start_idle(self) -> bool:
        return self.model.start_idle()
