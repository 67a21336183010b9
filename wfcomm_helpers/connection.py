"""The two ways the ``wfcomm`` command (and its demos) reach workflows from a second process.

- :class:`DirectConnection`: a ``DBOSClient`` on the app's database (a notebook's SQLite file,
  ``wfcomm serve``'s, or Postgres), calling the foundation's client functions with
  ``backend=client``. No server needed; a workflow it starts is enqueued on the kit's queue and
  runs in the app that holds the database (the notebook kernel or ``wfcomm serve``).
- :class:`HttpConnection`: ``wfcomm serve``'s HTTP endpoints, through httpx and httpx-sse.

Both offer the same async methods, so every command and demo is written once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import quote

from . import events, messaging, streaming
from .errors import DatabaseUnreachableError, WfcommError, connection_failure_reason
from .guard import check_sqlite_writable, is_held
from .lookup import AppClient
from .settings import DatabaseTarget, app_name, database_target
from .status import workflow_report
from .streaming import StreamChunk

#: The detail `wfcomm serve` answers an event wait that timed out with (the seed's words).
EVENT_TIMEOUT_DETAIL = "Event '{key}' not found or timeout reached"

#: The apps a learner runs: one per notebook, plus `wfcomm serve`'s.
KNOWN_APPS = ("events", "messaging", "streaming", "serve")


class NoDatabaseError(DatabaseUnreachableError):
    """The app's SQLite file does not exist: that app has never run here."""


class RemoteError(WfcommError):
    """An error `wfcomm serve` answered with; its one-line detail is the message."""

    def __init__(self, detail: str, status: int) -> None:
        self.http_status = status
        super().__init__(detail)


class Connection(Protocol):
    """What the commands and demos need; see the module docstring for the two kinds."""

    where: str

    async def start_events(self, n_steps: int, workflow_id: str | None, fib_base: int) -> str: ...
    async def get_event(self, workflow_id: str, key: str, timeout: float) -> Any: ...
    async def all_events(self, workflow_id: str) -> dict[str, Any]: ...
    async def start_messaging(
        self, n_steps: int, workflow_id: str | None, timeout: float, fib_base: int
    ) -> str: ...
    async def send(
        self, workflow_id: str, message: dict[str, Any], idempotency_key: str | None
    ) -> None: ...
    async def start_streaming(
        self, n_steps: int, workflow_id: str | None, fib_base: int
    ) -> str: ...
    async def read_stream(self, workflow_id: str, offset: int) -> StreamChunk: ...
    def follow(self, workflow_id: str, offset: int) -> AsyncIterator[tuple[int, Any]]: ...
    async def report(self, workflow_id: str, wait: float) -> dict[str, Any]: ...
    async def health(self) -> dict[str, Any]: ...
    async def close(self) -> None: ...


# --- direct: DBOSClient ------------------------------------------------------------------


