"""wfcomm_helpers: DBOS workflow communication (events, messaging, streaming) in a kernel."""

from .errors import WfcommError
from .runtime import current, reset, shutdown, start

__version__ = "0.1.0"
__all__ = ["WfcommError", "current", "reset", "shutdown", "start", "__version__"]
