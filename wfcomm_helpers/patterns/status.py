"""A workflow's status and result in one answer, for ``wfcomm status|result`` and
``GET /workflows/{id}``: the messaging outcome ("completed" or "cancelled") is only visible as
the workflow's return value, which the seed never showed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from dbos import DBOS

from ..runtime import validation
from .lookup import Backend, workflow_summary


async def workflow_report(
    workflow_id: str, *, wait: float = 0.0, backend: Backend = DBOS
) -> dict[str, Any]:
    """``{workflow_id, workflow_name, pattern, status, done, result, error}``, after waiting up
    to ``wait`` seconds for the workflow to finish (0: answer at once)."""
    seconds = validation.timeout_seconds(wait, "The wait")
    summary = await workflow_summary(workflow_id, backend=backend)
    if not summary.is_done and seconds > 0:
        handle = await backend.retrieve_workflow_async(workflow_id)
        # Ended or not, the summary read below tells: a timeout means still running, and a
        # workflow that raised has its error recorded there.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(handle.get_result(), seconds)
        summary = await workflow_summary(workflow_id, backend=backend)
    return {
        "workflow_id": summary.workflow_id,
        "workflow_name": summary.name,
        "pattern": summary.pattern,
        "status": summary.status,
        "done": summary.is_done,
        "result": summary.output if summary.status == "SUCCESS" else None,
        "error": summary.error,
    }
