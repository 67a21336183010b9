"""`wfcomm doctor`: is this environment ready for the kit? One line per check, and for each
problem the exact command that fixes it.

Supported version ranges are read from the installed ``wfcomm`` package's own metadata (that
is, from pyproject.toml), never repeated here. The checks need only the standard library and
``packaging`` until the package checks pass, so a broken install is still diagnosed.

    python -m wfcomm_helpers.doctor          # or: wfcomm doctor
    wfcomm_helpers.doctor.quick("events")    # a notebook's setup cell: silent when all is well
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

DIST = "wfcomm"
#: Installed with ipywidgets, not by wfcomm directly: its range comes from ipywidgets' metadata.
FRONT_END_DIST = "jupyterlab_widgets"
FRONT_END_LABEXTENSION = Path("@jupyter-widgets", "jupyterlab-manager")
KERNEL_NAME = "python3"


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, whether it is fine, what was seen, how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "[ok]" if self.ok else "[!!]"
        text = f"{mark} {self.name}: {self.detail}"
        return text if self.ok else f"{text}\n     fix: {self.fix}"


def _range(spec: SpecifierSet) -> str:
    """``>=3.4,<4`` rather than packaging's ``<4,>=3.4``."""
    return ",".join(sorted((str(s) for s in spec), key=lambda s: (not s.startswith(">"), s)))


def _python() -> str:
    return shlex.quote(sys.executable)


def _install_kit() -> str:
    checkout = Path(__file__).resolve().parent.parent
    folder = shlex.quote(str(checkout)) if (checkout / "pyproject.toml").is_file() else "."
    return f"{_python()} -m pip install -e {folder}"


def _pip_install(requirement: str) -> str:
    return f"{_python()} -m pip install {shlex.quote(requirement)}"


def _kit_requirements() -> list[Requirement]:
    """wfcomm's runtime requirements (no extras), as the installed metadata states them."""
    found = [Requirement(text) for text in metadata.requires(DIST) or []]
    return [req for req in found if req.marker is None]


def _dependency_of(dist: str, name: str) -> Requirement | None:
    for text in metadata.requires(dist) or []:
        req = Requirement(text)
        if req.name.lower().replace("-", "_") == name.lower().replace("-", "_"):
            return req
    return None


def check_python() -> Check:
    needed = SpecifierSet(metadata.metadata(DIST)["Requires-Python"] or "")
    have = ".".join(map(str, sys.version_info[:3]))
    if needed.contains(have):
        return Check("python", True, f"{have} ({needed})")
    return Check(
        "python",
        False,
        f"{have} is outside {needed}",
        f"install Python {needed} and run: python3 kit.py lab",
    )


def check_requirement(req: Requirement, why: str = "") -> Check:
    """Is ``req`` installed at a version inside its range?"""
    where = f" ({why})" if why else ""
    wanted = f"{req.name}{_range(req.specifier)}"
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return Check(
            req.name,
            False,
            f"not installed, needs {_range(req.specifier)}{where}",
            _pip_install(wanted),
        )
    if req.specifier.contains(have, prereleases=True):
        return Check(req.name, True, f"{have} ({_range(req.specifier)})")
    return Check(
        req.name, False, f"{have} is outside {_range(req.specifier)}{where}", _pip_install(wanted)
    )


def check_packages() -> list[Check]:
    checks = [check_requirement(req) for req in _kit_requirements()]
    front_end = _dependency_of("ipywidgets", FRONT_END_DIST) if _installed("ipywidgets") else None
    if front_end is not None:
        checks.append(check_requirement(front_end, "the ipywidgets installed here needs it"))
    return checks


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def check_environment() -> Check:
    """The kit is installed in the environment of the Python running this check (a kernel
    started from another environment cannot import the kit's modules)."""
    prefix = Path(sys.prefix).resolve()
    # Every copy on sys.path, not just the first: a source checkout's wfcomm.egg-info in the
    # current folder shadows the installed one without being a problem.
    places = [Path(str(d.locate_file(""))).resolve() for d in metadata.distributions(name=DIST)]
    if any(place.is_relative_to(prefix) for place in places):
        return Check("environment", True, f"wfcomm is installed in {prefix}")
    return Check(
        "environment",
        False,
        f"wfcomm is found in {places[0]}, outside this Python's environment {prefix}",
        _install_kit(),
    )


