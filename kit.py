#!/usr/bin/env python3
"""Set up the kit's own virtual environment (.venv) and run it. Standard library only.

python3 kit.py lab      # set up, then open the kit in JupyterLab at notebooks/01 (SQLite)
python3 kit.py test     # set up, then run the full test suite (extra args go to pytest)
python3 kit.py bench    # set up, then run the benchmarks (writes docs/benchmarks.md;
                        # --quick writes a smoke run to .wfcomm/bench-quick/ instead)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
EXTRAS = {"lab": "serve,cli", "test": "test", "bench": "test"}
FIRST_NOTEBOOK = "notebooks/01_events.ipynb"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env(extras: str) -> Path:
    """Create .venv and install the kit into it; re-install only when pyproject.toml changed."""
    if sys.version_info < (3, 10):
        sys.exit(f"wfcomm needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    python = venv_python()
    if not python.exists():
        print(f"Creating {VENV.name} ...", flush=True)
        venv.create(VENV, with_pip=True)
    stamp = VENV / f".wfcomm-installed-{extras.replace(',', '-')}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"Installing the kit with [{extras}] into {VENV.name} ...", flush=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f".[{extras}]"], check=True, cwd=ROOT)
        stamp.write_text(wanted)
    return python


def venv_bin() -> Path:
    return venv_python().parent


def kit_environment() -> dict[str, str]:
    """This process's environment with the kit's ``.venv`` activated: JupyterLab's terminals
    inherit it, so ``wfcomm`` and ``python`` there are the kit's."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join([str(venv_bin()), env.get("PATH", "")]).rstrip(os.pathsep)
    env.pop("PYTHONHOME", None)
    return env


def lab_command(python: str, rest: list[str]) -> list[str]:
    """JupyterLab serving the kit's folder (README, docs, notebooks; terminals start there),
    opening the first notebook unless ``rest`` names something else."""
    names_one = any(not arg.startswith("-") and (ROOT / arg).exists() for arg in rest)
    # A login shell (what Jupyter starts when it has no terminal, as under a service or CI)
    # would reset PATH from /etc/profile and lose the kit's .venv: name the shell plainly.
    shell = os.environ.get("SHELL") or "/bin/sh"
    args = [
        python,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={ROOT}",
        f"--ServerApp.terminado_settings=shell_command={shell}",
        *rest,
    ]
    if not names_one:
        args.append(str(ROOT / FIRST_NOTEBOOK))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # containers, devcontainers and Binder often run as root
    return args


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__.strip())
        return 2
    command, rest = argv[0], argv[1:]
    python = str(ensure_env(EXTRAS[command]))
    if command == "lab":
        args = lab_command(python, rest)
    elif command == "test":
        args = [python, "-m", "pytest", *rest]
    else:
        args = [python, "-m", "wfcomm_helpers.bench", *rest]
    return subprocess.run(args, cwd=ROOT, env=kit_environment()).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
