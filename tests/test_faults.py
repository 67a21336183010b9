"""Fault tests: the kit keeps its promises when things break.

- A kernel SIGKILLed in the middle of each pattern's workflow: a new kernel on the same data
  folder re-runs the setup cell, DBOS recovers the workflow, and it finishes with every event,
  stream value and message exactly once; a message sent while no kernel ran is received.
- A second kernel on the same file, a read-only file or folder, a missing folder, a file locked
  by another program: one clear line each, and what was committed is still there afterwards.

All real: ipykernels, SQLite files, a second process holding a SQLite write lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from dbos import DBOSClient
from dbos_records import event_history

import wfcomm_helpers
from wfcomm_helpers import events, messaging, streaming
from wfcomm_helpers.patterns.compute import fibonacci_result
from wfcomm_helpers.patterns.lookup import workflow_result
from wfcomm_helpers.runtime.errors import DatabaseInUseError, DatabaseUnreachableError

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(240)]

#: Steps slow enough (fib(26) upwards) that a kill lands in the middle of the workflow.
N_STEPS, FIB_BASE = 4, 26


def sqlite_url(data_dir: Path, app: str) -> str:
    return f"sqlite:///{data_dir / f'wfcomm-{app}.sqlite'}"


def setup_cell(app: str) -> str:
    return f"import wfcomm_helpers\nawait wfcomm_helpers.start({app!r})"


def wait_cell(condition: str, seconds: float = 90) -> str:
    """Kernel code that polls ``condition`` (an expression, may await) until true or a deadline."""
    return textwrap.dedent(f"""
        import asyncio as _asyncio, time as _time
        _deadline = _time.monotonic() + {seconds}
        while not ({condition}):
            assert _time.monotonic() < _deadline, {f"not reached in {seconds} s: {condition}"!r}
            await _asyncio.sleep(0.02)
    """)


def wait_until(predicate: Callable[[], bool], what: str, seconds: float = 90) -> None:
    """Poll a condition on the database from this process until true or a deadline."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"not reached in {seconds} s: {what}"
        time.sleep(0.02)


def result_cell(workflow_id: str) -> str:
    return (
        "import json\nfrom wfcomm_helpers.patterns.lookup import workflow_result\n"
        f"print(json.dumps(await workflow_result({workflow_id!r}, timeout=120)))"
    )


def expected_results() -> list[dict[str, int]]:
    return [fibonacci_result(FIB_BASE + i) for i in range(N_STEPS)]


def expected_event_history(n: int, results: list[dict[str, int]]) -> list[tuple[str, object]]:
    history: list[tuple[str, object]] = [("status", "started"), ("progress", 0)]
    for i in range(n):
        history += [("status", f"processing_step_{i + 1}"), ("progress", int(i / n * 100))]
    return history + [
        ("progress", 100),
        ("result", {"total_steps": n, "results": results}),
        ("status", "completed"),
    ]


def workflow_status(data_dir: Path, app: str, workflow_id: str) -> str:
    with sqlite3.connect(data_dir / f"wfcomm-{app}.sqlite") as conn:
        row = conn.execute(
            "SELECT status FROM workflow_status WHERE workflow_uuid = ?", (workflow_id,)
        ).fetchone()
    return row[0]


def messages_to(data_dir: Path, workflow_id: str) -> list[tuple[str, bool]]:
    """Every message DBOS holds for the workflow: (topic, consumed)."""
    with sqlite3.connect(data_dir / "wfcomm-messaging.sqlite") as conn:
        rows = conn.execute(
            "SELECT topic, consumed FROM notifications WHERE destination_uuid = ?",
            (workflow_id,),
        ).fetchall()
    return [(topic, bool(consumed)) for topic, consumed in rows]


# --- SIGKILL in the middle of each pattern -------------------------------------------------------


