"""`wfcomm doctor`: is this environment ready for the kit? One line per check, and for each
problem the exact command that fixes it.

Supported version ranges are read from the installed ``wfcomm`` package's own metadata (that
is, from pyproject.toml), never repeated here. The checks need only the standard library and
``packaging`` until the package checks pass, so a broken install is still diagnosed.

    python -m wfcomm_helpers.doctor          # or: wfcomm doctor
    wfcomm_helpers.doctor.quick("events")    # a notebook's setup cell: silent when all is well
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from .databases import check_data_dir, check_postgres, check_sqlite_files
from .environment import (
    DIST,
    Check,
    check_environment,
    check_front_end,
    check_kernel,
    check_packages,
    check_python,
    check_requirement,
    install_kit,
    installed,
)

__all__ = ["Check", "check_requirement", "collect", "main", "quick", "report", "run"]


def collect(
    database_url: str | None = None, *, kernel: bool = True, apps: list[str] | None = None
) -> list[Check]:
    """Every check, in order. The checks that need the kit's packages run only when the
    package checks passed (a missing dbos would otherwise crash them)."""
    if not installed(DIST):
        return [Check(DIST, False, "the kit is not installed in this Python", install_kit())]
    checks = [check_python(), *check_packages()]
    if not all(c.ok for c in checks):
        return checks + [
            Check(
                "remaining checks",
                False,
                "skipped until the packages above are fixed",
                "run the fix commands above, then this check again",
            )
        ]
    checks += [check_environment(), *([check_kernel()] if kernel else []), check_front_end()]
    from ..runtime.settings import database_target

    url = database_url or os.environ.get("WFCOMM_DATABASE_URL") or ""
    if not url:
        folder = check_data_dir()
        return checks + [folder, *(check_sqlite_files(apps) if folder.ok else [])]
    target = database_target("doctor", database_url)  # one line for a malformed URL
    if target.is_sqlite:
        return checks + [Check("database", True, f"SQLite file {target.display} (from the URL)")]
    return checks + check_postgres(target.url)


def report(checks: Iterable[Check], write: Callable[[str], None] = print) -> int:
    """Print each check; return 0 when all passed, else 1."""
    checks = list(checks)
    for check in checks:
        write(check.line())
    problems = [c for c in checks if not c.ok]
    if problems:
        write(f"{len(problems)} problem(s): run the fix command(s) above, then check again.")
        return 1
    write(f"All {len(checks)} checks passed.")
    return 0


def run(database_url: str | None = None) -> int:
    """`wfcomm doctor`: print every check and return the exit code (0 = ready)."""
    from ..runtime.errors import WfcommError

    try:
        return report(collect(database_url))
    except WfcommError as exc:  # e.g. a malformed WFCOMM_DATABASE_URL
        return report([Check("settings", False, str(exc), "fix the setting named above")])


def quick(app: str | None = None, database_url: str | None = None) -> str:
    """For a notebook's setup cell: silent when all is well (the setup cell's own line says
    DBOS is running), else one line per problem with its fix; returns the summary either way.
    Skips the kernel-spec check (the kernel asking is the one that runs) and, given ``app``,
    looks only at that app's database file."""
    from ..runtime.errors import WfcommError

    try:
        checks = collect(database_url, kernel=False, apps=[app] if app else None)
    except WfcommError as exc:
        checks = [Check("settings", False, str(exc), "fix the setting named above")]
    problems = [c for c in checks if not c.ok]
    if not problems:
        text = "Environment check passed (python -m wfcomm_helpers.doctor shows the details)."
    else:
        header = (
            f"Environment check: {len(problems)} problem(s); fix, restart the kernel and "
            "re-run this cell:"
        )
        lines = [header]
        lines += [f"- {c.name}: {c.detail} -> {c.fix}" for c in problems]
        text = "\n".join(lines)
        print(text)
    return text


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m wfcomm_helpers.doctor", description=__doc__)
    parser.add_argument(
        "--database-url",
        help="check this database instead of WFCOMM_DATABASE_URL / the SQLite files",
    )
    args = parser.parse_args(argv)
    return run(args.database_url)
