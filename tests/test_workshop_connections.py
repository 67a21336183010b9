"""Connections per kernel on PostgreSQL, counted from pg_stat_activity while a notebook-like
workload runs in a real second process (events, messaging and streaming workflows with their
readers, at once): a stock server (max_connections = 100) must hold a room of learners."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlalchemy.engine import make_url

from wfcomm_helpers.runtime.guard import postgres_lock_key, session_name

pytestmark = pytest.mark.postgres

#: DBOS's pool (2) and its LISTEN connection; the kit's guard holds none once DBOS runs. A
#: fixed bound, not one derived from the setting: raising the pool must fail here. DBOS's
#: default pool reached 22; with the guard's own connection a kernel held 4.
MOST_PER_KERNEL = 3

KERNEL = """
import asyncio, sys
import wfcomm_helpers
from wfcomm_helpers import events, messaging, streaming
from wfcomm_helpers.patterns.lookup import workflow_result

async def one_round(i):
    e = await events.start_events(2, f"e{i}", fib_base=3)
    m = await messaging.start_messaging(1, f"m{i}", timeout_seconds=60, fib_base=3)
    s = await streaming.start_streaming(2, f"s{i}", fib_base=3)
    reader = asyncio.ensure_future(events.get_event(e, "result", 60))
    await messaging.send_decision(m, True, "ok")
    await asyncio.gather(workflow_result(e), workflow_result(m), workflow_result(s), reader)

async def main():
    await wfcomm_helpers.start("messaging", quiet=True)
    print("started", flush=True)
    await asyncio.gather(*(one_round(i) for i in range(6)))
    print("done", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    wfcomm_helpers.shutdown()

asyncio.run(main())
"""


def kernel_sessions(admin: str, pid: int, port: int) -> list[tuple[str, str, str]]:
    """(database, application_name, last query) of every server session the process ``pid``
    holds now."""
    ports = [
        c.laddr.port
        for c in psutil.Process(pid).net_connections("tcp")
        if c.raddr and c.raddr.port == port
    ]
    with psycopg.connect(admin) as conn:
        return conn.execute(
            "SELECT datname, application_name, query FROM pg_stat_activity WHERE client_port = ANY(%s)",
            (ports,),
        ).fetchall()


def test_a_kernel_holds_at_most_three_connections(pg_url: str, data_dir: Path) -> None:
    url = make_url(pg_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    env = {**os.environ, "WFCOMM_DATABASE_URL": pg_url, "WFCOMM_EXECUTOR_ID": "ada"}
    proc = subprocess.Popen(
        [sys.executable, "-c", KERNEL],
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak: list[tuple[str, str, str]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set() and proc.poll() is None:
            try:
                sessions = kernel_sessions(admin, proc.pid, url.port or 5432)
            except psutil.Error:
                return
            if len(sessions) > len(peak):
                peak[:] = sessions

    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline() == "started\n", proc.stderr.read() if proc.stderr else ""
        sampler = threading.Thread(target=sample)
        sampler.start()
        assert proc.stdout.readline() == "done\n"
        done.set()
        sampler.join()
    finally:
        proc.communicate("\n", timeout=60)
    print(f"peak sessions of one kernel: {len(peak)}: {peak}")
    assert 2 <= len(peak) <= MOST_PER_KERNEL, peak
    # Every session is DBOS's, on the app's database, named for the guard: none of its own.
    key = postgres_lock_key(url.database or "postgres", "wfcomm-messaging", "ada")
    assert {(database, name) for database, name, _ in peak} == {
        (url.database, session_name(key, "wfcomm-messaging", "ada"))
    }
    assert sum(query.startswith("LISTEN") for _, _, query in peak) == 1
