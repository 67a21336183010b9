"""The events panel's model: start an events workflow and re-read its events until it ends.

Events keep only the latest value per key and nobody is notified of a change, so the model
re-reads them (``get_all_events``) every :data:`REFRESH_SECONDS` until DBOS reports the
workflow done. Phases: ``idle`` -> ``starting`` -> ``running`` -> ``done`` (or the common end
states of :class:`PanelModel`).
"""

from __future__ import annotations

from typing import Any

from traitlets import Dict, Int, Unicode

from ..patterns.compute import DEFAULT_FIB_BASE
from ..patterns.events import WorkflowEvent, get_all_events, start_events
from ..patterns.lookup import workflow_summary
from ..runtime import validation
from .model import PanelModel, check_dbos, common_notice, started, tick


def describe_result(result: Any) -> str:
    """``{"total_steps": 3, "results": [...]}`` -> ``3 steps: fib(20)=6765, ...``."""
    if not isinstance(result, dict):
        return ""
    parts = [f"fib({r['n']})={r['fibonacci']}" for r in result.get("results", [])]
    return f"{result.get('total_steps')} steps: " + ", ".join(parts)


class EventsModel(PanelModel):
    """``progress`` (0-100), ``status`` and ``result`` mirror the workflow's events;
    ``events`` is the last snapshot of all of them; ``dbos_status`` is DBOS's own record."""

    progress = Int(0)
    status = Unicode("not started")
    result = Unicode("")
    events = Dict()
    dbos_status = Unicode("")
    n_steps = Int(0)

    def __init__(self, fib_base: int = DEFAULT_FIB_BASE) -> None:
        super().__init__("Events workflow")
        self.fib_base = validation.fib_base(fib_base)

    def start(self, n_steps: int) -> bool:
        """Start a workflow of ``n_steps`` and follow it; False (with a notice) if refused."""
        return self.run_main(lambda: self._run(n_steps))

    async def _run(self, n_steps: int) -> None:
        n = validation.n_steps(n_steps)
        self.progress, self.result, self.events, self.dbos_status = 0, "", {}, ""
        self.status, self.n_steps = "starting", n
        check_dbos()
        self.workflow_id = await started(start_events(n, fib_base=self.fib_base))
        self.phase = "running"
        while True:
            summary = await workflow_summary(self.workflow_id)
            self.show(await get_all_events(self.workflow_id))
            self.dbos_status = summary.status
            if summary.is_done:
                break
            await tick()
        if summary.status != "SUCCESS":
            self.error = (
                f"{self.workflow_id} ended with DBOS status {summary.status}: {summary.error}"
            )
        self.phase = "done"

    def show(self, events: dict[str, Any]) -> None:
        """Take one snapshot of the workflow's events into the traits."""
        if WorkflowEvent.PROGRESS.value in events:
            self.progress = int(events[WorkflowEvent.PROGRESS.value])
        if WorkflowEvent.STATUS.value in events:
            self.status = str(events[WorkflowEvent.STATUS.value])
        if WorkflowEvent.RESULT.value in events:
            self.result = describe_result(events[WorkflowEvent.RESULT.value])
        self.events = dict(events)

    def describe(self) -> str:
        common = common_notice(self)
        if common:
            return common
        wid = self.workflow_id
        if self.phase == "starting":
            return "Starting an events workflow…"
        if self.phase == "running":
            return f"Started {wid} with {self.n_steps} steps."
        if self.phase == "done":
            return f"Started {wid} with {self.n_steps} steps; DBOS status {self.dbos_status}."
        return self.message
