"""The kernel-health strip's model: this kernel's memory and the event loop's lag, as one line.

It is the notebook counterpart of the seed's ``GET /health``. The lag is the number to watch:
widgets, cells and every async workflow share one loop, so a lag of hundreds of milliseconds
means something is computing on it. The strip stops (and says so) when its panel closes or
DBOS is shut down in this kernel, so a stopped strip never shows a stale reading.
"""

from __future__ import annotations

import asyncio

from traitlets import Bool, HasTraits, Unicode

from ..runtime import lifecycle as runtime
from ..runtime.health import LoopLagMonitor, rss_mb

#: How often the line is rewritten, in seconds.
REFRESH_SECONDS = 0.5


class HealthModel(HasTraits):
    """``line`` is what the strip shows; ``running`` is True while it measures."""

    line = Unicode("kernel health: starting")
    running = Bool(False)

    def __init__(self, refresh_seconds: float = REFRESH_SECONDS) -> None:
        super().__init__()
        self.refresh_seconds = refresh_seconds
        self.monitor = LoopLagMonitor()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> HealthModel:
        """Start measuring on the running loop; starting twice is a no-op."""
        if self._task is None or self._task.done():
            self.monitor.reset()
            self.monitor.start()
            self._task = asyncio.get_running_loop().create_task(self._refresh())
            self.running = True
        return self

    def stop(self, why: str) -> None:
        """Stop measuring and say so: ``kernel health: stopped (<why>)``. Safe to call twice."""
        self.monitor.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.running:
            self.running = False
            self.line = f"kernel health: stopped ({why})"

    def reading(self) -> str:
        return (
            f"kernel health: memory {rss_mb():.1f} MB · event-loop lag "
            f"{self.monitor.latest_ms:.0f} ms now, {self.monitor.max_ms:.0f} ms max recently"
        )

    async def _refresh(self) -> None:
        while runtime.is_running():
            self.line = self.reading()
            await asyncio.sleep(self.refresh_seconds)
        self._task = None
        self.stop("DBOS was shut down: re-run the setup cell")
