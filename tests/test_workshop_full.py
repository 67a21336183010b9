"""A full PostgreSQL server is named as full, with the fix, for the learner's setup cell and
for the teacher's commands: not "Cannot reach PostgreSQL ... start the server". The database
is created with CONNECTION LIMIT 0 on the real test server, so the server refuses every new
session to it with the same error (SQLSTATE 53300) as a server at max_connections, without
taking slots other users of the shared server need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.postgres


def full_text(shown: str) -> str:
    return (
        f"PostgreSQL at {shown} is running but full: no free connection slots "
        "(max_connections, or a CONNECTION LIMIT, is reached). Shut down the kernels that are "
        "not in use (Kernel > Shut Down Kernel), or have the teacher raise max_connections "
        "to 3 per running kernel plus 10 (ALTER SYSTEM SET max_connections = 300; for 30 "
        "learners with all three notebooks open; then restart PostgreSQL)."
    )


@pytest.fixture
def full_database(pg_url: str) -> str:
    """``pg_url``'s database, created with no connection slots."""
    url = make_url(pg_url)
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{url.database}" CONNECTION LIMIT 0')
    return pg_url


def test_the_learner_is_told_the_server_is_full(full_database: str, kernel_factory) -> None:
    kernel = kernel_factory({"WFCOMM_DATABASE_URL": full_database, "WFCOMM_EXECUTOR_ID": "ada"})
    cell = kernel.run(
        "import wfcomm_helpers\nawait wfcomm_helpers.start('messaging')", allow_error=True
    )
    shown = make_url(full_database).render_as_string(hide_password=True)
    assert cell.status == "error", cell
    assert cell.shown_error == f"DatabaseUnreachableError: {full_text(shown)}\n", cell


@pytest.mark.parametrize("command", [["pending"], ["approve-all"], ["approve", "ada-wf"]])
def test_the_teacher_is_told_the_server_is_full(
    full_database: str, data_dir: Path, command: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wfcomm_helpers.workshop", *command],
        env={**os.environ, "WFCOMM_DATABASE_URL": full_database},
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = make_url(full_database).render_as_string(hide_password=True)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        f"wfcomm: {full_text(shown)}\n",
    )
