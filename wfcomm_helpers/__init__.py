"""wfcomm_helpers: DBOS workflow communication (events, messaging, streaming) in a kernel.

The package's folders are its layers: ``patterns/`` (one module per pattern and the registry the
interfaces discover them from), ``runtime/`` (DBOS's lifecycle in a kernel or a process),
``teaching/`` (what only the notebooks use), and the interfaces at the top (``cli/``,
``service/``, ``connection/``, ``widgets/``, ``exercises/``, ``contract``, ``demos``, ``doctor``,
``workshop``, ``durability``, ``bench/``).

The notebooks and docs name a few modules by their short names (``from wfcomm_helpers import
events``) and four lifecycle functions (``wfcomm_helpers.start``); :data:`PUBLIC_NAMES` maps each
to where it lives. They are imported on first use, so ``wfcomm doctor`` can still run (and say
what to install) when dbos itself is missing or broken. Modules learners run or import by path
(``python -m wfcomm_helpers.doctor|.workshop|.cli|.bench``,
``from wfcomm_helpers.durability import prove``) stay at the top.
"""

from __future__ import annotations

import importlib
from typing import Any

from .runtime.errors import WfcommError

__version__ = "0.1.0"
__all__ = ["WfcommError", "__version__", "current", "reset", "shutdown", "start"]

#: Public short name -> (module relative to this package, attribute of it or ``None`` for the module).
PUBLIC_NAMES: dict[str, tuple[str, str | None]] = {
    "start": (".runtime.lifecycle", "start"),
    "shutdown": (".runtime.lifecycle", "shutdown"),
    "reset": (".runtime.lifecycle", "reset"),
    "current": (".runtime.lifecycle", "current"),
    "events": (".patterns.events", None),
    "messaging": (".patterns.messaging", None),
    "streaming": (".patterns.streaming", None),
    "lesson": (".teaching.lesson", None),
    "seed_mistakes": (".teaching.seed_mistakes", None),
    "seed_costs": (".teaching.seed_costs", None),
    "seed_stream_tail": (".teaching.seed_stream_tail", None),
    "timeline": (".teaching.timeline", None),
    "worker": (".teaching.worker", None),
}


def __getattr__(name: str) -> Any:
    """Import a public short name's module on first use (the top-level modules by their own name)."""
    module, attribute = PUBLIC_NAMES.get(name, (f".{name}", None))
    try:
        found = importlib.import_module(module, __name__)
    except ModuleNotFoundError as missing:
        if missing.name != f"{__name__}{module}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return found if attribute is None else getattr(found, attribute)
