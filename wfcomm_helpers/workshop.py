"""Workshop mode: every learner's kernel on one PostgreSQL server, one teacher who approves.

Each learner sets ``WFCOMM_EXECUTOR_ID`` to a name of their own before starting JupyterLab, and
all share one ``WFCOMM_DATABASE_URL``. Every kernel then runs app ``wfcomm-messaging`` on the
same database, but recovers only its own workflows (DBOS recovers per executor id), and the
kit's guard refuses a second kernel with an id already in use. The teacher, on any machine that
reaches the server, lists the messaging workflows waiting for a decision and answers them: the
messages cross machines through the database.

    wfcomm workshop pending                   # or: python -m wfcomm_helpers.workshop pending
    wfcomm workshop approve messaging-1a2b3c4d
    wfcomm workshop reject messaging-1a2b3c4d --reason "try 3 steps"
    wfcomm workshop approve-all [--learner ada]
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

import typer

from . import messaging
from .connection import DirectConnection
from .dbos_private import RECV_STEP, SET_EVENT_STEP, SLEEP_STEP  # DBOS's own step names
from .errors import WfcommError
from .lookup import Backend, workflow_summary

T = TypeVar("T")


@dataclass(frozen=True)
class WaitingWorkflow:
    """A learner's messaging workflow that waits for a decision."""

    workflow_id: str
    learner: str  # the executor id of the kernel that runs it
    since: float  # epoch seconds: when it started waiting
    deadline: float  # epoch seconds: when its recv times out

    def line(self, now: float) -> str:
        waited = time.strftime("%H:%M:%S", time.localtime(self.since))
        return (
            f"{self.workflow_id}  learner {self.learner}  waiting since {waited}  "
            f"({max(0.0, self.deadline - now):.0f} s left)"
        )


async def waiting_workflows(backend: Backend, learner: str | None = None) -> list[WaitingWorkflow]:
    """Every PENDING messaging workflow that has announced it waits and has not received yet,
    oldest first; ``learner`` keeps one executor id's."""
    found = await backend.list_workflows_async(
        name=messaging.WORKFLOW_NAME,
        status="PENDING",
        executor_id=learner,
        load_input=False,
        load_output=False,
    )
    waiting = []
    for status in found:
        steps = await backend.list_workflow_steps_async(status.workflow_id)
        by_name = {step["function_name"]: step for step in steps}
        announced = by_name.get(SET_EVENT_STEP)
        if announced is None or RECV_STEP in by_name:
            continue
        since = (announced["started_at_epoch_ms"] or 0) / 1000
        if SLEEP_STEP in by_name:  # the durable deadline, also after a kernel restart
            deadline = float(by_name[SLEEP_STEP]["output"])
        else:
            event = await backend.get_event_async(status.workflow_id, messaging.WAITING_EVENT, 0)
            deadline = since + float((event or {}).get("timeout_seconds", 0))
        waiting.append(
            WaitingWorkflow(
                status.workflow_id,
                status.executor_id or "?",
                since,
                deadline,
            )
        )
    return sorted(waiting, key=lambda w: (w.since, w.workflow_id))


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


# --- the teacher's commands ---------------------------------------------------------------

app = typer.Typer(
    name="workshop",
    help="Teacher's view of a workshop on one PostgreSQL server: list the learners' "
    "messaging workflows that wait for approval, and answer them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# The commands' parameters say Optional[str]: typer 0.12 (the floor in pyproject.toml) reads
# `str | None` as a flag and rejects the value ("Got unexpected extra arguments").
DATABASE_URL = typer.Option(
    None,
    "--database-url",
    envvar="WFCOMM_DATABASE_URL",
    help="The workshop's server (default: WFCOMM_DATABASE_URL, else the messaging SQLite file).",
)
LEARNER = typer.Option(None, "--learner", help="Only this learner's (executor id) workflows.")


def _with_client(database_url: str | None, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(client)`` on a DBOSClient for the messaging app; kit errors become one line
    on stderr and exit code 1."""

    async def main() -> T:
        connection = await DirectConnection.open("messaging", database_url)
        try:
            return await work(connection.client)
        finally:
            await connection.close()

    try:
        return asyncio.run(main())
    except WfcommError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command()
def pending(
    database_url: Optional[str] = DATABASE_URL,
    learner: Optional[str] = LEARNER,
) -> None:
    """List the messaging workflows waiting for a decision, oldest first."""
    found = _with_client(database_url, lambda client: waiting_workflows(client, learner))
    now = time.time()
    for item in found:
        typer.echo(item.line(now))
    typer.echo(f"{len(found)} waiting for approval.", err=True)


@app.command()
def approve(
    workflow_id: str,
    message: str = typer.Option("", "--message", help="Sent with it."),
    database_url: Optional[str] = DATABASE_URL,
) -> None:
    """Approve one workflow: it runs its steps."""
    who = _with_client(database_url, lambda client: decide(client, workflow_id, True, message))
    typer.echo(f"Approved {workflow_id} (learner {who}).")


@app.command()
def reject(
    workflow_id: str,
    reason: str = typer.Option("", "--reason", help="Shown to the learner."),
    database_url: Optional[str] = DATABASE_URL,
) -> None:
    """Reject one workflow: it ends as cancelled, with the reason."""
    who = _with_client(database_url, lambda client: decide(client, workflow_id, False, reason))
    typer.echo(f"Rejected {workflow_id} (learner {who}).")


@app.command("approve-all")
def approve_all(
    message: str = typer.Option("", "--message", help="Sent with each approval."),
    database_url: Optional[str] = DATABASE_URL,
    learner: Optional[str] = LEARNER,
) -> None:
    """Approve every workflow waiting now (optionally one learner's)."""

    async def work(client: Any) -> list[WaitingWorkflow]:
        found = await waiting_workflows(client, learner)
        for item in found:
            await messaging.send_decision(item.workflow_id, True, message, backend=client)
        return found

    found = _with_client(database_url, work)
    for item in found:
        typer.echo(f"Approved {item.workflow_id} (learner {item.learner}).")
    typer.echo(f"{len(found)} approved.", err=True)


if __name__ == "__main__":
    app()
