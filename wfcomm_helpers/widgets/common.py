"""What every panel view shares: styled widgets, a notice next to the buttons, a health strip,
and the rule that a re-run cell closes the previous panel of its kind.

A view holds no state and makes no DBOS call: it builds widgets, links their traits to its
model (:mod:`.model`) and forwards clicks. Widgets change only through their traits, so
background work never prints (under ipykernel >= 7.1 a late ``print`` lands in whichever cell
runs next).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, ClassVar, TypeVar

import ipywidgets as widgets
from traitlets import dlink

from .health import HealthStrip
from .model import REFRESH_SECONDS, PanelModel, one_line

__all__ = ["REFRESH_SECONDS", "Panel", "one_line", "row", "styled", "text_label"]

W = TypeVar("W", bound=widgets.DOMWidget)

#: Labels in a panel wrap instead of ending in "…" (ipywidgets' labels never wrap), and a
#: stale panel is greyed out. Scoped to ``.wfcomm-panel``.
PANEL_CSS = """<style>
.wfcomm-panel .widget-label, .wfcomm-panel .widget-html-content {
  white-space: normal; overflow-wrap: anywhere; height: auto; line-height: 1.4; }
.wfcomm-panel .widget-label, .wfcomm-panel .widget-html { height: auto; }
.wfcomm-panel .wfcomm-notice { min-width: 14em; flex: 1 1 20em; }
.wfcomm-panel .wfcomm-field { margin-right: 1.5em; }
.wfcomm-panel.wfcomm-stale { opacity: 0.55; }
</style>"""


def styled(widget: W, css_class: str) -> W:
    """Add a stable CSS class (browser tests find widgets by it) and return the widget."""
    widget.add_class(css_class)
    return widget


def button(description: str, css_class: str, **kwargs: Any) -> widgets.Button:
    """A button as wide as its words (ipywidgets' fixed width cuts longer ones off)."""
    return styled(
        widgets.Button(description=description, layout=widgets.Layout(width="auto"), **kwargs),
        css_class,
    )


def text_label(css_class: str, value: str = "") -> widgets.Label:
    """A label that wraps and keeps a little space from the next field."""
    label = styled(widgets.Label(value=value), css_class)
    return styled(label, "wfcomm-field")


def row(*children: widgets.Widget) -> widgets.HBox:
    """A row that wraps onto a second line when the notebook is narrow."""
    return widgets.HBox(
        list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="center")
    )


def close_tree(root: widgets.Widget) -> None:
    """Close ``root`` and every widget it holds in a trait (children, layout, style), so their
    comms and front-end models are freed. The Python objects keep their last trait values."""
    stack, seen = [root], set()
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        for name in widget.keys:
            value = getattr(widget, name)
            held = value if isinstance(value, (list, tuple)) else (value,)
            stack.extend(v for v in held if isinstance(v, widgets.Widget))
        widget.close()


def take_place(key: Hashable, panel: Any) -> Any:
    """Record ``panel`` as the latest of its kind ``key`` (a panel class, or a class and a
    pattern) and return the one it replaces (None the first time): the caller closes that one,
    as a re-run of its cell made its output go away."""
    previous = Panel._latest.get(key)
    Panel._latest[key] = panel
    return previous if previous is not panel else None


class Panel:
    """Base view: the model's notice and health strip, re-run clean-up, and delegations.

    Subclasses pass their model (a :class:`PanelModel`), link their widgets to it, list their
    buttons in ``self.buttons`` (disabled on close) and build ``self.widget`` with
    :meth:`layout`.
    """

    #: The last panel of each kind built in this kernel: a re-run of its cell closes it.
    _latest: ClassVar[dict[Hashable, Any]] = {}
    widget: widgets.VBox

    def __init__(self, *, busy_label: str, model: PanelModel | None = None) -> None:
        self.model = model if model is not None else PanelModel(busy_label)
        self.notice = styled(widgets.Label(value=""), "wfcomm-notice")
        dlink((self.model, "notice"), (self.notice, "value"))
        self.health = HealthStrip(self.model.health)
        previous = take_place(type(self), self)
        if previous is not None:
            self.model.replace(previous.model)
            previous.close(replaced=True)
        self.buttons: list[widgets.Button] = []

    def layout(self, *rows: widgets.Widget) -> widgets.VBox:
        """The whole panel: the rows, then the health strip (the notice sits in a row)."""
        self.health.start()
        self.widget = widgets.VBox(
            [widgets.HTML(PANEL_CSS), *rows, self.health.widget],
            layout=widgets.Layout(max_width="100%"),
        )
        self.widget.add_class("wfcomm-panel")
        return self.widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # --- what the notebooks and older cells call -------------------------------------------------

    @property
    def workflow_id(self) -> str | None:
        return self.model.workflow_id

    @property
    def last_error(self) -> str | None:
        return self.model.error

    @property
    def busy(self) -> bool:
        return self.model.busy

    def say(self, text: str) -> None:
        """Free text for the notice, while no state-specific notice applies."""
        self.model.say(text)

    def run_main(self, job: Callable[[], Awaitable[Any]]) -> bool:
        return self.model.run_main(job)

    def run_side(self, job: Callable[[], Awaitable[Any]]) -> Any:
        return self.model.run_side(job)

    async def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the panel's background work is done (``timeout`` in seconds)."""
        await self.model.wait_idle(timeout)

    def close(self, *, replaced: bool = False) -> None:
        """Stop following (the workflows go on in DBOS), stop the health strip and grey the
        panel out; when ``replaced`` (a re-run of its cell: its output is gone), close its
        widgets too, after its tasks. Safe to call twice."""
        self.model.close("replaced" if replaced else "closed")
        for control in self.buttons:
            control.disabled = True
        if getattr(self, "widget", None) is not None:
            self.widget.add_class("wfcomm-stale")
            if replaced:
                close_tree(self.widget)
