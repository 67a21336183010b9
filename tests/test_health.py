"""Kernel health numbers: memory and event-loop lag, as a widget or a test reads them."""

from __future__ import annotations

import asyncio
import time

import psutil

from wfcomm_helpers.runtime.health import LoopLagMonitor, rss_mb


def test_rss_is_this_process_in_megabytes() -> None:
    expected = psutil.Process().memory_info().rss / 1024 / 1024
    assert abs(rss_mb() - expected) < 50
    assert rss_mb() == round(rss_mb(), 2)


async def test_lag_shows_a_loop_blocked_by_cpu_work() -> None:
    monitor = LoopLagMonitor(interval=0.01).start()
    try:
        while len(monitor.samples_ms) < 3:  # a few samples of an idle loop
            await asyncio.sleep(0.01)
        idle_max = monitor.max_ms
        blocked_at = len(monitor.samples_ms)
        time.sleep(0.3)  # CPU-bound work on the loop, as the seed's async Fibonacci does
        while len(monitor.samples_ms) <= blocked_at:
            await asyncio.sleep(0.01)
        assert monitor.samples_ms[blocked_at] >= 250
        assert monitor.max_ms >= 250 > idle_max
        assert monitor.percentile_ms(99) == monitor.max_ms
    finally:
        monitor.stop()
    assert not monitor.running
