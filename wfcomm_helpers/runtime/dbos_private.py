"""Every private DBOS name the kit uses, in one guarded place.

DBOS has no public hook for "this process just committed a value", so the same-process
wake-up (:mod:`wfcomm_helpers.runtime.wakeup`) reaches into DBOS's system database; and DBOS
records its own operations as steps under internal names, which the durability proof counts. Nothing
else in the package may import ``dbos._...`` or touch ``_sys_db``.

Checked against dbos 3.4.0 (the version installed when this module was written). It relies on:

- ``dbos._dbos._get_dbos_instance()``, and that instance's ``_sys_db``: the launched DBOS's
  ``SystemDatabase``.
- ``SystemDatabase._signal_notification(channel, payload)``: called right after a
  ``set_event`` or stream write commits, with ``payload == "<workflow id>::<key>"`` and
  ``channel`` one of ``dbos._sys_db._dbos_workflow_events_channel`` /
  ``_dbos_streams_channel``.
- ``SystemDatabase.send_bulk(messages, ...)``: every send of this process (``DBOS.send``,
  in or out of a workflow), one transaction; each message has ``.destination_id`` and
  ``.topic`` (``None`` stored as ``dbos._sys_db._dbos_null_topic``).
- ``SystemDatabase._notification_listener_polling_interval_sec`` and
  ``dbos._schemas.system_database.SystemSchema``: read by tests only (the poll interval the
  kit set; the table names the diagrams use).
- ``SystemDatabase.recv_check(workflow_id, topic, signal)``: DBOS's own poll of one ``recv``
  key: it calls ``signal.set()`` only if an unconsumed message is stored for it.
- ``notifications_map``, ``workflow_events_map``, ``streams_map``: the waiting readers,
  ``.get(payload)`` giving ``None`` or a signal whose ``.set()`` wakes every reader of that key.
- That instance's ``_workflow_tasks``: the asyncio tasks of the async workflows it runs, which
  ``DBOS.destroy()`` leaves running (:func:`workflow_tasks`, used by the kit's ``shutdown()``).
- The step names DBOS records (``function_name`` in ``list_workflow_steps``):
  ``DBOS.setEvent``, ``DBOS.recv``, ``DBOS.sleep`` (the recv's durable deadline, recorded
  right after the recv), ``DBOS.writeStream``, ``DBOS.closeStream``.

The guard: :func:`hook_commits` looks every name up before it changes anything and raises
:class:`PrivateNameMissing` (one line, naming what is missing) if one is gone, so the caller
runs on DBOS's public behaviour instead. Once installed, the kit's code runs only after
DBOS's own call has returned, and anything it raises goes to ``on_failure``, never to DBOS's
caller: a workflow never fails and a write is never undone because of the kit.
``tests/test_dbos_private.py`` deletes each name and makes each hook raise, on the real DBOS.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Step names DBOS records for its own operations (``list_workflow_steps``' "function_name"),
#: which the durability proof (:mod:`wfcomm_helpers.durability`) counts.
SET_EVENT_STEP, RECV_STEP, SLEEP_STEP = "DBOS.setEvent", "DBOS.recv", "DBOS.sleep"
WRITE_STREAM_STEP, CLOSE_STREAM_STEP = "DBOS.writeStream", "DBOS.closeStream"

#: Module-level private names, as (module, name).
MODULE_NAMES = (
    ("dbos._dbos", "_get_dbos_instance"),
    ("dbos._sys_db", "_dbos_workflow_events_channel"),
    ("dbos._sys_db", "_dbos_streams_channel"),
    ("dbos._sys_db", "_dbos_null_topic"),
)
#: The DBOS instance's private attribute holding its system database.
INSTANCE_NAME = "_sys_db"
#: The DBOS instance's private attribute holding its async workflows' tasks.
TASKS_NAME = "_workflow_tasks"
#: DBOS's maps of waiting readers, by kind of reader.
WAITER_MAPS = {"recv": "notifications_map", "event": "workflow_events_map", "stream": "streams_map"}
#: What the kit uses of the system database (methods and waiter maps).
SYSTEM_DATABASE_NAMES = (
    "_signal_notification",
    "send_bulk",
    "recv_check",
    "notifications_map",
    "workflow_events_map",
    "streams_map",
)
#: The methods the kit wraps; the wrappers live in the system database's instance dict.
_VALUE_HOOK, _SEND_HOOK = "_signal_notification", "send_bulk"


OnFailure = Callable[[Exception], None]


class PrivateNameMissing(RuntimeError):
    """A private DBOS name the kit relies on is gone (a DBOS release moved it)."""


def _module_name(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise PrivateNameMissing(f"{module}.{name}") from None


def dbos_instance() -> Any:
    """The DBOS instance of this process (DBOS raises when none was created);
    :class:`PrivateNameMissing` if DBOS moved the name."""
    return _module_name("dbos._dbos", "_get_dbos_instance")()


def system_database() -> Any:
    """The launched DBOS's ``SystemDatabase``; :class:`PrivateNameMissing` if DBOS moved it."""
    sys_db = getattr(dbos_instance(), INSTANCE_NAME, None)
    if sys_db is None:
        raise PrivateNameMissing(f"DBOS.{INSTANCE_NAME}")
    missing = [name for name in SYSTEM_DATABASE_NAMES if not hasattr(sys_db, name)]
    if missing:
        raise PrivateNameMissing(", ".join(f"SystemDatabase.{name}" for name in missing))
    return sys_db


