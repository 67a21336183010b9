"""Bad input to the `wfcomm` command, tried systematically (test_bad_input.py does the same for
the Python API): each case gets a non-zero exit and exactly one line on stderr saying what was
wrong and how to fix it, and nothing is recorded or lost for it.

Commands run in subprocesses, as a user runs them, against a real `wfcomm serve` that holds its
SQLite file and runs what is started: directly (a DBOSClient, ``--app serve``) and through
``--url``. Values that are refused before any connection (every checked argument of every
command, usage errors) go through the same entry point, ``cli.main``, in this process: a table
of each argument, then property-based sweeps with many generated values.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings, strategies as st
from service_harness import Server, child_env, cli_server, free_port, one_line_failure, wfcomm
from sqlalchemy.engine import make_url

from wfcomm_helpers import cli
from wfcomm_helpers.demos import expected_results
from wfcomm_helpers.runtime import validation
from wfcomm_helpers.runtime.errors import InvalidInputError

#: Commands at once: each is mostly Python start-up, and the machine has 2 cores.
PARALLEL = 3

UNKNOWN = (
    "wfcomm: No workflow with id {!r} in this database: start one first, or check the id for "
    "typos (ids are case-sensitive)."
)
EMPTY_ID = "wfcomm: The workflow id is empty: pass the id a start call returned."
STEPS = "wfcomm: The step count must be "
NOT_OBJECT = 'wfcomm: The message must be a JSON object such as {"approved": true}, not '
TOO_BIG = json.dumps({"text": "x" * validation.MAX_MESSAGE_BYTES})  # 65548 bytes
TOO_BIG_LINE = (
    "wfcomm: The message is 65548 bytes: keep it under 65536 bytes (store big data elsewhere "
    "and send a reference)."
)
#: Where a command takes the workflow id, in a table of commands.
ID = "<id>"

Cases = Sequence[tuple[Sequence[str], str]]


def run_all(commands: Sequence[Sequence[str]], env: dict[str, str]) -> list[Any]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda args: wfcomm(*args, env=env, timeout=120), commands))


def check_lines(cases: Cases, env: dict[str, str]) -> None:
    """Each command, in a subprocess, fails with exactly its line (and nothing else on stderr)."""
    results = run_all([args for args, _ in cases], env)
    wrong = [
        (list(args), want, result.returncode, result.stderr)
        for (args, want), result in zip(cases, results)
        if result.returncode == 0 or result.stderr.splitlines() != [want]
    ]
    assert not wrong, "\n".join(map(repr, wrong))


def with_id(command: Sequence[str], workflow_id: str) -> tuple[str, ...]:
    return tuple(workflow_id if part == ID else part for part in command)


def ok(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def recorded(sqlite_file: Path) -> tuple[int, int]:
    """How many workflows and messages the database holds."""
    with contextlib.closing(sqlite3.connect(sqlite_file)) as db:
        workflows = db.execute("SELECT count(*) FROM workflow_status").fetchone()[0]
        messages = db.execute("SELECT count(*) FROM notifications").fetchone()[0]
    return int(workflows), int(messages)


def notifications_to(sqlite_file: Path, workflow_id: str) -> int:
    with contextlib.closing(sqlite3.connect(sqlite_file)) as db:
        query = "SELECT count(*) FROM notifications WHERE destination_uuid = ?"
        return int(db.execute(query, (workflow_id,)).fetchone()[0])


# --- one wfcomm serve for the module --------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-bad-input")


@pytest.fixture(scope="module")
def env(folder: Path) -> dict[str, str]:
    return child_env(WFCOMM_DATA_DIR=str(folder / "data"), WFCOMM_DATABASE_URL=None)


@pytest.fixture(scope="module")
def serve(folder: Path, env: dict[str, str]) -> Iterator[Server]:
    running = cli_server(folder, env)
    yield running
    assert running.stop() == 0, running.output()


@pytest.fixture(scope="module")
def db(serve: Server, folder: Path) -> Path:
    return folder / "data" / "wfcomm-serve.sqlite"


@pytest.fixture(scope="module")
def waiting(serve: Server, env: dict[str, str]) -> str:
    """A messaging workflow waiting for its decision: the target of the bad messages."""
    started = wfcomm("--url", serve.url, "messaging", "start", "1", "--timeout", "600", env=env)
    return ok(started).strip()


# --- the real command, both ways in ---------------------------------------------------------


def test_bad_values_are_refused_both_ways_and_nothing_is_recorded(serve, env, db, waiting) -> None:
    """A sample of each kind, by the real command; the table below covers every argument.
    Through --url, a NaN timeout was a bare ValueError, an empty id "Not Found", and an empty
    --id silently a new id: each is now the same line as directly."""
    direct, url = ("--app", "serve"), ("--url", serve.url)
    cases: Cases = [
        ((*direct, "events", "start", "0"), STEPS + "between 1 and 100, not 0."),
        ((*url, "streaming", "start", "abc"), STEPS + "a whole number, not 'abc'."),
        (
            (*direct, "messaging", "start", "-1"),
            "wfcomm: -1 is not an option, and step counts, offsets and timeouts cannot be "
            "negative: see `wfcomm messaging start --help`.",
        ),
        (
            (*url, "events", "get", waiting, "status", "--timeout", "nan"),
            "wfcomm: The timeout must be between 0 and 3600 seconds, not 'nan'.",
        ),
        ((*url, "events", "get", "", "status"), EMPTY_ID),
        ((*url, "events", "start", "1", "--id", ""), EMPTY_ID),
        ((*url, "demo", "events", "--id", ""), EMPTY_ID),
        (
            (*direct, "streaming", "read", waiting, "--offset", "-1"),
            "wfcomm: The stream offset counts from 0; -1 is negative.",
        ),
        # Checked past the connection: by the Python API directly, by the service via --url.
        (
            (*url, "events", "start", "30", "--fib-base", "10"),
            "wfcomm: 30 steps from Fibonacci base 10 would end with fib(39), which takes far too "
            "long: keep base + steps - 1 at most 32 (fewer steps or a smaller base).",
        ),
        (
            (*direct, "events", "start", "30", "--fib-base", "10"),
            "wfcomm: 30 steps from Fibonacci base 10 would end with fib(39), which takes far too "
            "long: keep base + steps - 1 at most 32 (fewer steps or a smaller base).",
        ),
        (
            (*url, "messaging", "approve", waiting, "--message", "caf\udce9 ✓"),  # Latin-1 é
            "wfcomm: Argument 7 ('caf\\xe9 ✓') is not UTF-8 text: set the terminal to UTF-8 "
            "(e.g. export LANG=C.UTF-8) and type it again.",
        ),
        (
            (*url, "events", "get", waiting, "colour"),
            "wfcomm: Unknown event key 'colour': use one of progress, status, result.",
        ),
        (
            (*direct, "messaging", "send", waiting, "{}", "--idempotency-key", " "),
            "wfcomm: The idempotency key is empty: leave it out or give it text.",
        ),
    ]
    before = recorded(db)
    check_lines(cases, env)
    assert recorded(db) == before, "something was recorded for a rejected command"


def test_bad_messages_are_refused_and_a_good_one_still_arrives_once(
    serve, env, db, waiting
) -> None:
    direct, url = ("--app", "serve"), ("--url", serve.url)
    send = ("messaging", "send", waiting)
    cases: Cases = [
        ((*direct, *send, "null"), NOT_OBJECT + "null."),
        ((*url, *send, '"approve"'), NOT_OBJECT + "a string."),
        ((*url, *send, TOO_BIG), TOO_BIG_LINE),
        (
            (*url, *send, "{approved: true}"),
            "wfcomm: The message is not JSON (Expecting property name enclosed in double quotes "
            "at character 1): quote it, e.g. '{\"approved\": true}'.",
        ),
        (
            (*direct, *send, '{"approved": true, "score": NaN}'),
            "wfcomm: The message is not JSON (NaN is not a JSON number): quote it, e.g. "
            "'{\"approved\": true}'.",
        ),
    ]
    before = recorded(db)
    check_lines(cases, env)
    assert recorded(db) == before
    assert notifications_to(db, waiting) == 0
    assert json.loads(ok(wfcomm(*url, "status", waiting, env=env)))["status"] == "PENDING"

    # Still waiting: a good message (Unicode, ~40 kB, under the limit) arrives once, intact.
    reason = "✓ nein — 日本語 — " + "é" * 20_000
    good = json.dumps({"approved": False, "reason": reason}, ensure_ascii=False)
    assert json.loads(ok(wfcomm(*direct, *send, good, env=env))) == json.loads(good)
    outcome = json.loads(ok(wfcomm(*url, "result", waiting, "--timeout", "60", env=env)))
    assert outcome == {"status": "cancelled", "reason": f"Not approved: {reason}", "results": []}
    assert notifications_to(db, waiting) == 1
    assert recorded(db) == (before[0], before[1] + 1)


def test_unknown_ids_fail_at_once_in_every_command(serve, env, db) -> None:
    """Each client call behind a command that takes an id (reject shares approve's, status
    result's), directly with a Unicode id; the service's answers with an ASCII one. A 3600 s
    wait would outlast the subprocess's time limit: no waiting."""
    commands = [
        ("events", "get", ID, "status", "--timeout", "3600"),
        ("events", "all", ID),
        ("messaging", "send", ID, '{"approved": true}'),
        ("messaging", "approve", ID),
        ("streaming", "read", ID),
        ("streaming", "follow", ID),
        ("result", ID, "--timeout", "3600"),
    ]
    direct, url = ("--app", "serve"), ("--url", serve.url)
    unicode = "événement-✓-日本"
    cases: list[tuple[Sequence[str], str]] = [
        ((*direct, *with_id(command, unicode)), UNKNOWN.format(unicode)) for command in commands
    ]
    cases += [
        ((*url, *with_id(command, "ghost")), UNKNOWN.format("ghost"))
        for command in (commands[0], commands[5], commands[6])
    ]
    cases.append(
        (
            ("status", "nulle-part-✓"),
            "wfcomm: No workflow with id 'nulle-part-✓' in the databases of apps events, "
            "messaging, streaming, serve: start one first, or check the id for typos (ids are "
            "case-sensitive).",
        )
    )
    before = recorded(db)
    check_lines(cases, env)
    assert recorded(db) == before


def test_a_unicode_workflow_id_works_end_to_end(serve, env) -> None:
    wid = "événement-✓-日本-2"
    assert ok(wfcomm("--app", "serve", "events", "start", "1", "--id", wid, env=env)).strip() == wid
    result = wfcomm("--url", serve.url, "result", wid, "--timeout", "60", env=env)
    assert json.loads(ok(result)) == expected_results(1)


# --- databases, servers and names that are not there ------------------------------------------


def test_missing_locked_corrupt_and_empty_databases(serve, env, folder: Path, db) -> None:
    data = folder / "data"
    locked = data / "wfcomm-locked.sqlite"
    with contextlib.closing(sqlite3.connect(db)) as source:
        with contextlib.closing(sqlite3.connect(locked)) as copy:
            source.backup(copy)  # a real DBOS database, with the serve app's workflows
    (data / "wfcomm-corrupt.sqlite").write_text("not a database\n")
    (data / "wfcomm-blank.sqlite").write_bytes(b"")
    before = recorded(locked)

    is_locked = (
        f"wfcomm: {locked} is locked by another program with an unfinished write (a database "
        "browser with unsaved changes, a stuck script): commit or close it there, then run this "
        "again."
    )
    cases: Cases = [
        # DBOS would retry every query on a locked file forever, a log wall each time.
        (("--app", "locked", "events", "start", "1"), is_locked),
        (("--app", "locked", "status", "x"), is_locked),
        (
            ("--app", "corrupt", "messaging", "approve", "x"),
            f"wfcomm: Cannot open {data / 'wfcomm-corrupt.sqlite'} as a SQLite database (file "
            "is not a database): move it aside, or set WFCOMM_DATA_DIR to another folder.",
        ),
        (
            ("--app", "blank", "health"),
            f"wfcomm: Cannot read workflows from the database of app wfcomm-blank at "
            f"{data / 'wfcomm-blank.sqlite'} (no such table: main.workflow_status): if it is "
            "new, run the notebook's setup cell or `wfcomm serve` once to set it up; otherwise "
            "fix --database-url (or WFCOMM_DATABASE_URL).",
        ),
        (
            ("--app", "nothing", "result", "x"),
            f"wfcomm: No database at {data / 'wfcomm-nothing.sqlite'}: run the notebook's setup "
            "cell or `wfcomm serve` first (or pick another app with --app).",
        ),
    ]
    holder = sqlite3.connect(locked, isolation_level=None)  # another program's unfinished write
    try:
        holder.execute("BEGIN EXCLUSIVE")
        check_lines(cases, env)
    finally:
        holder.close()
    assert recorded(locked) == before
    health = json.loads(ok(wfcomm("--app", "locked", "health", env=env)))
    assert (health["status"], health["app"]) == ("ok", "wfcomm-locked")


def test_unreachable_postgres_and_url_and_bad_names(serve, env) -> None:
    nowhere = free_port()  # nothing listens there
    pg = ("--database-url", f"postgresql://nobody:x@127.0.0.1:{nowhere}/nope")
    no_pg = (
        "wfcomm: Cannot open the database of app wfcomm-{} at postgresql://nobody:***@"
        f"127.0.0.1:{nowhere}/nope (Connection refused): run the notebook's setup cell or "
        "`wfcomm serve` first, or fix --database-url (or WFCOMM_DATABASE_URL)."
    )
    down = f"http://127.0.0.1:{nowhere}"
    no_serve = (
        f"wfcomm: Cannot reach wfcomm serve at {down} (All connection attempts failed): start it "
        "with `wfcomm serve`, or fix --url."
    )
    cases: Cases = [
        ((*pg, "messaging", "start", "1"), no_pg.format("messaging")),
        # status and health look through each app's database: unreachable is not "no workflow".
        ((*pg, "status", "x"), no_pg.format("events")),
        ((*pg, "health"), no_pg.format("events")),
        (("--url", down, "events", "start", "1"), no_serve),
        (("--url", down, "streaming", "follow", "x"), no_serve),
        (
            ("--url", "127.0.0.1:8000", "health"),
            "wfcomm: Cannot reach wfcomm serve at 127.0.0.1:8000 (Request URL is missing an "
            "'http://' or 'https://' protocol.): start it with `wfcomm serve`, or fix --url.",
        ),
        (
            ("--url", f"{serve.url}/api", "status", "x"),  # was "wfcomm: Not Found"
            f"wfcomm: {serve.url}/api/workflows/x?timeout=0 answered HTTP 404 Not Found: is --url "
            "the address of `wfcomm serve`, e.g. http://127.0.0.1:8000?",
        ),
        (
            ("--app", "my app", "events", "start", "1"),
            "wfcomm: App name 'my app' may only hold letters, digits, '-' and '_'.",
        ),
    ]
    check_lines(cases, env)


def test_a_database_url_fault_names_its_source_and_the_teacher_gets_a_teachers_fix(env) -> None:
    """A malformed URL names the setting the user gave it in (the option, or the environment
    variable); an unreachable server gives the teacher's `wfcomm workshop` commands a fix a
    teacher can act on, where a learner's command says to run the notebook's setup cell."""
    typo = "postgresql://nobody:x@127.0.0.1:54x2/db"
    wrong = (
        "wfcomm: Database URL 'postgresql://nobody:***@127.0.0.1:54x2/db' is wrong: its port "
        "'54x2' is not a number from 1 to 65535; "
    )
    down = f"postgresql://nobody:x@127.0.0.1:{free_port()}/nope"
    refused = (
        "wfcomm: Cannot open the database of app wfcomm-{} at "
        f"{down.replace(':x@', ':***@')} (Connection refused): "
    )
    teacher = refused.format("messaging") + (
        "check that the workshop's PostgreSQL server runs and that this machine reaches it, "
        "or fix --database-url (or WFCOMM_DATABASE_URL)."
    )
    cases: Cases = [
        (("--database-url", typo, "status", "x"), wrong + "fix --database-url."),
        (("--database-url", typo, "workshop", "pending"), wrong + "fix --database-url."),
        (("workshop", "approve", "x", "--database-url", typo), wrong + "fix --database-url."),
        (("--database-url", down, "workshop", "pending"), teacher),
        (("--database-url", down, "workshop", "approve-all"), teacher),
        (("workshop", "reject", "x", "--database-url", down), teacher),
        (
            ("--database-url", down, "messaging", "approve", "x"),
            refused.format("messaging") + "run the notebook's setup cell or `wfcomm serve` "
            "first, or fix --database-url (or WFCOMM_DATABASE_URL).",
        ),
    ]
    check_lines(cases, env)
    from_environment = {**env, "WFCOMM_DATABASE_URL": typo}
    assert one_line_failure(wfcomm("workshop", "pending", env=from_environment)) == (
        wrong + "fix WFCOMM_DATABASE_URL or unset it to use SQLite."
    )


@pytest.mark.postgres
def test_a_postgres_database_no_app_has_set_up(env, pg_url: str) -> None:
    """First absent, then created empty: neither is "no workflow", each says what to do."""
    where = make_url(pg_url).render_as_string(hide_password=True)
    name = make_url(pg_url).database
    fix = "fix --database-url (or WFCOMM_DATABASE_URL)."
    absent = one_line_failure(wfcomm("--database-url", pg_url, "status", "x", env=env))
    assert absent.startswith(f"wfcomm: Cannot open the database of app wfcomm-events at {where} (")
    assert name in absent.split("(", 1)[1] and absent.endswith(f"first, or {fix}")
    admin = make_url(pg_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    empty = one_line_failure(wfcomm("--database-url", pg_url, "messaging", "start", "1", env=env))
    # Between the brackets: PostgreSQL's words, which a release may change.
    assert empty.startswith(
        f"wfcomm: Cannot read workflows from the database of app wfcomm-messaging at {where} ("
    ) and empty.endswith(
        "): if it is new, run the notebook's setup cell or `wfcomm serve` once to set it up; "
        f"otherwise {fix}"
    )


def test_serve_refuses_a_bad_port_or_host_before_starting(serve, env, folder: Path) -> None:
    """A bad port was a traceback wall, a busy one or an unknown host uvicorn's log lines."""
    fix = "pick a free --port between 1 and 65535 (or stop what uses it), or fix --host."
    busy = serve.url.rsplit(":", 1)[1]
    results = run_all(
        [
            ("serve", "--app", "other", "--port", "-5"),
            ("serve", "--app", "other", "--port", busy),
            ("serve", "--app", "other", "--host", "999.1.1.1", "--port", str(free_port())),
        ],
        env,
    )
    lines = [one_line_failure(result) for result in results]
    # Between the brackets: Python's, the system's or the resolver's words, which differ.
    for line, where in zip(lines, ("127.0.0.1 port -5 (", f"127.0.0.1 port {busy} (", "999.1.1.1")):
        assert line.startswith(f"wfcomm: Cannot listen on {where}") and line.endswith(fix), line
    assert not (folder / "data" / "wfcomm-other.sqlite").exists()  # refused before DBOS started


def test_a_group_without_its_command_shows_its_commands_and_one_line(env) -> None:
    group = wfcomm("streaming", env=env)
    assert one_line_failure(group) == (
        "wfcomm: Missing command: add one of those listed above (`wfcomm streaming --help`)."
    )
    assert "follow" in group.stdout


# --- the same entry point in this process: every argument, then generated values ---------------

#: Where an accepted value would go next: nothing listens, so it fails without touching DBOS.
CLOSED_URL = f"http://127.0.0.1:{free_port()}"
UNREACHABLE = f"wfcomm: Cannot reach wfcomm serve at {CLOSED_URL} ("


def line_of(*args: str) -> str:
    """``wfcomm --url CLOSED_URL *args`` in this process: it must fail with one stderr line."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["--url", CLOSED_URL, *args])
    assert exit_.value.code not in (0, None)
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, err.getvalue()
    return lines[0]


TIMEOUT = "wfcomm: The timeout must be between 0 and 3600 seconds, not "
APPROVAL = "wfcomm: The approval timeout must be "
PADDED = "wfcomm: Workflow id {!r} has spaces at its ends or control characters: remove them."
LONG_ID = "wfcomm: The workflow id is 201 characters long: use at most 200."
OFFSET = "wfcomm: The stream offset "

# fmt: off
EVERY_ARGUMENT: Cases = [
    # Step counts, in each command that takes one.
    (("events", "start", "0"), STEPS + "between 1 and 100, not 0."),
    (("messaging", "start", "101"), STEPS + "between 1 and 100, not 101."),
    (("streaming", "start", "99999999999999999999"), STEPS + "between 1 and 100, not 99999999999999999999."),
    (("events", "start", "3.5"), STEPS + "a whole number, not '3.5'."),
    (("messaging", "start", ""), STEPS + "a whole number, not ''."),
    (("streaming", "start", "--", "-1"), STEPS + "between 1 and 100, not -1."),
    (("demo", "events", "--steps", "0"), STEPS + "between 1 and 100, not 0."),
    (("demo", "messaging", "--steps", "many"), STEPS + "a whole number, not 'many'."),
    (
        ("demo", "streaming", "--steps", "40"),
        "wfcomm: 40 steps from Fibonacci base 22 would end with fib(61), which takes far too "
        "long: keep base + steps - 1 at most 32 (fewer steps or a smaller base).",
    ),
    (
        ("events", "start", "1", "--fib-base", "-1"),
        "wfcomm: The Fibonacci base must be between 0 and 32 (fib(32) takes about a second), "
        "not -1.",
    ),
    (("events", "start", "1", "--fib-base", "x"), "wfcomm: The Fibonacci base must be a whole number, not 'x'."),
    # Timeouts, in each command that takes one.
    (("events", "get", "x", "status", "--timeout", "-1"), TIMEOUT + "'-1'."),
    (("events", "get", "x", "status", "--timeout", "inf"), TIMEOUT + "'inf'."),
    (("messaging", "start", "1", "--timeout", "1e308"), APPROVAL + "between 0 and 3600 seconds, not '1e308'."),
    (("messaging", "start", "1", "--timeout", "soon"), APPROVAL + "a number of seconds, not 'soon'."),
    (("result", "x", "--timeout", "3601"), TIMEOUT + "'3601'."),
    (("result", "x", "--timeout", "-inf"), TIMEOUT + "'-inf'."),
    # Workflow ids, in each command that takes one.
    (("events", "start", "1", "--id", " "), EMPTY_ID),
    (("messaging", "start", "1", "--id", "x" * 201), LONG_ID),
    (("streaming", "start", "1", "--id", "a\tb"), PADDED.format("a\tb")),
    (("demo", "streaming", "--id", " padded"), PADDED.format(" padded")),
    (("events", "get", "line\nbreak", "status"), PADDED.format("line\nbreak")),
    (("events", "all", ""), EMPTY_ID),
    (("messaging", "send", "", "{}"), EMPTY_ID),
    (("messaging", "approve", "x" * 201), LONG_ID),
    (("messaging", "reject", "trailing "), PADDED.format("trailing ")),
    (("streaming", "read", "\x1b[31m"), PADDED.format("\x1b[31m")),
    (("streaming", "follow", ""), EMPTY_ID),
    (("status", "   "), EMPTY_ID),
    (("result", "x" * 201), LONG_ID),
    # Offsets.
    (("streaming", "read", "x", "--offset", "first"), OFFSET + "must be a whole number, not 'first'."),
    (("streaming", "follow", "x", "--offset", "1.5"), OFFSET + "must be a whole number, not '1.5'."),
    (("streaming", "follow", "x", "--offset", "-3"), OFFSET + "counts from 0; -3 is negative."),
    # Messages.
    (("messaging", "send", "x", "[true]"), NOT_OBJECT + "an array."),
    (("messaging", "send", "x", "42"), NOT_OBJECT + "a number."),
    (("messaging", "send", "x", ""), "wfcomm: The message is not JSON (Expecting value at character 0): quote it, e.g. '{\"approved\": true}'."),
    (("messaging", "send", "x", '{"n": -Infinity}'), "wfcomm: The message is not JSON (-Infinity is not a JSON number): quote it, e.g. '{\"approved\": true}'."),
    (("messaging", "send", "x", "[" + "9" * 5000 + "]"), f"wfcomm: The message is not JSON (it has a 5000-digit number, longer than the {sys.get_int_max_str_digits()} digits Python reads): quote it, e.g. '{{\"approved\": true}}'."),
    (("messaging", "send", "x", TOO_BIG), TOO_BIG_LINE),
    (("status", "\udcff"), "wfcomm: Argument 4 ('\\xff') is not UTF-8 text: set the terminal to UTF-8 (e.g. export LANG=C.UTF-8) and type it again."),
    (("demo", "chat"), "wfcomm: Unknown demo 'chat': use one of events, messaging, streaming."),
    # Usage errors in the kit's words (click's own are checked below).
    (("events", "start", "-1"), "wfcomm: -1 is not an option, and step counts, offsets and timeouts cannot be negative: see `wfcomm events start --help`."),
    (("events",), "wfcomm: Missing command: add one of those listed above (`wfcomm events --help`)."),
]
#: Usage errors: click's usage box (a dozen lines) becomes one line, its first line's words
#: (click's, which a release may reword) naming what was wrong, then where to look.
USAGE_ERRORS = [
    (("events", "start"), "n_steps", "wfcomm events start"),
    (("events", "start", "2", "--fib-bse", "3"), "--fib-bse", "wfcomm events start"),
    (("events", "start", "2", "3"), "3", "wfcomm events start"),
    (("messaging", "send", "x"), "message", "wfcomm messaging send"),
    (("frobnicate",), "frobnicate", "wfcomm"),
    (("serve", "--port", "x"), "--port", "wfcomm serve"),
]
# fmt: on


@pytest.mark.parametrize(("args", "want"), EVERY_ARGUMENT, ids=lambda v: repr(v)[:60])
def test_every_argument_is_checked_before_connecting(args: Sequence[str], want: str) -> None:
    assert line_of(*args) == want


@pytest.mark.parametrize(("args", "named", "command"), USAGE_ERRORS, ids=lambda v: repr(v)[:60])
def test_a_usage_error_is_one_line_naming_the_fault_and_its_help(
    args: Sequence[str], named: str, command: str
) -> None:
    line = line_of(*args)
    where = f": see `{command} --help`."
    assert line.startswith("wfcomm: ") and line.endswith(where), line
    assert named in line[len("wfcomm: ") : -len(where)], line


def refusal(check: Any, value: Any, *args: Any) -> str | None:
    """The line the Python API gives for ``value``, or None when it accepts it."""
    try:
        check(value, *args)
    except InvalidInputError as exc:
        return f"wfcomm: {exc}"
    return None


def the_api_line_or_on(line: str, want: str | None) -> bool:
    """Refused in the Python API's words, or accepted and on its way to the (closed) URL."""
    return line == want if want is not None else line.startswith(UNREACHABLE)


#: What a shell can pass: any UTF-8 text without NUL (bytes that are not UTF-8 are refused
#: before parsing, see EVERY_ARGUMENT).
argv_chars = st.characters(codec="utf-8", exclude_characters="\x00")
argv_text = st.text(argv_chars, max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.one_of(argv_text, st.integers().map(str), st.floats().map(str)))
def test_any_step_count(text: str) -> None:
    """After ``--`` no value is read as an option, negative numbers included."""
    line = line_of("streaming", "start", "--", text)
    assert the_api_line_or_on(line, refusal(validation.n_steps, text)), (text, line)


@settings(max_examples=100, deadline=None)
@given(st.one_of(argv_text, st.floats().map(str), st.integers(-(10**6), 10**6).map(str)))
def test_any_timeout(text: str) -> None:
    line = line_of("messaging", "start", "1", f"--timeout={text}")
    want = refusal(validation.timeout_seconds, text, "The approval timeout")
    assert the_api_line_or_on(line, want), (text, line)


@settings(max_examples=100, deadline=None)
@given(st.one_of(argv_text, st.integers().map(str)))
def test_any_offset(text: str) -> None:
    line = line_of("streaming", "read", "some-id", f"--offset={text}")
    assert the_api_line_or_on(line, refusal(validation.offset, text)), (text, line)


@settings(max_examples=100, deadline=None)
@given(st.one_of(argv_text, st.text(argv_chars, min_size=195, max_size=210)))
def test_any_workflow_id(text: str) -> None:
    line = line_of("status", "--", text)
    assert the_api_line_or_on(line, refusal(validation.workflow_id, text)), (text, line)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | argv_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(argv_text, inner, max_size=4),
    max_leaves=12,
)


def not_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, list) and any(map(not_finite, value))


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_json_message(value: Any) -> None:
    """Python writes NaN and Infinity, which are not JSON: refused in one line too."""
    line = line_of("messaging", "send", "some-id", "--", json.dumps(value, ensure_ascii=False))
    if not_finite(value):
        assert line.startswith("wfcomm: The message is not JSON (") and line.endswith(
            " is not a JSON number): quote it, e.g. '{\"approved\": true}'."
        ), (value, line)
    else:
        assert the_api_line_or_on(line, refusal(validation.json_object, value)), (value, line)
