"""The streaming panel: Start a workflow that writes a log, and read it two ways at once.

Reader 1 tails the stream by offset: it asks "what is there from offset k on?" (an answer that
comes back at once) and remembers where to continue. Reader 2 follows it live with
``read_stream_async``. Both get every value: reading a stream never consumes it, and the
re-read control can read any part of it again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ipywidgets as widgets

from .. import validation
from ..compute import DEFAULT_FIB_BASE
from ..streaming import follow_stream, read_stream_chunk, start_streaming
from .common import REFRESH_SECONDS, Panel, styled


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


class StreamLog:
    """An Output used as an append-only log, plus its counter label."""

    def __init__(self, css_log: str, css_count: str) -> None:
        self.output = styled(
            widgets.Output(layout={"max_height": "14em", "overflow": "auto"}), css_log
        )
        self.count = styled(widgets.Label(value="0 values"), css_count)
        self.n = 0

    def clear(self) -> None:
        self.output.outputs = ()
        self.n = 0
        self.count.value = "0 values"

    def append(self, offset: int, value: Any) -> None:
        self.output.append_stdout(describe_value(offset, value) + "\n")
        self.n += 1
        self.count.value = f"{self.n} values"

    def lines(self) -> list[str]:
        """The log's text, one line per value (what a test asserts on)."""
        text = "".join(o.get("text", "") for o in self.output.outputs)
        return text.splitlines()


class StreamingPanel(Panel):
    def __init__(self, n_steps: int = 3, *, fib_base: int = DEFAULT_FIB_BASE) -> None:
        super().__init__(busy_label="Streaming workflow")
        self.n_steps = validation.n_steps(n_steps)
        self.fib_base = validation.fib_base(fib_base)
        self.start_button = styled(widgets.Button(description="Start"), "wfcomm-stream-start")
        self.log = StreamLog("wfcomm-stream-log", "wfcomm-stream-count")
        self.closed = styled(widgets.Label(value=""), "wfcomm-stream-closed")
        self.live = StreamLog("wfcomm-stream-live-log", "wfcomm-stream-live-count")
        self.offset = styled(
            widgets.IntText(value=0, description="from offset"), "wfcomm-stream-offset"
        )
        self.reread_button = styled(widgets.Button(description="Re-read"), "wfcomm-stream-reread")
        self.reread = StreamLog("wfcomm-stream-reread-log", "wfcomm-stream-reread-count")
        self.start_button.on_click(lambda _: self.start())
        self.reread_button.on_click(lambda _: self.read_again())
        self.widget = self.layout(
            widgets.HBox([self.start_button, self.log.count, self.closed]),
            widgets.HTML("<b>Reader 1</b>: tails the stream by offset"),
            self.log.output,
            widgets.HBox(
                [
                    widgets.HTML("<b>Reader 2</b>: follows it live, at the same time"),
                    self.live.count,
                ]
            ),
            self.live.output,
            widgets.HBox([self.offset, self.reread_button, self.reread.count]),
            self.reread.output,
        )

    def start(self) -> bool:
        return self.run_main(self._run)

    async def _run(self) -> None:
        for log in (self.log, self.live, self.reread):
            log.clear()
        self.closed.value = "open"
        self.workflow_id = await start_streaming(self.n_steps, fib_base=self.fib_base)
        self.say(f"Started {self.workflow_id}: two readers are reading its stream.")
        await asyncio.gather(self._tail(self.workflow_id), self._follow(self.workflow_id))

    async def _tail(self, workflow_id: str) -> None:
        """Reader 1: ask for everything after the last offset seen; stop once closed."""
        offset = 0
        while True:
            chunk = await read_stream_chunk(workflow_id, offset)
            for i, value in enumerate(chunk.values):
                self.log.append(chunk.offset + i, value)
            offset = chunk.next_offset
            if chunk.closed:
                self.closed.value = "closed"
                return
            await asyncio.sleep(REFRESH_SECONDS)

    async def _follow(self, workflow_id: str) -> None:
        """Reader 2: read_stream_async yields each value as it is written, until the close."""
        async for offset, value in follow_stream(workflow_id):
            self.live.append(offset, value)

    def read_again(self) -> bool:
        """What the Re-read button does: read from the chosen offset, without waiting."""
        if self.workflow_id is None:
            self.say("Press Start first: there is no stream to read yet.")
            return False
        workflow_id = self.workflow_id
        self.run_side(lambda: self._read_again(workflow_id))
        return True

    async def _read_again(self, workflow_id: str) -> None:
        start = validation.offset(self.offset.value)
        chunk = await read_stream_chunk(workflow_id, start)
        self.reread.clear()
        for i, value in enumerate(chunk.values):
            self.reread.append(chunk.offset + i, value)
        self.say(
            f"Re-read {len(chunk.values)} values from offset {start}; reader 1 still has "
            f"{self.log.n}: reading does not consume."
        )
