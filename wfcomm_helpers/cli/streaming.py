"""`wfcomm streaming ...`: pattern 3, the workflow appends, you read by offset."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import typer
from tqdm import tqdm

from ..connection import Connection, DirectConnection
from ..patterns.compute import DEFAULT_FIB_BASE
from ..patterns.streaming import stream_length
from ..runtime.errors import WfcommError
from .options import (
    emit,
    id_argument,
    id_option,
    offset_option,
    say,
    steps_argument,
    timeout_option,
)
from .session import run, started

app = typer.Typer(
    help="Pattern 3, streaming: the workflow appends, you read by offset.", no_args_is_help=True
)


@app.command("start")
def streaming_start(
    ctx: typer.Context,
    n_steps: int = steps_argument("How many steps (1-100): 2N+2 stream values."),
    workflow_id: str | None = id_option(),
) -> None:
    """Start a streaming workflow; prints its id."""

    async def action(conn: Connection) -> None:
        wid = await conn.start_streaming(n_steps, workflow_id, DEFAULT_FIB_BASE)
        started(conn, "Streaming", wid, f"with {n_steps} steps ({stream_length(n_steps)} values)")

    run(ctx, "streaming", action)


@app.command("read")
def streaming_read(
    ctx: typer.Context, workflow_id: str = id_argument(), offset: int = offset_option()
) -> None:
    """Print the values written so far from --offset, where to continue, and if it is closed."""

    async def action(conn: Connection) -> None:
        chunk = await conn.read_stream(workflow_id, offset)
        emit(
            {
                "workflow_id": workflow_id,
                "offset": chunk.offset,
                "next_offset": chunk.next_offset,
                "closed": chunk.closed,
                "values": chunk.values,
            }
        )

    run(ctx, "streaming", action)


@app.command("follow")
def streaming_follow(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    offset: int = offset_option(),
    timeout: float | None = timeout_option(
        None, "Give up when no value comes for this many seconds (default: wait)."
    ),
) -> None:
    """Print each value (one JSON line) as the workflow writes it, until the stream closes."""

    async def action(conn: Connection) -> None:
        status = await _say_what_it_waits_for(conn, workflow_id, timeout)
        position = offset
        values = conn.follow(workflow_id, offset)
        bar: tqdm | None = None  # made at the first value, so an error is the only output
        try:
            while (item := await _next_value(values, timeout)) is not None:
                position, value = item
                if bar is None:
                    bar = tqdm(desc=workflow_id, unit="value", initial=position, file=sys.stderr)
                total = value.get("total_steps") if isinstance(value, dict) else None
                if isinstance(total, int) and bar.total is None:
                    bar.total = stream_length(total)
                bar.update(1)
                bar.write(json.dumps(value), file=sys.stdout)
                position += 1
        except asyncio.TimeoutError:
            raise WfcommError(
                f"No value from {workflow_id} ({status}) within {timeout:g} s; next offset "
                f"{position}: follow again with --offset {position}, or see `wfcomm status "
                f"{workflow_id}`."
            ) from None
        finally:
            await _close(values)
            if bar is not None:
                bar.close()
        say(f"The stream of {workflow_id} is closed; next offset {position}.")

    run(ctx, "streaming", action)


async def _next_value(
    values: AsyncIterator[tuple[int, Any]], timeout: float | None
) -> tuple[int, Any] | None:
    """The next ``(offset, value)``, or None at the stream's end; TimeoutError after
    ``timeout`` seconds without one."""
    try:
        return await asyncio.wait_for(values.__anext__(), timeout)
    except StopAsyncIteration:
        return None


async def _close(values: AsyncIterator[tuple[int, Any]]) -> None:
    close = getattr(values, "aclose", None)
    if close is not None:
        await close()


async def _say_what_it_waits_for(conn: Connection, workflow_id: str, timeout: float | None) -> str:
    """One line on stderr when nothing is writing the stream now; returns the DBOS status."""
    report = await conn.report(workflow_id, 0)
    status = str(report["status"])
    until = f"up to {timeout:g} s" if timeout is not None else "until Ctrl-C (or give --timeout)"
    if report["done"]:
        return status
    if isinstance(conn, DirectConnection) and conn.app_is_running() is False:
        app = conn.app.removeprefix("wfcomm-")
        say(
            f"Waiting {until} for {workflow_id} ({status}): no app holds {conn.where} now, so "
            f"nothing writes its stream until the notebook's setup cell (or `wfcomm serve --app "
            f"{app}`) runs."
        )
    elif status == "ENQUEUED":
        say(
            f"Waiting {until} for {workflow_id} (ENQUEUED): it writes its stream once the app "
            f"at {conn.where} takes it from its queue."
        )
    return status
