"""Where the kit keeps its data and how DBOS is configured: one place for every setting.

Environment variables (all optional):
- ``WFCOMM_DATABASE_URL``: a ``postgresql://`` URL; when set, every app uses that server
  instead of its own SQLite file.
- ``WFCOMM_DATA_DIR``: the folder for the SQLite files (default: ``.wfcomm/`` at the root of a
  source checkout, else ``~/.wfcomm``).
- ``WFCOMM_EXECUTOR_ID``: this process's DBOS executor id (default ``local``); workshop learners
  sharing one Postgres server each get their own.
- ``WFCOMM_SQLITE_POLL_SEC``: the SQLite polling interval in seconds (default
  :data:`SQLITE_POLLING_INTERVAL_SEC`); the benchmark sweeps it.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from .errors import InvalidInputError

#: Pinned so a kernel restart recovers PENDING workflows even after a cell or this package was
#: edited: DBOS's default version is a hash of the workflow sources, and a changed hash strands
#: every workflow started before the edit. Bump it only when a workflow's steps change order.
WORKFLOW_VERSION = "1"

#: How often DBOS's notification listener polls SQLite for new messages, events and stream
#: values. SQLite has no LISTEN/NOTIFY, so this poll is how a reader learns of a value that
#: *another process* wrote (the ``wfcomm`` command, ``wfcomm serve``); readers in the same
#: process are woken at commit by :mod:`wfcomm_helpers.runtime.wakeup` and never wait for it. Every
#: poll costs a query per waiting key, so the interval trades cross-process latency against
#: idle CPU; a value from another process waits 0.5 to 1 interval. The value chosen is the
#: shortest that keeps idle CPU under the kit's target in the polling sweep of
#: docs/benchmarks.md (`python3 kit.py bench` re-measures it). DBOS's default is 1 s.
#: Postgres uses LISTEN/NOTIFY and ignores this.
SQLITE_POLLING_INTERVAL_SEC = 0.15

#: How often the app's queue is polled for workflows another process enqueued (``wfcomm
#: events start``); such a workflow begins within this interval. Each poll is a transaction:
#: a shorter interval costs an idle kernel CPU (docs/benchmarks.md, idle CPU). DBOS's is 1 s.
QUEUE_POLLING_INTERVAL_SEC = 0.5
#: DBOS's worker threads (its pool is also the loop's default executor: every step and every
#: database call of an async workflow). DBOS leaves it unbounded, and a pool never shrinks: a
#: flood of 600 starts on `wfcomm serve` left 449 threads. A bounded pool queues the work.
MAX_EXECUTOR_THREADS = 32


#: Connections in DBOS's pool to a PostgreSQL system database (``sys_db_pool_size``; DBOS's
#: default is 20, opened as needed: a kernel running a notebook held up to 10 connections).
#: A kernel also holds DBOS's LISTEN connection (the kit's guard holds none once DBOS runs:
#: guard.PostgresGuard), so with 2 it holds 3 (measured from pg_stat_activity,
#: tests/test_workshop_connections.py). 1 is too few: on a new database DBOS's launch holds
#: its migration lock on one connection while it migrates on another, and times out after
#: 30 s. ``WFCOMM_PG_POOL_SIZE`` overrides it (docs/benchmarks.md, the learners section,
#: measures the latency it gives).
POSTGRES_POOL_SIZE = 2


def postgres_pool_size() -> int:
    """``WFCOMM_PG_POOL_SIZE`` if set, else :data:`POSTGRES_POOL_SIZE`."""
    configured = os.environ.get("WFCOMM_PG_POOL_SIZE")
    if not configured:
        return POSTGRES_POOL_SIZE
    if not configured.isdigit() or not 1 <= int(configured) <= 100:
        raise InvalidInputError(
            f"WFCOMM_PG_POOL_SIZE={configured!r} is not a whole number from 1 to 100: fix it "
            f"or unset it for the default {POSTGRES_POOL_SIZE}."
        )
    return int(configured)


def sqlite_polling_interval() -> float:
    """``WFCOMM_SQLITE_POLL_SEC`` if set, else :data:`SQLITE_POLLING_INTERVAL_SEC`."""
    configured = os.environ.get("WFCOMM_SQLITE_POLL_SEC")
    if not configured:
        return SQLITE_POLLING_INTERVAL_SEC
    try:
        seconds = float(configured)
    except ValueError:
        seconds = float("nan")
    if not 0.001 <= seconds <= 60:
        raise InvalidInputError(
            f"WFCOMM_SQLITE_POLL_SEC={configured!r} is not a number of seconds from 0.001 to 60: "
            f"fix it or unset it for the default {SQLITE_POLLING_INTERVAL_SEC} s."
        )
    return seconds


APP_PREFIX = "wfcomm-"


def app_name(app: str) -> str:
    """``"events"`` -> ``"wfcomm-events"``; a name that already has the prefix is kept."""
    if not isinstance(app, str) or not app.strip():
        raise InvalidInputError(
            "The app name is empty: use e.g. 'events', 'messaging' or 'streaming'."
        )
    app = app.strip()
    if not all(ch.isalnum() or ch in "-_" for ch in app):
        raise InvalidInputError(f"App name {app!r} may only hold letters, digits, '-' and '_'.")
    return app if app.startswith(APP_PREFIX) else APP_PREFIX + app


def application_version(app: str) -> str:
    """``wfcomm-events-v1``, or ``wfcomm-events-v1-ada`` for executor id ``ada``.

    DBOS 3.4 lets one application own each version name in a system database, so apps sharing
    one Postgres database (three notebooks and ``wfcomm serve`` on one ``WFCOMM_DATABASE_URL``)
    each need their own. A workshop learner's id is part of it too: DBOS recovers a crashed
    kernel's PENDING workflow by putting it back on a queue, and a queue hands a workflow only
    to a process of the workflow's own version. With one version for the room any learner's
    kernel could take it (and then its executor id, and its ``reset()``); with one per learner
    only her own kernel does."""
    version = f"{app_name(app)}-v{WORKFLOW_VERSION}"
    executor = executor_id()
    return version if executor == DEFAULT_EXECUTOR_ID else f"{version}-{executor}"


def queue_name(app: str) -> str:
    """The queue a second process (``wfcomm``, a DBOSClient) enqueues this app's workflows on;
    the running app registers it. One per app, for the same reason as the version."""
    return app_name(app)


def data_dir() -> Path:
    """The folder for SQLite files, created on first use by the runtime."""
    configured = os.environ.get("WFCOMM_DATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / ".wfcomm"
    return Path.home() / ".wfcomm"


@dataclass(frozen=True)
class DatabaseTarget:
    """The system database of one app: a SQLite file or a Postgres URL. ``source`` names the
    setting the URL came from, for messages: ``WFCOMM_DATABASE_URL`` or an explicit one
    (:data:`EXPLICIT_URL_NAME`)."""

    url: str
    sqlite_path: Path | None
    source: str = "WFCOMM_DATABASE_URL"

    @property
    def fix_advice(self) -> str:
        """How to point the kit elsewhere, naming the setting the URL came from."""
        return fix_advice(self.source)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_path is not None

    @property
    def display(self) -> str:
        """For messages: the file path, or the URL with its password hidden."""
        if self.sqlite_path is not None:
            return str(self.sqlite_path)
        return hide_password(self.url)


def fix_advice(source: str) -> str:
    """How to fix a URL that came from ``source`` (a setting's name, for messages)."""
    if source == "WFCOMM_DATABASE_URL":
        return "fix WFCOMM_DATABASE_URL or unset it to use SQLite"
    return f"fix {source}"


#: A password in a URL, in any form a driver accepts: ``user:pw@`` and ``?password=pw``.
_PASSWORD_IN_URL = re.compile(
    r"(?P<keep>//[^/@:?#]*:)(?P<secret>[^@]*)(?=@)|(?P<query>[?&]password=)(?P<value>[^&#]*)"
)
_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def hide_password(text: str) -> str:
    """``text`` (a URL, or a message holding one) with every password shown as ``***``:
    ``postgresql://u:***@h/db``, ``...?password=***``. Works on URLs that do not parse."""
    return _PASSWORD_IN_URL.sub(lambda m: (m["keep"] or m["query"]) + "***", text)


def url_problem(url: str) -> str | None:
    """What is wrong with a ``postgresql://`` URL, as a phrase (``its port '54x2' is not a
    number from 1 to 65535``), or None when it parses. Does not connect."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        netloc = url.split("//", 1)[-1].split("/", 1)[0]
        if "[" in netloc or "]" in netloc:
            return "its host is not a valid IPv6 address in [brackets]"
        port_text = netloc.rsplit("@", 1)[-1].rsplit(":", 1)[-1]
        return f"its port {port_text!r} is not a number from 1 to 65535"
    if port is not None and not 1 <= port <= 65535:
        return f"its port {port} is not a number from 1 to 65535"
    try:
        make_url(url)
    except Exception:  # SQLAlchemy's ArgumentError or ValueError, worded per version
        return "it is not of the form postgresql://user:password@host:port/database"
    return None


#: How a message names a URL given explicitly rather than in ``WFCOMM_DATABASE_URL``: the
#: ``database_url`` argument in Python; the ``wfcomm`` command sets its ``--database-url``.
EXPLICIT_URL_NAME: ContextVar[str] = ContextVar(
    "explicit_url_name", default="the database_url argument"
)


def database_target(app: str, database_url: str | None = None) -> DatabaseTarget:
    """Resolve where ``app`` keeps its workflows: an explicit URL, ``WFCOMM_DATABASE_URL``, or
    its own SQLite file in :func:`data_dir`. A malformed URL raises :class:`InvalidInputError`
    naming its problem and the setting to fix (:data:`EXPLICIT_URL_NAME` or
    ``WFCOMM_DATABASE_URL``), password hidden."""
    url = database_url or os.environ.get("WFCOMM_DATABASE_URL") or ""
    if not url:
        path = data_dir() / f"{app_name(app)}.sqlite"
        return DatabaseTarget(url=f"sqlite:///{path}", sqlite_path=path)
    source = EXPLICIT_URL_NAME.get() if database_url else "WFCOMM_DATABASE_URL"
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :]).resolve()
        return DatabaseTarget(url=url, sqlite_path=path, source=source)
    if not url.startswith(_PREFIXES):
        problem = "it is neither sqlite:///<file> nor postgresql://..."
    else:
        problem = url_problem(url)
        if problem is None:
            return DatabaseTarget(url=url, sqlite_path=None, source=source)
    raise InvalidInputError(
        f"Database URL {hide_password(url)!r} is wrong: {problem}; {fix_advice(source)}."
    )


#: DBOS's own default executor id: one process per database.
DEFAULT_EXECUTOR_ID = "local"


def executor_id() -> str:
    """``WFCOMM_EXECUTOR_ID``, else DBOS's default ``local``."""
    return os.environ.get("WFCOMM_EXECUTOR_ID") or DEFAULT_EXECUTOR_ID
