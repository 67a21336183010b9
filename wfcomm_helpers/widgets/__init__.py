"""The notebooks' live panels. Widgets change only through their traits (``.value``,
``Output.append_stdout``, ``Output.outputs``): background work never prints, because under
ipykernel >= 7.1 a late ``print`` lands in whichever cell runs next."""

from .crash_panel import CrashPanel
from .events_panel import EventsPanel
from .health import HealthStrip
from .messaging_panel import MessagingPanel
from .streaming_panel import StreamingPanel

__all__ = ["CrashPanel", "EventsPanel", "HealthStrip", "MessagingPanel", "StreamingPanel"]
