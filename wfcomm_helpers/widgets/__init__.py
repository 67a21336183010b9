"""The notebooks' live panels, each in two halves: a model (``*_model.py``: the DBOS calls, the
watching, observable traitlets state and the notice derived from it, testable without a kernel)
and a view (``*_panel.py``: widgets linked to the model's traits). Widgets change only through
their traits (``.value``, ``Output.append_stdout``, ``Output.outputs``): background work never
prints, because under ipykernel >= 7.1 a late ``print`` lands in whichever cell runs next."""

from .crash_panel import CrashPanel
from .events_panel import EventsPanel
from .health import HealthStrip
from .messaging_panel import MessagingPanel
from .streaming_panel import StreamingPanel

__all__ = ["CrashPanel", "EventsPanel", "HealthStrip", "MessagingPanel", "StreamingPanel"]
