"""The doctor's checks of the kit's databases: the data folder, each app's SQLite file, or the
PostgreSQL server of ``WFCOMM_DATABASE_URL``."""

from __future__ import annotations

import os
import sys
import tempfile

from .environment import Check


def check_data_dir() -> Check:
    from ..runtime.settings import data_dir

    folder = data_dir()
    fix = "mkdir -p ~/wfcomm-data && export WFCOMM_DATA_DIR=~/wfcomm-data"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".wfcomm-doctor-"):
            pass
    except OSError as exc:
        return Check("data folder", False, f"cannot write to {folder} ({exc.strerror})", fix)
    return Check("data folder", True, f"{folder} is writable")


def _apps() -> list[str]:
    from ..patterns.registry import registered

    return sorted(p.name for p in registered())


def _held_here(app: str) -> bool:
    """This process runs ``app`` itself (a setup cell re-run): not a conflict."""
    runtime = sys.modules.get(f"{__package__.rpartition('.')[0]}.runtime.lifecycle")
    return bool(runtime and runtime.is_running() and runtime.current().app == app)


def check_sqlite_files(apps: list[str] | None = None) -> list[Check]:
    """Each app's SQLite file: free, in use by a running process (fine: a learner's own
    kernel), or held by an orphan whose Jupyter server is gone (a problem: kill it)."""
    from ..runtime.guard import is_held, is_orphaned
    from ..runtime.settings import app_name, database_target

    checks = []
    for app in apps or _apps():
        path = database_target(app_name(app)).sqlite_path
        assert path is not None
        owner = is_held(path)
        if owner is None or owner.get("pid") == os.getpid():
            state = "used by this process" if owner else "free"
            checks.append(Check(f"{app} database", True, f"{path.name} is {state}"))
            continue
        pid = owner.get("pid", "?")
        holder = (
            f"process {pid} on {owner.get('host', '?')} ({owner.get('kind', 'unknown')}, "
            f"started {owner.get('started', '?')})"
        )
        if not is_orphaned(owner):
            checks.append(
                Check(
                    f"{app} database",
                    True,
                    f"{path.name} is in use by {holder}; to open it in another kernel, shut "
                    "that one down first (Kernel > Shut Down Kernel)",
                )
            )
            continue
        checks.append(
            Check(
                f"{app} database",
                False,
                f"{path} is held by {holder}, whose Jupyter server (process "
                f"{owner.get('parent')}) is gone, so no notebook can use it:",
                f"kill {pid}",
            )
        )
    return checks


def check_postgres(url: str) -> list[Check]:
    import psycopg
    from sqlalchemy.engine import make_url

    from ..runtime.errors import connection_failure_reason
    from ..runtime.guard import connect_to_server, guard_holders, postgres_lock_key
    from ..runtime.settings import app_name, executor_id, hide_password

    shown = hide_password(url)
    parsed = make_url(url)
    try:
        conn = connect_to_server(url)
    except psycopg.Error as exc:
        reason = connection_failure_reason(exc)
        return [
            Check(
                "postgres",
                False,
                f"cannot reach {shown} ({reason}); start that server, or use SQLite instead:",
                "unset WFCOMM_DATABASE_URL",
            )
        ]
    checks = [Check("postgres", True, f"{shown} answers")]
    database, executor = parsed.database or "postgres", executor_id()
    with conn:
        for app in _apps():
            name = app_name(app)
            key = postgres_lock_key(database, name, executor)
            if not guard_holders(conn, {name: key}) or _held_here(name):
                checks.append(Check(f"{app} executor id", True, f"{executor!r} is free"))
            else:
                checks.append(
                    Check(
                        f"{app} executor id",
                        False,
                        f"another process runs {name} as executor {executor!r} on {shown}: "
                        "shut it down, or give this process its own id:",
                        "export WFCOMM_EXECUTOR_ID=$USER",
                    )
                )
    return checks
