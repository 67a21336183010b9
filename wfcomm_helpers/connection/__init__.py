"""The two ways the ``wfcomm`` command (and its demos) reach workflows from a second process.

- :class:`DirectConnection` (:mod:`.direct`): a ``DBOSClient`` on the app's database;
- :class:`HttpConnection` (:mod:`.http`): ``wfcomm serve``'s HTTP routes.

Both offer the same async methods (:class:`Connection`) and raise the same error types, so
every command and demo is written once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from ..patterns.registry import registered
from ..patterns.streaming import StreamChunk
from .direct import DirectConnection, NoDatabaseError
from .http import HttpConnection

__all__ = ["Connection", "DirectConnection", "HttpConnection", "NoDatabaseError", "known_apps"]


def known_apps() -> tuple[str, ...]:
    """The apps a learner runs: one per registered pattern (its notebook's), plus `wfcomm serve`'s."""
    return (*(p.name for p in registered()), "serve")


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
