"""The crash worker's lifecycle: one worker at most, one-line notices, no process left behind.

All real: the worker is a second OS process running DBOS on the test's SQLite file; kernels are
real ipykernels that are SIGKILLed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import wfcomm_helpers
from wfcomm_helpers import worker
from wfcomm_helpers.teaching.worker_process import MODULE, WorkerSpec

pytestmark = pytest.mark.timeout(300)


def worker_processes(data_dir: str | None = None) -> list[psutil.Process]:
    """Every live crash-worker process on this machine started from ``data_dir`` (default:
    this test's ``WFCOMM_DATA_DIR``)."""
    wanted = os.environ.get("WFCOMM_DATA_DIR") if data_dir is None else data_dir
    found = []
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            if MODULE in (proc.info["cmdline"] or []) and proc.status() != psutil.STATUS_ZOMBIE:
                if (proc.info["environ"] or {}).get("WFCOMM_DATA_DIR") == wanted:
                    found.append(proc)
        except psutil.Error:
            continue
    return found


def wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
async def events_app(data_dir: Path):
    await wfcomm_helpers.start("events", quiet=True)
    yield
    wfcomm_helpers.shutdown()
    assert worker_processes() == []


async def test_start_twice_and_kill_twice_give_one_line_and_one_worker(events_app):
    first = await worker.start_worker("events")
    assert first.running and str(first) == f"events worker started (pid {first.pid})."
    again = await worker.start_worker("events")
    assert str(again) == f"events worker already running (pid {first.pid})."
    assert [p.pid for p in worker_processes()] == [first.pid]
    assert str(worker.worker_status("events")) == f"events worker: running (pid {first.pid})."
    killed = await worker.kill_worker("events")
    assert str(killed) == f"events worker killed (pid {first.pid}, SIGKILL)."
    assert str(await worker.kill_worker("events")) == "No events worker is running."
    assert worker_processes() == []
    assert str(worker.worker_status("events")) == "events worker: not running."
    assert [what for _, what in worker.worker_history("events")][-2:] == ["started", "killed"]


async def test_shutdown_stops_the_worker(events_app):
    status = await worker.start_worker("events")
    wfcomm_helpers.shutdown()
    assert not psutil.pid_exists(status.pid) or psutil.Process(status.pid).status() == "zombie"
    assert worker_processes() == []


async def test_a_worker_left_by_an_earlier_process_is_stopped_not_duplicated(events_app, data_dir):
    spec = WorkerSpec("events")
    url = f"sqlite:///{data_dir / 'wfcomm-events.sqlite'}"
    # An "earlier kernel": this test holds the stdin pipe, so the manager has no record of it.
    orphan = subprocess.Popen(
        [sys.executable, "-m", MODULE, "events", url],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    wait_until(
        lambda: spec.pid_file.exists() and json.loads(spec.pid_file.read_text()).get("ready"),
        "the orphan worker to be ready",
    )
    status = await worker.start_worker("events")
    assert str(status) == (
        f"events worker started (pid {status.pid}) "
        f"(stopped worker {orphan.pid} left by an earlier kernel)."
    )
    assert orphan.wait(timeout=30) != 0
    assert [p.pid for p in worker_processes()] == [status.pid]


async def test_unknown_pattern_is_one_line(events_app):
    with pytest.raises(wfcomm_helpers.WfcommError, match=r"^No worker for 'evnts': use one of"):
        await worker.start_worker("evnts")


@pytest.mark.kernel
def test_worker_dies_with_its_kernel(kernel_factory):
    kernel = kernel_factory()
    out = kernel.run(
        "import wfcomm_helpers\nfrom wfcomm_helpers import worker\n"
        "await wfcomm_helpers.start('events', quiet=True)\n"
        "s = await worker.start_worker('events')\nprint(s.pid)"
    )
    pid = int(out.stdout.strip())
    assert psutil.pid_exists(pid)
    out = kernel.run("print(await worker.start_worker('events'))")
    assert out.stdout == f"events worker already running (pid {pid}).\n"
    kernel.kill()
    wait_until(lambda: worker_processes() == [], "the worker to die with its kernel", 30)


@pytest.mark.kernel
def test_worker_output_does_not_reach_cells(kernel_factory):
    kernel = kernel_factory()
    out = kernel.run(
        "import asyncio, wfcomm_helpers\nfrom wfcomm_helpers import worker\n"
        "await wfcomm_helpers.start('events', quiet=True)\n"
        "await worker.start_worker('events')\n"
        "wid = await worker.run_on_worker('events', 2)\n"
        "from wfcomm_helpers.patterns.lookup import workflow_result\n"
        "r = await workflow_result(wid, timeout=60)"
    )
    assert (out.stdout, out.stderr) == ("", "")
    out = kernel.run("wfcomm_helpers.shutdown()\nprint(worker.worker_status('events'))")
    assert out.stdout == "events worker: not running.\n"
    assert worker_processes() == []
    assert "ready: app wfcomm-events-worker" in WorkerSpec("events").log_file.read_text()


def test_no_event_loop_is_held(data_dir):
    """start_worker waits for the worker with asyncio.sleep: another task keeps running."""

    async def main() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        await worker.start_worker("events")
        await worker.kill_worker("events")
        ticker.cancel()
        return ticks

    assert asyncio.run(main()) > 10
    worker.stop_all_workers()


async def test_two_quick_starts_make_one_worker(events_app):
    first, second = await asyncio.gather(
        worker.start_worker("events"), worker.start_worker("events")
    )
    assert str(second) == "The events worker is starting or stopping: wait a moment."
    assert first.running and [p.pid for p in worker_processes()] == [first.pid]


async def test_a_kill_cancelled_while_it_reaps_still_counts(events_app):
    """A re-run crash panel cancels its buttons' tasks: a Kill cancelled after its SIGKILL must
    leave the record of the crash (the timeline's "killed") and no pid file naming a dead worker,
    and the next Start must start one worker."""
    first = await worker.start_worker("events")
    kill = asyncio.ensure_future(worker.kill_worker("events"))
    await asyncio.sleep(0)  # the kill ran up to its first wait: SIGKILL sent, not yet reaped
    kill.cancel()  # a no-op if the worker was already reaped: then there was nothing to lose
    await asyncio.gather(kill, return_exceptions=True)
    assert [what for _, what in worker.worker_history("events")][-2:] == ["started", "killed"]
    assert not WorkerSpec("events").pid_file.exists()
    # At once, as a learner clicks Start in the re-run panel: the killed worker may still be
    # dying (its command line already gone, not yet a zombie), and must not count as running.
    second = await worker.start_worker("events")
    assert second.running and second.pid != first.pid, second
    assert [p.pid for p in worker_processes()] == [second.pid]
