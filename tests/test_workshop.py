"""Workshop mode on one real PostgreSQL database: three learner processes, each with its own
executor id, each waiting for approval; the teacher's command lists exactly those, approves
some and rejects another; each learner gets its exact outcome; a second kernel with a learner's
id gets the guard's one line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from workshop_harness import read_line, start_learner

pytestmark = pytest.mark.postgres

LEARNER = """
import asyncio, json, sys
import wfcomm_helpers
from wfcomm_helpers import messaging
from wfcomm_helpers.patterns.lookup import workflow_result
from dbos import DBOS

async def main():
    await wfcomm_helpers.start("messaging", quiet=True)
    wid = await messaging.start_messaging(2, sys.argv[1], timeout_seconds=300, fib_base=5)
    await DBOS.get_event_async(wid, messaging.WAITING_EVENT, 60)
    print("waiting", flush=True)
    print(json.dumps(await workflow_result(wid, timeout=120)), flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # keep the executor id until told to stop
    wfcomm_helpers.shutdown()

asyncio.run(main())
"""
COMPLETED = {"status": "completed", "results": [{"n": 5, "fibonacci": 5}, {"n": 6, "fibonacci": 8}]}


class Learner:
    """A learner's process: its own executor id, one messaging workflow ``<name>-wf``."""

    def __init__(self, name: str, pg_url: str, data_dir: Path) -> None:
        self.name, self.workflow_id = name, f"{name}-wf"
        self.proc = start_learner(LEARNER, name, pg_url, data_dir)

    def next_line(self) -> str:
        return read_line(self.proc, self.name)

    def outcome(self) -> dict:
        return json.loads(self.next_line())

    def stop(self) -> None:
        """Let it shut down cleanly; kill it if it is still waiting (a failed test)."""
        try:
            self.proc.communicate("\n", timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


def teacher(pg_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m wfcomm_helpers.workshop ...` with the URL in WFCOMM_DATABASE_URL."""
    env = {**os.environ, "WFCOMM_DATABASE_URL": pg_url}
    return subprocess.run(
        [sys.executable, "-m", "wfcomm_helpers.workshop", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def listed(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    pattern = r"(\S+)  learner (\S+)  waiting since \d\d:\d\d:\d\d  \((\d+) s left\)"
    rows = []
    for line in result.stdout.splitlines():
        match = re.fullmatch(pattern, line)
        assert match, line
        assert 0 < int(match[3]) <= 300, line  # counts down from the 300 s timeout
        rows.append((match[1], match[2]))
    return rows


def test_teacher_approves_and_rejects_three_learners_on_one_server(
    pg_url: str, data_dir: Path, kernel_factory
) -> None:
    # The first learner creates the database; the others then join it together.
    learners = [Learner("ada", pg_url, data_dir)]
    try:
        assert learners[0].next_line() == "waiting"
        learners += [Learner(name, pg_url, data_dir) for name in ("grace", "linus")]
        for learner in learners[1:]:
            assert learner.next_line() == "waiting"
        ada, grace, linus = learners

        result = teacher(pg_url, "pending")
        assert result.returncode == 0, result.stderr
        assert sorted(listed(result)) == [
            ("ada-wf", "ada"),
            ("grace-wf", "grace"),
            ("linus-wf", "linus"),
        ]
        assert result.stderr == "3 waiting for approval.\n"
        only = teacher(pg_url, "pending", "--learner", "linus")
        assert (only.returncode, listed(only)) == (0, [("linus-wf", "linus")]), only.stderr

        # A second kernel under a learner's id is refused in one line, not a silent recovery.
        database = make_url(pg_url).database
        shown = make_url(pg_url).render_as_string(hide_password=True)
        twin = kernel_factory({"WFCOMM_DATABASE_URL": pg_url, "WFCOMM_EXECUTOR_ID": "ada"})
        cell = twin.run(
            "import wfcomm_helpers\nawait wfcomm_helpers.start('messaging')", allow_error=True
        )
        assert cell.shown_error == (
            f"DatabaseInUseError: App wfcomm-messaging with executor id 'ada' is already "
            f"running on {shown}: shut that kernel down, or give this process its own id with "
            "WFCOMM_EXECUTOR_ID=<your-name>.\n"
        )
        assert database in shown

        result = teacher(pg_url, "approve", "ada-wf")
        assert (result.returncode, result.stdout) == (0, "Approved ada-wf (learner ada).\n")
        result = teacher(pg_url, "reject", "grace-wf", "--reason", "too many steps")
        assert (result.returncode, result.stdout) == (0, "Rejected grace-wf (learner grace).\n")
        assert ada.outcome() == COMPLETED
        assert grace.outcome() == {
            "status": "cancelled",
            "reason": "Not approved: too many steps",
            "results": [],
        }

        result = teacher(pg_url, "approve-all")
        assert (result.returncode, result.stdout, result.stderr) == (
            0,
            "Approved linus-wf (learner linus).\n",
            "1 approved.\n",
        )
        assert linus.outcome() == COMPLETED

        result = teacher(pg_url, "pending")
        assert (result.returncode, result.stdout, result.stderr) == (
            0,
            "",
            "0 waiting for approval.\n",
        )
        late = teacher(pg_url, "reject", "ada-wf")
        assert (late.returncode, late.stdout, late.stderr) == (
            1,
            "",
            (
                "wfcomm: Workflow 'ada-wf' is not waiting any more (DBOS status SUCCESS): nothing "
                "was sent; `wfcomm workshop pending` lists the ones that wait.\n"
            ),
        )

        # reset() on the shared server wipes only its own executor's workflows.
        cell = twin.run(
            "import os\nfrom dbos import DBOS\nfrom wfcomm_helpers import messaging\n"
            "os.environ['WFCOMM_EXECUTOR_ID'] = 'zoe'\n"
            "await wfcomm_helpers.start('messaging', quiet=True)\n"
            "await messaging.start_messaging(1, 'zoe-wf', timeout_seconds=300)\n"
            "await wfcomm_helpers.reset(quiet=True)\n"
            "print(sorted(w.workflow_id for w in await DBOS.list_workflows_async()))"
        )
        assert cell.stdout == "['ada-wf', 'grace-wf', 'linus-wf']\n"
    finally:
        for learner in learners:
            learner.stop()
