"""Pictures drawn from records: a workflow's timeline and the loop-lag samples.

:func:`workflow_timeline` reads ``DBOS.list_workflow_steps_async`` (each step, ``set_event``,
``recv``, sleep and stream write with its start and end, epoch ms) and, for a crash-worker run,
the step journal and the worker's start/kill history: one lane per record, the time the worker
was down shaded, and a step's killed execution drawn beside its re-run.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state), so a figure
can be rendered in a worker thread (``asyncio.to_thread``) while the kernel's loop runs on.
The returned :class:`Picture` shows as a PNG in JupyterLab, VS Code and on GitHub, and its
text form is one stable line. :func:`timeline_marks` is the drawing's data (:class:`Marks`): the
crash panel draws the same marks live as HTML (``widgets/timeline_view.py``), one element per
record, with no picture rendering on the kernel's loop.

Why matplotlib (measured here, Python 3.11, 2 busy cores, load average ~7): what each adds to a
learner's install beyond what JupyterLab already brings, and its import time.
- matplotlib: ~170 MB with numpy, pillow and fonttools (~100 MB of it numpy and fonttools);
  import of ``matplotlib.figure`` + Agg 3.0-4.3 s under that load. A static PNG: renders
  everywhere with no extension, nbval ignores images, renders in a thread. Already the
  benchmark's plotting library.
- plotly: ~70 MB (plotly 64 MB, narwhals 6 MB); ``import plotly.graph_objects`` 0.25-0.31 s.
  Interactive, but needs its JupyterLab extension in the server's environment, and GitHub
  shows no stored plotly output.
- altair: ~16 MB (altair 10 MB, narwhals 6 MB; jsonschema and jinja2 come with JupyterLab);
  ``import altair`` 9-11 s under that load (its Vega-Lite schema module). Renders natively in
  JupyterLab, but not on GitHub.
matplotlib is imported only when a picture is drawn, in a worker thread, never on the loop.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..durability import CPU_STEP, Execution, step_executions

__all__ = [
    "Bar",
    "Execution",
    "Marks",
    "Picture",
    "loop_lag_plot",
    "timeline_marks",
    "workflow_timeline",
]

#: Record names as a learner reads them (DBOS's internal names on the right).
LABELS = {
    "DBOS.setEvent": "set_event",
    "DBOS.recv": "recv",
    "DBOS.sleep": "sleep",
    "DBOS.writeStream": "write_stream",
    "DBOS.closeStream": "close_stream",
}
COLOURS = {
    "step": "#4c72b0",
    "set_event": "#55a868",
    "recv": "#c44e52",
    "sleep": "#bbbbbb",
    "write_stream": "#8172b2",
    "close_stream": "#8172b2",
    "killed": "#dd8452",
}


@dataclass(frozen=True)
class Bar:
    """One mark: ``lane`` label, ``kind`` (a COLOURS key), start and end in epoch seconds."""

    lane: str
    kind: str
    start: float
    end: float


@dataclass(frozen=True)
class Picture:
    """A PNG with a one-line text form (what nbval compares)."""

    png: bytes
    text: str

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return self.text


def record_bars(steps: Sequence[dict[str, Any]]) -> list[Bar]:
    """One bar per DBOS record; a CPU step's lane names its n (``fibonacci_step n=23``)."""
    bars = []
    for step in steps:
        name = step["function_name"]
        start = (step["started_at_epoch_ms"] or 0) / 1000
        end = (step["completed_at_epoch_ms"] or step["started_at_epoch_ms"] or 0) / 1000
        kind = LABELS.get(name, "step")
        lane = f"{step['function_id']:>2} {LABELS.get(name, name)}"
        if name == CPU_STEP and isinstance(step["output"], dict):
            lane += f" n={step['output'].get('n')}"
        bars.append(Bar(lane, kind, start, max(end, start)))
    return bars


def killed_bars(
    bars: list[Bar], executions: Sequence[Execution], kills: Sequence[float]
) -> list[Bar]:
    """The executions a kill cut short, on their step's lane, from start to the kill."""
    out = []
    for run in executions:
        if run.ended is not None:
            continue
        end = min((k for k in kills if k >= run.started), default=run.started)
        lane = next((b.lane for b in bars if b.lane.endswith(f" n={run.n}")), f"fib({run.n})")
        out.append(Bar(lane, "killed", run.started, end))
    return out


def down_spans(history: Sequence[tuple[float, str]]) -> list[tuple[float, float]]:
    """(killed, started again) pairs from a worker's history, epoch seconds."""
    spans, down = [], None
    for when, what in history:
        if what == "killed":
            down = when
        elif what == "started" and down is not None:
            spans.append((down, when))
            down = None
    return spans