def test_events_workflow_finishes_after_sigkill_without_duplicate_events(kernel_factory, data_dir):
    first = kernel_factory()
    first.run(setup_cell("events"))
    wid = first.run(
        f"from wfcomm_helpers import events\n"
        f"wid = await events.start_events({N_STEPS}, fib_base={FIB_BASE})\nprint(wid)"
    ).stdout.strip()
    first.run(wait_cell("(await events.get_event(wid, 'status', 0)) == 'processing_step_2'"))
    first.kill()

    url = sqlite_url(data_dir, "events")
    before = event_history(url, wid)
    assert ("status", "completed") not in before, "the kill came after the workflow ended"
    assert workflow_status(data_dir, "events", wid) == "PENDING"

    second = kernel_factory()
    second.run(setup_cell("events"))
    assert json.loads(second.run(result_cell(wid)).stdout) == expected_results()
    after = event_history(url, wid)
    assert after == expected_event_history(N_STEPS, expected_results())
    assert after[: len(before)] == before


def test_stream_finishes_after_sigkill_with_each_value_once(kernel_factory, data_dir):
    first = kernel_factory()
    first.run(setup_cell("streaming"))
    wid = first.run(
        f"from wfcomm_helpers import streaming\n"
        f"wid = await streaming.start_streaming({N_STEPS}, fib_base={FIB_BASE})\nprint(wid)"
    ).stdout.strip()
    # Wait for step 1 to be under way, read what is there and kill in the same breath: the
    # remaining steps must not finish before the kill lands.
    seen = json.loads(
        first.run(
            wait_cell("len((await streaming.read_stream_chunk(wid, 0)).values) >= 2")
            + "\nimport json\nprint(json.dumps((await streaming.read_stream_chunk(wid, 0)).values))"
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    first.kill()
    assert workflow_status(data_dir, "streaming", wid) == "PENDING"

    second = kernel_factory()
    second.run(setup_cell("streaming"))
    assert json.loads(second.run(result_cell(wid)).stdout) == expected_results()
    chunk = json.loads(
        second.run(
            "import json, dataclasses\nfrom wfcomm_helpers import streaming\n"
            f"print(json.dumps(dataclasses.asdict(await streaming.read_stream_chunk({wid!r}, 0))))"
        ).stdout
    )
    values = chunk["values"]
    assert chunk["closed"] is True
    assert len(values) == streaming.stream_length(N_STEPS)
    assert [v["type"] for v in values] == (
        ["start"] + ["progress", "result"] * N_STEPS + ["complete"]
    )
    assert [v.get("step") for v in values[1:-1]] == [s for s in range(1, N_STEPS + 1) for _ in "pr"]
    assert [v["result"] for v in values if v["type"] == "result"] == expected_results()
    # What a reader saw before the crash is still there, unchanged (same timestamps): the
    # recovered workflow did not write those values again.
    assert values[: len(seen)] == seen
    assert len({json.dumps(v, sort_keys=True) for v in values}) == len(values)


async def test_message_sent_while_kernel_down_is_received_once_across_two_crashes(
    kernel_factory, data_dir
):
    first = kernel_factory()
    first.run(setup_cell("messaging"))
    wid = first.run(
        "from dbos import DBOS\nfrom wfcomm_helpers import messaging\n"
        f"wid = await messaging.start_messaging({N_STEPS}, timeout_seconds=600, "
        f"fib_base={FIB_BASE})\nprint(wid)"
    ).stdout.strip()
    first.run(
        wait_cell("(await DBOS.get_event_async(wid, messaging.WAITING_EVENT, 0)) is not None")
    )
    first.kill()

    # No kernel runs now: the message goes straight into the database from this process.
    client = DBOSClient(system_database_url=sqlite_url(data_dir, "messaging"))
    try:
        await messaging.send_decision(wid, True, "sent while the kernel was down", backend=client)
    finally:
        client.destroy()
    assert messages_to(data_dir, wid) == [(messaging.TOPIC, False)]

    # Recovery receives it; kill again while the steps run, after the message was consumed.
    second = kernel_factory()
    second.run(setup_cell("messaging"))
    wait_until(
        lambda: messages_to(data_dir, wid) == [(messaging.TOPIC, True)],
        "the recovered workflow consumed the message",
    )
    second.kill()
    assert workflow_status(data_dir, "messaging", wid) == "PENDING"

    third = kernel_factory()
    third.run(setup_cell("messaging"))
    result = json.loads(third.run(result_cell(wid)).stdout)
    assert result == {"status": "completed", "results": expected_results()}
    assert messages_to(data_dir, wid) == [(messaging.TOPIC, True)]


# --- One clear line per broken environment -------------------------------------------------------


def test_second_kernel_on_the_same_file_gets_one_line_naming_file_and_pid(kernel_factory, data_dir):
    first = kernel_factory()
    first.run(setup_cell("events"))
    second = kernel_factory()
    out = second.run(setup_cell("events"), allow_error=True)
    shown = out.shown_error.strip()
    path = data_dir / "wfcomm-events.sqlite"
    assert shown.startswith(
        f"DatabaseInUseError: {path} is in use by process {first.pid} on "
        f"{os.uname().nodename} (Jupyter kernel, started "
    ), shown
    assert shown.endswith(
        "): shut that kernel down (or run wfcomm_helpers.shutdown() there), or set "
        "WFCOMM_DATA_DIR to use another folder."
    ), shown
    assert "\n" not in shown
    # The first kernel keeps working.
    wid = first.run(
        "from wfcomm_helpers import events\nwid = await events.start_events(1, fib_base=0)\n"
        "print(wid)"
    ).stdout.strip()
    assert json.loads(first.run(result_cell(wid)).stdout) == [fibonacci_result(0)]


async def _committed_workflow() -> str:
    """Start the events app, finish one workflow, stop: something committed to lose."""
    await wfcomm_helpers.start("events", quiet=True)
    wid = await events.start_events(1, fib_base=0)
    assert await workflow_result(wid) == [fibonacci_result(0)]
    wfcomm_helpers.shutdown()
    return wid


async def _still_there(wid: str) -> None:
    await wfcomm_helpers.start("events", quiet=True)
    try:
        assert await workflow_result(wid) == [fibonacci_result(0)]
        assert (await events.get_all_events(wid))["status"] == "completed"
    finally:
        wfcomm_helpers.shutdown()


def _immutable(path: Path, on: bool) -> None:
    """Read-only for everyone, root included (tests run as root in CI): chattr +i."""
    if os.geteuid() != 0:
        path.chmod(0o555 if on else 0o755) if path.is_dir() else path.chmod(0o444 if on else 0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("chattr is missing: cannot make a file read-only for root")
    done = subprocess.run(
        ["chattr", "+i" if on else "-i", str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        reason = f"chattr does not work here: {done.stderr.strip()}"
        print(f"SKIP reason: {reason}")
        pytest.skip(reason)


async def test_read_only_folder_one_line_then_nothing_lost(data_dir):
    wid = await _committed_workflow()
    _immutable(data_dir, True)
    try:
        with pytest.raises(DatabaseUnreachableError) as caught:
            await wfcomm_helpers.start("events", quiet=True)
    finally:
        _immutable(data_dir, False)
    message = str(caught.value)
    assert message.startswith(f"Cannot write to {data_dir} (") and message.endswith(
        "): set WFCOMM_DATA_DIR to a folder you can write to."
    ), message
    await _still_there(wid)


async def test_read_only_database_file_one_line_then_nothing_lost(data_dir):
    wid = await _committed_workflow()
    path = data_dir / "wfcomm-events.sqlite"
    _immutable(path, True)
    try:
        with pytest.raises(DatabaseUnreachableError) as caught:
            await wfcomm_helpers.start("events", quiet=True)
    finally:
        _immutable(path, False)
    assert str(caught.value) == (
        f"{path} is read-only: make it writable (ls -l and lsattr show why), or set "
        "WFCOMM_DATA_DIR to another folder."
    )
    await _still_there(wid)


async def test_file_locked_by_another_program_one_line_then_nothing_lost(data_dir):
    wid = await _committed_workflow()
    path = data_dir / "wfcomm-events.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sqlite3, sys
            conn = sqlite3.connect({str(path)!r}, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            print("holding", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        with pytest.raises(DatabaseInUseError) as caught:
            await wfcomm_helpers.start("events", quiet=True)
    finally:
        holder.kill()
        holder.wait()
    assert str(caught.value) == (
        f"{path} is locked by another program with an unfinished write (a database browser "
        "with unsaved changes, a stuck script): commit or close it there, then run this again."
    )
    await _still_there(wid)


async def test_missing_folder_is_created(data_dir, capsys):
    assert not data_dir.exists()
    await wfcomm_helpers.start("events")
    try:
        assert capsys.readouterr().out.endswith(
            "is running app wfcomm-events on SQLite file wfcomm-events.sqlite.\n"
        )
        assert (data_dir / "wfcomm-events.sqlite").is_file()
    finally:
        wfcomm_helpers.shutdown()


# --- PostgreSQL stopped in the middle of a run, then started again -------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivateServer:
    """A throwaway PostgreSQL server (initdb + pg_ctl on a free port), so stopping it cannot
    disturb the shared server other tests use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._pg("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")

    def _pg(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_postgres, str(PG_BIN / tool), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, f"{tool} failed: {done.stderr.strip()}"

    def start(self) -> None:
        self._pg(
            "pg_ctl",
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def private_pg() -> Iterator[PrivateServer]:
    if not (PG_BIN / "initdb").exists():
        reason = f"PostgreSQL server binaries are missing ({PG_BIN}): apt-get install postgresql"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Postgres leg could not run under CI=true: {reason}")
        print(f"SKIP reason: {reason}")
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="wfcomm-private-pg-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    server = PrivateServer(folder)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop("immediate")
        except AssertionError:
            pass  # already stopped
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.postgres
class Collected(logging.Handler):
    """What the ``dbos`` logger lets through (DBOS's logger does not propagate to caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def dbos_warnings() -> Iterator[Collected]:
    handler = Collected()
    logging.getLogger("dbos").addHandler(handler)
    yield handler
    logging.getLogger("dbos").removeHandler(handler)


async def test_postgres_stopped_mid_run_one_line_then_workflow_finishes(
    private_pg, data_dir, dbos_warnings
):
    n, base = 6, 24
    await wfcomm_helpers.start("events", database_url=private_pg.url("wfcomm_faults"), quiet=True)
    try:
        wid = await events.start_events(n, fib_base=base)
        deadline = time.monotonic() + 60
        while ((await events.get_event(wid, "progress", 0)) or 0) < 100 // n:
            assert time.monotonic() < deadline, "the workflow did not reach its second step"
            await asyncio.sleep(0.02)
        await asyncio.to_thread(private_pg.stop)
        # Down: the workflow is paused, not failed. Wait for DBOS's first failed retry.
        deadline = time.monotonic() + 60
        while not any("Lost the connection" in r.getMessage() for r in dbos_warnings.records):
            assert time.monotonic() < deadline, "no line about the lost connection"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(private_pg.start)
        results = [fibonacci_result(base + i) for i in range(n)]
        assert await workflow_result(wid, timeout=120) == results
        assert event_history(private_pg.url("wfcomm_faults"), wid) == expected_event_history(
            n, results
        )
    finally:
        wfcomm_helpers.shutdown()
    assert [r.getMessage() for r in dbos_warnings.records] == [
        "Lost the connection to PostgreSQL at "
        f"postgresql://postgres@127.0.0.1:{private_pg.port}/wfcomm_faults: workflows are paused "
        "and DBOS retries until the server is back (nothing committed is lost); start it again, "
        "e.g. sudo pg_ctlcluster 15 main start."
    ]
