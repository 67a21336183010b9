"""`wfcomm serve`: the HTTP service (:mod:`wfcomm_helpers.service`) under uvicorn."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import typer

from ..runtime.errors import WfcommError
from ..runtime.extras import MissingExtraError
from .options import options, say


def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        envvar="WFCOMM_SERVE_HOST",
        help="Address to listen on (loopback only by default: the service has no password).",
    ),
    port: int = typer.Option(8000, "--port", envvar="WFCOMM_SERVE_PORT", help="Port to listen on."),
    app_name: str = typer.Option(
        "serve", "--app", envvar="WFCOMM_SERVE_APP", help="The DBOS app (and SQLite file) to run."
    ),
) -> None:
    """Run the HTTP service (the seed's endpoints, corrected) until Ctrl-C."""
    from ..runtime import lifecycle as runtime

    try:
        import uvicorn

        from .. import service
    except ImportError as exc:
        raise MissingExtraError(exc.name, "serve") from None
    database_url = options(ctx).database_url
    listener = listen(host, port)
    port = listener.getsockname()[1]  # the one the system chose for --port 0
    if not is_loopback(listener):
        say(
            f"wfcomm serve: warning: {host} is reachable from other machines, and anyone who "
            "reaches it can start, approve and read every workflow (no password): use the "
            "default --host 127.0.0.1 unless that is what you want."
        )

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


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before DBOS starts: uvicorn would report a bad port as a
    traceback and a busy port or unknown host as several log lines. Made with protocol
    ``IPPROTO_TCP``, as ``getaddrinfo`` gives it: asyncio sets ``TCP_NODELAY`` on each accepted
    connection only then, and without it every keep-alive answer waits ~40 ms (Nagle's
    algorithm against the client's delayed acknowledgement)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


def is_loopback(listener: socket.socket) -> bool:
    """Whether only this machine can reach ``listener`` (127.0.0.0/8 or ::1)."""
    return ipaddress.ip_address(listener.getsockname()[0]).is_loopback
