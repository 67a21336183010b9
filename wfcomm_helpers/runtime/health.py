"""Kernel health, the counterpart of the seed's ``/health``: memory and event-loop lag.

Event-loop lag is how late a timer fires: a loop busy with CPU work (the seed's async
Fibonacci) shows hundreds of milliseconds; a loop that only awaits shows about zero.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

import psutil


def rss_mb() -> float:
    """This process's resident memory in MB, two decimals (the seed's ``memory_mb``)."""
    return round(psutil.Process().memory_info().rss / 1024 / 1024, 2)


class LoopLagMonitor:
    """Measures the running loop's lag by sleeping ``interval`` and timing the overshoot."""

    def __init__(self, interval: float = 0.02, keep: int = 500) -> None:
        self.interval = interval
        self.samples_ms: deque[float] = deque(maxlen=keep)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> "LoopLagMonitor":
        """Start on the running loop; starting twice is a no-op."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - before - self.interval
            self.samples_ms.append(max(0.0, late * 1000))

    def reset(self) -> None:
        self.samples_ms.clear()

    @property
    def latest_ms(self) -> float:
        return self.samples_ms[-1] if self.samples_ms else 0.0

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms, default=0.0)

    def percentile_ms(self, q: float) -> float:
        if not self.samples_ms:
            return 0.0
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]
