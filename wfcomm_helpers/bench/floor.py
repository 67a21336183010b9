"""The floor: a raw SQLite commit plus its read-back from a second connection, with no DBOS in
between. SQLite's defaults, as DBOS leaves them (rollback journal, full sync), so no hop through
DBOS can be faster than this."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def measure(folder: Path, n: int) -> list[float]:
    """Seconds per (insert + commit on one connection, select on another) round trip."""
    path = folder / "floor.sqlite"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE IF NOT EXISTS hop (i INTEGER PRIMARY KEY, payload TEXT)")
    reader = sqlite3.connect(path, isolation_level=None)
    samples = []
    try:
        for i in range(n):
            began = time.perf_counter()
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO hop VALUES (?, ?)", (i, '{"hop": %d}' % i))
            writer.execute("COMMIT")
            row = reader.execute("SELECT payload FROM hop WHERE i = ?", (i,)).fetchone()
            samples.append(time.perf_counter() - began)
            assert row is not None
    finally:
        writer.close()
        reader.close()
    return samples
