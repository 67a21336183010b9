"""Workshop mode: every learner's kernel on one PostgreSQL server, one teacher who approves.

Each learner sets ``WFCOMM_EXECUTOR_ID`` to a name of their own before starting JupyterLab, and
all share one ``WFCOMM_DATABASE_URL``. Every kernel then runs app ``wfcomm-messaging`` on the
same database, but runs, recovers and resets only its own workflows (its application version
carries its id: :func:`wfcomm_helpers.runtime.settings.application_version`), and the kit's guard
refuses a second kernel with an id already in use. A learner whose kernel stopped is listed
as such: her workflow waits in the database and resumes when she runs the setup cell again. The teacher, on any machine that
reaches the server, lists the messaging workflows waiting for a decision and answers them: the
messages cross machines through the database.

    wfcomm workshop pending                   # or: python -m wfcomm_helpers.workshop pending
    wfcomm workshop approve messaging-1a2b3c4d
    wfcomm workshop reject messaging-1a2b3c4d --reason "try 3 steps"
    wfcomm workshop approve-all [--learner ada]

The commands themselves are :mod:`wfcomm_helpers.cli.workshop`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

import psycopg
from sqlalchemy.engine import make_url

from .patterns import messaging
from .patterns.lookup import Backend, workflow_summary
from .runtime.errors import WfcommError
from .runtime.guard import (
    advisory_lock_holders,
    is_held,
    postgres_lock_key,
)
from .runtime.settings import DatabaseTarget, app_name

#: The app whose workflows wait for the teacher.
APP = "messaging"


@dataclass(frozen=True)
class WaitingWorkflow:
    """A learner's messaging workflow that waits for a decision."""

    workflow_id: str
    learner: str  # the executor id of the kernel that runs it
    since: float  # epoch seconds: when it started waiting
    deadline: float  # epoch seconds: when its recv times out
    kernel_running: bool | None = None  # None: cannot tell

    def line(self, now: float) -> str:
        waited = time.strftime("%H:%M:%S", time.localtime(self.since))
        if self.kernel_running is False:
            state = f"kernel stopped: it resumes when {self.learner} runs the setup cell again"
        else:
            state = f"{max(0.0, self.deadline - now):.0f} s left"
        return f"{self.workflow_id}  learner {self.learner}  waiting since {waited}  ({state})"


async def waiting_workflows(backend: Backend, learner: str | None = None) -> list[WaitingWorkflow]:
    """Every PENDING messaging workflow that has announced it waits and has not received yet,
    oldest first; ``learner`` keeps one executor id's. Reads only the workflow's own events
    (:data:`messaging.WAITING_EVENT`, :data:`messaging.ANSWERED_EVENT`), so it works with
    ``DBOS`` or a ``DBOSClient``."""
    found = await backend.list_workflows_async(
        name=messaging.WORKFLOW_NAME,
        status="PENDING",
        executor_id=learner,
        load_input=False,
        load_output=False,
    )
    waiting = []
    for status in found:
        wid = status.workflow_id
        announced = await backend.get_event_async(wid, messaging.WAITING_EVENT, 0)
        if announced is None:
            continue  # not waiting yet
        if await backend.get_event_async(wid, messaging.ANSWERED_EVENT, 0) is not None:
            continue
        since, deadline = float(announced["since"]), float(announced["deadline"])
        waiting.append(WaitingWorkflow(wid, status.executor_id or "?", since, deadline))
    return sorted(waiting, key=lambda w: (w.since, w.workflow_id))


def running_learners(target: DatabaseTarget, learners: set[str]) -> set[str] | None:
    """Which of ``learners`` (executor ids) have a kernel running the messaging app now: each
    running kernel holds the kit's guard. None when the server cannot be asked. Blocking."""
    app = app_name(APP)
    if target.sqlite_path is not None:
        return set(learners) if is_held(target.sqlite_path) is not None else set()
    database = make_url(target.url).database or "postgres"
    keys = {name: postgres_lock_key(database, app, name) for name in learners}
    try:
        return advisory_lock_holders(target.url, keys)
    except psycopg.Error:
        return None


async def with_kernel_state(
    target: DatabaseTarget, found: list[WaitingWorkflow]
) -> list[WaitingWorkflow]:
    """``found``, each marked with whether its learner's kernel still runs."""
    running = await asyncio.to_thread(running_learners, target, {w.learner for w in found})
    if running is None:
        return found
    return [replace(w, kernel_running=w.learner in running) for w in found]


async def decide(backend: Backend, workflow_id: str, approved: bool, text: str = "") -> str:
    """Send one decision; refuses a workflow that already finished. Returns the learner."""
    summary = await workflow_summary(workflow_id, expected=messaging.WORKFLOW_NAME, backend=backend)
    if summary.is_done:
        raise WfcommError(
            f"Workflow {workflow_id!r} is not waiting any more (DBOS status {summary.status}): "
            "nothing was sent; `wfcomm workshop pending` lists the ones that wait."
        )
    await messaging.send_decision(workflow_id, approved, text, backend=backend)
    found = await backend.list_workflows_async(
        workflow_ids=[workflow_id], load_input=False, load_output=False
    )
    return str(found[0].executor_id or "?")


if __name__ == "__main__":  # the teacher's commands live in wfcomm_helpers.cli.workshop
    import sys

    from .cli import main

    main(["workshop", *sys.argv[1:]])
