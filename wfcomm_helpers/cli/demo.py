"""`wfcomm demo events|messaging|streaming`: the seed's scripts, checked step by step."""

from __future__ import annotations

import typer

from ..connection import Connection, DirectConnection
from ..patterns.compute import DEFAULT_FIB_BASE
from ..runtime import validation
from ..runtime.errors import InvalidInputError, WfcommError
from .options import checked, id_option
from .session import run


def demo(
    ctx: typer.Context,
    pattern: str = typer.Argument(..., help="events, messaging or streaming."),
    n_steps: int = typer.Option(
        3, "--steps", parser=checked(validation.n_steps), help="Steps per workflow."
    ),
    workflow_id: str | None = id_option("Workflow id to use (default: new ones)."),
) -> None:
    """A narrated walk through one pattern that checks every step (the seed's commands_*.sh)."""
    from .. import demos

    if pattern not in demos.demo_names():
        raise InvalidInputError(
            f"Unknown demo {pattern!r}: use one of {', '.join(demos.demo_names())}."
        )
    validation.workload(n_steps, DEFAULT_FIB_BASE)  # before the narration starts

    async def action(conn: Connection) -> None:
        if isinstance(conn, DirectConnection) and conn.app_is_running() is False:
            raise WfcommError(
                f"No app is running on {conn.where}: run the {pattern} notebook's setup cell, "
                "or start `wfcomm serve` and pass --url http://127.0.0.1:8000."
            )
        await demos.run(pattern, conn, n_steps, workflow_id, say=print)

    run(ctx, pattern, action)
