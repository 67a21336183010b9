"""The `wfcomm` command in a subprocess, against a live app: a real notebook kernel on the same
SQLite file (or Postgres), or `wfcomm serve` with --url."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_harness import (
    Server,
    child_env,
    cli_server,
    free_port,
    one_line_failure,
    wfcomm,
)

from wfcomm_helpers.demos import (
    DemoFailure,
    check_events,
    check_outcome,
    check_stream,
    expected_results,
)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def started_id(result: subprocess.CompletedProcess) -> str:
    return ok(result).strip()


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    return child_env(WFCOMM_DATA_DIR=str(data_dir), WFCOMM_DATABASE_URL=None)


@pytest.fixture
def events_kernel(kernel):  # type: ignore[no-untyped-def]
    """A notebook kernel running the events app: it runs what the command line enqueues."""
    kernel.run("import wfcomm_helpers\nawait wfcomm_helpers.start('events', quiet=True)")
    return kernel


def notifications_to(sqlite_file: Path, workflow_id: str) -> int:
    with sqlite3.connect(sqlite_file) as db:
        return db.execute(
            "SELECT count(*) FROM notifications WHERE destination_uuid = ?", (workflow_id,)
        ).fetchone()[0]


# --- direct: a DBOSClient on the notebook kernel's database ------------------------------


def test_every_pattern_against_a_notebook_kernel(events_kernel, env, data_dir: Path) -> None:
    wid = started_id(wfcomm("events", "start", "2", env=env))
    assert wid.startswith("events-")
    result = json.loads(ok(wfcomm("events", "get", wid, "result", "--timeout", "60", env=env)))
    assert result == {"total_steps": 2, "results": expected_results(2)}
    check_events(json.loads(ok(wfcomm("events", "all", wid, env=env))), 2)
    status = json.loads(ok(wfcomm("status", wid, env=env)))  # found without --app
    assert (status["status"], status["pattern"], status["result"]) == (
        "SUCCESS",
        "events",
        expected_results(2),
    )
    assert json.loads(ok(wfcomm("result", wid, env=env))) == expected_results(2)
    # The kernel ran it: the notebook sees the same workflow.
    seen = events_kernel.run(
        f"from dbos import DBOS\nprint((await DBOS.retrieve_workflow_async("
        f"{wid!r})).get_workflow_id())"
    )
    assert seen.stdout.strip() == wid

    # Messaging on the same app: approve twice, one idempotency key, one message stored.
    mid = started_id(
        wfcomm("--app", "events", "messaging", "start", "2", "--id", "cli-msg", env=env)
    )
    assert mid == "cli-msg"
    for _ in range(2):
        sent = json.loads(
            ok(
                wfcomm(
                    "--app",
                    "events",
                    "messaging",
                    "approve",
                    mid,
                    "--message",
                    "from the shell",
                    env=env,
                )
            )
        )
        assert sent == {"approved": True, "message": "from the shell"}
    outcome = json.loads(ok(wfcomm("--app", "events", "result", mid, "--timeout", "60", env=env)))
    check_outcome(outcome, {"status": "completed", "results": expected_results(2)})
    assert notifications_to(data_dir / "wfcomm-events.sqlite", mid) == 1
    rid = started_id(wfcomm("--app", "events", "messaging", "start", "1", env=env))
    ok(
        wfcomm(
            "--app",
            "events",
            "messaging",
            "send",
            rid,
            '{"approved": false, "reason": "no"}',
            "--idempotency-key",
            "k1",
            env=env,
        )
    )
    outcome = json.loads(ok(wfcomm("--app", "events", "result", rid, env=env)))
    check_outcome(outcome, {"status": "cancelled", "reason": "Not approved: no", "results": []})

    # Streaming: follow live to the close, then an offset read resumes where asked.
    sid = started_id(wfcomm("--app", "events", "streaming", "start", "2", env=env))
    followed = wfcomm("--app", "events", "streaming", "follow", sid, env=env)
    values = [json.loads(line) for line in ok(followed).splitlines()]
    check_stream(values, 2)
    assert f"The stream of {sid} is closed; next offset 6." in followed.stderr
    assert "6/6" in followed.stderr  # the progress bar reached its total
    chunk = json.loads(
        ok(wfcomm("--app", "events", "streaming", "read", sid, "--offset", "3", env=env))
    )
    assert chunk == {
        "workflow_id": sid,
        "offset": 3,
        "next_offset": 6,
        "closed": True,
        "values": values[3:],
    }
    tail = wfcomm("--app", "events", "streaming", "follow", sid, "--offset", "5", env=env)
    assert [json.loads(line) for line in ok(tail).splitlines()] == values[5:]


def test_demos_pass_against_a_kernel_and_fail_when_broken(events_kernel, env) -> None:
    for pattern in ("events", "messaging", "streaming"):
        out = ok(wfcomm("--app", "events", "demo", pattern, env=env))
        assert out.splitlines()[-1] == f"demo {pattern}: every check passed."
    # A wrong stream count: the id already ran 2 steps, the demo expects 3 (2N+2 = 8 values).
    ok(wfcomm("--app", "events", "streaming", "start", "2", "--id", "two-steps", env=env))
    ok(wfcomm("--app", "events", "result", "two-steps", env=env))
    broken = wfcomm("--app", "events", "demo", "streaming", "--id", "two-steps", env=env)
    assert one_line_failure(broken) == (
        "wfcomm: demo failed: the stream has 6 values, expected 8 (2N+2)"
    )
    assert "every check passed" not in broken.stdout
    # A workflow of the wrong pattern.
    wrong = wfcomm("--app", "events", "demo", "events", "--id", "two-steps", env=env)
    assert one_line_failure(wrong) == (
        "wfcomm: Workflow 'two-steps' is a streaming workflow, not an events one: use a new id "
        "for this pattern."
    )
    # An events workflow of another size: the result differs from the demo's expectation.
    ok(wfcomm("--app", "events", "events", "start", "1", "--id", "one-step", env=env))
    smaller = wfcomm("--app", "events", "demo", "events", "--id", "one-step", env=env)
    assert one_line_failure(smaller).startswith("wfcomm: demo failed: result is {'total_steps': 1")


def test_a_workflow_started_while_no_app_runs_is_enqueued(events_kernel, env) -> None:
    events_kernel.run("wfcomm_helpers.shutdown()")
    started = wfcomm("events", "start", "1", env=env)
    wid = started_id(started)
    assert "no app holds that database now, so it starts when the notebook's setup cell" in (
        started.stderr
    )
    assert json.loads(ok(wfcomm("status", wid, env=env)))["status"] == "ENQUEUED"
    demo = wfcomm("demo", "events", env=env)
    assert one_line_failure(demo).startswith("wfcomm: No app is running on ")
    events_kernel.run("await wfcomm_helpers.start('events', quiet=True)")
    assert json.loads(ok(wfcomm("result", wid, "--timeout", "60", env=env))) == (
        expected_results(1)
    )


# --- errors --------------------------------------------------------------------------------


def test_errors_are_one_line_with_a_non_zero_exit(env, data_dir: Path) -> None:
    missing = wfcomm("events", "get", "x", "status", env=env)
    assert one_line_failure(missing) == (
        f"wfcomm: No database at {data_dir / 'wfcomm-events.sqlite'}: run the notebook's setup "
        "cell or `wfcomm serve` first (or pick another app with --app)."
    )
    assert one_line_failure(wfcomm("events", "start", "abc", env=env)) == (
        "wfcomm: The step count must be a whole number, not 'abc'."
    )
    assert one_line_failure(wfcomm("messaging", "send", "x", "{bad", env=env)).startswith(
        "wfcomm: The message is not JSON (Expecting property name enclosed in double quotes"
    )
    assert one_line_failure(wfcomm("messaging", "send", "x", "[1]", env=env)) == (
        'wfcomm: The message must be a JSON object such as {"approved": true}, not an array.'
    )
    assert one_line_failure(wfcomm("demo", "chat", env=env)) == (
        "wfcomm: Unknown demo 'chat': use one of events, messaging, streaming."
    )
    assert one_line_failure(wfcomm("frobnicate", env=env)) == (
        "wfcomm: No such command 'frobnicate': see `wfcomm --help`."
    )
    nobody = f"http://127.0.0.1:{free_port()}"
    assert one_line_failure(wfcomm("--url", nobody, "health", env=env)).startswith(
        f"wfcomm: Cannot reach wfcomm serve at {nobody} ("
    )
    assert one_line_failure(wfcomm("status", "ghost", env=env)) == (
        "wfcomm: No workflow with id 'ghost' in the databases of apps events, messaging, "
        "streaming, serve: start one first, or check the id for typos (ids are case-sensitive)."
    )
    bad_pg = child_env(
        WFCOMM_DATA_DIR=str(data_dir), WFCOMM_DATABASE_URL="mysql://root@127.0.0.1/wfcomm"
    )
    assert "is neither sqlite:///<file> nor postgresql://" in one_line_failure(
        wfcomm("events", "all", "x", env=bad_pg)
    )


def test_checks_fail_on_wrong_data() -> None:
    """The demos' checks are exact: each kind of deviation is caught."""
    good = [{"type": "start"}]
    for step, result in enumerate(expected_results(2), start=1):
        good += [
            {"type": "progress", "step": step, "total_steps": 2},
            {"type": "result", "step": step, "result": result},
        ]
    good += [{"type": "complete", "total_results": 2}]
    check_stream(good, 2)
    for broken in (
        good[:-1],
        good + good[-1:],
        [good[0], good[2], good[1], *good[3:]],
        [*good[:2], {"type": "result", "step": 1, "result": {"n": 22, "fibonacci": 0}}, *good[3:]],
    ):
        with pytest.raises(DemoFailure):
            check_stream(broken, 2)
    final = {
        "status": "completed",
        "progress": 100,
        "result": {"total_steps": 2, "results": expected_results(2)},
    }
    check_events(final, 2)
    for key, value in (("progress", 99), ("status", "processing_step_2"), ("extra", 1)):
        with pytest.raises(DemoFailure):
            check_events({**final, key: value}, 2)
    with pytest.raises(DemoFailure):
        check_outcome({"status": "completed", "results": []}, {"status": "cancelled"})


