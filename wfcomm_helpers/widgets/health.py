"""A one-line kernel-health strip: the notebook counterpart of the seed's ``GET /health``.

It shows this kernel's memory (the seed's ``memory_mb``) and the event loop's lag. The lag is
the number to watch: widgets, cells and every async workflow share this one loop, so a lag of
hundreds of milliseconds means something is computing on it.
"""

from __future__ import annotations

import asyncio

import ipywidgets as widgets

from ..health import LoopLagMonitor, rss_mb

REFRESH_SECONDS = 0.5


class HealthStrip:
    def __init__(self, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.refresh_seconds = refresh_seconds
        self.monitor = LoopLagMonitor()
        self.widget = widgets.HTML(value="kernel health: starting")
        self.widget.add_class("wfcomm-health")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> HealthStrip:
        """Start measuring on the running loop; starting twice is a no-op."""
        self.monitor.start()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._refresh())
        return self

    def stop(self) -> None:
        self.monitor.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def line(self) -> str:
        return (
            f"kernel health: memory {rss_mb():.1f} MB · event-loop lag "
            f"{self.monitor.latest_ms:.0f} ms now, {self.monitor.max_ms:.0f} ms max recently"
        )

    async def _refresh(self) -> None:
        while True:
            self.widget.value = self.line()
            await asyncio.sleep(self.refresh_seconds)
