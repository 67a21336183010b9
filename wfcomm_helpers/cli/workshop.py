"""`wfcomm workshop ...`: the teacher's view of a workshop on one PostgreSQL server
(:mod:`wfcomm_helpers.workshop` does the work). The database is the global ``--database-url``
(or this command's own), else ``WFCOMM_DATABASE_URL``; ``--url`` is refused."""

from __future__ import annotations

import time

import typer

from .. import workshop
from ..connection import DirectConnection
from ..patterns import messaging
from .options import database_url_option, say
from .session import run_direct

app = typer.Typer(
    help="Teacher's view of a workshop on one PostgreSQL server: list the learners' "
    "messaging workflows that wait for approval, and answer them.",
    no_args_is_help=True,
)

#: The teacher's fix when the workshop's database cannot be opened: a learner's command says
#: "run the notebook's setup cell", which is not what a teacher at the front can do.
TEACHER_OPEN_FIX = (
    "check that the workshop's PostgreSQL server runs and that this machine reaches it, or "
    "fix --database-url (or WFCOMM_DATABASE_URL)."
)

LEARNER = typer.Option(None, "--learner", help="Only this learner's (executor id) workflows.")


@app.command()
def pending(
    ctx: typer.Context,
    database_url: str | None = database_url_option(),
    learner: str | None = LEARNER,
) -> None:
    """List the messaging workflows waiting for a decision, oldest first."""

    async def work(conn: DirectConnection) -> list[workshop.WaitingWorkflow]:
        found = await workshop.waiting_workflows(conn.client, learner)
        return await workshop.with_kernel_state(conn.target, found)

    found = run_direct(ctx, "messaging", work, database_url=database_url, open_fix=TEACHER_OPEN_FIX)
    now = time.time()
    for item in found:
        print(item.line(now))
    say(f"{len(found)} waiting for approval.")


def _decide(
    ctx: typer.Context, workflow_id: str, approved: bool, text: str, url: str | None
) -> str:
    async def work(conn: DirectConnection) -> str:
        return await workshop.decide(conn.client, workflow_id, approved, text)

    return run_direct(ctx, "messaging", work, database_url=url, open_fix=TEACHER_OPEN_FIX)


@app.command()
def approve(
    ctx: typer.Context,
    workflow_id: str,
    message: str = typer.Option("", "--message", help="Sent with it."),
    database_url: str | None = database_url_option(),
) -> None:
    """Approve one workflow: it runs its steps."""
    who = _decide(ctx, workflow_id, True, message, database_url)
    print(f"Approved {workflow_id} (learner {who}).")


@app.command()
def reject(
    ctx: typer.Context,
    workflow_id: str,
    reason: str = typer.Option("", "--reason", help="Shown to the learner."),
    database_url: str | None = database_url_option(),
) -> None:
    """Reject one workflow: it ends as cancelled, with the reason."""
    who = _decide(ctx, workflow_id, False, reason, database_url)
    print(f"Rejected {workflow_id} (learner {who}).")


@app.command("approve-all")
def approve_all(
    ctx: typer.Context,
    message: str = typer.Option("", "--message", help="Sent with each approval."),
    database_url: str | None = database_url_option(),
    learner: str | None = LEARNER,
) -> None:
    """Approve every workflow waiting now (optionally one learner's)."""

    async def work(conn: DirectConnection) -> list[workshop.WaitingWorkflow]:
        found = await workshop.waiting_workflows(conn.client, learner)
        for item in found:
            await messaging.send_decision(item.workflow_id, True, message, backend=conn.client)
        return found

    found = run_direct(ctx, "messaging", work, database_url=database_url, open_fix=TEACHER_OPEN_FIX)
    for item in found:
        print(f"Approved {item.workflow_id} (learner {item.learner}).")
    say(f"{len(found)} approved.")
