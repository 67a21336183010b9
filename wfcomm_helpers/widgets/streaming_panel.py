"""The streaming panel's view: Start and the notice in one row, then the two readers' logs and
the re-read control. The reading is done by :class:`.streaming_model.StreamingModel`."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import dlink

from ..patterns.compute import DEFAULT_FIB_BASE
from .common import Panel, button, row, styled, text_label
from .streaming_model import StreamingModel, describe_value

__all__ = ["StreamLog", "StreamingPanel", "describe_value"]


class StreamLog:
    """An Output used as an append-only log of one reader, and its counter label, linked to
    one of the model's line lists."""

    def __init__(self, model: StreamingModel, name: str, css_log: str, css_count: str) -> None:
        self.output = styled(
            widgets.Output(layout={"max_height": "14em", "overflow": "auto"}), css_log
        )
        self.count = text_label(css_count, "0 values")
        self.n = 0
        model.observe(self._changed, names=name)

    def _changed(self, change: Any) -> None:
        # The first change's "old" is traitlets' Undefined: the list had never been read.
        old = change["old"] if isinstance(change["old"], list) else []
        new = list(change["new"])
        if new[: len(old)] != old or not old:
            self.output.outputs = ()
            old = []
        added = new[len(old) :]
        if added:
            self.output.append_stdout("".join(line + "\n" for line in added))
        self.n = len(new)
        self.count.value = f"{self.n} values"

    def lines(self) -> list[str]:
        """The log's text, one line per value (what a test asserts on)."""
        text = "".join(o.get("text", "") for o in self.output.outputs)
        return text.splitlines()


class StreamingPanel(Panel):
    def __init__(self, n_steps: int = 3, *, fib_base: int = DEFAULT_FIB_BASE) -> None:
        super().__init__(
            busy_label="Streaming workflow", model=StreamingModel(n_steps, fib_base=fib_base)
        )
        self.model: StreamingModel
        self.n_steps, self.fib_base = self.model.n_steps, self.model.fib_base
        self.start_button = button("Start", "wfcomm-stream-start")
        self.log = StreamLog(self.model, "tail", "wfcomm-stream-log", "wfcomm-stream-count")
        self.closed = text_label("wfcomm-stream-closed")
        dlink((self.model, "stream_state"), (self.closed, "value"))
        self.live = StreamLog(
            self.model, "live", "wfcomm-stream-live-log", "wfcomm-stream-live-count"
        )
        self.offset = styled(
            widgets.IntText(value=0, description="from offset", layout={"width": "12em"}),
            "wfcomm-stream-offset",
        )
        self.reread_button = button("Re-read", "wfcomm-stream-reread")
        self.reread = StreamLog(
            self.model, "reread", "wfcomm-stream-reread-log", "wfcomm-stream-reread-count"
        )
        self.start_button.on_click(lambda _: self.start())
        self.reread_button.on_click(lambda _: self.read_again())
        self.buttons = [self.start_button, self.reread_button]
        self.widget = self.layout(
            row(self.start_button, self.notice),
            row(widgets.Label("reader 1:"), self.log.count, widgets.Label("stream:"), self.closed),
            widgets.HTML("<b>Reader 1</b>: tails the stream by offset"),
            self.log.output,
            row(
                widgets.HTML("<b>Reader 2</b>: follows it live, at the same time:"), self.live.count
            ),
            self.live.output,
            row(self.offset, self.reread_button, self.reread.count),
            self.reread.output,
        )

    def start(self) -> bool:
        return self.model.start()

    def read_again(self) -> bool:
        """What the Re-read button does: read from the chosen offset, without waiting."""
        return self.model.read_again(self.offset.value)
