"""`wfcomm`: the three patterns from a second process, the counterpart of the seed's httpie
calls and scripts. The commands live in this package (:mod:`.root` assembles them); this entry
point makes every failure one line on stderr with a non-zero exit code, and keeps
``wfcomm doctor`` working when an install is too broken to import the rest (a missing extra, a
broken dbos).

    wfcomm --help            # or: python -m wfcomm_helpers.cli --help
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from ..runtime.errors import WfcommError

#: Libraries of the ``cli`` extra: missing one means `pip install 'wfcomm[cli]'`.
CLI_EXTRA = {"typer", "tqdm", "httpx", "httpx_sse", "click"}


def _fail(text: str, code: int = 1) -> NoReturn:
    print(f"wfcomm: {text}", file=sys.stderr)
    sys.exit(code)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_utf8(number: int, arg: str) -> None:
    """Bytes a terminal sent that are not UTF-8 reach Python as lone surrogates; they would fail
    later, deep in a JSON encoder or the database driver."""
    try:
        arg.encode()
    except UnicodeEncodeError:
        try:
            shown = arg.encode(errors="surrogateescape").decode(errors="backslashreplace")
        except UnicodeEncodeError:  # a surrogate no terminal byte maps to: main(argv) in Python
            shown = arg.encode(errors="backslashreplace").decode()
        _fail(
            f"Argument {number} ('{shown}') is not UTF-8 text: set the terminal to UTF-8 "
            "(e.g. export LANG=C.UTF-8) and type it again.",
            2,
        )


def _usage_line(exc: Any) -> str:
    """Click's message, and where the usage is: ``wfcomm events start --help``."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "wfcomm"
    option = getattr(exc, "option_name", None)
    text = exc.format_message().strip()
    if not text:  # a group run without its command: its help is already on stdout
        return f"Missing command: add one of those listed above (`{command} --help`)."
    if isinstance(option, str) and _is_number(option):
        # `wfcomm events start -1`: click takes a negative number for an option.
        return (
            f"{option} is not an option, and step counts, offsets and timeouts cannot be "
            f"negative: see `{command} --help`."
        )
    return f"{text.splitlines()[0].rstrip('.')}: see `{command} --help`."


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _broken_install(exc: ImportError, args: list[str]) -> NoReturn:
    if "doctor" in args:
        from .. import doctor

        sys.exit(doctor.run())
    if (exc.name or "").split(".")[0] in CLI_EXTRA:
        from ..runtime.extras import MissingExtraError

        _fail(str(MissingExtraError(exc.name, "cli")))
    _fail(
        f"cannot import {exc.name or 'a module'} ({_one_line(exc)}): run "
        "`python -m wfcomm_helpers.doctor` to see what to fix."
    )


def main(argv: list[str] | None = None) -> None:
    """The ``wfcomm`` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    for number, arg in enumerate(args, start=1):
        _check_utf8(number, arg)
    try:
        import typer

        from .root import app
    except ImportError as exc:
        _broken_install(exc, args)
    try:
        code = typer.main.get_command(app).main(
            args=args, prog_name="wfcomm", standalone_mode=False
        )
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except WfcommError as exc:
        _fail(_one_line(exc))
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # A usage error (click's, or the click typer vendors): one line, no usage box.
            _fail(_usage_line(exc), exc.exit_code or 2)
        if type(exc).__name__ == "Abort":
            _fail("interrupted", 130)
        # DBOS, database or network errors not already translated into a WfcommError.
        _fail(f"{type(exc).__name__}: {_one_line(exc)}")
    sys.exit(code if isinstance(code, int) else 0)


def __getattr__(name: str) -> Any:
    """``wfcomm_helpers.cli.app``: the typer app, imported on first use."""
    if name == "app":
        from .root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
