"""Issue #13's done-when: a fourth pattern defined in one module outside the package
(tests/toy_pattern.py), registered in one call, gets lookup by id, `wfcomm toy` commands, HTTP
routes and a demo, with no other module edited. Everything runs for real: a `wfcomm serve --app
toy` process on a SQLite file runs the workflows, the command line is a second process."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_harness import Server, child_env, cli_server, wfcomm

import wfcomm_helpers
from wfcomm_helpers.patterns.lookup import workflow_summary
from wfcomm_helpers.patterns.registry import PATTERNS_ENV, pattern_of, registered, unregister
from wfcomm_helpers.runtime.errors import WrongWorkflowTypeError

TESTS = Path(__file__).resolve().parent
TOY_MODULE, TOY = "toy_pattern", "toy"


@pytest.fixture
def toy_pattern() -> Iterator[Any]:
    """The toy registered in this process for one test only (other tests' CLIs never see it)."""
    module = importlib.import_module(TOY_MODULE)
    module.register(module.PATTERN)
    yield module
    unregister(TOY)


@pytest.fixture
def toy_env(tmp_path: Path) -> dict[str, str]:
    return child_env(
        WFCOMM_DATA_DIR=str(tmp_path / "data"),
        WFCOMM_DATABASE_URL=None,
        PYTHONPATH=str(TESTS),
        **{PATTERNS_ENV: TOY_MODULE},
    )


@pytest.fixture
def toy_server(tmp_path: Path, toy_env: dict[str, str]) -> Iterator[Server]:
    server = cli_server(tmp_path, toy_env, "--app", TOY)
    yield server
    assert server.stop() == 0, server.output()


def data(result) -> object:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_commands_routes_and_demo_of_a_registered_pattern(toy_server: Server, toy_env) -> None:
    started = data(wfcomm("toy", "start", "21", env=toy_env))
    assert isinstance(started, str) and started.startswith("toy-"), started
    assert data(wfcomm("toy", "doubled", started, env=toy_env)) == 42
    # the kit's own commands look it up by id like any pattern's workflow
    report = data(wfcomm("result", started, env=toy_env))
    assert report == 42, report

    http = httpx.post(f"{toy_server.url}/start-workflow-toy/toy-http-1/5", timeout=60)
    assert http.json() == {"workflow_id": "toy-http-1"}, http.text
    read = httpx.get(f"{toy_server.url}/workflow-toy/toy-http-1", timeout=60)
    assert read.json() == {"workflow_id": "toy-http-1", "value": 10}, read.text

    demo = wfcomm("demo", "toy", "--steps", "4", env=toy_env)
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.splitlines()[-1] == "demo toy: every check passed.", demo.stdout


def test_without_registration_a_fresh_wfcomm_has_no_toy_command(toy_env) -> None:
    env = {k: v for k, v in toy_env.items() if k != PATTERNS_ENV}
    result = wfcomm("toy", "start", "2", env=env)
    assert result.returncode != 0
    assert "toy" in result.stderr


async def test_lookup_by_id_names_the_pattern(data_dir: Path, toy_pattern: Any) -> None:
    assert [p.name for p in registered()] == ["events", "messaging", "streaming", TOY]
    await wfcomm_helpers.start(TOY, quiet=True)
    try:
        wid = await toy_pattern.start_toy(3, "toy-lookup-1")
        assert await toy_pattern.doubled(wid) == 6
        assert (await workflow_summary(wid)).pattern == "toy"
        assert pattern_of("toy_workflow") == "toy"
        with pytest.raises(WrongWorkflowTypeError) as wrong:
            await workflow_summary(wid, expected="events_workflow")
        assert "toy" in str(wrong.value) and "events" in str(wrong.value)
    finally:
        wfcomm_helpers.shutdown()
