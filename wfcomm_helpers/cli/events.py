"""`wfcomm events ...`: pattern 1, the workflow publishes, you read."""

from __future__ import annotations

import typer

from ..connection import Connection
from ..patterns.compute import DEFAULT_FIB_BASE
from ..runtime import validation
from ..runtime.errors import WfcommError
from .options import checked, emit, id_argument, id_option, steps_argument, timeout_option
from .session import run, started

app = typer.Typer(help="Pattern 1, events: the workflow publishes, you read.", no_args_is_help=True)


@app.command("start")
def events_start(
    ctx: typer.Context,
    n_steps: int = steps_argument("How many steps (1-100)."),
    workflow_id: str | None = id_option(),
    fib_base: int = typer.Option(
        DEFAULT_FIB_BASE,
        "--fib-base",
        parser=checked(validation.fib_base),
        help="Step i computes fib(B+i).",
    ),
) -> None:
    """Start an events workflow; prints its id."""

    async def action(conn: Connection) -> None:
        wid = await conn.start_events(n_steps, workflow_id, fib_base)
        started(conn, "Events", wid, f"with {n_steps} steps")

    run(ctx, "events", action)


@app.command("get")
def events_get(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    key: str = typer.Argument(..., help="status, progress or result."),
    timeout: float = timeout_option(5.0, "Seconds to wait for an unset key."),
) -> None:
    """Print one event's value, waiting up to --timeout seconds for it to be set."""

    async def action(conn: Connection) -> None:
        value = await conn.get_event(workflow_id, key, timeout)
        if value is None:
            raise WfcommError(
                f"Event {key!r} of {workflow_id} is not set after {timeout:g} s: wait longer "
                "with --timeout, or check the workflow with `wfcomm status`."
            )
        emit(value)

    run(ctx, "events", action)


@app.command("all")
def events_all(ctx: typer.Context, workflow_id: str = id_argument()) -> None:
    """Print every event set so far, with its latest value."""

    async def action(conn: Connection) -> None:
        emit(await conn.all_events(workflow_id))

    run(ctx, "events", action)
