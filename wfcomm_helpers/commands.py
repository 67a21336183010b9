"""The ``wfcomm`` commands (a typer app); :mod:`wfcomm_helpers.cli` is the entry point.

Two ways in, same commands:
- direct (default): a ``DBOSClient`` on the database of the app named by ``--app`` (each pattern's
  commands default to that pattern's notebook app); no server needed, the notebook kernel (or
  ``wfcomm serve``) runs what is enqueued;
- ``--url http://127.0.0.1:8000``: through `wfcomm serve`.

Data goes to stdout (ids, JSON), narration to stderr. Every error is one line on stderr and a
non-zero exit code (see :func:`wfcomm_helpers.cli.main`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import typer
from tqdm import tqdm

from . import validation, workshop
from .compute import DEFAULT_FIB_BASE
from .connection import KNOWN_APPS, Connection, DirectConnection, HttpConnection, NoDatabaseError
from .errors import InvalidInputError, UnknownWorkflowError, WfcommError
from .extras import MissingExtraError
from .messaging import DEFAULT_TIMEOUT_SECONDS, approval, decision_key
from .streaming import stream_length

app = typer.Typer(
    name="wfcomm",
    help="Start DBOS workflows of each pattern and talk to them from a second process.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
events_app = typer.Typer(
    help="Pattern 1, events: the workflow publishes, you read.", no_args_is_help=True
)
messaging_app = typer.Typer(
    help="Pattern 2, messaging: you send, the workflow receives once.", no_args_is_help=True
)
streaming_app = typer.Typer(
    help="Pattern 3, streaming: the workflow appends, you read by offset.", no_args_is_help=True
)
app.add_typer(events_app, name="events")
app.add_typer(messaging_app, name="messaging")
app.add_typer(streaming_app, name="streaming")
app.add_typer(workshop.app, name="workshop")


@dataclass(frozen=True)
class Options:
    url: str | None
    database_url: str | None
    app: str | None


@app.callback()
def root(
    ctx: typer.Context,
    url: str | None = typer.Option(
        None,
        "--url",
        envvar="WFCOMM_URL",
        help="Talk to `wfcomm serve` at this URL instead of the database.",
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="The database (default: WFCOMM_DATABASE_URL, else the app's SQLite file).",
    ),
    app_name: str | None = typer.Option(
        None,
        "--app",
        help="The app whose database to use (default: the pattern's notebook app).",
    ),
) -> None:
    ctx.obj = Options(url=url, database_url=database_url, app=app_name)


# --- plumbing --------------------------------------------------------------------------

T = TypeVar("T")


def checked(check: Callable[..., T], *args: Any) -> Callable[[Any], T]:
    """A typer ``parser`` running one of :mod:`validation`'s checks on the value as typed, so a
    bad value is refused before any connection, in the words of the Python API, whichever way
    (--url or direct) the command goes. The error is re-raised as a plain WfcommError: typer
    hands a parser's ValueError (InvalidInputError is one) to pydantic, which would bury the
    line in "Invalid value for ...: Value error, ..."."""

    def parse(value: Any) -> T:
        try:
            return check(value, *args)
        except InvalidInputError as exc:
            raise WfcommError(str(exc)) from None

    return parse


def id_argument() -> Any:
    return typer.Argument(
        ..., parser=checked(validation.workflow_id), help="The id a start command printed."
    )


def id_option(text: str = "Workflow id (default: new).") -> Any:
    return typer.Option(None, "--id", parser=checked(validation.workflow_id), help=text)


def steps_argument(text: str) -> Any:
    return typer.Argument(..., parser=checked(validation.n_steps), help=text)


def offset_option() -> Any:
    return typer.Option(
        0, "--offset", parser=checked(validation.offset), help="First offset to read (from 0)."
    )


def say(text: str) -> None:
    print(text, file=sys.stderr)


def emit(value: Any) -> None:
    print(json.dumps(value, indent=2))


async def _connect(opts: Options, default_app: str) -> Connection:
    if opts.url:
        return HttpConnection(opts.url)
    return await DirectConnection.open(opts.app or default_app, opts.database_url)


def run(
    ctx: typer.Context, default_app: str, action: Callable[[Connection], Awaitable[None]]
) -> None:
    """Open the connection ``ctx`` asks for, run ``action`` on it, close it."""

    async def go() -> None:
        conn = await _connect(ctx.obj, default_app)
        try:
            await action(conn)
        finally:
            await conn.close()

    asyncio.run(go())


def _note_enqueued(conn: Connection, workflow_id: str) -> None:
    if isinstance(conn, DirectConnection) and conn.app_is_running() is False:
        say(
            f"{workflow_id} is enqueued on {conn.where}; no app holds that database now, so it "
            f"starts when the notebook's setup cell (or `wfcomm serve --app "
            f"{conn.app.removeprefix('wfcomm-')}`) runs."
        )


def _started(conn: Connection, kind: str, workflow_id: str, detail: str) -> None:
    print(workflow_id)
    say(f"{kind} workflow {workflow_id} started {detail} ({conn.where}).")
    _note_enqueued(conn, workflow_id)


# --- events ----------------------------------------------------------------------------


@events_app.command("start")
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
        _started(conn, "Events", wid, f"with {n_steps} steps")

    run(ctx, "events", action)


@events_app.command("get")
def events_get(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    key: str = typer.Argument(..., help="status, progress or result."),
    timeout: float = typer.Option(
        5.0,
        "--timeout",
        parser=checked(validation.timeout_seconds),
        help="Seconds to wait for an unset key.",
    ),
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


@events_app.command("all")
def events_all(ctx: typer.Context, workflow_id: str = id_argument()) -> None:
    """Print every event set so far, with its latest value."""

    async def action(conn: Connection) -> None:
        emit(await conn.all_events(workflow_id))

    run(ctx, "events", action)


# --- messaging --------------------------------------------------------------------------


@messaging_app.command("start")
def messaging_start(
    ctx: typer.Context,
    n_steps: int = steps_argument("How many steps to run once approved (1-100)."),
    workflow_id: str | None = id_option(),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT_SECONDS,
        "--timeout",
        parser=checked(validation.timeout_seconds, "The approval timeout"),
        help="Seconds the workflow waits for a decision.",
    ),
) -> None:
    """Start a messaging workflow that waits for approval; prints its id."""

    async def action(conn: Connection) -> None:
        wid = await conn.start_messaging(n_steps, workflow_id, timeout, DEFAULT_FIB_BASE)
        _started(conn, "Messaging", wid, f"and waits {timeout:g} s for a decision")

    run(ctx, "messaging", action)


def _send(
    ctx: typer.Context, workflow_id: str, message: dict[str, Any], idempotency_key: str | None
) -> None:
    async def action(conn: Connection) -> None:
        await conn.send(workflow_id, message, idempotency_key)
        emit(message)
        once = (
            f" (idempotency key {idempotency_key!r}: delivered once however often sent)"
            if idempotency_key
            else ""
        )
        say(f"Sent to {workflow_id}{once}.")

    run(ctx, "messaging", action)


@messaging_app.command("approve")
def messaging_approve(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    message: str = typer.Option("Approved", "--message", help="Text sent with the approval."),
) -> None:
    """Approve: {"approved": true, "message": ...}, once per workflow however often sent."""
    _send(ctx, workflow_id, approval(True, message), decision_key(workflow_id))


@messaging_app.command("reject")
def messaging_reject(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    reason: str = typer.Option("Rejected", "--reason", help="Why."),
) -> None:
    """Reject: {"approved": false, "reason": ...}, once per workflow however often sent."""
    _send(ctx, workflow_id, approval(False, reason), decision_key(workflow_id))


@messaging_app.command("send")
def messaging_send(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    message: str = typer.Argument(..., help="A JSON object, e.g. '{\"approved\": true}'."),
    idempotency_key: str | None = typer.Option(
        None, "--idempotency-key", help="Deliver once however often this is sent."
    ),
) -> None:
    """Send any JSON object on the workflow's topic."""
    _send(ctx, workflow_id, validation.json_object(_parse_json(message)), idempotency_key)


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_not_a_json_number)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} at character {exc.pos}"
    except (ValueError, RecursionError) as exc:  # NaN, a 5000-digit number, 1000-deep nesting
        reason = str(exc).split(";")[0]
    raise InvalidInputError(
        f"The message is not JSON ({reason}): quote it, e.g. '{{\"approved\": true}}'."
    )


