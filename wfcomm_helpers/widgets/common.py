"""What every panel shares: styled widgets, a one-line notice area, and background work that
never overlaps, never prints and never lets an exception escape into the kernel's log."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import ipywidgets as widgets

from .. import runtime
from ..errors import WfcommError
from .health import HealthStrip

W = TypeVar("W", bound=widgets.DOMWidget)

#: How often a panel re-reads state it cannot be notified about (events, the countdown).
REFRESH_SECONDS = 0.1


def styled(widget: W, css_class: str) -> W:
    """Add a stable CSS class (browser tests find widgets by it) and return the widget."""
    widget.add_class(css_class)
    return widget


def one_line(exc: BaseException) -> str:
    """The kit's errors are one line already; anything else is cut to its first line."""
    if isinstance(exc, WfcommError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Panel:
    """Base class: a VBox with a notice line and a health strip, plus task bookkeeping.

    ``self.task`` is the current main job (a workflow being followed); ``self.side_tasks`` are
    short jobs (a send, a re-read). ``await panel.wait_idle()`` waits for all of them.
    """

    #: The last panel of each kind built in this kernel: a re-run cell (or Run All) can say
    #: that the previous panel's workflow is still running.
    _latest: ClassVar[dict[type, Panel]] = {}
    #: The panel's whole view; each subclass builds it with :meth:`layout`.
    widget: widgets.VBox

    def __init__(self, *, busy_label: str) -> None:
        self.busy_label = busy_label
        self.notice = styled(widgets.Label(value=""), "wfcomm-notice")
        self.health = HealthStrip()
        self.task: asyncio.Task[Any] | None = None
        self.side_tasks: set[asyncio.Task[Any]] = set()
        self.workflow_id: str | None = None
        self.last_error: str | None = None
        previous = Panel._latest.get(type(self))
        Panel._latest[type(self)] = self
        if previous is not None and previous.busy:
            self.say(
                f"Workflow {previous.workflow_id} from the previous run of this cell is still "
                "running; its panel keeps updating. This panel starts fresh."
            )

    # --- display -------------------------------------------------------------------------------

    def layout(self, *rows: widgets.Widget) -> widgets.VBox:
        self.health.start()
        return widgets.VBox([*rows, self.notice, self.health.widget])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # --- notices ---------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Show one line in the panel's notice area (replacing the previous one)."""
        self.notice.value = text

    # --- background work -------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def dbos_is_running(self) -> bool:
        """False, with a notice, after the clean-up cell (or ``shutdown()``) stopped DBOS."""
        if runtime.is_running():
            return True
        self.say(
            "DBOS is not running in this kernel (the clean-up cell stops it): re-run the setup "
            "cell, then press the button again."
        )
        return False

    def run_main(self, job: Callable[[], Awaitable[Any]]) -> bool:
        """Start ``job`` as the panel's main task unless one is still running (then say so)."""
        if not self.dbos_is_running():
            return False
        if self.busy:
            who = (
                f"{self.busy_label} {self.workflow_id}"
                if self.workflow_id
                else f"The {self.busy_label.lower()} you started"
            )
            self.say(f"{who} is still running: wait for it to finish before you start another.")
            return False
        self.say("")
        self.last_error, self.workflow_id = None, None
        self.task = asyncio.ensure_future(self._guarded(job))
        return True

    def run_side(self, job: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any] | None:
        """Start a short job next to the main one (a send, a re-read)."""
        if not self.dbos_is_running():
            return None
        task = asyncio.ensure_future(self._guarded(job))
        self.side_tasks.add(task)
        task.add_done_callback(self.side_tasks.discard)
        return task

    async def _guarded(self, job: Callable[[], Awaitable[Any]]) -> None:
        try:
            await job()
        except asyncio.CancelledError:
            self.say("Stopped.")
            raise
        except Exception as exc:
            self.last_error = one_line(exc)
            self.say(self.last_error)

    async def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the main task and every side task are done."""

        async def drain() -> None:
            while True:
                pending = [
                    t for t in (self.task, *self.side_tasks) if t is not None and not t.done()
                ]
                if not pending:
                    return
                await asyncio.wait(pending)

        await asyncio.wait_for(drain(), timeout)

    def close(self) -> None:
        """Stop following (the workflows themselves keep running in DBOS) and the health strip."""
        for task in (self.task, *self.side_tasks):
            if task is not None and not task.done():
                task.cancel()
        self.health.stop()
