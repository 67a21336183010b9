"""`wfcomm status|result|health`: any workflow, and who runs each app. Without ``--url`` or
``--app`` these look through every app's database (a learner rarely knows which app ran an id)."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from ..connection import Connection, DirectConnection, NoDatabaseError, known_apps
from ..runtime.errors import UnknownWorkflowError, WfcommError
from .options import emit, id_argument, options, timeout_option
from .session import connected, open_if_present, run


async def _report(ctx: typer.Context, workflow_id: str, wait: float) -> dict[str, Any]:
    """Status and result; without --url or --app, from whichever app's database has the id."""
    opts = options(ctx)
    if opts.url or opts.app:
        async with connected(opts, "serve") as conn:
            return await conn.report(workflow_id, wait)
    for name in known_apps():
        found = await open_if_present(name, opts.database_url)
        if found is None:
            continue
        try:
            return await found.report(workflow_id, wait)
        except UnknownWorkflowError:
            continue
        finally:
            await found.close()
    raise UnknownWorkflowError(workflow_id, f"the databases of apps {', '.join(known_apps())}")


def status(ctx: typer.Context, workflow_id: str = id_argument()) -> None:
    """Print a workflow's status and, once it has ended, its result."""
    emit(asyncio.run(_report(ctx, workflow_id, 0)))


def result(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    timeout: float = timeout_option(60.0, "Seconds to wait for the end."),
) -> None:
    """Wait for a workflow to end and print what it returned."""
    report = asyncio.run(_report(ctx, workflow_id, timeout))
    if not report["done"]:
        raise WfcommError(
            f"{workflow_id} is still {report['status']} after {timeout:g} s: wait longer with "
            "--timeout (a messaging workflow waits for approve/reject)."
        )
    if report["status"] != "SUCCESS":
        raise WfcommError(f"{workflow_id} ended {report['status']}: {report['error']}")
    emit(report["result"])


def health(ctx: typer.Context) -> None:
    """`wfcomm serve`'s /health with --url; otherwise each app's database and who runs it."""
    opts = options(ctx)
    if opts.url or opts.app:

        async def one(conn: Connection) -> None:
            emit(await conn.health())

        run(ctx, "serve", one)
        return

    async def each_app() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in known_apps():
            try:
                conn = await DirectConnection.open(name, opts.database_url)
            except NoDatabaseError as exc:
                found[name] = {"status": "absent", "detail": str(exc)}
                continue
            try:
                found[name] = await conn.health()
            finally:
                await conn.close()
        return found

    emit(asyncio.run(each_app()))


COMMANDS = (status, result, health)
