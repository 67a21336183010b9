"""Event-loop lag while three workflows compute: the seed's design against the kit's.

The seed computed Fibonacci in an ``async def`` step on the event loop
(:func:`wfcomm_helpers.teaching.seed_mistakes.seed_cpu_on_loop_workflow`); the kit runs the same work as
a sync step in a worker thread (:func:`wfcomm_helpers.patterns.events.events_workflow`). Lag is sampled
with the kit's own :class:`~wfcomm_helpers.runtime.health.LoopLagMonitor` while three run at once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

from dbos import DBOS

from ..patterns.events import start_events
from ..patterns.lookup import start_handle
from ..runtime.health import LoopLagMonitor
from ..teaching.seed_mistakes import seed_cpu_on_loop_workflow
from .hops import new_id

WORKFLOWS = 3


async def _seed(n_steps: int, fib_base: int) -> Any:
    return await start_handle(seed_cpu_on_loop_workflow, new_id("seed-cpu"), n_steps, fib_base)


async def _kit(n_steps: int, fib_base: int) -> Any:
    return await DBOS.retrieve_workflow_async(await start_events(n_steps, fib_base=fib_base))


async def _lag_while(
    starter: Callable[[int, int], Awaitable[Any]], n_steps: int, fib_base: int
) -> dict[str, float]:
    monitor = LoopLagMonitor(interval=0.005, keep=1_000_000).start()
    await asyncio.sleep(0.05)
    monitor.reset()
    began = time.perf_counter()
    handles = [await starter(n_steps, fib_base) for _ in range(WORKFLOWS)]
    await asyncio.gather(*(h.get_result() for h in handles))
    seconds = time.perf_counter() - began
    monitor.stop()
    return {
        "p50": monitor.percentile_ms(50),
        "p99": monitor.percentile_ms(99),
        "max": monitor.max_ms,
        "seconds": seconds,
        "samples": len(monitor.samples_ms),
    }


async def measure(n_steps: int, fib_base: int) -> dict[str, dict[str, float]]:
    return {
        "seed": await _lag_while(_seed, n_steps, fib_base),
        "kit": await _lag_while(_kit, n_steps, fib_base),
    }
