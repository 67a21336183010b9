"""Wake this process's waiting readers the moment this process commits what they wait for.

DBOS wakes a waiting ``recv``, ``get_event`` or stream reader through its notification
listener: a LISTEN/NOTIFY round trip on PostgreSQL, and on SQLite a poll of every waiting key
every ``notification_listener_polling_interval_sec``. On SQLite that poll sets both the hop
latency and the idle CPU, and no interval gives p50 <= 10 ms, p95 <= 25 ms and <= 5 % of a core
together (docs/benchmarks.md). In a notebook the writer and the reader share the kernel, so the
kit wakes same-process readers directly, right after the writer's commit; the poll (or
NOTIFY) is left to carry what other processes write (the ``wfcomm`` command, a teacher).

The rule: a wake-up is latency only, never a change of what a DBOS caller sees. DBOS's
``recv`` takes any wake as "a message is there" and, finding none, returns ``None`` as if it
had timed out. So a send wakes its ``recv`` only through DBOS's own poll of that one key
(``recv_check``), which wakes it only if an unconsumed message is really stored: exactly what
DBOS's SQLite poll would do a moment later. A retried send whose idempotency key was already
used stores nothing and wakes nobody. Sends wake only on SQLite: on PostgreSQL every message
already has its NOTIFY, and DBOS's listener wakes on a NOTIFY without looking. Events and
stream values stay where they are once written, so waking their readers at commit is what the
poll would do too. ``tests/test_differential.py`` runs the same scenarios with and without it.

The DBOS internals this needs live in :mod:`wfcomm_helpers.runtime.dbos_private`; if a DBOS release
moved one, or the wake-up ever raises, the kit says so in one line and runs on DBOS's own
delivery (slower, still correct).
"""

from __future__ import annotations

import sys
import threading

from . import dbos_private

_turning_off = threading.Lock()
FALLBACK = "readers wake on DBOS's poll or NOTIFY instead (slower, still correct)."


def install(*, wake_receivers: bool) -> bool:
    """Add the same-process wake-up to the launched DBOS (``wake_receivers``: for ``send``
    too, on SQLite only). ``False``, with one line on stderr, if this DBOS release lacks a
    name it needs; never raises. Idempotent."""
    try:
        dbos_private.hook_commits(sends=wake_receivers, on_failure=_turn_off)
    except Exception as exc:
        print(
            f"wfcomm: the same-process wake-up is off, this DBOS release lacks {exc}; {FALLBACK}",
            file=sys.stderr,
        )
        return False
    return True


def _turn_off(exc: Exception) -> None:
    """The wake-up raised after DBOS's own call returned: take it out and say so once."""
    with _turning_off:
        if not is_installed():  # another thread's hook failed first and said so
            return
        uninstall()
    reason = str(exc).splitlines()[0] if str(exc) else ""
    print(
        f"wfcomm: the same-process wake-up failed ({type(exc).__name__}: {reason}) and is now "
        f"off; {FALLBACK}",
        file=sys.stderr,
    )


def uninstall() -> None:
    """Back to DBOS's own delivery only. The benchmark uses it to time what the poll alone
    delivers, which is what a value written by another process waits for."""
    dbos_private.unhook_commits()


def is_installed() -> bool:
    """Whether the running DBOS wakes same-process readers at commit."""
    return dbos_private.hooked()[0]


def wakes_receivers() -> bool:
    """Whether a send in this process wakes its waiting ``recv`` at commit (SQLite)."""
    return dbos_private.hooked()[1]