def _not_a_json_number(name: str) -> Any:
    """Python's json reads NaN and Infinity, which JSON has not (and --url could not send)."""
    raise ValueError(f"{name} is not a JSON number")


# --- streaming --------------------------------------------------------------------------


@streaming_app.command("start")
def streaming_start(
    ctx: typer.Context,
    n_steps: int = steps_argument("How many steps (1-100): 2N+2 stream values."),
    workflow_id: str | None = id_option(),
) -> None:
    """Start a streaming workflow; prints its id."""

    async def action(conn: Connection) -> None:
        wid = await conn.start_streaming(n_steps, workflow_id, DEFAULT_FIB_BASE)
        _started(conn, "Streaming", wid, f"with {n_steps} steps ({stream_length(n_steps)} values)")

    run(ctx, "streaming", action)


@streaming_app.command("read")
def streaming_read(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    offset: int = offset_option(),
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


@streaming_app.command("follow")
def streaming_follow(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    offset: int = offset_option(),
) -> None:
    """Print each value (one JSON line) as the workflow writes it, until the stream closes."""

    async def action(conn: Connection) -> None:
        position = offset
        bar: tqdm | None = None  # made at the first value, so an error is the only output
        try:
            async for position, value in conn.follow(workflow_id, offset):
                if bar is None:
                    bar = tqdm(desc=workflow_id, unit="value", initial=position, file=sys.stderr)
                total = value.get("total_steps") if isinstance(value, dict) else None
                if isinstance(total, int) and bar.total is None:
                    bar.total = stream_length(total)
                bar.update(1)
                bar.write(json.dumps(value), file=sys.stdout)
                position += 1
        finally:
            if bar is not None:
                bar.close()
        say(f"The stream of {workflow_id} is closed; next offset {position}.")

    run(ctx, "streaming", action)


# --- any workflow -----------------------------------------------------------------------


async def _report(ctx: typer.Context, workflow_id: str, wait: float) -> dict[str, Any]:
    """Status and result; without --url or --app, look through each app's database."""
    opts: Options = ctx.obj
    if opts.url or opts.app:
        conn = await _connect(opts, opts.app or "serve")
        try:
            return await conn.report(workflow_id, wait)
        finally:
            await conn.close()
    for name in KNOWN_APPS:
        try:
            conn = await DirectConnection.open(name, opts.database_url)
        except NoDatabaseError:
            continue  # that app never ran here; any other failure means we cannot tell
        try:
            return await conn.report(workflow_id, wait)
        except UnknownWorkflowError:
            continue
        finally:
            await conn.close()
    raise UnknownWorkflowError(workflow_id, f"the databases of apps {', '.join(KNOWN_APPS)}")


@app.command()
def status(ctx: typer.Context, workflow_id: str = id_argument()) -> None:
    """Print a workflow's status and, once it has ended, its result."""
    emit(asyncio.run(_report(ctx, workflow_id, 0)))


@app.command()
def result(
    ctx: typer.Context,
    workflow_id: str = id_argument(),
    timeout: float = typer.Option(
        60.0,
        "--timeout",
        parser=checked(validation.timeout_seconds),
        help="Seconds to wait for the end.",
    ),
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


@app.command()
def health(ctx: typer.Context) -> None:
    """`wfcomm serve`'s /health with --url; otherwise each app's database and who runs it."""
    opts: Options = ctx.obj
    if opts.url or opts.app:
        run(ctx, "serve", lambda conn: _emit_health(conn))
        return

    async def each_app() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in KNOWN_APPS:
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


async def _emit_health(conn: Connection) -> None:
    emit(await conn.health())


@app.command()
def demo(
    ctx: typer.Context,
    pattern: str = typer.Argument(..., help="events, messaging or streaming."),
    n_steps: int = typer.Option(
        3, "--steps", parser=checked(validation.n_steps), help="Steps per workflow."
    ),
    workflow_id: str | None = id_option("Workflow id to use (default: new ones)."),
) -> None:
    """A narrated walk through one pattern that checks every step (the seed's commands_*.sh)."""
    from . import demos

    if pattern not in demos.DEMOS:
        raise InvalidInputError(f"Unknown demo {pattern!r}: use one of {', '.join(demos.DEMOS)}.")
    validation.workload(n_steps, DEFAULT_FIB_BASE)  # before the narration starts

    async def action(conn: Connection) -> None:
        if isinstance(conn, DirectConnection) and conn.app_is_running() is False:
            raise WfcommError(
                f"No app is running on {conn.where}: run the {pattern} notebook's setup cell, "
                "or start `wfcomm serve` and pass --url http://127.0.0.1:8000."
            )
        await demos.run(pattern, conn, n_steps, workflow_id, say=print)

    run(ctx, pattern, action)


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        envvar="WFCOMM_SERVE_HOST",
        help="Address to listen on (loopback only by default).",
    ),
    port: int = typer.Option(8000, "--port", envvar="WFCOMM_SERVE_PORT", help="Port to listen on."),
    app_name: str = typer.Option(
        "serve", "--app", envvar="WFCOMM_SERVE_APP", help="The DBOS app (and SQLite file) to run."
    ),
) -> None:
    """Run the HTTP service (the seed's endpoints, corrected) until Ctrl-C."""
    from . import runtime

    try:
        import uvicorn

        from . import service
    except ImportError as exc:
        raise MissingExtraError(exc.name, "serve") from None
    database_url = ctx.obj.database_url
    listener = _listen(host, port)
    port = listener.getsockname()[1]  # the one the system chose for --port 0

    async def go() -> None:
        # Started here first so a busy or unreachable database is one line, not a traceback
        # from inside the ASGI lifespan (which then finds it running and reuses it).
        running = await runtime.start(app_name, database_url=database_url, quiet=True)
        try:
            say(
                f"wfcomm serve: app {running.app} on {running.target.display}, http://{host}:{port}"
            )
            api = service.create_app(app_name, database_url=database_url)
            await uvicorn.Server(uvicorn.Config(api, host=host, port=port)).serve([listener])
        finally:
            runtime.shutdown()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a normal stop
        pass
    say("wfcomm serve: stopped.")


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before DBOS starts: uvicorn would report a bad port as a
    traceback and a busy port or unknown host as several log lines."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        listener.bind((host, port))
    except (OSError, OverflowError) as exc:
        listener.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WfcommError(
            f"Cannot listen on {host} port {port} ({reason}): pick a free --port between 1 and "
            "65535 (or stop what uses it), or fix --host."
        ) from None
    return listener


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check this environment (Python, packages, kernel, data folder, database) and print the
    exact fix for each problem."""
    from . import doctor as checks

    raise typer.Exit(checks.run(ctx.obj.database_url))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks and write docs/benchmarks.md and .png (`wfcomm bench --help`)."""
    try:
        from .bench.__main__ import main as run_benchmarks
    except ImportError as exc:
        raise MissingExtraError(exc.name, "bench") from None
    raise typer.Exit(run_benchmarks(ctx.args))
