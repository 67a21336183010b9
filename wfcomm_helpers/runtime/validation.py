"""Checks on everything a learner, a command line or an HTTP client can type.

Each check raises :class:`InvalidInputError` with one line: what was wrong and how to fix it.
"""

from __future__ import annotations

import json
import math
import sys
import uuid
from typing import Any

from ..patterns.compute import MAX_FIB_BASE
from .errors import InvalidInputError

MAX_STEPS = 100
MAX_TIMEOUT_SECONDS = 3600.0
MAX_WORKFLOW_ID_LENGTH = 200
MAX_MESSAGE_BYTES = 64 * 1024
#: DBOS stores a stream offset as a 32-bit integer on PostgreSQL.
MAX_OFFSET = 2**31 - 1
#: The longest durable pause between steps: long enough to watch and kill a worker by hand.
MAX_PAUSE_SECONDS = 30.0


def new_workflow_id(pattern: str) -> str:
    """A fresh id such as ``events-3f9c1a2b``: a workflow id is an idempotency key, and
    re-using one returns the old workflow's recorded result."""
    return f"{pattern}-{uuid.uuid4().hex[:8]}"


def workflow_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("The workflow id is empty: pass the id a start call returned.")
    if value != value.strip() or any(not ch.isprintable() for ch in value):
        raise InvalidInputError(
            f"Workflow id {value!r} has spaces at its ends or control characters: remove them."
        )
    if len(value) > MAX_WORKFLOW_ID_LENGTH:
        raise InvalidInputError(
            f"The workflow id is {len(value)} characters long: use at most "
            f"{MAX_WORKFLOW_ID_LENGTH}."
        )
    return value


def _whole_number(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(f"{what} must be a whole number, not {value!r}.")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidInputError(f"{what} must be a whole number, not {value!r}.") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise InvalidInputError(f"{what} must be a whole number, not {value!r}.")
    return value


def n_steps(value: Any) -> int:
    steps = _whole_number(value, "The step count")
    if not 1 <= steps <= MAX_STEPS:
        raise InvalidInputError(f"The step count must be between 1 and {MAX_STEPS}, not {steps}.")
    return steps


def fib_base(value: Any) -> int:
    base = _whole_number(value, "The Fibonacci base")
    if not 0 <= base <= MAX_FIB_BASE:
        raise InvalidInputError(
            f"The Fibonacci base must be between 0 and {MAX_FIB_BASE} (fib({MAX_FIB_BASE}) "
            f"takes about a second), not {base}."
        )
    return base


def workload(steps_value: Any, base_value: Any) -> tuple[int, int]:
    """Step i computes fib(base + i), so the last step is the slowest: cap base + steps - 1.

    Without this cap ``n_steps=100`` would start fib(121), which never finishes."""
    steps, base = n_steps(steps_value), fib_base(base_value)
    largest = base + steps - 1
    if largest > MAX_FIB_BASE:
        raise InvalidInputError(
            f"{steps} steps from Fibonacci base {base} would end with fib({largest}), which takes "
            f"far too long: keep base + steps - 1 at most {MAX_FIB_BASE} (fewer steps or a "
            "smaller base)."
        )
    return steps, base


def pause_seconds(value: Any) -> float:
    """The durable pause between steps (``DBOS.sleep_async``), 0 to MAX_PAUSE_SECONDS."""
    seconds = timeout_seconds(value, "The pause between steps")
    if seconds > MAX_PAUSE_SECONDS:
        raise InvalidInputError(
            f"The pause between steps must be at most {MAX_PAUSE_SECONDS:g} seconds, not {value!r}."
        )
    return seconds


def timeout_seconds(value: Any, what: str = "The timeout") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInputError(f"{what} must be a number of seconds, not {value!r}.")
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidInputError(f"{what} must be a number of seconds, not {value!r}.") from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise InvalidInputError(
            f"{what} must be between 0 and {MAX_TIMEOUT_SECONDS:g} seconds, not {value!r}."
        )
    return seconds


def offset(value: Any) -> int:
    number = _whole_number(value, "The stream offset")
    if number < 0:
        raise InvalidInputError(f"The stream offset counts from 0; {number} is negative.")
    if number > MAX_OFFSET:
        raise InvalidInputError(
            f"The stream offset must be at most {MAX_OFFSET} (a stream is never that long), "
            f"not {number}."
        )
    return number


#: About how deep JSON arrays and objects may nest before Python's reader gives up.
_MAX_NESTING = 1000


def parse_json(text: str | bytes) -> Any:
    """JSON text as Python values; refuses what JSON has not (NaN, Infinity) and what Python
    cannot hold (nesting ~1000 deep, a 5000-digit number) with :class:`InvalidInputError`
    whose text is the reason only (the caller says what was being read)."""
    try:
        return json.loads(text, parse_constant=_not_a_json_number, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} at character {exc.pos}"
    except RecursionError:
        reason = f"it nests arrays or objects deeper than Python can read (about {_MAX_NESTING})"
    except ValueError as exc:
        reason = str(exc).split(";")[0] or type(exc).__name__
    raise InvalidInputError(reason)


def _json_int(digits: str) -> int:
    """A JSON integer; one longer than Python converts (``sys.get_int_max_str_digits()``,
    4300 digits by default) is refused in the kit's words."""
    try:
        return int(digits)
    except ValueError:
        n, limit = len(digits.lstrip("-")), sys.get_int_max_str_digits()
        raise ValueError(
            f"it has a {n}-digit number, longer than the {limit} digits Python reads"
        ) from None


def _not_a_json_number(name: str) -> Any:
    """Python's json reads NaN and Infinity, which JSON has not."""
    raise ValueError(f"{name} is not a JSON number")


def json_kind(value: Any) -> str:
    """What JSON calls ``value``: messages arrive as JSON from the command line and HTTP, so
    "not null" says more there than Python's "not NoneType"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a Python {type(value).__name__}"


def json_object(value: Any, what: str = "The message") -> dict[str, Any]:
    """A message or payload must be a JSON object of bounded size."""
    if not isinstance(value, dict):
        raise InvalidInputError(
            f'{what} must be a JSON object such as {{"approved": true}}, not {json_kind(value)}.'
        )
    try:
        size = len(json.dumps(value, ensure_ascii=False).encode())
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} is not JSON-serialisable: {exc}.") from None
    if size > MAX_MESSAGE_BYTES:
        raise InvalidInputError(
            f"{what} is {size} bytes: keep it under {MAX_MESSAGE_BYTES} bytes "
            "(store big data elsewhere and send a reference)."
        )
    return value
