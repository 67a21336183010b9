"""Sessions a maintainer runs locally (``.venv/bin/nox``, from ``pip install -e '.[dev]'``) and
CI runs: ``tests`` and ``lint`` on every push, all three nightly (.github/workflows/ci.yml):

    nox -s tests      # the README's test command, `python3 kit.py test`: the newest releases
    nox -s lowest     # the same suite on the oldest Python, every direct dependency at its floor
    nox -s lint       # the pre-commit hooks (ruff, notebook stripping) on every file

``lowest`` needs that Python (``python3.10``) on the PATH; without it the session fails.
Extra arguments go to pytest: ``nox -s lowest -- -x tests/test_doctor.py``.
The versions come from pyproject.toml only; this file holds none.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
TEST_EXTRA = "test"

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
# A session whose Python is not on the PATH fails: a skipped session would leave a green run that
# tested nothing.
nox.options.error_on_missing_interpreters = True


def lowest_release(floor: str) -> str:
    """``3.4`` -> ``3.4.*``, ``2`` -> ``2.0.*``, ``1.2.3`` -> ``1.2.3``: the floor's minor series,
    with its newest patch release (a floor such as ``2.3`` need not be a release itself)."""
    parts = floor.split(".")
    if len(parts) >= 3:
        return floor
    return ".".join((parts + ["0"])[:2]) + ".*"


def lower_bounds(extra: str = TEST_EXTRA) -> list[str]:
    """``name==X.Y.*`` for every requirement with a ``>=X.Y`` bound of the package, of ``extra``
    and of the extras ``extra`` pulls in through the package's own ``wfcomm[...]`` requirement,
    read from pyproject.toml."""
    project = PYPROJECT["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    extras = [extra]
    for name in extras:  # grows while self-references name more extras
        for text in project["optional-dependencies"][name]:
            req = Requirement(text)
            if req.name == project["name"]:
                extras += sorted(req.extras - set(extras))
            else:
                requirements.append(req)
    pins = []
    for req in requirements:
        floors = [spec.version for spec in req.specifier if spec.operator == ">="]
        if floors:
            pins.append(f"{req.name}=={lowest_release(floors[0])}")
    return pins


def python_floor() -> str:
    """The lowest Python pyproject.toml allows: the major.minor of requires-python's >= bound."""
    spec = next(
        s
        for s in Requirement(f"x{PYPROJECT['project']['requires-python']}").specifier
        if s.operator == ">="
    )
    return ".".join(spec.version.split(".")[:2])


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The README's test command, word for word: it builds .venv with the newest releases."""
    session.run("python3", "kit.py", "test", *session.posargs, external=True)


@nox.session(python=python_floor())
def lowest(session: nox.Session) -> None:
    """The suite on the oldest Python and the lowest version of every dependency allowed."""
    session.install("-e", f".[{TEST_EXTRA}]", *lower_bounds())
    session.run("python", "-m", "pip", "list", "--format=freeze")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("pre-commit")
    session.run("pre-commit", "run", "--all-files", "--show-diff-on-failure")
