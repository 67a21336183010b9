"""A kit error in a notebook cell: one line, and a failed cell (ipykernel's ``execute_reply``
says ``error``), so Run All and ``jupyter nbconvert --execute`` stop there. Each case runs as
the *first* cell of a fresh kernel, where a custom exception handler once left ipykernel
without a reply."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

SETUP = "import wfcomm_helpers\nawait wfcomm_helpers.start('events')"


def assert_one_failed_line(out, starts: str) -> None:
    assert out.status == "error", out
    assert out.shown_error.startswith(starts), out.shown_error
    assert out.shown_error.count("\n") == 1 and "Traceback" not in out.shown_error


def test_database_in_use_fails_the_first_cell_in_one_line(kernel_factory, data_dir: Path) -> None:
    kernel_factory().run(SETUP)
    out = kernel_factory().run(SETUP, allow_error=True, timeout=90)
    assert_one_failed_line(
        out, f"DatabaseInUseError: {data_dir / 'wfcomm-events.sqlite'} is in use"
    )


def test_postgres_unreachable_fails_the_first_cell_in_one_line(kernel_factory) -> None:
    url = "postgresql://learner:s3cret-pw@127.0.0.1:1/wfcomm"
    out = kernel_factory({"WFCOMM_DATABASE_URL": url}).run(SETUP, allow_error=True, timeout=90)
    assert_one_failed_line(
        out, "DatabaseUnreachableError: Cannot reach PostgreSQL at postgresql://learner:***@"
    )
    assert "s3cret-pw" not in out.shown_error + out.stdout


def test_unknown_id_fails_the_first_cell_in_one_line(kernel_factory) -> None:
    code = (
        "import wfcomm_helpers\nfrom wfcomm_helpers import events\n"
        "await wfcomm_helpers.start('events', quiet=True)\n"
        "await events.get_event('no-such-id', 'status')"
    )
    out = kernel_factory().run(code, allow_error=True, timeout=90)
    assert_one_failed_line(out, "UnknownWorkflowError: No workflow with id 'no-such-id'")


def test_a_cell_after_the_clean_up_cell_says_rerun_setup_in_one_line(kernel) -> None:
    kernel.run(SETUP)
    kernel.run("wfcomm_helpers.shutdown()")
    calls = [
        "from wfcomm_helpers import events\nawait events.start_events(1)",
        "from dbos import DBOS\nawait DBOS.get_event_async('some-id', 'status', 0)",
    ]
    for code in calls:
        out = kernel.run(code, allow_error=True)
        assert_one_failed_line(out, "NotStartedError: DBOS is not running in this process: ")
        assert "setup cell" in out.shown_error
    # An exercise check answers as checks do: one "not yet" line, here naming the setup cell.
    check = kernel.run(
        "from wfcomm_helpers import exercises\nawait exercises.check_1_1(exercises.solution_1_1)"
    )
    assert check.data == [
        {
            "text/plain": "Exercise 1.1 ✘ not yet: DBOS is not running in this kernel (a fresh "
            "kernel, or the clean-up cell stopped it): run the setup cell, then this check again."
        }
    ], check
    assert kernel.run(SETUP).stdout.endswith("wfcomm-events.sqlite.\n")
