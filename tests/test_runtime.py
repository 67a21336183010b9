"""The runtime: re-runnable start, reset, pinned version, clear lines for bad databases."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from contextlib import closing, redirect_stdout
from importlib.metadata import version
from pathlib import Path

import pytest
from dbos import DBOS

import wfcomm_helpers
from wfcomm_helpers import events
from wfcomm_helpers.patterns.lookup import workflow_result
from wfcomm_helpers.runtime import settings
from wfcomm_helpers.runtime.errors import (
    DatabaseUnreachableError,
    InvalidInputError,
    NotStartedError,
)

# Output is captured with redirect_stdout, not capsys: DBOS's log handler keeps a reference to
# the sys.stderr it found at launch, and capsys closes its stand-in after the test.


async def test_start_is_safe_to_rerun(data_dir: Path) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        first = await wfcomm_helpers.start("events")
        second = await wfcomm_helpers.start("events")
    try:
        assert second is first
        line = f"DBOS {version('dbos')} is running app wfcomm-events on SQLite file wfcomm-events.sqlite.\n"
        assert out.getvalue() == line * 2
        assert (data_dir / "wfcomm-events.sqlite").is_file()
    finally:
        wfcomm_helpers.shutdown()


async def test_workflows_carry_the_pinned_version(dbos_app) -> None:
    wid = await events.start_events(1, fib_base=3)
    await workflow_result(wid, timeout=30)
    (status,) = await DBOS.list_workflows_async(workflow_ids=[wid])
    assert status.app_version == settings.application_version("test") == "wfcomm-test-v1"
    assert status.executor_id == "local"


async def test_reset_gives_a_clean_slate(dbos_app) -> None:
    wid = await events.start_events(1, fib_base=3)
    await workflow_result(wid, timeout=30)
    await wfcomm_helpers.reset(quiet=True)
    assert await DBOS.list_workflows_async() == []


async def test_switching_apps_releases_the_first_database(data_dir: Path) -> None:
    await wfcomm_helpers.start("first", quiet=True)
    await wfcomm_helpers.start("second", quiet=True)
    try:
        assert wfcomm_helpers.current().app == "wfcomm-second"
        assert not (data_dir / "wfcomm-first.sqlite.owner").exists()
        assert (data_dir / "wfcomm-second.sqlite.owner").exists()
    finally:
        wfcomm_helpers.shutdown()
    with pytest.raises(NotStartedError):
        wfcomm_helpers.current()


async def test_an_unwritable_data_folder_gets_one_line(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WFCOMM_DATA_DIR", str(blocker / "data"))
    with pytest.raises(DatabaseUnreachableError) as caught:
        await wfcomm_helpers.start("events", quiet=True)
    assert str(caught.value) == (
        f"Cannot write to {blocker / 'data'} (Not a directory): set WFCOMM_DATA_DIR to a folder "
        "you can write to."
    )


@pytest.mark.parametrize(
    ("given_as", "fix"),
    [
        ("argument", "fix the database_url argument."),
        ("environment", "fix WFCOMM_DATABASE_URL or unset it to use SQLite."),
    ],
)
async def test_an_unreachable_postgres_gets_one_line_without_the_password(
    data_dir, monkeypatch: pytest.MonkeyPatch, given_as: str, fix: str
) -> None:
    """The advice names the setting the URL came from: a learner who passed ``database_url``
    has no WFCOMM_DATABASE_URL to fix."""
    url = "postgresql://learner:s3cret@127.0.0.1:1/wfcomm"
    with pytest.raises(DatabaseUnreachableError) as caught:
        if given_as == "argument":
            await wfcomm_helpers.start("events", database_url=url, quiet=True)
        else:
            monkeypatch.setenv("WFCOMM_DATABASE_URL", url)
            await wfcomm_helpers.start("events", quiet=True)
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message
    assert message.startswith(
        "Cannot reach PostgreSQL at postgresql://learner:***@127.0.0.1:1/wfcomm ("
    )
    assert message.endswith(f"start the server (e.g. sudo pg_ctlcluster 15 main start), or {fix}")
    assert not wfcomm_helpers.runtime.lifecycle.is_running()


async def test_a_bad_database_url_gets_one_line(data_dir) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await wfcomm_helpers.start("events", database_url="mysql://x@y/z", quiet=True)
    assert str(caught.value) == (
        "Database URL 'mysql://x@y/z' is wrong: it is neither sqlite:///<file> nor "
        "postgresql://...; fix the database_url argument."
    )


@pytest.mark.parametrize(
    ("url", "shown", "problem"),
    [
        (
            "postgresql://u:pw-1@127.0.0.1:54x2/db",
            "postgresql://u:***@127.0.0.1:54x2/db",
            "its port '54x2' is not a number from 1 to 65535",
        ),
        (
            "postgresql://u:pw-1@127.0.0.1:99999/db",
            "postgresql://u:***@127.0.0.1:99999/db",
            "its port '99999' is not a number from 1 to 65535",
        ),
        (
            "postgresql://u:pw-1@[::1/db",
            "postgresql://u:***@[::1/db",
            "its host is not a valid IPv6 address in [brackets]",
        ),
        (
            "postgresq://u:pw-1@h/db",
            "postgresq://u:***@h/db",
            "it is neither sqlite:///<file> nor postgresql://...",
        ),
        ("garbage", "garbage", "it is neither sqlite:///<file> nor postgresql://..."),
        (
            "postgres://u@h:1/db?sslmode=x&password=pw-1",
            "postgres://u@h:1/db?sslmode=x&password=***",
            None,
        ),
    ],
)
async def test_a_typo_in_the_database_url_is_one_line_naming_it(
    data_dir, url: str, shown: str, problem: str | None
) -> None:
    assert settings.hide_password(url) == shown
    if problem is None:  # well-formed: it fails at the connection, password still hidden
        with pytest.raises(DatabaseUnreachableError) as caught:
            await wfcomm_helpers.start("events", database_url=url, quiet=True)
        assert str(caught.value).startswith(f"Cannot reach PostgreSQL at {shown} (")
    else:
        with pytest.raises(InvalidInputError) as caught:
            await wfcomm_helpers.start("events", database_url=url, quiet=True)
        assert str(caught.value) == (
            f"Database URL {shown!r} is wrong: {problem}; fix the database_url argument."
        )
    assert "pw-1" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("value", ["fast", "0", "-1", "nan", "3600"])
async def test_a_bad_polling_interval_gets_one_line_and_keeps_the_running_app(
    dbos_app, monkeypatch, value: str
) -> None:
    monkeypatch.setenv("WFCOMM_SQLITE_POLL_SEC", value)
    with pytest.raises(InvalidInputError) as caught:
        await wfcomm_helpers.start("events", quiet=True)
    assert str(caught.value) == (
        f"WFCOMM_SQLITE_POLL_SEC={value!r} is not a number of seconds from 0.001 to 60: "
        f"fix it or unset it for the default {settings.SQLITE_POLLING_INTERVAL_SEC} s."
    )
    assert wfcomm_helpers.runtime.lifecycle.current() is dbos_app


async def test_postgres_reports_its_database(pg_url: str, data_dir) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        await wfcomm_helpers.start("events", database_url=pg_url)
    try:
        name = pg_url.rsplit("/", 1)[1]
        assert out.getvalue() == (
            f"DBOS {version('dbos')} is running app wfcomm-events on PostgreSQL {name}.\n"
        )
    finally:
        wfcomm_helpers.shutdown()


def test_importing_the_kit_changes_nothing_until_start() -> None:
    """No atexit hook, no IPython exception handler, no logger level: only start() installs."""
    probe = (
        "import atexit, logging, sys\n"
        "registered = []\n"
        "real = atexit.register\n"
        "atexit.register = lambda f, *a, **k: (registered.append(f.__module__), real(f, *a, **k))\n"
        "before = logging.getLogger('dbos').level\n"
        "import wfcomm_helpers, wfcomm_helpers.runtime.lifecycle\n"
        "print([m for m in registered if m.startswith('wfcomm')], "
        "logging.getLogger('dbos').level == before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == "[] True\n", done.stderr


async def test_reset_on_a_shared_sqlite_file_deletes_only_this_apps_workflows(data_dir) -> None:
    shared = data_dir / "shared.sqlite"
    url = f"sqlite:///{shared}"
    await wfcomm_helpers.start("other", database_url=url, quiet=True)
    try:
        theirs = await events.start_events(1, fib_base=3)
        await workflow_result(theirs, timeout=30)
        await wfcomm_helpers.start("events", database_url=url, quiet=True)
        mine = await events.start_events(1, fib_base=3)
        await workflow_result(mine, timeout=30)
        await wfcomm_helpers.reset(quiet=True)
        with closing(sqlite3.connect(shared)) as conn:
            left = conn.execute("SELECT workflow_uuid, application_name FROM workflow_status")
            assert left.fetchall() == [(theirs, "wfcomm-other")]
        assert shared.is_file()
    finally:
        wfcomm_helpers.shutdown()


def test_a_command_run_in_this_process_keeps_its_option_name_to_itself() -> None:
    """``wfcomm --database-url`` names its option in a malformed-URL line for that command
    only: a later ``start(database_url=...)`` in the same process names its argument."""
    from typer.testing import CliRunner

    from wfcomm_helpers.cli.root import app

    assert CliRunner().invoke(app, ["workshop", "pending", "--help"]).exit_code == 0
    assert settings.EXPLICIT_URL_NAME.get() == "the database_url argument"
