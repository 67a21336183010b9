"""The service's typed parameters: numbers are ``int``/``float`` in the OpenAPI schema, and a
bad value is refused by :mod:`wfcomm_helpers.runtime.validation`'s own check, so its one line is the one
the Python API and the command line give (:func:`wfcomm_helpers.service.errors` passes it on).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Optional

from fastapi import Path, Query
from pydantic import BeforeValidator

from ..patterns.compute import MAX_FIB_BASE
from ..runtime import validation


def _raw(check: Any) -> BeforeValidator:
    """Run ``check`` on the value as sent (text), before pydantic converts it."""
    return BeforeValidator(check)


WorkflowId = Annotated[str, Path(description="The workflow's id.")]
StepCount = Annotated[
    int,
    _raw(validation.n_steps),
    Path(ge=1, le=validation.MAX_STEPS, description="How many steps."),
]
FibBase = Annotated[
    int,
    _raw(validation.fib_base),
    Query(ge=0, le=MAX_FIB_BASE, description="Step i computes fib(fib_base + i)."),
]
EventTimeout = Annotated[
    float,
    _raw(validation.timeout_seconds),
    Query(ge=0, le=validation.MAX_TIMEOUT_SECONDS, description="Seconds to wait for the key."),
]
ApprovalTimeout = Annotated[
    float,
    _raw(partial(validation.timeout_seconds, what="The approval timeout")),
    Query(ge=0, le=validation.MAX_TIMEOUT_SECONDS, description="Seconds to wait for a decision."),
]
WaitSeconds = Annotated[
    float,
    _raw(validation.timeout_seconds),
    Query(ge=0, le=validation.MAX_TIMEOUT_SECONDS, description="Seconds to wait for the end."),
]
Offset = Annotated[
    int,
    _raw(validation.offset),
    Query(ge=0, le=validation.MAX_OFFSET, description="The first offset to read (from 0)."),
]
IdempotencyKey = Annotated[
    Optional[str], Query(description="A retried send with this key is delivered once.")
]
