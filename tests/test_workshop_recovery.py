"""A learner's crash never moves her work to someone else: three learner processes on one real
PostgreSQL database, each with its own executor id; Ada's process is SIGKILLed mid-wait and
started again ten times while Grace and Linus keep running (their queue runners poll the whole
time) and Linus runs ``reset()``; Ada's workflow keeps her executor id, is picked up by her
restarted process each time, and finishes there."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from workshop_harness import read_line, start_learner

pytestmark = pytest.mark.postgres

ROUNDS = 10

#: A learner: start the app, start (or re-attach to) one waiting messaging workflow, then obey
#: stdin: ``reset`` runs ``wfcomm_helpers.reset()``; ``result`` prints the workflow's result.
LEARNER = """
import asyncio, json, sys
import wfcomm_helpers
from wfcomm_helpers import messaging
from wfcomm_helpers.patterns.lookup import workflow_result


async def main():
    await wfcomm_helpers.start("messaging", quiet=True)
    wid = await messaging.start_messaging(1, sys.argv[1], timeout_seconds=900, fib_base=5)
    print("started", flush=True)
    while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
        if command == "reset":
            await wfcomm_helpers.reset(quiet=True)
            print("reset", flush=True)
        elif command == "result":
            print(json.dumps(await workflow_result(wid, timeout=300)), flush=True)
    wfcomm_helpers.shutdown()

asyncio.run(main())
"""


class Learner:
    """One learner's process with executor id ``name`` and workflow ``<name>-wf``."""

    def __init__(self, name: str, pg_url: str, data_dir: Path) -> None:
        self.name, self.workflow_id = name, f"{name}-wf"
        self.proc = start_learner(LEARNER, name, pg_url, data_dir)
        self.expect("started")

    def expect(self, line: str) -> None:
        assert read_line(self.proc, self.name) == line

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().rstrip("\n")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            self.proc.communicate("\n", timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()


def rows(pg_url: str) -> dict[str, tuple[str, str, str, int | None]]:
    """workflow id -> (status, executor id, application version, started at ms)."""
    conninfo = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo) as conn:
        found = conn.execute(
            "SELECT workflow_uuid, status, executor_id, application_version, "
            "started_at_epoch_ms FROM dbos.workflow_status"
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in found}


def wait_for_run(pg_url: str, workflow_id: str, after_ms: int) -> tuple[str, str, str, int]:
    """The row once a process has dequeued the recovered workflow (started after ``after_ms``)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = rows(pg_url).get(workflow_id)
        if row and row[0] == "PENDING" and row[3] is not None and row[3] >= after_ms:
            return row  # type: ignore[return-value]
        time.sleep(0.05)  # polling a database row, not pacing the test
    raise AssertionError(f"{workflow_id} was not picked up again: {rows(pg_url).get(workflow_id)}")


def test_a_restarted_learner_keeps_her_workflow(pg_url: str, data_dir: Path) -> None:
    ada = Learner("ada", pg_url, data_dir)  # creates the database
    others = [Learner(name, pg_url, data_dir) for name in ("grace", "linus")]
    learners = [ada, *others]
    try:
        first = rows(pg_url)["ada-wf"]
        assert first[:2] == ("PENDING", "ada")
        for _ in range(ROUNDS):
            ada.kill()
            restarted_at = int(time.time() * 1000)
            ada = Learner("ada", pg_url, data_dir)
            learners.append(ada)
            status, executor, version, _started = wait_for_run(pg_url, "ada-wf", restarted_at)
            assert (status, executor, version) == ("PENDING", "ada", first[2])
            # Another learner's reset deletes only her own workflows.
            assert others[1].ask("reset") == "reset"
            left = rows(pg_url)
            assert "linus-wf" not in left
            assert left["ada-wf"][:2] == ("PENDING", "ada")
            assert left["grace-wf"][:2] == ("PENDING", "grace")
        subprocess.run(
            [sys.executable, "-m", "wfcomm_helpers.workshop", "approve", "ada-wf"],
            env={**os.environ, "WFCOMM_DATABASE_URL": pg_url},
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert json.loads(ada.ask("result")) == {
            "status": "completed",
            "results": [{"n": 5, "fibonacci": 5}],
        }
        assert rows(pg_url)["ada-wf"][:2] == ("SUCCESS", "ada")
    finally:
        for learner in learners:
            learner.stop()


def test_the_teacher_sees_which_learners_stopped(pg_url: str, data_dir: Path) -> None:
    ada = Learner("ada", pg_url, data_dir)
    grace = Learner("grace", pg_url, data_dir)
    try:
        ada.kill()
        result = subprocess.run(
            [sys.executable, "-m", "wfcomm_helpers.workshop", "pending"],
            env={**os.environ, "WFCOMM_DATABASE_URL": pg_url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (result.returncode, result.stderr) == (0, "2 waiting for approval.\n")
        lines = dict(line.split("  ", 1) for line in result.stdout.splitlines())
        assert re.fullmatch(
            r"learner ada  waiting since \d\d:\d\d:\d\d  \(kernel stopped: it resumes when ada "
            r"runs the setup cell again\)",
            lines["ada-wf"],
        )
        assert re.fullmatch(
            r"learner grace  waiting since \d\d:\d\d:\d\d  \((\d+) s left\)", lines["grace-wf"]
        )
    finally:
        grace.stop()
