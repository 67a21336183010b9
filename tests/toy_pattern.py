"""A toy fourth pattern, declared in this one module and registered in one call.

Its workflow publishes one event, ``doubled`` (2 * n), and returns it. Its client calls, its
``wfcomm toy`` commands, its HTTP routes and its demo are all here; nothing in the package
names it. A fresh ``wfcomm`` process finds it through ``WFCOMM_PATTERNS=toy_pattern``.
"""

from __future__ import annotations

from typing import Any

import typer
from dbos import DBOS
from fastapi import APIRouter

from wfcomm_helpers.cli.options import emit
from wfcomm_helpers.cli.session import run_direct
from wfcomm_helpers.patterns.lookup import Backend, start_workflow, workflow_summary
from wfcomm_helpers.patterns.registry import Pattern, register
from wfcomm_helpers.runtime.errors import WfcommError
from wfcomm_helpers.runtime.validation import new_workflow_id

NAME = "toy"
KEY = "doubled"


@DBOS.workflow()
async def toy_workflow(n: int) -> int:
    await DBOS.set_event_async(KEY, 2 * n)
    return 2 * n


# --- client calls -----------------------------------------------------------------------------
async def start_toy(n: int, workflow_id: str | None = None, *, backend: Backend = DBOS) -> str:
    return await start_workflow(
        toy_workflow, workflow_id or new_workflow_id(NAME), n, backend=backend
    )


async def doubled(workflow_id: str, timeout: float = 30.0, *, backend: Backend = DBOS) -> Any:
    await workflow_summary(workflow_id, expected=toy_workflow.__qualname__, backend=backend)
    return await backend.get_event_async(workflow_id, KEY, timeout)


# --- wfcomm toy ... ---------------------------------------------------------------------------
cli = typer.Typer(help="The toy pattern: the workflow doubles n.", no_args_is_help=True)


@cli.command("start")
def toy_start(ctx: typer.Context, n: int) -> None:
    """Start a toy workflow; prints its id."""

    async def action(conn: Any) -> None:
        emit(await start_toy(n, backend=conn.client))

    run_direct(ctx, NAME, action)


@cli.command("doubled")
def toy_doubled(ctx: typer.Context, workflow_id: str) -> None:
    """Print the workflow's ``doubled`` event."""

    async def action(conn: Any) -> None:
        emit(await doubled(workflow_id, backend=conn.client))

    run_direct(ctx, NAME, action)


# --- HTTP routes ------------------------------------------------------------------------------
router = APIRouter()


@router.post("/start-workflow-toy/{workflow_id}/{n}")
async def http_start(workflow_id: str, n: int) -> dict[str, Any]:
    return {"workflow_id": await start_toy(n, workflow_id)}


@router.get("/workflow-toy/{workflow_id}")
async def http_doubled(workflow_id: str) -> dict[str, Any]:
    return {"workflow_id": workflow_id, "value": await doubled(workflow_id)}


# --- demo -------------------------------------------------------------------------------------
async def demo(conn: Any, n_steps: int, workflow_id: str | None, say: Any) -> None:
    wid = await start_toy(n_steps, workflow_id, backend=conn.client)
    say(f"1. Started toy workflow {wid} with n={n_steps}.")
    value = await doubled(wid, backend=conn.client)
    if value != 2 * n_steps:
        raise WfcommError(f"toy demo: {KEY} is {value!r}, not {2 * n_steps}")
    say(f"2. Its {KEY} event is {value}.")


PATTERN = register(
    Pattern(
        name=NAME,
        module=__name__,
        workflows=(toy_workflow.__qualname__,),
        cli=f"{__name__}:cli",
        routes=f"{__name__}:router",
        demo=f"{__name__}:demo",
    )
)