def draw_timeline(bars: Sequence[Bar], gaps: Sequence[tuple[float, float]], title: str) -> bytes:
    """PNG bytes: lanes top to bottom in order of first appearance, seconds from the first
    record on the x axis, worker-down spans shaded. Safe to call from a worker thread."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    lanes = list(dict.fromkeys(bar.lane for bar in bars))
    t0 = min((bar.start for bar in bars), default=0.0)
    shortest = (max((bar.end for bar in bars), default=t0) - t0) / 150  # visible at any scale
    fig = Figure(figsize=(9, 0.8 + 0.22 * max(len(lanes), 1)), dpi=90)
    ax = fig.add_subplot()
    for start, end in gaps:
        ax.axvspan(start - t0, end - t0, color="#f2d0d0", zorder=0)
    for bar in bars:
        y = lanes.index(bar.lane)
        width = max(bar.end - bar.start, shortest, 0.001)
        hatch = "//" if bar.kind == "killed" else None
        ax.barh(y, width, left=bar.start - t0, height=0.6, color=COLOURS[bar.kind], hatch=hatch)
    ax.set_yticks(range(len(lanes)), lanes, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first record")
    ax.set_title(title, fontsize=9)
    legend = [Patch(color=c, label=k) for k, c in COLOURS.items() if any(b.kind == k for b in bars)]
    if gaps:
        legend.append(Patch(color="#f2d0d0", label="worker down"))
    ax.legend(handles=legend, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True)
class Marks:
    """What a timeline draws: ``bars`` (one per DBOS record, then one per killed execution),
    worker-down ``gaps`` (epoch s pairs), and ``records``, how many records DBOS holds."""

    bars: list[Bar]
    gaps: list[tuple[float, float]]
    records: int

    @property
    def killed(self) -> int:
        return sum(bar.kind == "killed" for bar in self.bars)


async def timeline_marks(workflow_id: str, pattern: str | None = None) -> Marks:
    """The workflow's marks from DBOS's records; with ``pattern``, also its crash worker's
    journal (read in a worker thread) and history (killed executions, time down)."""
    import asyncio

    from dbos import DBOS

    from .worker import worker_history

    steps = await DBOS.list_workflow_steps_async(workflow_id)
    bars = record_bars(steps)
    gaps: list[tuple[float, float]] = []
    if pattern is not None:
        history = worker_history(pattern)
        kills = [when for when, what in history if what == "killed"]
        runs = await asyncio.to_thread(step_executions, pattern, workflow_id)
        bars += killed_bars(bars, runs, kills)
        gaps = down_spans(history)
        if bars:
            first, last = min(b.start for b in bars), max(b.end for b in bars)
            gaps = [(a, b) for a, b in gaps if b >= first and a <= last]
    return Marks(bars, gaps, len(steps))


async def workflow_timeline(workflow_id: str, pattern: str | None = None) -> Picture:
    """The workflow's timeline (see :func:`timeline_marks`), drawn in a worker thread."""
    import asyncio

    marks = await timeline_marks(workflow_id, pattern)
    text = f"Timeline of {workflow_id}: {marks.records} records"
    if pattern is not None:
        text += f", {marks.killed} killed execution(s), worker down {len(marks.gaps)} time(s)"
    png = await asyncio.to_thread(draw_timeline, marks.bars, marks.gaps, text)
    return Picture(png, text)


def draw_loop_lag(series: Sequence[tuple[str, Sequence[float]]], interval_ms: float) -> bytes:
    """PNG bytes: each series' lag samples (ms) against time; a sample is taken every
    ``interval_ms`` plus the lag it measured."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3), dpi=90)
    ax = fig.add_subplot()
    for label, samples in series:
        times, now = [], 0.0
        for lag in samples:
            now += interval_ms + lag
            times.append(now / 1000)
        ax.plot(times, list(samples), label=label, linewidth=1)
    ax.set_xlabel("seconds")
    ax.set_ylabel("event-loop lag (ms)")
    ax.set_title("How late the kernel's loop ran while the same work computed", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


async def loop_lag_plot(n_steps: int = 3, fib_base: int = 25) -> Picture:
    """Run :func:`wfcomm_helpers.seed_mistakes.compare_loop_lag` and plot both runs' samples."""
    import asyncio

    from .seed_mistakes import LAG_INTERVAL_MS, compare_loop_lag

    runs = await compare_loop_lag(n_steps, fib_base)
    series = [(run.label, run.samples_ms) for run in runs]
    png = await asyncio.to_thread(draw_loop_lag, series, LAG_INTERVAL_MS)
    text = "Loop lag: " + "; ".join(f"{run.label} up to {run.max_lag_ms:.0f} ms" for run in runs)
    return Picture(png, text)
