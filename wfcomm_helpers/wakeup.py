"""Wake this process's waiting readers the moment this process commits what they wait for.

DBOS wakes a waiting ``recv``, ``get_event`` or stream reader through its notification
listener: a LISTEN/NOTIFY round trip on PostgreSQL, and on SQLite a poll of every waiting key
every ``notification_listener_polling_interval_sec``. On SQLite that poll sets both the hop
latency and the idle CPU, and no interval gives p50 <= 10 ms, p95 <= 25 ms and <= 5 % of a core
together (docs/benchmarks.md). In a notebook the writer and the reader share the kernel, so the
kit wakes same-process readers directly, right after the writer's commit; the poll (or
NOTIFY) is left to carry what other processes write (the ``wfcomm`` command, a teacher).

How: DBOS calls ``SystemDatabase._signal_notification(channel, "<workflow id>::<key>")``
after each ``set_event`` and stream write commits (the hook its Postgres backend uses to queue
a NOTIFY). ``send`` has no such hook, Postgres notifies from a trigger, so on SQLite the system
database's ``send_bulk`` is wrapped. Both are private DBOS API: :func:`install` checks they
exist and otherwise leaves DBOS as it is (the poll still delivers everything, only slower);
``tests/test_wakeup.py`` fails on a DBOS release that moved them.

A wake must never reach the wrong ``recv``: DBOS's ``recv`` takes any wake as "a message is
there" and, finding none, returns ``None`` as if it had timed out. Two wakes for one message
(the kit's and the poll's or a NOTIFY) could each wake a different ``recv`` of the same
workflow, the second one too early. So a send wakes only a reader that was already waiting when
the send began, and only on SQLite: on PostgreSQL every message already has its NOTIFY, which
the benchmark's learners caught arriving after the kit's wake and waking the next ``recv``.
Events and stream values stay where they are once written, so an extra wake there is harmless.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from dbos._dbos import _get_dbos_instance
from dbos._sys_db import (
    SendMessage,
    SystemDatabase,
    _dbos_null_topic,
    _dbos_streams_channel,
    _dbos_workflow_events_channel,
)

_HOOKS = (
    "_signal_notification",
    "send_bulk",
    "notifications_map",
    "workflow_events_map",
    "streams_map",
)


def _after_value_commit(
    sys_db: SystemDatabase, original: Callable[[str, str], None]
) -> Callable[[str, str], None]:
    maps = {
        _dbos_workflow_events_channel: sys_db.workflow_events_map,
        _dbos_streams_channel: sys_db.streams_map,
    }

    @functools.wraps(original)
    def signal_notification(channel: str, payload: str) -> None:
        original(channel, payload)
        waiters = maps.get(channel)
        signal = waiters.get(payload) if waiters is not None else None
        if signal is not None:
            signal.set()

    return signal_notification


def _recv_payload(message: SendMessage) -> str:
    topic = message.topic if message.topic is not None else _dbos_null_topic
    return f"{message.destination_id}::{topic}"


def _after_send_commit(
    sys_db: SystemDatabase, original: Callable[..., None]
) -> Callable[..., None]:
    waiters = sys_db.notifications_map

    @functools.wraps(original)
    def send_bulk(messages: list[SendMessage], *args: Any, **kwargs: Any) -> None:
        # Who waits now, before the commit: a reader that registers later (the workflow's
        # next recv, once the poll has woken this one) is not this message's reader.
        waiting = [(payload, waiters.get(payload)) for payload in map(_recv_payload, messages)]
        original(messages, *args, **kwargs)
        for payload, signal in waiting:
            if signal is not None and waiters.get(payload) is signal:
                signal.set()

    return send_bulk


def install(*, wake_receivers: bool) -> bool:
    """Add the same-process wake-up to the launched DBOS (``wake_receivers``: for ``send`` too,
    on SQLite only); ``False`` if this DBOS release no longer has the hooks it needs.
    Idempotent."""
    sys_db = _get_dbos_instance()._sys_db
    if not all(hasattr(sys_db, hook) for hook in _HOOKS):
        return False
    if is_installed():
        return True
    sys_db._signal_notification = _after_value_commit(sys_db, sys_db._signal_notification)
    if wake_receivers:
        sys_db.send_bulk = _after_send_commit(sys_db, sys_db.send_bulk)
    return True


def uninstall() -> None:
    """Back to DBOS's own delivery only. The benchmark uses it to time what the poll alone
    delivers, which is what a value written by another process waits for."""
    hooks = vars(_get_dbos_instance()._sys_db)
    hooks.pop("send_bulk", None)
    hooks.pop("_signal_notification", None)


def is_installed() -> bool:
    """Whether the running DBOS wakes same-process readers at commit."""
    return "_signal_notification" in vars(_get_dbos_instance()._sys_db)


def wakes_receivers() -> bool:
    """Whether a send in this process wakes its waiting ``recv`` at commit (SQLite)."""
    return "send_bulk" in vars(_get_dbos_instance()._sys_db)
