"""The connection lifecycle, once for every command: open what the global options ask for
(``--url``: `wfcomm serve`; otherwise a ``DBOSClient`` on the app's database, honouring
``--database-url`` and ``WFCOMM_DATABASE_URL``), run the command's work on it, close it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import typer

from ..connection import Connection, DirectConnection, HttpConnection, NoDatabaseError
from ..connection.direct import OPEN_FIX
from ..runtime.errors import WfcommError
from .options import Options, options, say

T = TypeVar("T")


@asynccontextmanager
async def connected(opts: Options, default_app: str) -> AsyncIterator[Connection]:
    """The connection ``opts`` asks for (``--app`` beats ``default_app``), closed after use."""
    conn: Connection
    if opts.url:
        conn = HttpConnection(opts.url)
    else:
        conn = await DirectConnection.open(opts.app or default_app, opts.database_url)
    try:
        yield conn
    finally:
        await conn.close()


def run(ctx: typer.Context, default_app: str, action: Callable[[Connection], Awaitable[T]]) -> T:
    """Open the connection ``ctx`` asks for, run ``action`` on it, close it."""

    async def go() -> T:
        async with connected(options(ctx), default_app) as conn:
            return await action(conn)

    return asyncio.run(go())


def run_direct(
    ctx: typer.Context,
    default_app: str,
    action: Callable[[DirectConnection], Awaitable[T]],
    *,
    database_url: str | None = None,
    open_fix: str = OPEN_FIX,
) -> T:
    """:func:`run` for commands that work on the database only (the workshop's): ``--url``
    is refused in one line rather than ignored; ``database_url`` (the command's own
    ``--database-url``) beats the global one; ``open_fix`` ends the line said when the
    database cannot be opened."""
    opts = options(ctx)
    if opts.url:
        given = "WFCOMM_URL is set" if opts.url_from_environment else "--url was given"
        raise WfcommError(
            f"`{ctx.command_path}` works on the database, not through wfcomm serve, and "
            f"{given}: drop it and pass --database-url (or set WFCOMM_DATABASE_URL)."
        )

    async def go() -> T:
        url = database_url or opts.database_url
        conn = await DirectConnection.open(opts.app or default_app, url, open_fix=open_fix)
        try:
            return await action(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


async def open_if_present(app: str, database_url: str | None) -> DirectConnection | None:
    """A connection to ``app``'s database, or ``None`` if its SQLite file does not exist (that
    app never ran here); any other failure means we cannot tell, and is raised."""
    try:
        return await DirectConnection.open(app, database_url)
    except NoDatabaseError:
        return None


def note_enqueued(conn: Connection, workflow_id: str) -> None:
    """Say so when a started workflow waits for an app that is not running."""
    if isinstance(conn, DirectConnection) and conn.app_is_running() is False:
        say(
            f"{workflow_id} is enqueued on {conn.where}; no app holds that database now, so it "
            f"starts when the notebook's setup cell (or `wfcomm serve --app "
            f"{conn.app.removeprefix('wfcomm-')}`) runs."
        )


def started(conn: Connection, kind: str, workflow_id: str, detail: str) -> None:
    """A start command's output: the id on stdout, what happened on stderr."""
    print(workflow_id)
    say(f"{kind} workflow {workflow_id} started {detail} ({conn.where}).")
    note_enqueued(conn, workflow_id)
