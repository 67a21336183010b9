"""The working half of a panel: background tasks and observable state, no widgets.

A model runs the DBOS calls (start, watch, send, read) on the running event loop and keeps what
it learns in traitlets traits, so a view links widgets to it and a test observes it without a
kernel. Each model writes its one-line ``notice`` in one place, :meth:`PanelModel.describe`,
from its state: a notice never says something the state does not.

States (``phase``): ``idle`` -> ``starting`` -> pattern phases -> ``done``; or ``failed`` (an
error, in ``error``), ``stopped`` (its task was cancelled), ``dbos-stopped`` (DBOS was shut down
while it watched), ``closed`` / ``replaced`` (:meth:`close`; a newer run of the cell).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from traitlets import Bool, HasTraits, Unicode

from ..runtime import lifecycle as runtime
from ..runtime.errors import WfcommError
from .health_model import HealthModel

#: How often a model re-reads state it cannot be notified about (events, the countdown), in s.
REFRESH_SECONDS = 0.1
#: Phases after which nothing more happens until the next Start.
FINAL_PHASES = ("idle", "done", "failed", "stopped", "dbos-stopped", "closed", "replaced")

DBOS_STOPPED = (
    "DBOS is not running in this kernel (the clean-up cell stops it): re-run the setup "
    "cell, then press the button again."
)


def one_line(exc: BaseException) -> str:
    """The kit's errors are one line already; anything else is cut to its first line."""
    if isinstance(exc, WfcommError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class DBOSStopped(Exception):
    """Raised inside a model's task when DBOS was shut down under it (the clean-up cell)."""


def check_dbos() -> None:
    """Raise :class:`DBOSStopped` unless DBOS runs in this process."""
    if not runtime.is_running():
        raise DBOSStopped()


async def tick(seconds: float = REFRESH_SECONDS) -> None:
    """Wait one refresh interval, then make sure DBOS still runs."""
    await asyncio.sleep(seconds)
    check_dbos()


async def started(start: Coroutine[Any, Any, str]) -> str:
    """Await ``start`` (a workflow start returning its id) even if the calling task is cancelled.

    DBOS records a workflow (PENDING) before it creates the task that runs it; cancelling the
    start in between (a re-run cell closing its panel) would leave it PENDING with nothing
    running it. Shielded, the start completes and the workflow runs to its end in DBOS; only
    the panel stops following it. Raises what ``start`` raises (or CancelledError)."""
    inner = asyncio.ensure_future(start)
    inner.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved if orphaned
    return await asyncio.shield(inner)


async def next_change(model: HasTraits, task: asyncio.Future[Any] | None = None) -> None:
    """Return at the next change of any of ``model``'s traits (or when ``task`` ends)."""
    changed = asyncio.get_running_loop().create_future()

    def wake(change: Any) -> None:
        if not changed.done():
            changed.set_result(None)

    model.observe(wake)
    try:
        await asyncio.wait([changed, *([task] if task else [])], return_when="FIRST_COMPLETED")
    finally:
        model.unobserve(wake)
        changed.cancel()


class PanelModel(HasTraits):
    """Task bookkeeping and the notice. Subclasses add traits and override :meth:`describe`.

    ``refusal`` names a click that was refused in the current phase (``"busy"``,
    ``"dbos-stopped"``, or a subclass's code); it is cleared when the phase changes.
    ``message`` is free text from :meth:`say`, shown when nothing more specific applies.
    """

    phase = Unicode("idle")
    workflow_id = Unicode(None, allow_none=True)
    error = Unicode(None, allow_none=True)
    refusal = Unicode(None, allow_none=True)
    message = Unicode("")
    notice = Unicode("")
    closed = Bool(False)
    #: A workflow the previous run of this cell left running (see :meth:`replace`).
    previous_workflow_id = Unicode(None, allow_none=True)

    def __init__(self, busy_label: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.busy_label = busy_label
        self.task: asyncio.Task[Any] | None = None
        self.side_tasks: set[asyncio.Task[Any]] = set()
        self.health = HealthModel()
        self.observe(self._clear_refusal, names="phase")
        self.observe(self._renotice)

    # --- the notice, derived from the state ------------------------------------------------------

    def _clear_refusal(self, change: Any) -> None:
        self.refusal = None

    def _renotice(self, change: Any) -> None:
        if change["name"] != "notice":
            self.notice = self.describe()

    def describe(self) -> str:
        """The notice for the current state (one line)."""
        return common_notice(self) or self.message

    def say(self, text: str) -> None:
        """Free text for the notice, shown while no state-specific notice applies."""
        self.message = text

    def refuse(self, code: str) -> bool:
        """Record a refused click (its notice comes from :meth:`describe`); returns False."""
        self.refusal = None
        self.refusal = code
        return False

    # --- background work -------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def may_start(self) -> bool:
        """False (with a refusal) when closed, when DBOS is not running, or while busy."""
        if self.closed:
            return self.refuse(self.phase)
        if not runtime.is_running():
            return self.refuse("dbos-stopped")
        if self.busy:
            return self.refuse("busy")
        return True

    def run_main(self, job: Callable[[], Awaitable[Any]]) -> bool:
        """Start ``job`` as the main task (phase ``starting``) unless refused."""
        if not self.may_start():
            return False
        self.error, self.workflow_id, self.message = None, None, ""
        self.previous_workflow_id = None
        self.health.start()
        self.phase = "starting"
        self.task = asyncio.ensure_future(self.guarded(job))
        return True

    def run_side(self, job: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any] | None:
        """Start a short job next to the main one (a send, a re-read)."""
        if self.closed:
            self.refuse(self.phase)
            return None
        if not runtime.is_running():
            self.refuse("dbos-stopped")
            return None
        task = asyncio.ensure_future(self.guarded(job, main=False))
        self.side_tasks.add(task)
        task.add_done_callback(self.side_tasks.discard)
        return task

    async def guarded(self, job: Callable[[], Awaitable[Any]], *, main: bool = True) -> None:
        """Run ``job``; record its end in ``phase``/``error`` instead of raising."""
        try:
            await job()
        except asyncio.CancelledError:
            if main and not self.closed:
                self.phase = "stopped"
            raise
        except DBOSStopped:
            self.phase = "dbos-stopped"
        except Exception as exc:
            if not runtime.is_running():  # DBOS was shut down under a call
                self.phase = "dbos-stopped"
                return
            self.error = one_line(exc)
            if main:
                self.phase = "failed"

    async def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the main task and every side task are done (``timeout`` in s)."""

        async def drain() -> None:
            while True:
                pending = [t for t in (self.task, *self.side_tasks) if t and not t.done()]
                if not pending:
                    return
                await asyncio.wait(pending)

        await asyncio.wait_for(drain(), timeout)

    def close(self, phase: str = "closed") -> None:
        """Cancel every task and stop the health strip (the workflows go on in DBOS).
        Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for task in (self.task, *self.side_tasks):
            if task is not None and not task.done():
                task.cancel()
        self.health.stop(
            "this panel was replaced" if phase == "replaced" else "the panel was closed"
        )
        self.phase = phase

    def replace(self, previous: PanelModel | None) -> None:
        """Close ``previous`` (the model of the last run of this cell) as ``replaced``; note
        the workflow it was following, which goes on in DBOS."""
        if previous is None or previous is self:
            return
        following = previous.workflow_id if previous.busy else None
        previous.close("replaced")
        self.previous_workflow_id = following


def common_notice(model: PanelModel) -> str:
    """The notices every panel shares: refusals and the end states; "" if none applies."""
    refusal, phase, wid = model.refusal, model.phase, model.workflow_id
    if refusal == "busy":
        who = f"{model.busy_label} {wid}" if wid else f"The {model.busy_label.lower()} you started"
        return f"{who} is still running: wait for it to finish before you start another."
    if refusal == "dbos-stopped" or phase == "dbos-stopped":
        return DBOS_STOPPED
    if phase == "closed":
        return (
            "This panel is closed (its workflows go on in DBOS): run the setup cell, then "
            "this cell, for a new one."
        )
    if phase == "replaced":
        return "A newer run of this cell replaced this panel: it no longer updates."
    if model.error:  # a failed start or watch, or a failed side job (a send, a re-read)
        return model.error
    if phase == "idle" and model.previous_workflow_id:
        return (
            f"Workflow {model.previous_workflow_id} from the previous run of this cell goes on "
            "in DBOS; that panel was closed, this one starts fresh."
        )
    if phase == "stopped":
        return f"Stopped following {wid}; the workflow goes on in DBOS." if wid else "Stopped."
    return ""
