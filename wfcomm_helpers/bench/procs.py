"""Run probes (:mod:`.probe`) as subprocesses and collect their JSON results."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

import psycopg
from sqlalchemy.engine import URL, make_url

from ..runtime.settings import hide_password
from .probe import RESULT_PREFIX


class ProbeFailed(RuntimeError):
    pass


def _command(spec: dict[str, Any]) -> list[str]:
    return [sys.executable, "-m", "wfcomm_helpers.bench.probe", json.dumps(spec)]


def _parse(done_stdout: str, stderr: str, returncode: int) -> dict[str, Any]:
    for line in reversed(done_stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    last = (stderr.strip().splitlines() or ["no output"])[-1]
    raise ProbeFailed(f"probe exited with {returncode}: {last}")


def run_probe(
    spec: dict[str, Any], env: dict[str, str] | None = None, timeout: float = 900
) -> dict[str, Any]:
    """Run one probe in a fresh data folder; returns its result."""
    with tempfile.TemporaryDirectory(prefix="wfcomm-bench-") as folder:
        done = subprocess.run(
            _command({**spec, "data_dir": folder}),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    return _parse(done.stdout, done.stderr, done.returncode)


def start_probe(spec: dict[str, Any], folder: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a probe without waiting (for many at once); finish with :func:`finish_probe`."""
    return subprocess.Popen(
        _command({**spec, "data_dir": folder}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish_probe(process: subprocess.Popen[str], timeout: float = 900) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=timeout)
    return _parse(stdout, stderr, process.returncode)


def admin_url(server_url: str) -> URL:
    """The server's ``postgres`` database: where databases are created and dropped."""
    return make_url(server_url).set(drivername="postgresql", database="postgres")


def postgres_reachable(server_url: str) -> str | None:
    """None when the server answers, else one line saying why not."""
    admin = admin_url(server_url)
    try:
        psycopg.connect(admin.render_as_string(hide_password=False), connect_timeout=3).close()
    except psycopg.Error as exc:
        return hide_password(
            f"PostgreSQL at {admin.render_as_string()} is unreachable: {str(exc).strip()}"
        )
    return None


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A URL naming a new database (DBOS creates it at launch); dropped afterwards."""
    admin = admin_url(server_url)
    name = f"wfcomm_bench_{uuid.uuid4().hex[:10]}"
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
