"""One line instead of a wall when the database goes away while DBOS runs.

DBOS does the right thing when PostgreSQL stops: every workflow pauses and each database call
retries until the server is back, so nothing committed is lost and the workflows go on. But its
background threads each log a warning (some with a traceback) every second or so: hundreds of
lines in a notebook for a short outage. This filter on the ``dbos`` logger turns an outage into
one line saying what happened and what to do, and stays quiet until the warnings stop.
"""

from __future__ import annotations

import logging
import time

#: Text in DBOS's warnings (and their exceptions) that means "cannot reach the database".
CONNECTION_SIGNS = (
    "connection failed",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "consuming input failed",
    "could not connect",
)
#: Warnings this long apart belong to two outages, each announced once.
QUIET_SECONDS = 10.0


class OutageFilter(logging.Filter):
    def __init__(self, display: str) -> None:
        super().__init__()
        self.display = display
        self.last_seen = -float("inf")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING or not _is_connection_problem(record):
            return True
        now = time.monotonic()
        first = now - self.last_seen > QUIET_SECONDS
        self.last_seen = now
        if not first:
            return False
        record.msg = (
            f"Lost the connection to PostgreSQL at {self.display}: workflows are paused and "
            "DBOS retries until the server is back (nothing committed is lost); start it "
            "again, e.g. sudo pg_ctlcluster 15 main start."
        )
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


def _is_connection_problem(record: logging.LogRecord) -> bool:
    text = record.getMessage().lower()
    if record.exc_info and record.exc_info[1] is not None:
        text += " " + str(record.exc_info[1]).lower()
    return any(sign in text for sign in CONNECTION_SIGNS)


def install(display: str) -> OutageFilter:
    """Replace any earlier outage filter on the ``dbos`` logger with one for ``display``."""
    logger = logging.getLogger("dbos")
    for old in [f for f in logger.filters if isinstance(f, OutageFilter)]:
        logger.removeFilter(old)
    outage = OutageFilter(display)
    logger.addFilter(outage)
    return outage
