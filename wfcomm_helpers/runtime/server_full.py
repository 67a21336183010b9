"""A full PostgreSQL server (every connection slot taken) told apart from a dead one, and the
one line that says so with the fix."""

from __future__ import annotations

#: PostgreSQL's SQLSTATE for "too many connections": ``max_connections`` (or a role's or
#: database's CONNECTION LIMIT) is reached. The server is up; it refuses new sessions.
TOO_MANY_CONNECTIONS = "53300"

#: What the server says then. A refused *connection* carries no SQLSTATE in psycopg 3 (only
#: the server's text), so these are matched too: "sorry, too many clients already",
#: "remaining connection slots are reserved for ...", "too many connections for role/database".
TOO_MANY_CONNECTIONS_TEXTS = (
    "too many clients",
    "remaining connection slots are reserved",
    "too many connections for",
)


def is_server_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from or during, is PostgreSQL refusing a
    session because every connection slot is taken."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) == TOO_MANY_CONNECTIONS or any(
            text in str(current) for text in TOO_MANY_CONNECTIONS_TEXTS
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def server_full_text(display: str) -> str:
    """The one line for a full server, with the fix: a kernel holds 3 connections (DBOS's pool
    and its LISTEN; docs/benchmarks.md, the learners section), a teacher's command one or two."""
    return (
        f"PostgreSQL at {display} is running but full: no free connection slots "
        "(max_connections, or a CONNECTION LIMIT, is reached). Shut down the kernels that are "
        "not in use (Kernel > Shut Down Kernel), or have the teacher raise max_connections "
        "to 3 per running kernel plus 10 (ALTER SYSTEM SET max_connections = 300; for 30 "
        "learners with all three notebooks open; then restart PostgreSQL)."
    )
