"""The events panel: Start a workflow, watch its latest event values, see every event at once.

Events keep only the latest value per key and nobody is notified of a change, so the panel
re-reads them (``get_all_events``) every :data:`REFRESH_SECONDS` until DBOS reports the workflow
done. What it shows is what any reader would see at that moment.
"""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

import ipywidgets as widgets

from .. import validation
from ..compute import DEFAULT_FIB_BASE
from ..events import WorkflowEvent, get_all_events, start_events
from ..lookup import workflow_summary
from .common import REFRESH_SECONDS, Panel, styled


def describe_result(result: Any) -> str:
    """``{"total_steps": 3, "results": [...]}`` -> ``3 steps: fib(20)=6765, ...``."""
    if not isinstance(result, dict):
        return ""
    parts = [f"fib({r['n']})={r['fibonacci']}" for r in result.get("results", [])]
    return f"{result.get('total_steps')} steps: " + ", ".join(parts)


class EventsPanel(Panel):
    def __init__(self, n_steps: int = 4, fib_base: int = DEFAULT_FIB_BASE) -> None:
        super().__init__(busy_label="Events workflow")
        self.fib_base = validation.fib_base(fib_base)
        self.steps = styled(
            widgets.BoundedIntText(
                value=n_steps, min=1, max=validation.MAX_STEPS, description="Steps"
            ),
            "wfcomm-events-steps",
        )
        self.start_button = styled(widgets.Button(description="Start"), "wfcomm-events-start")
        self.progress = styled(
            widgets.IntProgress(value=0, min=0, max=100, description="progress"),
            "wfcomm-events-progress",
        )
        self.status = styled(widgets.Label(value="not started"), "wfcomm-events-status")
        self.result = styled(widgets.Label(value=""), "wfcomm-events-result")
        self.all_events = styled(widgets.HTML(value=""), "wfcomm-events-all")
        self.start_button.on_click(lambda _: self.start())
        self.widget = self.layout(
            widgets.HBox([self.steps, self.start_button]),
            widgets.HBox([self.progress, widgets.Label("status:"), self.status]),
            widgets.HBox([widgets.Label("result:"), self.result]),
            widgets.HTML("<b>All events</b> (latest value per key):"),
            self.all_events,
        )

    def start(self) -> bool:
        """What the Start button does; returns False if a workflow is still running."""
        return self.run_main(self._run)

    async def _run(self) -> None:
        n = validation.n_steps(self.steps.value)
        self.progress.value, self.status.value, self.result.value = 0, "starting", ""
        self.all_events.value = ""
        self.workflow_id = await start_events(n, fib_base=self.fib_base)
        self.say(f"Started {self.workflow_id} with {n} steps.")
        while True:
            summary = await workflow_summary(self.workflow_id)
            self.show(await get_all_events(self.workflow_id))
            if summary.is_done:
                break
            await asyncio.sleep(REFRESH_SECONDS)
        if summary.status != "SUCCESS":
            self.say(f"{self.workflow_id} ended with DBOS status {summary.status}: {summary.error}")

    def show(self, events: dict[str, Any]) -> None:
        """Put one snapshot of the workflow's events into the widgets."""
        if WorkflowEvent.PROGRESS.value in events:
            self.progress.value = int(events[WorkflowEvent.PROGRESS.value])
        if WorkflowEvent.STATUS.value in events:
            self.status.value = str(events[WorkflowEvent.STATUS.value])
        if WorkflowEvent.RESULT.value in events:
            self.result.value = describe_result(events[WorkflowEvent.RESULT.value])
        text = json.dumps(events, indent=1, sort_keys=True)
        self.all_events.value = f"<pre>{html.escape(text)}</pre>"
