"""The kernel-health strip's view: one line of HTML linked to a :class:`HealthModel`."""

from __future__ import annotations

import ipywidgets as widgets
from traitlets import dlink

from .health_model import HealthModel


class HealthStrip:
    """``HealthStrip().start()`` shows this kernel's memory and loop lag, live."""

    def __init__(self, model: HealthModel | None = None) -> None:
        self.model = model if model is not None else HealthModel()
        self.widget = widgets.HTML(layout=widgets.Layout(height="auto"))
        self.widget.add_class("wfcomm-health")
        dlink((self.model, "line"), (self.widget, "value"))

    def start(self) -> HealthStrip:
        """Start measuring on the running loop; starting twice is a no-op."""
        self.model.start()
        return self

    def stop(self, why: str = "stopped by its panel") -> None:
        self.model.stop(why)
