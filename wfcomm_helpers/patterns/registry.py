"""Where a pattern declares itself once, for every interface to discover.

A :class:`Pattern` names its workflow module and, as ``"module:attribute"`` references imported
only when used, its ``wfcomm <name>`` sub-app, its HTTP routes and its demo. Lookups, the runtime
(which imports every pattern's module before DBOS launches), the command line, ``wfcomm serve``
and ``wfcomm demo`` read :func:`registered`. The three built-in patterns register in
:mod:`.builtin`; a pattern defined elsewhere registers with one :func:`register` call in its own
module, and the ``WFCOMM_PATTERNS`` environment variable (module names, comma-separated) makes a
fresh ``wfcomm`` process import that module.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from ..runtime.errors import InvalidInputError

#: Environment variable: extra modules (comma-separated) that register patterns on import.
PATTERNS_ENV = "WFCOMM_PATTERNS"


@dataclass(frozen=True)
class Pattern:
    """One communication pattern as every interface sees it.

    ``name`` is also its notebook app's name and its ``wfcomm`` sub-app's name. ``workflows``
    are its workflow functions' names as DBOS records them. ``cli`` (a ``typer.Typer``),
    ``routes`` (a ``fastapi.APIRouter``) and ``demo`` (``async (conn, n_steps, workflow_id,
    say) -> None``) are ``"module:attribute"`` references, or ``None`` when it has none.
    """

    name: str
    module: str
    workflows: tuple[str, ...]
    cli: str | None = None
    routes: str | None = None
    demo: str | None = None


_PATTERNS: dict[str, Pattern] = {}


def register(pattern: Pattern) -> Pattern:
    """Add ``pattern`` after the built-in three (re-registering one of the same name replaces
    it); returns it."""
    from . import builtin  # noqa: F401  (the built-in patterns come first)

    _PATTERNS[pattern.name] = pattern
    return pattern


def unregister(name: str) -> None:
    """Forget the pattern called ``name`` (no-op if unknown): the interfaces built after this
    no longer offer it. Its workflows stay registered with DBOS."""
    _PATTERNS.pop(name, None)


def registered() -> tuple[Pattern, ...]:
    """Every pattern: the built-in three, those named in ``WFCOMM_PATTERNS``, any registered."""
    from . import builtin  # noqa: F401  (registers the built-in patterns)

    for module in filter(None, os.environ.get(PATTERNS_ENV, "").split(",")):
        importlib.import_module(module.strip())
    return tuple(_PATTERNS.values())


def pattern(name: str) -> Pattern:
    """The pattern called ``name``; :class:`InvalidInputError` names the known ones."""
    found = {p.name: p for p in registered()}
    if name not in found:
        raise InvalidInputError(f"Unknown pattern {name!r}: use one of {', '.join(found)}.")
    return found[name]


def pattern_of(workflow_name: str) -> str:
    """The pattern a workflow function belongs to (its own name if none claims it)."""
    for p in registered():
        if workflow_name in p.workflows:
            return p.name
    return workflow_name


def load(reference: str) -> Any:
    """The object a ``"module:attribute"`` reference names (importing the module)."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def import_workflows() -> None:
    """Import every registered pattern's module, so its workflows exist before DBOS launches."""
    for p in registered():
        importlib.import_module(p.module)
