"""wfcomm_helpers: DBOS workflow communication (events, messaging, streaming) in a kernel.

The lifecycle functions are imported on first use, so ``wfcomm doctor`` can still run (and say
what to install) when dbos itself is missing or broken.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import WfcommError

__version__ = "0.1.0"
__all__ = ["WfcommError", "__version__", "current", "reset", "shutdown", "start"]

_RUNTIME_NAMES = ("current", "reset", "shutdown", "start")


def __getattr__(name: str) -> Any:
    if name in _RUNTIME_NAMES:
        return getattr(importlib.import_module(".runtime", __name__), name)
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