def workflow_tasks() -> list[Any]:
    """The asyncio tasks of the async workflows DBOS runs in this process (``asyncio.Task``s,
    possibly done); ``[]`` when no DBOS instance exists. :class:`PrivateNameMissing` if DBOS
    moved the name."""
    try:
        instance = dbos_instance()
    except PrivateNameMissing:
        raise
    except Exception:  # no DBOS instance (DBOS raises when none was created)
        return []
    tasks = getattr(instance, TASKS_NAME, None)
    if tasks is None:
        raise PrivateNameMissing(f"DBOS.{TASKS_NAME}")
    return list(tasks)


def waiters(kind: str) -> Any:
    """DBOS's map of this process's waiting readers of ``kind`` (a key of :data:`WAITER_MAPS`):
    ``.get("<workflow id>::<key>")`` gives None or the waiting reader's signal."""
    return getattr(system_database(), WAITER_MAPS[kind])


def waiting_reader(kind: str, workflow_id: str, key: str) -> Any:
    """The signal of the reader of ``key`` (a recv topic, an event or a stream key) of
    ``workflow_id`` that waits in this process now, or None when none waits. Each wait
    registers a new signal object, so two waits in a row are not the same object."""
    return waiters(kind).get(f"{workflow_id}::{key}")


def polling_interval_sec() -> float:
    """How often (seconds) the launched DBOS polls for new values on SQLite."""
    return float(system_database()._notification_listener_polling_interval_sec)


def system_tables() -> set[str]:
    """The names of the tables in DBOS's system-database schema (there is no public list)."""
    schema = _module_name("dbos._schemas.system_database", "SystemSchema")
    return {table.name for table in schema.metadata_obj.tables.values()}


@dataclass(frozen=True)
class _Names:
    """The resolved names the hooks use."""

    sys_db: Any
    waiters_by_channel: dict[str, Any]  # channel -> waiter map
    null_topic: str


def _resolve() -> _Names:
    for module, name in MODULE_NAMES:
        _module_name(module, name)
    sys_db = system_database()
    channel = functools.partial(_module_name, "dbos._sys_db")
    return _Names(
        sys_db=sys_db,
        waiters_by_channel={
            channel("_dbos_workflow_events_channel"): sys_db.workflow_events_map,
            channel("_dbos_streams_channel"): sys_db.streams_map,
        },
        null_topic=channel("_dbos_null_topic"),
    )


def _after(original: Callable[..., Any], then: Callable[..., None], on_failure: OnFailure) -> Any:
    """``original``'s behaviour unchanged (result and exceptions), then ``then`` with the same
    arguments; whatever ``then`` raises goes to ``on_failure``."""

    @functools.wraps(original)
    def hooked(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        try:
            then(*args, **kwargs)
        except Exception as exc:  # the kit's fault or a changed DBOS: never the caller's
            on_failure(exc)
        return result

    return hooked


def hook_commits(*, sends: bool, on_failure: OnFailure) -> None:
    """After each ``set_event`` and stream write this process commits (and, with ``sends``,
    each send), wake this process's readers of that key. A send wakes its ``recv`` only
    through DBOS's own ``recv_check``, that is only if a message is really stored and
    unconsumed: a send that stored nothing (an idempotency key already used) wakes nobody.

    Raises :class:`PrivateNameMissing` before changing anything if a name is gone. Idempotent.
    """
    names = _resolve()
    sys_db = names.sys_db
    hooks = vars(sys_db)
    if _VALUE_HOOK not in hooks:

        def wake_value_readers(channel: str, payload: str) -> None:
            waiters = names.waiters_by_channel.get(channel)
            signal = waiters.get(payload) if waiters is not None else None
            if signal is not None:
                signal.set()

        hooks[_VALUE_HOOK] = _after(sys_db._signal_notification, wake_value_readers, on_failure)
    if sends and _SEND_HOOK not in hooks:

        def wake_receivers(messages: list[Any], *args: Any, **kwargs: Any) -> None:
            for message in messages:
                topic = message.topic if message.topic is not None else names.null_topic
                signal = sys_db.notifications_map.get(f"{message.destination_id}::{topic}")
                if signal is not None:
                    sys_db.recv_check(message.destination_id, message.topic, signal)

        hooks[_SEND_HOOK] = _after(sys_db.send_bulk, wake_receivers, on_failure)


def unhook_commits() -> None:
    """Back to DBOS's own methods; nothing to do if they were never hooked or DBOS moved."""
    try:
        hooks = vars(system_database())
    except PrivateNameMissing:
        return
    hooks.pop(_SEND_HOOK, None)
    hooks.pop(_VALUE_HOOK, None)


def hooked() -> tuple[bool, bool]:
    """(set_event and stream writes are hooked, sends are hooked) in the launched DBOS."""
    try:
        hooks = vars(system_database())
    except PrivateNameMissing:
        return False, False
    return _VALUE_HOOK in hooks, _SEND_HOOK in hooks
