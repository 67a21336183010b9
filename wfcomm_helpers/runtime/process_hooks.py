"""What the first :func:`~.lifecycle.start` of a process installs (importing the kit installs
nothing): DBOS stopped at interpreter exit and, in IPython, two cell-level hooks."""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from typing import Any

from dbos import error as dbos_error

from .errors import NotStartedError

_installed = False


def install_once(
    shutdown: Callable[[], None],
    database_problem: Callable[[], str | None],
    is_running: Callable[[], bool],
) -> None:
    """Once per process: ``shutdown`` at interpreter exit; in IPython, ``database_problem()``
    (a line, or None) printed before each cell, and DBOS's errors while ``is_running()`` is
    false shown as :class:`NotStartedError`'s one line."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(shutdown)
    _explain_dbos_not_running(is_running)
    _warn_when_the_database_is_deleted(database_problem)


def _ipython() -> Any:
    """The running IPython shell (a kernel's), or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency via ipykernel
        return None
    return get_ipython()


def _warn_when_the_database_is_deleted(database_problem: Callable[[], str | None]) -> None:
    """In IPython, before each cell: one line on stderr when the running app's SQLite file
    is gone (see :meth:`~.lifecycle.Runtime.database_problem`). A ``stat`` per cell."""
    shell = _ipython()
    if shell is None:
        return

    def before_cell(*_: object) -> None:
        problem = database_problem()
        if problem is not None:
            print(problem, file=sys.stderr)

    shell.events.register("pre_run_cell", before_cell)


def _explain_dbos_not_running(is_running: Callable[[], bool]) -> None:
    """In IPython: a DBOS error raised while the kit has DBOS stopped (a cell run after the
    clean-up cell, or after a failed setup) shows :class:`NotStartedError`'s one line instead
    of DBOS's "No DBOS was created yet" traceback. Any other error keeps IPython's own display.
    Both go through ``showtraceback``, so the cell fails and Run All stops there."""
    shell = _ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):  # type: ignore[no-untyped-def]
        if is_running():
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            shell.showtraceback((NotStartedError, NotStartedError(), None))

    shell.set_custom_exc((dbos_error.DBOSException,), show)
