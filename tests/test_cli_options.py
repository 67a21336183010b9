"""The command line's global options reach every command (#16 item 2), a follower says what it
waits for and gives up when told (#12 item 17), and out-of-range input is refused before it
reaches `wfcomm serve` (#12 item 14)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_harness import child_env, free_port, one_line_failure, wfcomm

#: A learner's kernel, as a process: the messaging app on the database in argv[1], with one
#: workflow (argv[2]) waiting for a decision; prints "waiting", then its outcome.
LEARNER = """
import asyncio, json, sys
import wfcomm_helpers
from wfcomm_helpers import messaging
from wfcomm_helpers.patterns.lookup import workflow_result
from dbos import DBOS

async def main():
    await wfcomm_helpers.start("messaging", database_url=sys.argv[1], quiet=True)
    wid = await messaging.start_messaging(1, sys.argv[2], timeout_seconds=300, fib_base=5)
    await DBOS.get_event_async(wid, messaging.WAITING_EVENT, 60)
    print("waiting", flush=True)
    print(json.dumps(await workflow_result(wid, timeout=120)), flush=True)
    wfcomm_helpers.shutdown()

asyncio.run(main())
"""


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    return child_env(WFCOMM_DATA_DIR=str(data_dir), WFCOMM_DATABASE_URL=None, WFCOMM_URL=None)


@pytest.fixture
def learner(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """A learner waiting on a database that is not the default one: ``(its URL, process)``."""
    url = f"sqlite:///{tmp_path / 'workshop' / 'room.sqlite'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", LEARNER, url, "ada-wf"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "waiting\n", proc.communicate(timeout=60)[1]
    yield url, proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def test_workshop_commands_honour_the_global_database_url(learner, env) -> None:
    url, proc = learner
    by_option = wfcomm("--database-url", url, "workshop", "pending", env=env)
    assert by_option.returncode == 0, by_option.stderr
    assert by_option.stdout.split()[0] == "ada-wf"
    assert by_option.stderr == "1 waiting for approval.\n"

    by_environment = wfcomm("workshop", "pending", env={**env, "WFCOMM_DATABASE_URL": url})
    assert by_environment.returncode == 0, by_environment.stderr
    assert by_environment.stdout.split()[0] == "ada-wf"

    approved = wfcomm("--database-url", url, "workshop", "approve", "ada-wf", env=env)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith("Approved ada-wf (learner ")
    assert proc.stdout is not None and '"completed"' in proc.stdout.readline()


def test_workshop_commands_refuse_url_in_one_line(env) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    for args, source in (
        (["--url", nobody, "workshop", "pending"], "--url was given"),
        (["workshop", "approve-all"], "WFCOMM_URL is set"),
    ):
        refused = wfcomm(*args, env={**env, "WFCOMM_URL": nobody})
        line = one_line_failure(refused)
        assert line.startswith("wfcomm: `wfcomm workshop ") and source in line, line
        assert "drop it and pass --database-url" in line


def test_follow_says_what_it_waits_for_and_honours_a_timeout(env, data_dir: Path) -> None:
    set_up = subprocess.run(  # the streaming app ran once here, then stopped
        [
            sys.executable,
            "-c",
            "import asyncio, wfcomm_helpers\n"
            "asyncio.run(wfcomm_helpers.start('streaming', quiet=True))\n"
            "wfcomm_helpers.shutdown()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert set_up.returncode == 0, set_up.stderr
    started = wfcomm("streaming", "start", "1", "--id", "nobody-runs-me", env=env)
    assert started.returncode == 0, started.stderr
    followed = wfcomm("streaming", "follow", "nobody-runs-me", "--timeout", "1.5", env=env)
    assert followed.returncode == 1 and followed.stdout == ""
    assert followed.stderr.splitlines() == [
        f"Waiting up to 1.5 s for nobody-runs-me (ENQUEUED): no app holds "
        f"{data_dir / 'wfcomm-streaming.sqlite'} now, so nothing writes its stream until the "
        "notebook's setup cell (or `wfcomm serve --app streaming`) runs.",
        "wfcomm: No value from nobody-runs-me (ENQUEUED) within 1.5 s; next offset 0: follow "
        "again with --offset 0, or see `wfcomm status nobody-runs-me`.",
    ]


def test_a_huge_offset_is_refused_before_any_request(env) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    for command in ("read", "follow"):
        refused = wfcomm(
            "--url", nobody, "streaming", command, "x", "--offset", str(2**63), env=env
        )
        assert one_line_failure(refused) == (
            f"wfcomm: The stream offset must be at most {2**31 - 1} (a stream is never that "
            f"long), not {2**63}."
        )
