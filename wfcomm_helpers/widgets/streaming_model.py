"""The streaming panel's model: start a workflow that writes a log, and read it two ways.

Reader 1 tails the stream by offset: it asks "what is there from offset k on?" (an answer that
comes back at once) and remembers where to continue. Reader 2 follows it live with
``read_stream_async``. Both get every value: reading a stream never consumes, and
:meth:`StreamingModel.read_again` reads any part of it again. Phases: ``idle`` ->
``starting`` -> ``open`` -> ``done`` (the stream is closed and both readers have it all).
"""

from __future__ import annotations

import asyncio
from typing import Any

from traitlets import Int, List, Unicode

from ..patterns.compute import DEFAULT_FIB_BASE
from ..patterns.streaming import follow_stream, read_stream_chunk, start_streaming
from ..runtime import validation
from .model import PanelModel, check_dbos, common_notice, started, tick


def describe_value(offset: int, value: Any) -> str:
    """One log line: offset, type and the human part of a stream value."""
    if not isinstance(value, dict):
        return f"[{offset}] {value!r}"
    kind = value.get("type", "?")
    if kind == "result":
        result = value.get("result") or {}
        text = f"step {value.get('step')}: fib({result.get('n')}) = {result.get('fibonacci')}"
    else:
        text = str(value.get("message", ""))
    return f"[{offset}] {kind}: {text}"


class StreamingModel(PanelModel):
    """``tail`` / ``live`` / ``reread``: each reader's lines so far (a new list per change);
    ``stream_state``: "" before Start, then "open" or "closed"."""

    tail = List(Unicode())
    live = List(Unicode())
    reread = List(Unicode())
    reread_from = Int(None, allow_none=True)
    stream_state = Unicode("")

    def __init__(self, n_steps: int, *, fib_base: int = DEFAULT_FIB_BASE) -> None:
        super().__init__("Streaming workflow")
        self.n_steps = validation.n_steps(n_steps)
        self.fib_base = validation.fib_base(fib_base)

    def start(self) -> bool:
        return self.run_main(self._run)

    async def _run(self) -> None:
        self.tail, self.live, self.reread, self.reread_from = [], [], [], None
        self.stream_state = "open"
        check_dbos()
        self.workflow_id = await started(start_streaming(self.n_steps, fib_base=self.fib_base))
        self.phase = "open"
        await asyncio.gather(self._tail(self.workflow_id), self._follow(self.workflow_id))
        self.phase = "done"

    async def _tail(self, workflow_id: str) -> None:
        """Reader 1: ask for everything after the last offset seen; stop once closed."""
        offset = 0
        while True:
            chunk = await read_stream_chunk(workflow_id, offset)
            lines = [describe_value(chunk.offset + i, v) for i, v in enumerate(chunk.values)]
            if lines:
                self.tail = [*self.tail, *lines]
            offset = chunk.next_offset
            if chunk.closed:
                self.stream_state = "closed"
                return
            await tick()

    async def _follow(self, workflow_id: str) -> None:
        """Reader 2: read_stream_async yields each value as it is written, until the close."""
        async for offset, value in follow_stream(workflow_id):
            self.live = [*self.live, describe_value(offset, value)]

    def read_again(self, offset: int) -> bool:
        """Read from ``offset`` without waiting (a side task); refused before Start."""
        if self.workflow_id is None:
            return self.refuse("no-stream")
        workflow_id = self.workflow_id
        return self.run_side(lambda: self._read_again(workflow_id, offset)) is not None

    async def _read_again(self, workflow_id: str, offset: int) -> None:
        self.reread_from = None
        start = validation.offset(offset)
        chunk = await read_stream_chunk(workflow_id, start)
        self.reread = [describe_value(chunk.offset + i, v) for i, v in enumerate(chunk.values)]
        self.error = None
        self.reread_from = start

    def describe(self) -> str:
        if self.refusal == "no-stream":
            return "Press Start first: there is no stream to read yet."
        common = common_notice(self)
        if common:
            return common
        if self.reread_from is not None:
            return (
                f"Re-read {len(self.reread)} values from offset {self.reread_from}; reader 1 "
                f"still has {len(self.tail)}: reading does not consume."
            )
        if self.phase == "starting":
            return "Starting a streaming workflow…"
        if self.phase == "open":
            return f"Started {self.workflow_id}: two readers are reading its stream."
        if self.phase == "done":
            return (
                f"Started {self.workflow_id}: it closed its stream, and each reader got all "
                f"{len(self.tail)} values."
            )
        return self.message
