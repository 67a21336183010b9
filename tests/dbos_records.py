"""Read what DBOS recorded, straight from the system database, to assert exact histories."""

from __future__ import annotations

import base64
import pickle
from typing import Any

import sqlalchemy as sa


def _decode(value: str | None, serialization: str | None) -> Any:
    if value is None:
        return None
    assert serialization == "py_pickle", f"unexpected serialization {serialization!r}"
    return pickle.loads(base64.b64decode(value))


def event_history(database_url: str, workflow_id: str) -> list[tuple[str, Any]]:
    """Every set_event the workflow made, in order: [(key, value), ...]."""
    url = sa.make_url(database_url)
    if url.drivername.startswith("postgres"):
        url = url.set(drivername="postgresql+psycopg")
    table = (
        "dbos.workflow_events_history"
        if url.drivername.startswith("postgres")
        else ("workflow_events_history")
    )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT key, value, serialization FROM {table} "
                    "WHERE workflow_uuid = :wid ORDER BY function_id"
                ),
                {"wid": workflow_id},
            ).fetchall()
    finally:
        engine.dispose()
    return [(row[0], _decode(row[1], row[2])) for row in rows]
