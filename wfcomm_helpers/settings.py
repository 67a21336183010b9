"""Where the kit keeps its data and how DBOS is configured: one place for every setting.

Environment variables (all optional):
- ``WFCOMM_DATABASE_URL``: a ``postgresql://`` URL; when set, every app uses that server
  instead of its own SQLite file.
- ``WFCOMM_DATA_DIR``: the folder for the SQLite files (default: ``.wfcomm/`` at the root of a
  source checkout, else ``~/.wfcomm``).
- ``WFCOMM_EXECUTOR_ID``: this process's DBOS executor id (default ``local``); workshop learners
  sharing one Postgres server each get their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from .errors import InvalidInputError

#: Pinned so a kernel restart recovers PENDING workflows even after a cell or this package was
#: edited: DBOS's default version is a hash of the workflow sources, and a changed hash strands
#: every workflow started before the edit. Bump it only when a workflow's steps change order.
WORKFLOW_VERSION = "1"

#: How often DBOS's notification listener polls SQLite for new messages, events and stream
#: values. SQLite has no LISTEN/NOTIFY, so a waiting reader wakes only on this poll: DBOS's
#: default of 1.0 s makes every hop take 0.4 to 0.97 s. Measured on 2 cores (docs/benchmarks.md,
#: slowest path, idle CPU with 3 workflows waiting): 0.005 s -> p50 7 ms, p95 10 ms, 18 %;
#: 0.01 s -> 10 / 17 ms, 13 %; 0.02 s -> 18 / 26 ms, 11 %; 0.03 s -> 19 / 35 ms, 5 %.
#: No interval meets both the latency targets (p50 <= 10 ms, p95 <= 25 ms) and the idle target
#: (<= 5 %): the wake-up is a poll, so they pull against each other. 0.02 s is the middle of
#: that trade-off, 20-50x faster than the default. Postgres uses LISTEN/NOTIFY and ignores
#: this (no idle polling cost). `python3 kit.py bench` re-measures it.
SQLITE_POLLING_INTERVAL_SEC = 0.02

QUEUE_POLLING_INTERVAL_SEC = 0.1

APP_PREFIX = "wfcomm-"


def app_name(app: str) -> str:
    """``"events"`` -> ``"wfcomm-events"``; a name that already has the prefix is kept."""
    if not isinstance(app, str) or not app.strip():
        raise InvalidInputError("The app name is empty: use e.g. 'events', 'messaging' or 'streaming'.")
    app = app.strip()
    if not all(ch.isalnum() or ch in "-_" for ch in app):
        raise InvalidInputError(
            f"App name {app!r} may only hold letters, digits, '-' and '_'."
        )
    return app if app.startswith(APP_PREFIX) else APP_PREFIX + app


def application_version(app: str) -> str:
    """``wfcomm-events-v1``. DBOS 3.4 lets one application own each version name in a system
    database, so apps sharing one Postgres database (three notebooks and ``wfcomm serve`` on
    one ``WFCOMM_DATABASE_URL``) each need their own."""
    return f"{app_name(app)}-v{WORKFLOW_VERSION}"


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
    """The system database of one app: a SQLite file or a Postgres URL."""

    url: str
    sqlite_path: Path | None

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_path is not None

    @property
    def display(self) -> str:
        """For messages: the file path, or the URL with its password hidden."""
        if self.sqlite_path is not None:
            return str(self.sqlite_path)
        return hide_password(self.url)


def hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def database_target(app: str, database_url: str | None = None) -> DatabaseTarget:
    """Resolve where ``app`` keeps its workflows: an explicit URL, ``WFCOMM_DATABASE_URL``, or
    its own SQLite file in :func:`data_dir`."""
    url = database_url or os.environ.get("WFCOMM_DATABASE_URL") or ""
    if not url:
        path = data_dir() / f"{app_name(app)}.sqlite"
        return DatabaseTarget(url=f"sqlite:///{path}", sqlite_path=path)
    if url.startswith("sqlite:///"):
        return DatabaseTarget(url=url, sqlite_path=Path(url[len("sqlite:///"):]).resolve())
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return DatabaseTarget(url=url, sqlite_path=None)
    raise InvalidInputError(
        f"Database URL {hide_password(url)!r} is neither sqlite:///<file> nor postgresql://...: "
        "fix WFCOMM_DATABASE_URL or unset it to use SQLite."
    )


def executor_id() -> str:
    return os.environ.get("WFCOMM_EXECUTOR_ID") or "local"
