"""The doctor's checks of the Python environment: Python itself, the kit's packages, the
Jupyter kernel spec and the widget front end JupyterLab loads."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
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


def install_kit() -> str:
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
    front_end = _dependency_of("ipywidgets", FRONT_END_DIST) if installed("ipywidgets") else None
    if front_end is not None:
        checks.append(check_requirement(front_end, "the ipywidgets installed here needs it"))
    return checks


def installed(dist: str) -> bool:
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
        install_kit(),
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
