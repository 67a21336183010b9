"""The seed's CPU-bound step, kept off the event loop.

The seed computed Fibonacci with a recursive ``async def`` on the server's event loop: about
0.8 s per step during which nothing else on that loop ran. Here the work is a plain function
run as a DBOS step with ``DBOS.run_step_async``, which executes synchronous steps in a worker
thread: the loop (the kernel's, in a notebook) stays free for widgets and other workflows.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from dbos import DBOS, StepOptions

T = TypeVar("T")

#: Small enough that a notebook's Run All takes seconds: fib(22 + i) is a few ms to ~0.1 s.
DEFAULT_FIB_BASE = 22
MAX_FIB_BASE = 32

FIBONACCI_STEP: StepOptions = {"name": "fibonacci_step", "retries_allowed": True}


def fibonacci(n: int) -> int:
    """Deliberately slow recursive Fibonacci: the seed's stand-in for real CPU work."""
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def fibonacci_result(n: int) -> dict[str, int]:
    """One step's result, in the seed's shape."""
    return {"n": n, "fibonacci": fibonacci(n)}


def expected_result(n: int) -> dict[str, int]:
    """What :func:`fibonacci_result` returns, computed in ``n`` additions: the yardstick a check
    compares a step's result with. Never the slow recursion: a check runs on the caller's loop,
    and fib(31) the slow way holds it about 0.3 s."""
    previous, current = 0, 1
    for _ in range(n):
        previous, current = current, previous + current
    return {"n": n, "fibonacci": previous}


async def run_cpu_step(options: StepOptions, func: Callable[..., T], *args: Any) -> T:
    """Run a synchronous, CPU-bound function as a checkpointed DBOS step in a worker thread."""
    return await DBOS.run_step_async(options, func, *args)


async def fibonacci_step(n: int) -> dict[str, int]:
    """The seed's ``@DBOS.step(retries_allowed=True)`` Fibonacci, run off the loop."""
    return await run_cpu_step(FIBONACCI_STEP, fibonacci_result, n)
