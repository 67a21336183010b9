"""Optional extras: `wfcomm serve` needs ``wfcomm[serve]``, the command line ``wfcomm[cli]``.

``import wfcomm_helpers`` never needs them; a missing one is one line saying what to install.
"""

from __future__ import annotations

from .errors import WfcommError


class MissingExtraError(WfcommError):
    """A library of an optional extra is not installed."""

    http_status = 500

    def __init__(self, module: str | None, extra: str) -> None:
        super().__init__(
            f"{module or 'A library'} is not installed, and this needs it: "
            f"pip install 'wfcomm[{extra}]'"
        )