# --- through wfcomm serve -------------------------------------------------------------------


@pytest.fixture
def serve(tmp_path: Path, env: dict[str, str]) -> Iterator[Server]:
    running = cli_server(tmp_path, env)
    yield running
    assert running.stop() == 0, running.output()
    assert running.output().splitlines()[-1] == "wfcomm serve: stopped."


def test_every_command_through_wfcomm_serve(serve: Server, env, data_dir: Path) -> None:
    url = ["--url", serve.url]
    wid = started_id(wfcomm(*url, "events", "start", "2", "--fib-base", "20", env=env))
    assert json.loads(
        ok(wfcomm(*url, "events", "get", wid, "result", "--timeout", "60", env=env))
    ) == {"total_steps": 2, "results": expected_results(2, 20)}
    assert json.loads(ok(wfcomm(*url, "events", "all", wid, env=env)))["status"] == "completed"
    mid = started_id(wfcomm(*url, "messaging", "start", "1", env=env))
    ok(wfcomm(*url, "messaging", "reject", mid, "--reason", "not today", env=env))
    ok(wfcomm(*url, "messaging", "approve", mid, env=env))  # same decision key: not delivered
    check_outcome(
        json.loads(ok(wfcomm(*url, "result", mid, env=env))),
        {"status": "cancelled", "reason": "Not approved: not today", "results": []},
    )
    assert notifications_to(data_dir / "wfcomm-serve.sqlite", mid) == 1
    sid = started_id(wfcomm(*url, "streaming", "start", "3", env=env))
    followed = wfcomm(*url, "streaming", "follow", sid, env=env)  # Server-Sent Events
    values = [json.loads(line) for line in ok(followed).splitlines()]
    check_stream(values, 3)
    assert "8/8" in followed.stderr
    chunk = json.loads(ok(wfcomm(*url, "streaming", "read", sid, "--offset", "7", env=env)))
    assert (chunk["values"], chunk["next_offset"], chunk["closed"]) == (values[7:], 8, True)
    status = json.loads(ok(wfcomm(*url, "status", sid, env=env)))
    assert (status["status"], status["result"]) == ("SUCCESS", expected_results(3))
    health = json.loads(ok(wfcomm(*url, "health", env=env)))
    assert health["status"] == "ok" and health["app"] == "wfcomm-serve"

    # The same SQLite file, directly, while the service holds it.
    direct = started_id(wfcomm("--app", "serve", "events", "start", "1", env=env))
    assert json.loads(ok(wfcomm(*url, "result", direct, env=env))) == expected_results(1)
    assert json.loads(ok(wfcomm("health", env=env)))["serve"]["app_running"] is True

    assert one_line_failure(wfcomm(*url, "events", "all", "ghost", env=env)) == (
        "wfcomm: No workflow with id 'ghost' in this database: start one first, or check the id "
        "for typos (ids are case-sensitive)."
    )
    assert one_line_failure(wfcomm(*url, "streaming", "follow", wid, env=env)) == (
        "wfcomm: Workflow " + repr(wid) + " is an events workflow, not a streaming one: use a new "
        "id for this pattern."
    )
    assert one_line_failure(wfcomm(*url, "events", "start", "0", env=env)) == (
        "wfcomm: The step count must be between 1 and 100, not 0."
    )
    pending = started_id(wfcomm(*url, "messaging", "start", "1", env=env))
    assert one_line_failure(wfcomm(*url, "result", pending, "--timeout", "0.2", env=env)) == (
        f"wfcomm: {pending} is still PENDING after 0.2 s: wait longer with --timeout "
        "(a messaging workflow waits for approve/reject)."
    )
    assert one_line_failure(wfcomm(*url, "events", "get", pending, "status", env=env)).endswith(
        "is a messaging workflow, not an events one: use a new id for this pattern."
    )
    # A second service on the same file is refused in one line.
    second = subprocess.run(
        [sys.executable, "-m", "wfcomm_helpers.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert one_line_failure(second).startswith(
        f"wfcomm: {data_dir / 'wfcomm-serve.sqlite'} is in use by process "
    )


def test_demos_through_wfcomm_serve(serve: Server, env) -> None:
    for pattern in ("events", "messaging", "streaming"):
        out = ok(wfcomm("--url", serve.url, "demo", pattern, env=env))
        assert out.splitlines()[-1] == f"demo {pattern}: every check passed."


def test_the_console_script_is_installed(env) -> None:
    script = Path(sys.executable).parent / "wfcomm"
    found = str(script) if script.is_file() else shutil.which("wfcomm")
    if found is None:
        reason = "the wfcomm console script is not installed (pip install -e '.[cli]')"
        print(f"SKIP reason: {reason}")
        pytest.skip(reason)
    result = subprocess.run(
        [found, "--help"], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0 and "demo" in result.stdout


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.mark.postgres
def test_cli_against_a_kernel_on_postgres(kernel_factory, data_dir: Path, pg_url: str) -> None:
    pg_env = child_env(WFCOMM_DATA_DIR=str(data_dir), WFCOMM_DATABASE_URL=pg_url)
    kernel = kernel_factory({"WFCOMM_DATABASE_URL": pg_url})
    kernel.run("import wfcomm_helpers\nawait wfcomm_helpers.start('events', quiet=True)")
    wid = started_id(wfcomm("events", "start", "2", env=pg_env))
    assert json.loads(
        ok(wfcomm("events", "get", wid, "result", "--timeout", "60", env=pg_env))
    ) == {"total_steps": 2, "results": expected_results(2)}
    mid = started_id(wfcomm("--app", "events", "messaging", "start", "1", env=pg_env))
    ok(wfcomm("--app", "events", "messaging", "approve", mid, env=pg_env))
    check_outcome(
        json.loads(ok(wfcomm("--app", "events", "result", mid, env=pg_env))),
        {"status": "completed", "results": expected_results(1)},
    )
    out = ok(wfcomm("--app", "events", "demo", "streaming", env=pg_env))
    assert out.splitlines()[-1] == "demo streaming: every check passed."
    assert not (data_dir / "wfcomm-events.sqlite").exists()


# --- doctor, workshop and broken installs ------------------------------------------------------


def test_doctor_and_workshop_are_subcommands(env, data_dir: Path) -> None:
    doctor = wfcomm("doctor", env=env)
    assert "[ok] " in doctor.stdout, doctor.stderr
    bad = child_env(WFCOMM_DATA_DIR=str(data_dir), WFCOMM_DATABASE_URL="mysql://x/y")
    assert wfcomm("doctor", env=bad).returncode == 1
    assert "pending" in ok(wfcomm("workshop", "--help", env=env))


def without(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The command line in an interpreter where ``module`` cannot be imported."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\nfrom wfcomm_helpers.cli import main\nmain()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_missing_library_is_one_line(env) -> None:
    assert one_line_failure(without("typer", "health", env=env)) == (
        "wfcomm: typer is not installed, and this needs it: pip install 'wfcomm[cli]'"
    )
    assert one_line_failure(without("fastapi", "serve", env=env)) == (
        "wfcomm: fastapi is not installed, and this needs it: pip install 'wfcomm[serve]'"
    )
    assert one_line_failure(without("dbos", "events", "all", "x", env=env)).startswith(
        "wfcomm: cannot import dbos ("
    )
    # The doctor needs none of the cli extra: it still runs and reports.
    doctor = without("typer", "doctor", env=env)
    assert "[ok] " in doctor.stdout and "wfcomm:" not in doctor.stderr, doctor.stderr
