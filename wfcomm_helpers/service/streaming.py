"""The streaming routes: the seed's start, offset reads, and a live tail (Server-Sent Events)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from ..contract import END_EVENT, FOLLOW_STREAM, READ_STREAM, START_STREAMING, VALUE_EVENT
from ..patterns import streaming
from ..patterns.compute import DEFAULT_FIB_BASE
from ..patterns.lookup import workflow_summary
from .params import FibBase, Offset, StepCount, WorkflowId

router = APIRouter(tags=["streaming"])


@router.post(START_STREAMING.template)
async def start_streaming(
    workflow_id: WorkflowId, n_steps: StepCount, fib_base: FibBase = DEFAULT_FIB_BASE
) -> dict[str, Any]:
    """Start a streaming workflow (2N+2 values)."""
    wid = await streaming.start_streaming(n_steps, workflow_id, fib_base=fib_base)
    return {
        "workflow_id": wid,
        "message": f"Streaming workflow {wid} started with {n_steps} steps",
        "read_stream": READ_STREAM.path(workflow_id=wid),
    }


@router.get(READ_STREAM.template)
async def read_stream(workflow_id: WorkflowId, offset: Offset = 0) -> dict[str, Any]:
    """The values written so far from ``offset``, where to continue, and if it is closed."""
    chunk = await streaming.read_stream_chunk(workflow_id, offset)
    return {
        "workflow_id": workflow_id,
        "stream_values": chunk.values,
        "total_messages": len(chunk.values),
        "offset": chunk.offset,
        "next_offset": chunk.next_offset,
        "closed": chunk.closed,
    }


@router.get(FOLLOW_STREAM.template)
async def follow_stream(workflow_id: WorkflowId, offset: Offset = 0) -> EventSourceResponse:
    """Server-Sent Events: one ``value`` event per stream value (``id`` is its offset), then
    one ``end`` event with ``next_offset`` once the stream is closed."""
    await workflow_summary(workflow_id, expected=streaming.WORKFLOW_NAME)  # 404/409 before 200

    async def values() -> AsyncIterator[dict[str, str]]:
        position = offset
        async for position, value in streaming.follow_stream(workflow_id, offset):
            yield {"event": VALUE_EVENT, "id": str(position), "data": json.dumps(value)}
            position += 1
        yield {"event": END_EVENT, "data": json.dumps({"next_offset": position, "closed": True})}

    return EventSourceResponse(values())
