"""Workflow lookups shared by the three patterns, in this process or from another one.

Every client call takes a ``backend``: the ``DBOS`` class when DBOS runs in this process (a
notebook, ``wfcomm serve``), or a ``DBOSClient`` in a second process (the ``wfcomm`` command).
Both offer the same ``*_async`` methods used here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

from dbos import DBOS, DBOSClient, SetWorkflowID, error

from ..runtime import validation
from ..runtime.errors import InvalidInputError, UnknownWorkflowError, WrongWorkflowTypeError
from ..runtime.settings import DEFAULT_EXECUTOR_ID, application_version, executor_id, queue_name
from .registry import pattern_of

Backend = Any  # the DBOS class or a dbos.DBOSClient (an AppClient to start workflows)

#: How often a retrieved handle checks whether the workflow ended (s); DBOS's default is 1 s,
#: which made every cell that awaits a result up to 1 s slower. Latency only.
RESULT_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class WorkflowSummary:
    """What DBOS records about one workflow."""

    workflow_id: str
    name: str
    status: str  # PENDING, ENQUEUED, SUCCESS, ERROR, CANCELLED, ...
    output: Any = None
    error: str | None = None

    @property
    def pattern(self) -> str:
        return pattern_of(self.name)

    @property
    def is_done(self) -> bool:
        return self.status not in ("PENDING", "ENQUEUED", "DELAYED")


async def workflow_summary(
    workflow_id: str, *, expected: str | None = None, backend: Backend = DBOS
) -> WorkflowSummary:
    """Look a workflow up at once; unknown ids and ids of another pattern raise one-line errors.

    ``DBOS.get_event`` would instead wait its whole timeout for an unknown id and return None.
    """
    workflow_id = validation.workflow_id(workflow_id)
    found = await backend.list_workflows_async(workflow_ids=[workflow_id], load_input=False)
    if not found:
        raise UnknownWorkflowError(workflow_id)
    status = found[0]
    if expected is not None and status.name != expected:
        raise WrongWorkflowTypeError(workflow_id, pattern_of(status.name), pattern_of(expected))
    return WorkflowSummary(
        workflow_id=status.workflow_id,
        name=status.name,
        status=str(status.status),
        output=status.output,
        error=None if status.error is None else str(status.error),
    )


async def start_handle(func: Callable[..., Any], workflow_id: str, *args: Any) -> Any:
    """Start ``func(*args)`` in this process under ``workflow_id``, unchecked; returns DBOS's
    handle, whose ``get_result`` awaits the task directly (a handle retrieved by id polls the
    database once a second)."""
    with SetWorkflowID(workflow_id):
        return await DBOS.start_workflow_async(func, *args)


async def start_workflow(
    func: Callable[..., Any], workflow_id: str, *args: Any, backend: Backend = DBOS
) -> str:
    """Start ``func(*args)`` under ``workflow_id`` and return the id.

    In-process the workflow starts at once on this event loop; from a client it is enqueued on
    the kit's queue and the running app (a notebook kernel or ``wfcomm serve``) picks it up.
    Re-using an id of the same pattern attaches to the existing workflow (ids are idempotency
    keys); an id of another pattern is refused.
    """
    workflow_id = validation.workflow_id(workflow_id)
    name = func.__qualname__
    try:
        await workflow_summary(workflow_id, expected=name, backend=backend)
        return workflow_id
    except UnknownWorkflowError:
        pass
    try:
        if backend is DBOS:
            await start_handle(func, workflow_id, *args)
        else:
            queue = _client_queue(backend)
            options = {"queue_name": queue, "workflow_name": name, "workflow_id": workflow_id}
            if executor_id() != DEFAULT_EXECUTOR_ID:  # a learner's terminal: her kernel runs it
                options["app_version"] = application_version(queue)
            await backend.enqueue_async(options, *args)
    except error.DBOSConflictingWorkflowError:
        summary = await workflow_summary(workflow_id, backend=backend)
        raise WrongWorkflowTypeError(workflow_id, summary.pattern, pattern_of(name)) from None
    return workflow_id


async def start_stepped(
    func: Callable[..., Any],
    pattern: str,
    n_steps: int,
    workflow_id: str | None,
    fib_base: int,
    pause_seconds: float,
    backend: Backend,
) -> str:
    """Check a workload (``n_steps`` of fib(``fib_base`` + i), ``pause_seconds`` of durable
    pause per step) and start ``func(steps, base[, pause])`` under ``workflow_id`` (default: a
    new ``<pattern>-...`` id) with :func:`start_workflow`; returns the id."""
    steps, base = validation.workload(n_steps, fib_base)
    pause = validation.pause_seconds(pause_seconds)
    wid = workflow_id if workflow_id is not None else validation.new_workflow_id(pattern)
    args = (steps, base, pause) if pause else (steps, base)
    return await start_workflow(func, wid, *args, backend=backend)


class AppClient(DBOSClient):
    """A ``DBOSClient`` that remembers the app it acts for, so the kit enqueues a workflow on
    that app's queue (:func:`wfcomm_helpers.runtime.settings.queue_name`). DBOS keeps the name only
    privately. Same arguments as ``DBOSClient``; ``application_name`` is required."""

    def __init__(self, *, system_database_url: str, application_name: str, **options: Any):
        super().__init__(
            system_database_url=system_database_url,
            application_name=application_name,
            **options,
        )
        self.application_name = application_name


def _client_queue(client: Any) -> str:
    """The queue of the app an :class:`AppClient` acts for."""
    app = getattr(client, "application_name", None)
    if not app:
        raise InvalidInputError(
            "This client does not say which app it acts for: open it with "
            "wfcomm_helpers.patterns.lookup.AppClient(system_database_url=..., "
            "application_name='wfcomm-<app>') so the workflow lands on that app's queue."
        )
    return queue_name(app)


async def workflow_result(
    workflow_id: str,
    *,
    timeout: float = 60.0,
    expected: str | None = None,
    backend: Backend = DBOS,
) -> Any:
    """Wait up to ``timeout`` seconds for the workflow's return value."""
    await workflow_summary(workflow_id, expected=expected, backend=backend)
    seconds = validation.timeout_seconds(timeout)
    handle = await backend.retrieve_workflow_async(workflow_id)
    return await asyncio.wait_for(
        handle.get_result(polling_interval_sec=RESULT_POLL_SECONDS), seconds
    )
