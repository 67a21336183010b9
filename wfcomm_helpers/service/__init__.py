"""`wfcomm serve`: the seed's HTTP service, corrected.

Same paths, methods, parameters and response fields as the seed's server.py, so its httpie
scripts and Python client work unchanged (the paths are declared in
:mod:`wfcomm_helpers.contract`). What differs:

- every DBOS call is the ``*_async`` API and the Fibonacci steps run in worker threads, so
  ``/health`` answers while workflows compute (the seed's loop froze for each step);
- ``GET /workflow-stream/{id}?offset=K`` returns ``next_offset`` and ``closed`` instead of a
  snapshot silently cut at 0.1 s, and ``GET /workflow-stream/{id}/follow`` tails the stream live
  with Server-Sent Events until it closes;
- an unknown id is 404 at once, an id of another workflow type 409, a bad number 422, a body
  that is not ``application/json`` 415, a request from another site's web page 403, each with a
  one-line ``detail``; ``GET /workflows/{id}`` shows status and result;
- ``POST /send-message/{id}?idempotency_key=K`` delivers a retried send once.

Run it with ``wfcomm serve`` (127.0.0.1:8000, app ``serve``: its own SQLite file
``wfcomm-serve.sqlite``, or ``WFCOMM_DATABASE_URL``). One router per pattern, in this folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..runtime.extras import MissingExtraError

try:
    from fastapi import Depends, FastAPI
    from fastapi.exceptions import RequestValidationError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError(exc.name, "serve") from None

from ..patterns.registry import load, registered
from ..runtime import lifecycle as runtime
from ..runtime.errors import WfcommError
from . import answers, workflows

DEFAULT_APP = "serve"


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

    api = FastAPI(
        title="wfcomm serve",
        lifespan=lifespan,
        dependencies=[Depends(answers.refuse_foreign_requests)],
    )
    api.add_exception_handler(WfcommError, answers.kit_error)
    api.add_exception_handler(RequestValidationError, answers.validation_error)
    api.add_exception_handler(Exception, answers.unforeseen)
    for pattern in registered():  # one router per pattern, as each declares it
        if pattern.routes is not None:
            api.include_router(load(pattern.routes))
    api.include_router(workflows.router)
    return api