def check_kernel() -> Check:
    """JupyterLab's default kernel runs a Python that has the kit installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    install = f"{_python()} -m ipykernel install --user --name {KERNEL_NAME}"
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return Check("kernel", False, f"no {KERNEL_NAME!r} kernel is installed", install)
    program = spec.argv[0]
    # Not resolved: a venv's python is a symlink to the base Python, which lacks the kit.
    if program in ("python", "python3", sys.executable):
        return Check("kernel", True, f"the {KERNEL_NAME} kernel runs this Python")
    probe = (
        subprocess.run(
            [program, "-c", f"import importlib.metadata as m; print(m.version({DIST!r}))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=tempfile.gettempdir(),  # not a checkout, whose wfcomm.egg-info would answer
        )
        if Path(program).exists()
        else None
    )
    if probe is not None and probe.returncode == 0:
        return Check(
            "kernel",
            True,
            f"the {KERNEL_NAME} kernel runs {program} (wfcomm {probe.stdout.strip()})",
        )
    return Check(
        "kernel",
        False,
        f"the {KERNEL_NAME} kernel ({spec.resource_dir}) runs {program}, which lacks wfcomm",
        install,
    )


def _labextension_version(folder: Path) -> str | None:
    """The ``version`` in ``folder``'s ``package.json``, or None when it has none."""
    try:
        return str(json.loads((folder / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _bundled_front_end_version() -> str | None:
    """The widget front end's version that the installed jupyterlab_widgets ships: the one
    the installed ipywidgets works with (its major version must match)."""
    try:
        files = metadata.files(FRONT_END_DIST) or []
    except metadata.PackageNotFoundError:
        return None
    suffix = f"{FRONT_END_LABEXTENSION.as_posix()}/package.json"
    for file in files:
        if file.as_posix().endswith(suffix):
            return _labextension_version(Path(str(file.locate())).parent)
    return None


def check_front_end() -> Check:
    """The widget front end JupyterLab loads: the first copy on its labextensions path, as
    JupyterLab resolves it (JUPYTER_PATH first). Missing, every widget shows "Error displaying
    widget: model not found"; of another major version (an old copy from ipywidgets 7 earlier
    on the path), widgets fail to render the same way."""
    from jupyter_core.paths import jupyter_path

    reinstall = f"{_python()} -m pip install --force-reinstall --no-deps {FRONT_END_DIST}"
    loaded = next(
        (
            Path(folder) / FRONT_END_LABEXTENSION
            for folder in jupyter_path("labextensions")
            if (Path(folder) / FRONT_END_LABEXTENSION / "package.json").is_file()
        ),
        None,
    )
    expected = _bundled_front_end_version()
    if loaded is None or expected is None:
        return Check(
            "widget front end",
            False,
            f"JupyterLab's widget extension ({FRONT_END_LABEXTENSION}) is not installed here",
            reinstall,
        )
    have = _labextension_version(loaded) or "no version"
    if have.split(".")[0] != expected.split(".")[0]:
        return Check(
            "widget front end",
            False,
            f"JupyterLab loads {FRONT_END_LABEXTENSION} {have} from {loaded}, but the "
            f"installed ipywidgets needs {expected.split('.')[0]}.x (jupyterlab_widgets ships "
            f"{expected}): remove that old copy",
            f"rm -r {shlex.quote(str(loaded))}",
        )
    return Check("widget front end", True, f"{have} in {loaded.parent.parent}")


def check_data_dir() -> Check:
    from .runtime.settings import data_dir

    folder = data_dir()
    fix = "mkdir -p ~/wfcomm-data && export WFCOMM_DATA_DIR=~/wfcomm-data"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".wfcomm-doctor-"):
            pass
    except OSError as exc:
        return Check("data folder", False, f"cannot write to {folder} ({exc.strerror})", fix)
    return Check("data folder", True, f"{folder} is writable")


def _apps() -> list[str]:
    from .patterns.registry import registered

    return sorted(p.name for p in registered())


def _held_here(app: str) -> bool:
    """This process runs ``app`` itself (a setup cell re-run): not a conflict."""
    runtime = sys.modules.get(f"{__package__}.runtime.lifecycle")
    return bool(runtime and runtime.is_running() and runtime.current().app == app)


def check_sqlite_files(apps: list[str] | None = None) -> list[Check]:
    """Each app's SQLite file: free, in use by a running process (fine: a learner's own
    kernel), or held by an orphan whose Jupyter server is gone (a problem: kill it)."""
    from .runtime.guard import is_held, is_orphaned
    from .runtime.settings import app_name, database_target

    checks = []
    for app in apps or _apps():
        path = database_target(app_name(app)).sqlite_path
        assert path is not None
        owner = is_held(path)
        if owner is None or owner.get("pid") == os.getpid():
            state = "used by this process" if owner else "free"
            checks.append(Check(f"{app} database", True, f"{path.name} is {state}"))
            continue
        pid = owner.get("pid", "?")
        holder = (
            f"process {pid} on {owner.get('host', '?')} ({owner.get('kind', 'unknown')}, "
            f"started {owner.get('started', '?')})"
        )
        if not is_orphaned(owner):
            checks.append(
                Check(
                    f"{app} database",
                    True,
                    f"{path.name} is in use by {holder}; to open it in another kernel, shut "
                    "that one down first (Kernel > Shut Down Kernel)",
                )
            )
            continue
        checks.append(
            Check(
                f"{app} database",
                False,
                f"{path} is held by {holder}, whose Jupyter server (process "
                f"{owner.get('parent')}) is gone, so no notebook can use it:",
                f"kill {pid}",
            )
        )
    return checks


def check_postgres(url: str) -> list[Check]:
    import psycopg
    from sqlalchemy.engine import make_url

    from .runtime.errors import connection_failure_reason
    from .runtime.guard import connect_to_server, postgres_lock_key
    from .runtime.settings import app_name, executor_id, hide_password

    shown = hide_password(url)
    parsed = make_url(url)
    try:
        conn = connect_to_server(url)
    except psycopg.Error as exc:
        reason = connection_failure_reason(exc)
        return [
            Check(
                "postgres",
                False,
                f"cannot reach {shown} ({reason}); start that server, or use SQLite instead:",
                "unset WFCOMM_DATABASE_URL",
            )
        ]
    checks = [Check("postgres", True, f"{shown} answers")]
    database, executor = parsed.database or "postgres", executor_id()
    with conn:
        for app in _apps():
            name = app_name(app)
            key = postgres_lock_key(database, name, executor)
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if got and got[0]:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            if (got and got[0]) or _held_here(name):
                checks.append(Check(f"{app} executor id", True, f"{executor!r} is free"))
            else:
                checks.append(
                    Check(
                        f"{app} executor id",
                        False,
                        f"another process runs {name} as executor {executor!r} on {shown}: "
                        "shut it down, or give this process its own id:",
                        "export WFCOMM_EXECUTOR_ID=$USER",
                    )
                )
    return checks


def collect(
    database_url: str | None = None, *, kernel: bool = True, apps: list[str] | None = None
) -> list[Check]:
    """Every check, in order. The checks that need the kit's packages run only when the
    package checks passed (a missing dbos would otherwise crash them)."""
    if not _installed(DIST):
        return [Check(DIST, False, "the kit is not installed in this Python", _install_kit())]
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
    from .runtime.settings import database_target

    url = database_url or os.environ.get("WFCOMM_DATABASE_URL") or ""
    if not url:
        folder = check_data_dir()
        return checks + [folder, *(check_sqlite_files(apps) if folder.ok else [])]
    target = database_target("doctor", url)  # raises one line for a malformed URL
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
    from .runtime.errors import WfcommError

    try:
        return report(collect(database_url))
    except WfcommError as exc:  # e.g. a malformed WFCOMM_DATABASE_URL
        return report([Check("settings", False, str(exc), "fix the setting named above")])


def quick(app: str | None = None, database_url: str | None = None) -> str:
    """For a notebook's setup cell: silent when all is well (the setup cell's own line says
    DBOS is running), else one line per problem with its fix; returns the summary either way.
    Skips the kernel-spec check (the kernel asking is the one that runs) and, given ``app``,
    looks only at that app's database file."""
    from .runtime.errors import WfcommError

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


if __name__ == "__main__":
    sys.exit(main())
