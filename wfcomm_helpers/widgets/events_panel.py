"""The events panel's view: Steps and Start with the notice beside them, the latest event
values, and every event at once. The watching is done by :class:`.events_model.EventsModel`."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as widgets
from traitlets import dlink

from ..patterns.compute import DEFAULT_FIB_BASE
from ..runtime import validation
from .common import Panel, button, row, styled, text_label
from .events_model import EventsModel, describe_result

__all__ = ["EventsPanel", "describe_result"]


def events_html(events: dict[str, Any]) -> str:
    """All events as indented JSON in a ``<pre>`` block."""
    text = json.dumps(events, indent=1, sort_keys=True)
    return f"<pre>{html.escape(text)}</pre>" if events else ""


class EventsPanel(Panel):
    def __init__(self, n_steps: int = 4, fib_base: int = DEFAULT_FIB_BASE) -> None:
        super().__init__(busy_label="Events workflow", model=EventsModel(fib_base))
        self.model: EventsModel
        self.fib_base = self.model.fib_base
        self.steps = styled(
            widgets.BoundedIntText(
                value=n_steps,
                min=1,
                max=validation.MAX_STEPS,
                description="Steps",
                layout=widgets.Layout(width="10em"),
            ),
            "wfcomm-events-steps",
        )
        self.start_button = button("Start", "wfcomm-events-start")
        self.progress = styled(
            widgets.IntProgress(value=0, min=0, max=100, description="progress"),
            "wfcomm-events-progress",
        )
        self.status = text_label("wfcomm-events-status")
        self.result = text_label("wfcomm-events-result")
        self.all_events = styled(
            widgets.HTML(value="", layout={"max_height": "16em", "overflow": "auto"}),
            "wfcomm-events-all",
        )
        for name, widget in (("progress", self.progress), ("status", self.status)):
            dlink((self.model, name), (widget, "value"))
        dlink((self.model, "result"), (self.result, "value"))
        dlink((self.model, "events"), (self.all_events, "value"), events_html)
        self.start_button.on_click(lambda _: self.start())
        self.buttons = [self.start_button]
        self.widget = self.layout(
            row(self.steps, self.start_button, self.notice),
            row(self.progress, widgets.Label("status:"), self.status),
            row(widgets.Label("result:"), self.result),
            widgets.HTML("<b>All events</b> (latest value per key):"),
            self.all_events,
        )

    def start(self) -> bool:
        """What the Start button does; returns False if refused (a workflow still running)."""
        return self.model.start(self.steps.value)

    def show(self, events: dict[str, Any]) -> None:
        """Put one snapshot of the workflow's events into the panel."""
        self.model.show(events)
