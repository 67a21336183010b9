"""A live timeline for a panel: the same marks as :func:`wfcomm_helpers.timeline.workflow_timeline`,
drawn as HTML (one ``div`` per mark) for an ``ipywidgets.HTML``.

Why HTML and not the matplotlib PNG: the panel redraws while the workflow runs, and building
this string is a few microseconds per mark on the kernel's loop, where rendering a PNG is tens
of milliseconds of CPU work per frame. Each mark is an element a browser test can count:
``.wfcomm-timeline-mark`` once per record DBOS holds (``list_workflow_steps_async``),
``.wfcomm-timeline-killed`` once per execution a kill cut short, ``.wfcomm-timeline-down`` for
the time the worker was down; the root's ``data-records`` says how many records there are.
"""

from __future__ import annotations

from html import escape

from ..teaching.timeline import COLOURS, Bar, Marks

#: The narrowest a mark is drawn (per cent of the track), so a 1 ms record stays visible.
MIN_WIDTH_PERCENT = 0.6
LANE_STYLE = "display:flex;align-items:center;gap:6px;height:14px"
NAME_STYLE = "flex:0 0 14em;font:11px monospace;white-space:nowrap"
TRACK_STYLE = "position:relative;flex:1 1 auto;min-width:0;height:10px;background:#f4f4f4"
DOWN_COLOUR = "#f2d0d0"


def _span(start: float, end: float, t0: float, total: float) -> str:
    """``left:..%;width:..%`` for ``start``..``end`` (epoch s) on a track of ``total`` s."""
    left = (start - t0) / total * 100
    width = max((end - start) / total * 100, MIN_WIDTH_PERCENT)
    left = min(max(left, 0.0), 100 - MIN_WIDTH_PERCENT)
    return f"left:{left:.2f}%;width:{min(width, 100 - left):.2f}%"


def _mark(bar: Bar, t0: float, total: float) -> str:
    css = "wfcomm-timeline-killed" if bar.kind == "killed" else "wfcomm-timeline-mark"
    title = f"{bar.lane.strip()} ({bar.kind}): {bar.start - t0:.2f}-{bar.end - t0:.2f} s"
    style = f"position:absolute;top:0;bottom:0;background:{COLOURS[bar.kind]}"
    if bar.kind == "killed":
        style += ";opacity:0.6;border:1px dashed #333;box-sizing:border-box"
    return (
        f'<div class="{css}" data-kind="{bar.kind}" title="{escape(title)}" '
        f'style="{style};{_span(bar.start, bar.end, t0, total)}"></div>'
    )


def timeline_html(marks: Marks) -> str:
    """The marks as HTML: a caption line, then one lane per record name (order of first
    appearance), each mark placed on a shared time axis, worker-down spans shaded."""
    bars = marks.bars
    t0 = min((bar.start for bar in bars), default=0.0)
    t1 = max([bar.end for bar in bars] + [end for _, end in marks.gaps], default=t0)
    total = max(t1 - t0, 0.001)
    caption = (
        f"timeline: {marks.records} records (one mark each), {marks.killed} killed "
        f"execution(s), worker down {len(marks.gaps)} time(s); 0 to {total:.1f} s"
    )
    downs = "".join(
        f'<div class="wfcomm-timeline-down" style="position:absolute;top:0;bottom:0;'
        f'background:{DOWN_COLOUR};{_span(max(a, t0), min(b, t1), t0, total)}"></div>'
        for a, b in marks.gaps
    )
    rows = []
    for lane in dict.fromkeys(bar.lane for bar in bars):
        inside = "".join(_mark(bar, t0, total) for bar in bars if bar.lane == lane)
        rows.append(
            f'<div style="{LANE_STYLE}"><span class="wfcomm-timeline-name" style="{NAME_STYLE}">'
            f"{escape(lane.strip())}</span>"
            f'<div style="{TRACK_STYLE}">{downs}{inside}</div></div>'
        )
    return (
        f'<div class="wfcomm-timeline" data-records="{marks.records}" style="line-height:1.4">'
        f'<div class="wfcomm-timeline-caption" style="font-size:12px">{escape(caption)}</div>'
        f"{''.join(rows)}</div>"
    )
