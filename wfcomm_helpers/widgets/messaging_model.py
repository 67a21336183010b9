"""The messaging panel's model: start a workflow that waits in ``recv``, send it one decision,
and watch a second workflow that nobody answers time out.

Each workflow is followed by a :class:`DecisionModel` (phases ``idle`` -> ``starting`` ->
``waiting`` -> ``decided`` or ``timed-out`` -> ``done``; ``stopped`` if the panel stopped
following it). A "cancelled" answer is still a SUCCESS to DBOS: the workflow returned normally.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from dbos import DBOS
from traitlets import Float, HasTraits, Instance, Int, Unicode

from ..patterns.compute import DEFAULT_FIB_BASE
from ..patterns.lookup import WorkflowSummary, workflow_summary
from ..patterns.messaging import WAITING_EVENT, send_decision, start_messaging
from ..runtime import lifecycle as runtime, validation
from .model import PanelModel, check_dbos, common_notice, next_change, started, tick

#: How long :meth:`MessagingModel.wait_for_recv` waits by default, in seconds.
ANNOUNCE_TIMEOUT_SECONDS = 10.0
#: Decision phases in which the workflow is known to be past ``recv`` or gone.
PAST_RECV = ("timed-out", "done")


def describe_outcome(summary: WorkflowSummary) -> str:
    output = summary.output
    if summary.status != "SUCCESS" or not isinstance(output, dict):
        return f"no answer ({summary.error or summary.status})"
    if output.get("status") == "completed":
        return f"completed: {len(output.get('results', []))} steps ran"
    return f"cancelled: {output.get('reason')}"


def countdown_text(phase: str, seconds_left: int) -> str:
    """What the countdown field says in each decision phase."""
    return {
        "idle": "",
        "starting": "starting",
        "waiting": f"waiting for a decision: {seconds_left} s left",
        "decided": "decision sent: the workflow goes on",
        "timed-out": "recv timed out: the workflow goes on",
        "done": "done",
        "stopped": "no longer followed by this panel",
    }[phase]


class DecisionModel(HasTraits):
    """One messaging workflow as the panel sees it; ``countdown`` is derived from the rest."""

    phase = Unicode("idle")
    workflow_id = Unicode(None, allow_none=True)
    timeout_seconds = Float(math.nan)
    seconds_left = Int(0)
    decision = Unicode(None, allow_none=True)  # "approve" / "reject" once sent
    outcome = Unicode("")
    dbos_status = Unicode("")
    countdown = Unicode("")

    def __init__(self) -> None:
        super().__init__()
        self.observe(self._derive, names=("phase", "seconds_left"))

    def _derive(self, change: Any) -> None:
        self.countdown = countdown_text(self.phase, self.seconds_left)

    def clear(self) -> None:
        self.workflow_id, self.decision, self.outcome, self.dbos_status = None, None, "", ""
        self.phase = "starting"

    async def follow(self, workflow_id: str) -> WorkflowSummary:
        """Follow the workflow until DBOS reports it done; counts down to its recv timeout."""
        self.workflow_id = workflow_id
        deadline: float | None = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                if deadline is None:
                    announced = await DBOS.get_event_async(workflow_id, WAITING_EVENT, 0)
                    if announced is not None:
                        self.timeout_seconds = float(announced["timeout_seconds"])
                        deadline = loop.time() + self.timeout_seconds
                summary = await workflow_summary(workflow_id)
                self.dbos_status = summary.status
                if summary.is_done:
                    self.outcome = describe_outcome(summary)
                    self.phase = "done"
                    return summary
                if deadline is not None:
                    self._count_down(deadline - loop.time())
                await tick()
        finally:
            if self.phase != "done":
                self.phase = "stopped"

    def _count_down(self, left: float) -> None:
        if self.decision is not None:
            self.phase = "decided"
        elif left > 0:
            self.seconds_left = math.ceil(left)
            self.phase = "waiting"
        else:
            self.phase = "timed-out"


class MessagingModel(PanelModel):
    """``main``: the workflow a learner decides on; ``idle``: the one left to time out."""

    main = Instance(DecisionModel)
    idle = Instance(DecisionModel)

    def __init__(
        self,
        n_steps: int,
        timeout_seconds: float,
        *,
        fib_base: int = DEFAULT_FIB_BASE,
        idle_timeout_seconds: float = 3.0,
    ) -> None:
        super().__init__("Messaging workflow", main=DecisionModel(), idle=DecisionModel())
        self.n_steps = validation.n_steps(n_steps)
        self.timeout_seconds = validation.timeout_seconds(timeout_seconds, "The approval timeout")
        self.idle_timeout_seconds = validation.timeout_seconds(
            idle_timeout_seconds, "The idle workflow's timeout"
        )
        self.fib_base = validation.fib_base(fib_base)
        self.idle_task: asyncio.Task[Any] | None = None
        for decision in (self.main, self.idle):
            decision.observe(self._renotice)

    # --- the workflow you decide on --------------------------------------------------------------

    def start(self) -> bool:
        return self.run_main(self._run)

    async def _run(self) -> None:
        self.main.clear()
        check_dbos()
        workflow_id = await started(
            start_messaging(
                self.n_steps, timeout_seconds=self.timeout_seconds, fib_base=self.fib_base
            )
        )
        self.main.workflow_id = self.workflow_id = workflow_id
        self.phase = "running"
        await self.main.follow(self.workflow_id)
        self.phase = "done"

    async def wait_for_recv(self, timeout: float = ANNOUNCE_TIMEOUT_SECONDS) -> str:
        """Wait until the workflow started by Start waits in ``recv`` (or is past it); returns
        its id. Raises RuntimeError with the panel's notice if nothing is being started."""

        async def waiting() -> str:
            while self.main.phase not in ("waiting", "decided", *PAST_RECV):
                if not self.busy:
                    raise RuntimeError(self.notice or "Press Start first.")
                await next_change(self.main, self.task)
            return self.main.workflow_id or ""

        return await asyncio.wait_for(waiting(), timeout)

    def approve(self) -> bool:
        return self.decide(True)

    def reject(self) -> bool:
        return self.decide(False)

    def decide(self, approved: bool, text: str = "") -> bool:
        """Send one decision to the main workflow, or refuse (with a notice saying why)."""
        word = "approve" if approved else "reject"
        main = self.main
        if self.closed:
            return self.refuse(self.phase)
        if main.workflow_id is None:
            return self.refuse("still-starting" if self.busy else f"no-workflow:{word}")
        if main.phase == "done":
            return self.refuse("finished")
        if main.decision is not None:
            return self.refuse("already-decided")
        if main.phase == "timed-out":
            return self.refuse("not-waiting")
        if not self.busy:
            return self.refuse("not-followed")
        if not runtime.is_running():
            return self.refuse("dbos-stopped")
        main.decision = word
        main.phase = "decided"
        workflow_id = main.workflow_id
        self.run_side(lambda: send_decision(workflow_id, approved, text))
        return True

    # --- the workflow left to time out ---------------------------------------------------------

    def start_idle(self) -> bool:
        if self.idle_task is not None and not self.idle_task.done():
            return self.refuse("idle-busy")
        self.idle_task = self.run_side(self._run_idle)
        return self.idle_task is not None

    async def _run_idle(self) -> None:
        self.idle.clear()
        check_dbos()
        workflow_id = await started(
            start_messaging(
                self.n_steps, timeout_seconds=self.idle_timeout_seconds, fib_base=self.fib_base
            )
        )
        await self.idle.follow(workflow_id)

    # --- the notice --------------------------------------------------------------------------------

    def describe(self) -> str:
        refused = self._refusal_notice()
        if refused:
            return refused
        common = common_notice(self)
        if common:
            return common
        main, wid = self.main, self.main.workflow_id
        if self.phase == "starting":
            return "Starting a messaging workflow…"
        if main.decision is not None and self.phase in ("running", "done"):
            ended = f"; it answered {main.outcome}" if main.phase == "done" else ""
            return f"Sent '{main.decision}' to {wid}{ended}."
        if self.phase == "running":
            if main.phase == "timed-out":
                return f"{wid} stopped waiting (its recv timed out): it goes on without a decision."
            return f"Started {wid}: it waits for Approve or Reject."
        if self.phase == "done":
            return f"{wid} answered {main.outcome}."
        return self.message

    def _refusal_notice(self) -> str:
        code, wid = self.refusal or "", self.main.workflow_id
        if code.startswith("no-workflow:"):
            return f"Press Start first: there is no workflow to {code.split(':')[1]} yet."
        idle_wid = self.idle.workflow_id
        return {
            "still-starting": "The workflow is still starting: click again in a moment.",
            "finished": f"{wid} has finished: press Start for a new workflow.",
            "already-decided": (
                f"{wid} already got '{self.main.decision}': this click sends nothing "
                "(one decision per workflow, enforced by an idempotency key)."
            ),
            "not-waiting": f"{wid} no longer waits (its recv timed out): press Start for a new one.",
            "not-followed": f"This panel no longer follows {wid}: press Start for a new workflow.",
            "idle-busy": (
                f"{idle_wid} is still waiting for its timeout: wait for it to end."
                if idle_wid
                else "The workflow left alone is still starting: wait for it to end."
            ),
        }.get(code, "")
