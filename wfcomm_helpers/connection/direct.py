"""The direct way in: a ``DBOSClient`` on the app's database (a notebook's SQLite file,
``wfcomm serve``'s, or Postgres), calling the patterns' client functions with
``backend=client``. No server needed; a workflow it starts is enqueued on the kit's queue and
runs in the app that holds the database (the notebook kernel or ``wfcomm serve``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from ..patterns import events, messaging, streaming
from ..patterns.lookup import AppClient
from ..patterns.status import workflow_report
from ..patterns.streaming import StreamChunk
from ..runtime.errors import DatabaseUnreachableError, connection_failure_reason
from ..runtime.guard import check_sqlite_writable, is_held
from ..runtime.launch import refuse_when_full
from ..runtime.settings import DatabaseTarget, app_name, database_target


class NoDatabaseError(DatabaseUnreachableError):
    """The app's SQLite file does not exist: that app has never run here."""


#: The fix a learner's command offers when the app's database cannot be opened.
OPEN_FIX = (
    "run the notebook's setup cell or `wfcomm serve` first, or fix --database-url "
    "(or WFCOMM_DATABASE_URL)."
)


class DirectConnection:
    """A ``DBOSClient`` on one app's database; the foundation's functions do the work."""

    def __init__(self, client: Any, app: str, target: DatabaseTarget) -> None:
        self.client, self.app, self.target = client, app, target
        self.where = target.display

    @classmethod
    async def open(
        cls, app: str, database_url: str | None = None, *, open_fix: str = OPEN_FIX
    ) -> DirectConnection:
        """A client on ``app``'s database; :class:`DatabaseUnreachableError` in one line when
        it cannot be opened, ending with ``open_fix`` (what the reader can do about it)."""
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
                # a full server runs: "start it" or "run a setup cell" would mislead
                refuse_when_full(exc, target.display)
                raise DatabaseUnreachableError(
                    f"Cannot open the database of app {name} at {target.display} "
                    f"({connection_failure_reason(exc)}): {open_fix}"
                ) from None
            try:
                # The client never creates DBOS's tables: an empty file, or a database no
                # app has set up, fails here in one line rather than in the first command.
                await client.list_workflows_async(limit=1, load_input=False, load_output=False)
            except Exception as exc:
                await asyncio.to_thread(client.destroy)
                refuse_when_full(exc, target.display)
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
