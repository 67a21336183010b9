"""The HTTP way in: `wfcomm serve`'s routes (:mod:`wfcomm_helpers.contract`) through httpx and
httpx-sse. An error the service answers comes back as the same error type the Python API
raises (``UnknownWorkflowError``, ``WrongWorkflowTypeError``, ...), with the service's line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from .. import contract
from ..contract import Route
from ..patterns.streaming import StreamChunk
from ..runtime.errors import WfcommError, connection_failure_reason
from ..runtime.validation import new_workflow_id

#: Seconds to connect and to get an answer, on top of any wait the request asks for.
REQUEST_SECONDS = 30.0


class HttpConnection:
    """`wfcomm serve` at ``url``; its one-line ``detail`` becomes the error message."""

    def __init__(self, url: str) -> None:
        import httpx

        self.where = url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.where, timeout=REQUEST_SECONDS)

    async def _call(
        self, route: Route, segments: dict[str, Any], *, wait: float = 0.0, **kwargs: Any
    ) -> Any:
        import httpx

        try:
            response = await self.http.request(
                route.method,
                route.path(**segments),
                timeout=httpx.Timeout(REQUEST_SECONDS + wait),
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise _unreachable(self.where, exc) from None
        return _body(response)

    async def _start(
        self, route: Route, pattern: str, n_steps: int, wid: str | None, **q: Any
    ) -> str:
        segments = {"workflow_id": wid or new_workflow_id(pattern), "n_steps": n_steps}
        return str((await self._call(route, segments, params=q))["workflow_id"])

    async def start_events(self, n_steps: int, workflow_id: str | None, fib_base: int) -> str:
        return await self._start(
            contract.START_EVENTS, "events", n_steps, workflow_id, fib_base=fib_base
        )

    async def get_event(self, workflow_id: str, key: str, timeout: float) -> Any:
        segments = {"workflow_id": workflow_id, "event_key": key}
        try:
            body = await self._call(
                contract.GET_EVENT, segments, wait=float(timeout), params={"timeout": timeout}
            )
        except contract.EventNotSetError:
            return None
        return body["value"]

    async def all_events(self, workflow_id: str) -> dict[str, Any]:
        body = await self._call(contract.ALL_EVENTS, {"workflow_id": workflow_id})
        return dict(body["events"])

    async def start_messaging(
        self, n_steps: int, workflow_id: str | None, timeout: float, fib_base: int
    ) -> str:
        return await self._start(
            contract.START_MESSAGING,
            "messaging",
            n_steps,
            workflow_id,
            timeout=timeout,
            fib_base=fib_base,
        )

    async def send(
        self, workflow_id: str, message: dict[str, Any], idempotency_key: str | None
    ) -> None:
        params = {} if idempotency_key is None else {"idempotency_key": idempotency_key}
        await self._call(
            contract.SEND_MESSAGE, {"workflow_id": workflow_id}, json=message, params=params
        )

    async def start_streaming(self, n_steps: int, workflow_id: str | None, fib_base: int) -> str:
        return await self._start(
            contract.START_STREAMING, "streaming", n_steps, workflow_id, fib_base=fib_base
        )

    async def read_stream(self, workflow_id: str, offset: int) -> StreamChunk:
        body = await self._call(
            contract.READ_STREAM, {"workflow_id": workflow_id}, params={"offset": offset}
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

        route = contract.FOLLOW_STREAM
        try:
            async with aconnect_sse(
                self.http,
                route.method,
                route.path(workflow_id=workflow_id),
                params={"offset": offset},
                timeout=httpx.Timeout(REQUEST_SECONDS, read=None),
            ) as source:
                if source.response.status_code != 200:
                    await source.response.aread()
                    _body(source.response)
                async for event in source.aiter_sse():
                    if event.event == contract.END_EVENT:
                        return
                    if event.event == contract.VALUE_EVENT:
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
                contract.WORKFLOW,
                {"workflow_id": workflow_id},
                wait=float(wait),
                params={"timeout": wait},
            )
        )

    async def health(self) -> dict[str, Any]:
        return dict(await self._call(contract.HEALTH, {}))

    async def close(self) -> None:
        await self.http.aclose()


def _body(response: Any) -> Any:
    """The JSON body of a 2xx answer; otherwise the error the service named in the contract's
    header, or, from a server that is not `wfcomm serve`, a line that says so."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code < 400 and body is not None:
        return body
    name = response.headers.get(contract.ERROR_HEADER)
    detail = body.get("detail") if isinstance(body, dict) else None
    if name is not None and isinstance(detail, str):
        raise contract.error_from_answer(name, detail)
    raise WfcommError(
        f"{response.request.url} answered HTTP {response.status_code} "
        f"{_phrase(response.status_code)}{'' if body is not None else ' without JSON'}: is "
        "--url the address of `wfcomm serve`, e.g. http://127.0.0.1:8000?"
    )


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
