"""The three patterns the notebooks teach, each declared once (see :mod:`.registry`)."""

from __future__ import annotations

from .registry import Pattern, register

_PKG = __package__.rpartition(".")[0]  # wfcomm_helpers

for _name in ("events", "messaging", "streaming"):
    register(
        Pattern(
            name=_name,
            module=f"{__package__}.{_name}",
            workflows=(f"{_name}_workflow",),
            cli=f"{_PKG}.cli.{_name}:app",
            routes=f"{_PKG}.service.{_name}:router",
            demo=f"{_PKG}.demos:demo_{_name}",
        )
    )
