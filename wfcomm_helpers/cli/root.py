"""The ``wfcomm`` typer app: only assembles the sub-apps and commands of this package and
declares the global options (:class:`~.options.Options`) that every one of them reads.

Two ways in, same commands:
- direct (default): a ``DBOSClient`` on the database of the app named by ``--app`` (each
  pattern's commands default to that pattern's notebook app); no server needed, the notebook
  kernel (or ``wfcomm serve``) runs what is enqueued;
- ``--url http://127.0.0.1:8000``: through `wfcomm serve`.

Data goes to stdout (ids, JSON), narration to stderr. Every error is one line on stderr and a
non-zero exit code (see :func:`wfcomm_helpers.cli.main`).
"""

from __future__ import annotations

import typer

from ..patterns.registry import load, registered
from ..runtime.settings import EXPLICIT_URL_NAME
from . import demo, serve, tools, workflows, workshop
from .options import Options, database_url_option

app = typer.Typer(
    name="wfcomm",
    help="Start DBOS workflows of each pattern and talk to them from a second process.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for pattern in registered():  # `wfcomm events|messaging|streaming|<a registered pattern>`
    if pattern.cli is not None:
        app.add_typer(load(pattern.cli), name=pattern.name)
app.add_typer(workshop.app, name="workshop")
for command in (*workflows.COMMANDS, demo.demo, serve.serve, tools.doctor):
    app.command()(command)
app.command(**tools.BENCH_SETTINGS)(tools.bench)


@app.callback()
def root(
    ctx: typer.Context,
    url: str | None = typer.Option(
        None,
        "--url",
        envvar="WFCOMM_URL",
        help="Talk to `wfcomm serve` at this URL instead of the database.",
    ),
    database_url: str | None = database_url_option(),
    app_name: str | None = typer.Option(
        None,
        "--app",
        help="The app whose database to use (default: the pattern's notebook app).",
    ),
) -> None:
    # A malformed URL names the option to fix, for this command only (a test or a notebook
    # that runs the CLI in its own process must not keep the name).
    named = EXPLICIT_URL_NAME.set("--database-url")
    ctx.call_on_close(lambda: EXPLICIT_URL_NAME.reset(named))
    source = ctx.get_parameter_source("url")  # click's enum, or the copy typer vendors
    from_environment = getattr(source, "name", None) == "ENVIRONMENT"
    ctx.obj = Options(
        url=url, url_from_environment=from_environment, database_url=database_url, app=app_name
    )
