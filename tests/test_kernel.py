"""Behaviour that depends on a real Jupyter kernel: its running event loop, its output
handling, and two kernels on one database."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

SETUP = "import wfcomm_helpers\nawait wfcomm_helpers.start('events')"
LINE = f"DBOS {version('dbos')} is running app wfcomm-events on SQLite file wfcomm-events.sqlite.\n"


def test_setup_cell_can_be_rerun(kernel) -> None:
    first = kernel.run(SETUP)
    second = kernel.run(SETUP)
    assert first.stdout == LINE and second.stdout == LINE
    assert "already launched" not in first.stderr + second.stderr
    assert first.stderr == "" and second.stderr == ""


def test_sync_dbos_calls_raise_in_a_kernel_even_with_nest_asyncio(kernel) -> None:
    kernel.run(SETUP)
    code = (
        "from dbos import DBOS\n"
        "from wfcomm_helpers import events\n"
        "wid = await events.start_events(1, fib_base=3)\n"
        "try:\n"
        "    DBOS.get_event(wid, 'status', 1)\n"
        "except RuntimeError as e:\n"
        "    print(e)\n"
    )
    expected = (
        "get_event() was called while an event loop is running. "
        "Use await get_event_async(...) instead.\n"
    )
    assert kernel.run(code).stdout == expected
    kernel.run("import nest_asyncio2 as nest_asyncio\nnest_asyncio.apply()")
    assert kernel.run(code).stdout == expected
    # The async API works in the same kernel.
    assert kernel.run("print(await events.get_event(wid, 'status', 10))").stdout in (
        "started\n",
        "processing_step_1\n",
        "completed\n",
    )


def test_the_cpu_step_runs_off_the_kernels_loop_thread(kernel) -> None:
    kernel.run(SETUP)
    kernel.run(
        "import threading\n"
        "from dbos import DBOS\n"
        "from wfcomm_helpers.patterns.compute import run_cpu_step\n"
        "@DBOS.workflow()\n"
        "async def thread_probe():\n"
        "    step = await run_cpu_step({'name': 'probe'}, threading.get_ident)\n"
        "    return threading.get_ident(), step\n"
    )
    out = kernel.run(
        "import asyncio\n"
        "handle = await DBOS.start_workflow_async(thread_probe)\n"
        "workflow_thread, step_thread = await handle.get_result()\n"
        "print(workflow_thread == threading.get_ident(), step_thread != workflow_thread)"
    )
    # The async workflow itself runs on the kernel's loop; its CPU step does not.
    assert out.stdout == "True True\n"


def test_kit_errors_show_as_one_line_without_a_traceback(kernel) -> None:
    kernel.run(SETUP)
    out = kernel.run(
        "from wfcomm_helpers import events\nawait events.get_event('no-such-id', 'status')",
        allow_error=True,
    )
    assert out.shown_error == (
        "UnknownWorkflowError: No workflow with id 'no-such-id' in this database: start one "
        "first, or check the id for typos (ids are case-sensitive).\n"
    )
    assert "Traceback" not in out.stdout + out.shown_error


def test_a_second_kernel_on_the_same_file_gets_one_clear_line(
    kernel_factory, data_dir: Path
) -> None:
    first = kernel_factory()
    first.run(SETUP)
    second = kernel_factory()
    out = second.run(SETUP, allow_error=True)
    database = data_dir / "wfcomm-events.sqlite"
    assert out.shown_error.startswith(
        f"DatabaseInUseError: {database} is in use by process {first.pid} on "
    )
    assert out.shown_error.endswith(
        "(Jupyter kernel, started "
        + out.shown_error.split("started ")[1].split(")")[0]
        + "): shut "
        "that kernel down (or run wfcomm_helpers.shutdown() there), or set WFCOMM_DATA_DIR to "
        "use another folder.\n"
    )
    assert out.shown_error.count("\n") == 1

    # A crashed kernel never leaves the file blocked: the OS drops its lock.
    first.kill()
    assert second.run(SETUP).stdout == LINE


def test_a_second_kernel_on_postgres_needs_its_own_executor_id(kernel_factory, pg_url: str) -> None:
    env = {"WFCOMM_DATABASE_URL": pg_url}
    first = kernel_factory(env)
    first.run(SETUP)
    out = kernel_factory(env).run(SETUP, allow_error=True)
    assert out.shown_error.startswith(
        "DatabaseInUseError: App wfcomm-events with executor id 'local' "
    )
    assert out.shown_error.endswith(
        "shut that kernel down, or give this process its own id with "
        "WFCOMM_EXECUTOR_ID=<your-name>.\n"
    )
    learner = kernel_factory({**env, "WFCOMM_EXECUTOR_ID": "learner-2"})
    assert learner.run(SETUP).stdout.startswith(
        f"DBOS {version('dbos')} is running app wfcomm-events on "
    )
