"""`wfcomm doctor` and `wfcomm bench`: checks and measurements of this installation."""

from __future__ import annotations

import typer

from ..runtime.extras import MissingExtraError
from .options import options


def doctor(ctx: typer.Context) -> None:
    """Check this environment (Python, packages, kernel, data folder, database) and print the
    exact fix for each problem."""
    from .. import doctor as checks

    raise typer.Exit(checks.run(options(ctx).database_url))


def bench(ctx: typer.Context) -> None:
    """Run the benchmarks and write docs/benchmarks.md and .png (`wfcomm bench --help`)."""
    try:
        from ..bench.__main__ import main as run_benchmarks
    except ImportError as exc:
        raise MissingExtraError(exc.name, "bench") from None
    raise typer.Exit(run_benchmarks(ctx.args))


#: bench hands its arguments to the benchmark's own parser.
BENCH_SETTINGS = {
    "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True},
    "add_help_option": False,
}
