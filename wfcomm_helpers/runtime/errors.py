"""Errors the kit raises: each carries one line that says what was wrong and how to fix it."""

from __future__ import annotations


class WfcommError(Exception):
    """Base class. ``str(error)`` is a complete one-line explanation, shown without a traceback."""

    #: HTTP status `wfcomm serve` answers with for this error.
    http_status = 400

    def _render_traceback_(self) -> list[str]:
        """IPython's hook for an exception's own traceback: one line instead of a wall. The
        cell still fails as any error does (ipykernel sends ``status: error`` in its reply),
        so Run All and ``jupyter nbconvert --execute`` stop at it."""
        return [f"{type(self).__name__}: {self}"]


class InvalidInputError(WfcommError, ValueError):
    """An argument is out of range or of the wrong type."""

    http_status = 422


class UnknownWorkflowError(WfcommError, LookupError):
    """No workflow with this id exists in the database the kit is using."""

    http_status = 404

    def __init__(self, workflow_id: str, where: str = "this database") -> None:
        self.workflow_id = workflow_id
        super().__init__(
            f"No workflow with id {workflow_id!r} in {where}: start one first, "
            "or check the id for typos (ids are case-sensitive)."
        )


class WrongWorkflowTypeError(WfcommError):
    """The id belongs to a workflow of another pattern."""

    http_status = 409

    def __init__(self, workflow_id: str, actual: str, expected: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(
            f"Workflow {workflow_id!r} is {_article(actual)} {actual} workflow, not "
            f"{_article(expected)} {expected} one: "
            "use a new id for this pattern."
        )


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class DatabaseInUseError(WfcommError):
    """Another process already runs DBOS on this SQLite file."""

    http_status = 503


class DatabaseUnreachableError(WfcommError):
    """The configured database cannot be reached or created."""

    http_status = 503


class NotStartedError(WfcommError):
    """A call needs DBOS running in this process, and it is not."""

    http_status = 503

    def __init__(self) -> None:
        super().__init__(
            "DBOS is not running in this process: run the notebook's setup cell "
            "(wfcomm_helpers.start(...)) again, then this cell."
        )


def connection_failure_reason(exc: BaseException) -> str:
    """The cause in a driver's (or SQLAlchemy's, or httpx's) connection error, e.g.
    ``Connection refused``: psycopg's first line ends with it (``... port 5432 failed: Connection refused``); the lines after it are
    hints such as "Is the server running on that host ...?". Any password in it is hidden."""
    from .settings import hide_password

    text = hide_password(str(exc).strip())
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    if line.startswith("(") and ") " in line:  # SQLAlchemy's "(psycopg.OperationalError) "
        line = line.split(") ", 1)[1]
    return line.rsplit("failed: ", 1)[-1].strip()
