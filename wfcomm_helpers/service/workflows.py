"""Routes for any workflow (status and result) and the service's health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..contract import HEALTH, WORKFLOW
from ..patterns.status import workflow_report
from ..runtime import lifecycle as runtime
from ..runtime.health import rss_mb
from .params import WaitSeconds, WorkflowId

router = APIRouter(tags=["workflows"])


@router.get(WORKFLOW.template)
async def workflow_status(workflow_id: WorkflowId, timeout: WaitSeconds = 0.0) -> dict[str, Any]:
    """Status and result; ``?timeout=S`` waits up to S seconds for the workflow to end."""
    return await workflow_report(workflow_id, wait=timeout)


@router.get(HEALTH.template)
async def health() -> dict[str, Any]:
    """The seed's health answer (process memory, MB), and the app this service runs."""
    return {"status": "ok", "memory_mb": rss_mb(), "app": runtime.current().app}
