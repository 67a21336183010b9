"""What every command shares: the global options (declared once, read by every sub-app through
``ctx.obj``), the checked arguments, and where output goes (data to stdout, narration to
stderr)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import typer

from ..runtime import validation
from ..runtime.errors import InvalidInputError, WfcommError

T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """The global options: ``wfcomm [--url U] [--database-url D] [--app A] <command>``."""

    url: str | None
    url_from_environment: bool  # WFCOMM_URL rather than --url
    database_url: str | None
    app: str | None


def options(ctx: typer.Context) -> Options:
    """The global options of the running command."""
    found = ctx.find_root().obj
    assert isinstance(found, Options), "the root callback sets ctx.obj"
    return found


def database_url_option() -> Any:
    return typer.Option(
        None,
        "--database-url",
        help="The database (default: WFCOMM_DATABASE_URL, else the app's SQLite file).",
    )


def checked(check: Callable[..., T], *args: Any) -> Callable[[Any], T]:
    """A typer ``parser`` running one of :mod:`validation`'s checks on the value as typed, so a
    bad value is refused before any connection, in the words of the Python API, whichever way
    (--url or direct) the command goes. The error is re-raised as a plain WfcommError: typer
    hands a parser's ValueError (InvalidInputError is one) to pydantic, which would bury the
    line in "Invalid value for ...: Value error, ..."."""

    def parse(value: Any) -> T:
        try:
            return check(value, *args)
        except InvalidInputError as exc:
            raise WfcommError(str(exc)) from None

    return parse


def id_argument() -> Any:
    return typer.Argument(
        ..., parser=checked(validation.workflow_id), help="The id a start command printed."
    )


def id_option(text: str = "Workflow id (default: new).") -> Any:
    return typer.Option(None, "--id", parser=checked(validation.workflow_id), help=text)


def steps_argument(text: str) -> Any:
    return typer.Argument(..., parser=checked(validation.n_steps), help=text)


def offset_option() -> Any:
    return typer.Option(
        0, "--offset", parser=checked(validation.offset), help="First offset to read (from 0)."
    )


def timeout_option(default: float | None, text: str, what: str = "The timeout") -> Any:
    return typer.Option(
        default, "--timeout", parser=checked(validation.timeout_seconds, what), help=text
    )


def say(text: str) -> None:
    """Narration: stderr, so stdout stays data."""
    print(text, file=sys.stderr)


def emit(value: Any) -> None:
    """Data: JSON on stdout."""
    print(json.dumps(value, indent=2))
