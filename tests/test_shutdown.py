"""The clean-up cell (``shutdown()``) with workflows still waiting: nothing prints later, in
any cell, and the waiting workflows stay PENDING for the next setup cell, which recovers them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_faults import workflow_status

pytestmark = pytest.mark.kernel

RECV_TIMEOUT = 3  # seconds the workflow waits for a decision


def test_shutdown_with_a_waiting_workflow_is_silent_and_it_stays_pending(
    kernel_factory, data_dir: Path
) -> None:
    kernel = kernel_factory()
    kernel.run("import wfcomm_helpers\nawait wfcomm_helpers.start('messaging', quiet=True)")
    started = kernel.run(
        "import asyncio\nfrom dbos import DBOS\nfrom wfcomm_helpers import messaging\n"
        f"wid = await messaging.start_messaging(1, timeout_seconds={RECV_TIMEOUT})\n"
        "handle = await DBOS.retrieve_workflow_async(wid)\n"
        "waiter = asyncio.ensure_future(handle.get_result())  # as a panel waits\n"
        "wfcomm_helpers.runtime.lifecycle.on_shutdown(waiter.cancel)\n"
        "print(wid)"
    )
    wid = started.stdout.strip()
    down = kernel.run("wfcomm_helpers.shutdown()")
    # Past the workflow's recv timeout: before the fix its task woke here and printed a
    # 'System database accessed before DBOS was launched' traceback into an earlier cell.
    later = kernel.run(f"await asyncio.sleep({RECV_TIMEOUT + 3})\nprint(waiter.cancelled())")
    assert (down.stdout, down.stderr, later.stderr) == ("", "", "")
    assert later.stdout == "True\n"
    assert kernel.late_outputs == []
    assert workflow_status(data_dir, "messaging", wid) == "PENDING"

    kernel.run("await wfcomm_helpers.start('messaging', quiet=True)")
    outcome = kernel.run(
        "import json\nhandle = await DBOS.retrieve_workflow_async(wid)\n"
        "print(json.dumps(await handle.get_result()))"
    )
    # Recovered: its durable recv timeout had passed, so it ends as the seed's timeout flow.
    assert json.loads(outcome.stdout)["status"] == "cancelled"
    assert kernel.late_outputs == []


def test_a_deleted_data_folder_is_noticed_at_the_next_cell_and_setup_starts_anew(
    kernel_factory, data_dir: Path
) -> None:
    kernel = kernel_factory()
    kernel.run("import wfcomm_helpers\nawait wfcomm_helpers.start('events', quiet=True)")
    shutil.rmtree(data_dir)
    path = data_dir / "wfcomm-events.sqlite"
    out = kernel.run("print('next cell')")
    assert (out.stdout, out.stderr) == (
        "next cell\n",
        f"wfcomm: {path} was deleted while DBOS runs on it: what the workflows write now is "
        "lost when this kernel stops; re-run the setup cell to start on a new file.\n",
    )
    again = kernel.run("await wfcomm_helpers.start('events')")
    assert again.stderr.splitlines()[-1] == (
        f"wfcomm: {path} was deleted while DBOS ran on it, with its workflows; starting DBOS "
        "again on a new file."
    )
    assert again.stdout.endswith("wfcomm-events.sqlite.\n") and path.is_file()
    out = kernel.run(
        "from wfcomm_helpers import events\nfrom wfcomm_helpers.patterns.lookup import workflow_result\n"
        "print(await workflow_result(await events.start_events(1, fib_base=3)))"
    )
    assert out.stderr == "" and out.stdout.startswith("[{")
