"""`wfcomm serve`: the seed's HTTP service, corrected.

Same paths, methods, parameters and response fields as the seed's server.py, so its httpie
scripts and Python client work unchanged. What differs:

- every DBOS call is the ``*_async`` API and the Fibonacci steps run in worker threads, so
  ``/health`` answers while workflows compute (the seed's loop froze for each step);
- ``GET /workflow-stream/{id}?offset=K`` returns ``next_offset`` and ``closed`` instead of a
  snapshot silently cut at 0.1 s, and ``GET /workflow-stream/{id}/follow`` tails the stream live
  with Server-Sent Events until it closes;
- an unknown id is 404 at once, an id of another workflow type 409, a bad number 422, each
  with a one-line ``detail``; ``GET /workflows/{id}`` shows status and result;
- ``POST /send-message/{id}?idempotency_key=K`` delivers a retried send once.

Run it with ``wfcomm serve`` (127.0.0.1:8000, app ``serve``: its own SQLite file
``wfcomm-serve.sqlite``, or ``WFCOMM_DATABASE_URL``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .extras import MissingExtraError

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from sse_starlette import EventSourceResponse
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError(exc.name, "serve") from None

from . import events, messaging, runtime, streaming, validation
from .connection import EVENT_TIMEOUT_DETAIL
from .errors import InvalidInputError, WfcommError
from .health import rss_mb
from .lookup import workflow_summary
from .status import workflow_report

DEFAULT_APP = "serve"


def _one_line_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return JSONResponse({"detail": f"{where}: {first.get('msg', 'invalid request')}"}, 422)


def _wfcomm_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WfcommError)
    return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidInputError(
            "The request body is not JSON: send an object such as "
            '{"approved": true, "message": "ok"} with Content-Type: application/json.'
        ) from None


def create_app(app: str = DEFAULT_APP, *, database_url: str | None = None) -> FastAPI:
    """The service for DBOS app ``app`` (default ``serve``, SQLite file ``wfcomm-serve.sqlite``,
    so it never competes with a notebook kernel for its file)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start(app, database_url=database_url, quiet=True)
        try:
            yield
        finally:
            runtime.shutdown()

    api = FastAPI(title="wfcomm serve", lifespan=lifespan)
    api.add_exception_handler(WfcommError, _wfcomm_error)
    api.add_exception_handler(RequestValidationError, _one_line_validation_error)

    # --- events -------------------------------------------------------------------------
    @api.post("/start-workflow-events/{workflow_id}/{n_steps}")
    async def start_events(workflow_id: str, n_steps: str, fib_base: str | None = None) -> dict:
        base = events.DEFAULT_FIB_BASE if fib_base is None else fib_base
        wid = await events.start_events(n_steps, workflow_id, fib_base=base)
        paths = {key.value: f"/workflow-events/{wid}/{key.value}" for key in events.WorkflowEvent}
        return {
            "workflow_id": wid,
            "message": f"Events workflow {wid} started with {validation.n_steps(n_steps)} steps",
            "query_endpoints": {**paths, "all_events": f"/workflow-events/{wid}/all"},
        }

    @api.get("/workflow-events/{workflow_id}/all")
    async def all_events(workflow_id: str) -> dict:
        return {"workflow_id": workflow_id, "events": await events.get_all_events(workflow_id)}

    @api.get("/workflow-events/{workflow_id}/{event_key}")
    async def get_event(workflow_id: str, event_key: str, timeout: str = "5") -> Any:
        value = await events.get_event(workflow_id, event_key, validation.timeout_seconds(timeout))
        if value is None:
            return JSONResponse({"detail": EVENT_TIMEOUT_DETAIL.format(key=event_key)}, 404)
        return {"workflow_id": workflow_id, "event_key": event_key, "value": value}

    # --- messaging ----------------------------------------------------------------------
    @api.post("/start-workflow-messaging/{workflow_id}/{n_steps}")
    async def start_messaging(
        workflow_id: str, n_steps: str, timeout: str | None = None, fib_base: str | None = None
    ) -> dict:
        seconds = messaging.DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout
        base = events.DEFAULT_FIB_BASE if fib_base is None else fib_base
        wid = await messaging.start_messaging(
            n_steps, workflow_id, timeout_seconds=seconds, fib_base=base
        )
        return {
            "workflow_id": wid,
            "message": f"Messaging workflow {wid} started, waiting for approval",
            "send_approval": f"/send-message/{wid}",
            "note": (
                f'Send {{"approved": true}} or {{"approved": false}} within '
                f"{validation.timeout_seconds(seconds):g} s; add ?idempotency_key=K to make a "
                "retried send count once"
            ),
        }

    @api.post("/send-message/{workflow_id}")
    async def send_message(
        workflow_id: str, request: Request, idempotency_key: str | None = None
    ) -> dict:
        payload = validation.json_object(await _json_body(request))
        await messaging.send_message(workflow_id, payload, idempotency_key=idempotency_key)
        return {
            "workflow_id": workflow_id,
            "message": f"Message sent to {workflow_id} on topic {messaging.TOPIC!r}",
            "payload": payload,
        }

    # --- streaming ----------------------------------------------------------------------
    @api.post("/start-workflow-streaming/{workflow_id}/{n_steps}")
    async def start_streaming(workflow_id: str, n_steps: str, fib_base: str | None = None) -> dict:
        base = events.DEFAULT_FIB_BASE if fib_base is None else fib_base
        wid = await streaming.start_streaming(n_steps, workflow_id, fib_base=base)
        return {
            "workflow_id": wid,
            "message": f"Streaming workflow {wid} started with {validation.n_steps(n_steps)} steps",
            "read_stream": f"/workflow-stream/{wid}",
        }

    @api.get("/workflow-stream/{workflow_id}")
    async def read_stream(workflow_id: str, offset: str = "0") -> dict:
        chunk = await streaming.read_stream_chunk(workflow_id, validation.offset(offset))
        return {
            "workflow_id": workflow_id,
            "stream_values": chunk.values,
            "total_messages": len(chunk.values),
            "offset": chunk.offset,
            "next_offset": chunk.next_offset,
            "closed": chunk.closed,
        }

    @api.get("/workflow-stream/{workflow_id}/follow")
    async def follow_stream(workflow_id: str, offset: str = "0") -> EventSourceResponse:
        """Server-Sent Events: one ``value`` event per stream value (``id`` is its offset),
        then one ``end`` event with ``next_offset`` once the stream is closed."""
        start = validation.offset(offset)
        await workflow_summary(workflow_id, expected=streaming.WORKFLOW_NAME)

        async def values() -> AsyncIterator[dict[str, str]]:
            position = start
            async for position, value in streaming.follow_stream(workflow_id, start):
                yield {"event": "value", "id": str(position), "data": json.dumps(value)}
                position += 1
            yield {"event": "end", "data": json.dumps({"next_offset": position, "closed": True})}

        return EventSourceResponse(values())

    # --- any workflow -------------------------------------------------------------------
    @api.get("/workflows/{workflow_id}")
    async def workflow_status(workflow_id: str, timeout: str = "0") -> dict:
        """Status and result; ``?timeout=S`` waits up to S seconds for the workflow to end."""
        return await workflow_report(workflow_id, wait=validation.timeout_seconds(timeout))

    @api.get("/health")
    async def health() -> dict:
        return {"status": "ok", "memory_mb": rss_mb(), "app": runtime.current().app}

    return api