class DirectConnection:
    """A ``DBOSClient`` on one app's database; the foundation's functions do the work."""

    def __init__(self, client: Any, app: str, target: DatabaseTarget) -> None:
        self.client, self.app, self.target = client, app, target
        self.where = target.display

    @classmethod
    async def open(cls, app: str, database_url: str | None = None) -> DirectConnection:
        name = app_name(app)
        target = database_target(name, database_url)
        if target.sqlite_path is not None:
            if not target.sqlite_path.is_file():
                raise NoDatabaseError(
                    f"No database at {target.sqlite_path}: run the notebook's setup cell or "
                    "`wfcomm serve` first (or pick another app with --app)."
                )
            # Locked by another program's unfinished write, DBOS would retry every query
            # forever with a log wall each time; corrupt, it would fail with a bare driver
            # error. The runtime's probe says either in one line within seconds.
            await asyncio.to_thread(check_sqlite_writable, target.sqlite_path)
        dbos_logger = logging.getLogger("dbos")
        level = dbos_logger.level
        dbos_logger.setLevel(logging.CRITICAL)  # it logs the failure too: one line is enough
        try:
            try:
                client = await asyncio.to_thread(
                    AppClient,
                    system_database_url=target.url,
                    application_name=name,
                    retry_connection_errors=False,
                )
            except Exception as exc:
                raise DatabaseUnreachableError(
                    f"Cannot open the database of app {name} at {target.display} "
                    f"({connection_failure_reason(exc)}): run the notebook's setup cell or "
                    "`wfcomm serve` first, or fix --database-url (or WFCOMM_DATABASE_URL)."
                ) from None
            try:
                # The client never creates DBOS's tables: an empty file, or a database no
                # app has set up, fails here in one line rather than in the first command.
                await client.list_workflows_async(limit=1, load_input=False, load_output=False)
            except Exception as exc:
                await asyncio.to_thread(client.destroy)
                raise DatabaseUnreachableError(
                    f"Cannot read workflows from the database of app {name} at "
                    f"{target.display} ({connection_failure_reason(exc)}): if it is new, run "
                    "the notebook's setup cell or `wfcomm serve` once to set it up; otherwise "
                    "fix --database-url (or WFCOMM_DATABASE_URL)."
                ) from None
        finally:
            dbos_logger.setLevel(level)
        return cls(client, name, target)

    def app_is_running(self) -> bool | None:
        """Whether a process holds this app's SQLite file (None: cannot tell on Postgres)."""
        if self.target.sqlite_path is None:
            return None
        return is_held(self.target.sqlite_path) is not None

    async def start_events(self, n_steps: int, workflow_id: str | None, fib_base: int) -> str:
        return await events.start_events(
            n_steps, workflow_id, fib_base=fib_base, backend=self.client
        )

    async def get_event(self, workflow_id: str, key: str, timeout: float) -> Any:
        return await events.get_event(workflow_id, key, timeout, backend=self.client)

    async def all_events(self, workflow_id: str) -> dict[str, Any]:
        return await events.get_all_events(workflow_id, backend=self.client)

    async def start_messaging(
        self, n_steps: int, workflow_id: str | None, timeout: float, fib_base: int
    ) -> str:
        return await messaging.start_messaging(
            n_steps, workflow_id, timeout_seconds=timeout, fib_base=fib_base, backend=self.client
        )

    async def send(
        self, workflow_id: str, message: dict[str, Any], idempotency_key: str | None
    ) -> None:
        await messaging.send_message(
            workflow_id, message, idempotency_key=idempotency_key, backend=self.client
        )

    async def start_streaming(self, n_steps: int, workflow_id: str | None, fib_base: int) -> str:
        return await streaming.start_streaming(
            n_steps, workflow_id, fib_base=fib_base, backend=self.client
        )

    async def read_stream(self, workflow_id: str, offset: int) -> StreamChunk:
        return await streaming.read_stream_chunk(workflow_id, offset, backend=self.client)

    def follow(self, workflow_id: str, offset: int) -> AsyncIterator[tuple[int, Any]]:
        return streaming.follow_stream(workflow_id, offset, backend=self.client)

    async def report(self, workflow_id: str, wait: float) -> dict[str, Any]:
        return await workflow_report(workflow_id, wait=wait, backend=self.client)

    async def health(self) -> dict[str, Any]:
        await self.client.check_connection_async()
        return {
            "status": "ok",
            "app": self.app,
            "database": self.where,
            "app_running": self.app_is_running(),
        }

    async def close(self) -> None:
        await asyncio.to_thread(self.client.destroy)


# --- HTTP: wfcomm serve ------------------------------------------------------------------


