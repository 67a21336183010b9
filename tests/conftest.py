"""Shared fixtures: a private data folder, DBOS in this process, a real kernel, and Postgres.

Postgres: set WFCOMM_TEST_PG_URL to a server URL whose role may create databases (``.ci/run``
starts one). Without it the Postgres tests skip with the reason printed; under CI=true they fail.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from kernel_harness import Kernel

import wfcomm_helpers

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """WFCOMM_DATA_DIR pointed at a fresh folder; no Postgres URL leaks in."""
    folder = tmp_path / "data"
    monkeypatch.setenv("WFCOMM_DATA_DIR", str(folder))
    monkeypatch.delenv("WFCOMM_DATABASE_URL", raising=False)
    return folder


@pytest.fixture
async def dbos_app(data_dir: Path) -> AsyncIterator[wfcomm_helpers.runtime.lifecycle.Runtime]:
    """DBOS running in this process (pytest-asyncio's loop) on a fresh SQLite file."""
    runtime = await wfcomm_helpers.start("test", quiet=True)
    yield runtime
    wfcomm_helpers.shutdown()


def _pg_server_url() -> str | None:
    return os.environ.get("WFCOMM_TEST_PG_URL")


def _skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"Postgres leg could not run under CI=true: {reason}")
    print(f"SKIP reason: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL naming a fresh database on the test server (DBOS creates it); dropped afterwards."""
    server = _pg_server_url()
    if not server:
        _skip_or_fail("WFCOMM_TEST_PG_URL is not set (bash .ci/run starts PostgreSQL and sets it)")
    assert server is not None
    admin = make_url(server).set(drivername="postgresql", database="postgres")
    admin_conninfo = admin.render_as_string(hide_password=False)
    try:
        psycopg.connect(admin_conninfo, connect_timeout=3).close()
    except psycopg.Error as exc:
        _skip_or_fail(f"PostgreSQL at {admin.render_as_string()} is unreachable: {exc}")
    name = f"wfcomm_test_{uuid.uuid4().hex[:10]}"
    yield admin.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def kernel_factory(data_dir: Path) -> Iterator:
    """Start real ipykernels sharing this test's data folder; all are shut down at the end."""
    kernels: list[Kernel] = []

    def make(env: dict[str, str] | None = None) -> Kernel:
        merged = {"WFCOMM_DATA_DIR": str(data_dir)}
        merged.update(env or {})
        kernel = Kernel(cwd=ROOT / "notebooks", env=merged)
        kernels.append(kernel)
        return kernel

    yield make
    for kernel in kernels:
        kernel.close()


@pytest.fixture
def kernel(kernel_factory) -> Kernel:
    return kernel_factory()


@pytest.fixture(params=["sqlite", "postgres"])
async def running_app(request: pytest.FixtureRequest, data_dir: Path):
    """DBOS in this process on SQLite, then on a fresh Postgres database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    runtime = await wfcomm_helpers.start("test", database_url=url, quiet=True)
    yield runtime
    wfcomm_helpers.shutdown()
