"""Idle CPU of a real kernel after re-running the panel cells: one run against ten.

A panel cell run again closes its previous panel (its follower, health strip and loop-lag
sampler), so after ten runs the kernel must idle like after one. The kernel is a real
ipykernel started with ``jupyter_client``, as a notebook's (two of them, read side by side);
each run of "the panel cells"
builds and starts one panel per pattern, and the CPU is read with every workflow done.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Callable

import psutil
from jupyter_client.manager import KernelManager

#: Idle CPU after ten runs over idle CPU after one: at most this.
TARGET_RATIO = 1.2
RUNS = (1, 10)
SETUP = (
    "import asyncio\nimport wfcomm_helpers\n"
    "from wfcomm_helpers.widgets import EventsPanel, MessagingPanel, StreamingPanel\n"
    "await wfcomm_helpers.start('events', quiet=True)"
)
#: One run of each panel cell, each panel's workflow started (as a learner's Start click) and
#: seen in DBOS before the next run: a panel replaced while its Start is still under way can
#: leave a workflow PENDING that no task runs (until the next start() recovers it), and that
#: is not what this section measures.
PANEL_CELLS = (
    "e = EventsPanel(n_steps=1, fib_base=5); e.widget; e.start()\n"
    "m = MessagingPanel(n_steps=1, fib_base=5); m.widget; m.start()\n"
    "s = StreamingPanel(n_steps=1, fib_base=5); s.widget; s.start()\n"
    "_deadline = asyncio.get_running_loop().time() + 60\n"
    "while None in (e.workflow_id, m.workflow_id, s.workflow_id):\n"
    "    assert asyncio.get_running_loop().time() < _deadline, 'no workflow within 60 s'\n"
    "    await asyncio.sleep(0.01)"
)
#: Every workflow the runs started ends, so what idles is the panels, not DBOS's waiters: a
#: replaced panel's messaging workflow goes on waiting in DBOS, and is approved here.
FINISH = (
    "from dbos import DBOS\nfrom wfcomm_helpers import messaging\n"
    "await m.wait_for_recv()\n"
    "for w in await DBOS.list_workflows_async(status='PENDING', name=messaging.WORKFLOW_NAME):\n"
    "    await messaging.send_decision(w.workflow_id, True)\n"
    "for w in await DBOS.list_workflows_async(status='PENDING'):\n"
    "    await (await DBOS.retrieve_workflow_async(w.workflow_id)).get_result()\n"
    "for x in (e, m, s): await x.wait_idle()"
)
CELL_TIMEOUT_SEC = 300.0


class KernelCellError(RuntimeError):
    """A cell of the measurement failed in the kernel."""


def _run(client: Any, code: str) -> None:
    """Run ``code`` as a cell; :class:`KernelCellError` with the error's name and value."""
    reply = client.execute_interactive(code, timeout=CELL_TIMEOUT_SEC, output_hook=lambda m: None)
    content = reply["content"]
    if content["status"] != "ok":
        raise KernelCellError(f"{content.get('ename')}: {content.get('evalue')}")


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _idle_cpu(pids: list[int], seconds: float) -> list[float]:
    """Percent of one core each process uses over the same ``seconds``."""
    before, began = [_cpu_seconds(pid) for pid in pids], time.perf_counter()
    time.sleep(seconds)  # the measurement window itself, not a wait for something
    after, ended = [_cpu_seconds(pid) for pid in pids], time.perf_counter()
    return [100 * (b - a) / (ended - began) for a, b in zip(before, after)]


@contextmanager
def _kernel(folder: str) -> Iterator[tuple[KernelManager, Any]]:
    """A real ipykernel with ``WFCOMM_DATA_DIR=folder`` and its ready client; shut down after."""
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env={**os.environ, "WFCOMM_DATA_DIR": folder})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def measure(seconds: float, say: Callable[[str], None]) -> dict[str, Any]:
    """``{"seconds": window, "cpu": {"1": %, "10": %}, "ratio": cpu10 / cpu1}``: the idle CPU
    (% of one core) of one kernel after 1 run of the panel cells and of another after 10,
    read side by side over the same window so that other load on the machine weighs on both
    alike. Each kernel has its own fresh SQLite folder. :class:`KernelCellError` if a cell
    fails."""
    with ExitStack() as stack:
        kernels = []
        for runs in RUNS:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="wfcomm-reruns-"))
            manager, client = stack.enter_context(_kernel(folder))
            say(f"panel re-runs: a kernel runs the panel cells {runs} time(s)")
            _run(client, SETUP)
            for _ in range(runs):
                _run(client, PANEL_CELLS)
            _run(client, FINISH)
            kernels.append((manager, client))
        say(f"panel re-runs: idle CPU of both kernels over {seconds:g} s")
        figures = _idle_cpu([manager.provisioner.pid for manager, _ in kernels], seconds)
        for _, client in kernels:
            _run(client, "wfcomm_helpers.shutdown()")
    cpu = {str(runs): figure for runs, figure in zip(RUNS, figures)}
    first, last = figures[0], figures[-1]
    return {"seconds": seconds, "cpu": cpu, "ratio": last / first if first else float("nan")}


def target_row(data: dict[str, Any]) -> list[str]:
    """The targets table's row."""
    ratio = data["ratio"]
    return [
        f"| kernel idle CPU after {RUNS[-1]} runs of the panel cells vs {RUNS[0]} "
        f"| <= {TARGET_RATIO:g}x | {ratio:.2f}x | {'yes' if ratio <= TARGET_RATIO else '**no**'} |"
    ]


def table(data: dict[str, Any]) -> list[str]:
    """The section's table: idle CPU per number of runs, and the ratio."""
    lines = ["| runs of each panel cell | kernel idle CPU (% of a core) |", "|---|---|"]
    lines += [f"| {runs} | {data['cpu'][str(runs)]:.2f} |" for runs in RUNS]
    lines.append(
        f"\n{RUNS[-1]} runs vs {RUNS[0]}: {data['ratio']:.2f}x (target <= {TARGET_RATIO:g}x). "
        f"Two kernels, one per row, read side by side over the same {data['seconds']:g} s with "
        "every workflow done: what is left is the panels' own tasks (health strip, loop-lag "
        "sampler) and DBOS's idle work."
    )
    return lines