class HttpConnection:
    """`wfcomm serve` at ``url``; its one-line ``detail`` becomes the error message."""

    def __init__(self, url: str) -> None:
        import httpx

        self.where = url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.where, timeout=httpx.Timeout(30.0))

    async def _call(self, method: str, path: str, *, wait: float = 0.0, **kwargs: Any) -> Any:
        import httpx

        try:
            response = await self.http.request(
                method, path, timeout=httpx.Timeout(30.0 + wait), **kwargs
            )
        except httpx.HTTPError as exc:
            raise _unreachable(self.where, exc) from None
        return _body(response)

    async def start_events(self, n_steps: int, workflow_id: str | None, fib_base: int) -> str:
        wid = workflow_id or _new_id("events")
        body = await self._call(
            "POST", f"/start-workflow-events/{_seg(wid)}/{n_steps}", params={"fib_base": fib_base}
        )
        return str(body["workflow_id"])

    async def get_event(self, workflow_id: str, key: str, timeout: float) -> Any:
        try:
            body = await self._call(
                "GET",
                f"/workflow-events/{_seg(workflow_id)}/{key}",
                wait=float(timeout),
                params={"timeout": timeout},
            )
        except RemoteError as exc:
            if exc.http_status == 404 and str(exc) == EVENT_TIMEOUT_DETAIL.format(key=key):
                return None
            raise
        return body["value"]

    async def all_events(self, workflow_id: str) -> dict[str, Any]:
        return dict(
            (await self._call("GET", f"/workflow-events/{_seg(workflow_id)}/all"))["events"]
        )

    async def start_messaging(
        self, n_steps: int, workflow_id: str | None, timeout: float, fib_base: int
    ) -> str:
        wid = workflow_id or _new_id("messaging")
        body = await self._call(
            "POST",
            f"/start-workflow-messaging/{_seg(wid)}/{n_steps}",
            params={"timeout": timeout, "fib_base": fib_base},
        )
        return str(body["workflow_id"])

    async def send(
        self, workflow_id: str, message: dict[str, Any], idempotency_key: str | None
    ) -> None:
        params = {} if idempotency_key is None else {"idempotency_key": idempotency_key}
        await self._call("POST", f"/send-message/{_seg(workflow_id)}", json=message, params=params)

    async def start_streaming(self, n_steps: int, workflow_id: str | None, fib_base: int) -> str:
        wid = workflow_id or _new_id("streaming")
        body = await self._call(
            "POST",
            f"/start-workflow-streaming/{_seg(wid)}/{n_steps}",
            params={"fib_base": fib_base},
        )
        return str(body["workflow_id"])

    async def read_stream(self, workflow_id: str, offset: int) -> StreamChunk:
        body = await self._call(
            "GET", f"/workflow-stream/{_seg(workflow_id)}", params={"offset": offset}
        )
        return StreamChunk(
            values=list(body["stream_values"]),
            offset=int(body["offset"]),
            next_offset=int(body["next_offset"]),
            closed=bool(body["closed"]),
        )

    async def follow(self, workflow_id: str, offset: int) -> AsyncIterator[tuple[int, Any]]:
        import httpx
        from httpx_sse import SSEError, aconnect_sse

        path = f"/workflow-stream/{_seg(workflow_id)}/follow"
        try:
            async with aconnect_sse(
                self.http,
                "GET",
                path,
                params={"offset": offset},
                timeout=httpx.Timeout(30.0, read=None),
            ) as source:
                if source.response.status_code != 200:
                    await source.response.aread()
                    _body(source.response)
                async for event in source.aiter_sse():
                    if event.event == "end":
                        return
                    if event.event == "value":
                        yield int(event.id), json.loads(event.data)
        except (httpx.HTTPError, SSEError) as exc:
            raise _unreachable(self.where, exc) from None
        raise WfcommError(
            f"The stream of {workflow_id} broke off before its end: follow it again "
            "from the last offset you saw (--offset)."
        )

    async def report(self, workflow_id: str, wait: float) -> dict[str, Any]:
        return dict(
            await self._call(
                "GET", f"/workflows/{_seg(workflow_id)}", wait=float(wait), params={"timeout": wait}
            )
        )

    async def health(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/health"))

    async def close(self) -> None:
        await self.http.aclose()


def _seg(workflow_id: str) -> str:
    """A workflow id as one URL path segment."""
    return quote(workflow_id, safe="")


def _new_id(pattern: str) -> str:
    from .validation import new_workflow_id

    return new_workflow_id(pattern)


def _body(response: Any) -> Any:
    """The JSON body of a 2xx answer; otherwise a :class:`RemoteError` with its detail."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code < 400:
        if body is None:
            raise WfcommError(
                f"{response.request.url} answered {response.status_code} without JSON: "
                "is --url pointing at `wfcomm serve`?"
            )
        return body
    detail = body.get("detail") if isinstance(body, dict) else None
    phrase = _phrase(response.status_code)
    if not isinstance(detail, str) or detail == phrase:
        # Not one of the service's one-line answers (those are sentences): the web framework's
        # default (e.g. "Not Found" for a path it has no route for), or another server.
        detail = (
            f"{response.request.url} answered HTTP {response.status_code} {phrase}: is "
            "--url the address of `wfcomm serve`, e.g. http://127.0.0.1:8000?"
        )
    raise RemoteError(detail, response.status_code)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "(non-standard status)"


def _unreachable(url: str, exc: Exception) -> WfcommError:
    reason = connection_failure_reason(exc)
    return WfcommError(
        f"Cannot reach wfcomm serve at {url} ({reason}): start it with `wfcomm serve`, "
        "or fix --url."
    )
