"""Sessions a maintainer runs locally and CI runs on every push and nightly (pip install nox):

    nox -s tests      # the README's test command, `python kit.py test`: the newest releases
    nox -s lowest     # the same suite with every dependency at the lower bound pyproject.toml allows
    nox -s lint       # ruff, as the pre-commit hook runs it

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


def lowest_release(floor: str) -> str:
    """``3.4`` -> ``3.4.*``, ``2`` -> ``2.0.*``, ``1.2.3`` -> ``1.2.3``: the floor's minor series,
    with its newest patch release (a floor such as ``2.3`` need not be a release itself)."""
    parts = floor.split(".")
    if len(parts) >= 3:
        return floor
    return ".".join((parts + ["0"])[:2]) + ".*"


def lower_bounds(extras: tuple[str, ...] = ("serve", "cli", TEST_EXTRA)) -> list[str]:
    """``name==X.Y.*`` for every requirement of the package and these extras with a ``>=X.Y``
    bound, read from pyproject.toml (the package's own ``wfcomm[...]`` self-references are
    skipped)."""
    project = PYPROJECT["project"]
    texts = list(project["dependencies"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    pins = []
    for text in texts:
        req = Requirement(text)
        if req.name == project["name"]:
            continue
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
