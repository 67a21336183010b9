"""Run All time of each notebook on a fresh database, in a real kernel (nbclient)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def execute_fresh(
    path: Path, timeout: float = 600, prefix: str = "wfcomm-nb-"
) -> tuple[float, str | None, nbformat.NotebookNode]:
    """Run All of ``path`` in a new kernel with WFCOMM_DATA_DIR fresh (SQLite; a
    WFCOMM_DATABASE_URL set in this process is not passed on): seconds from kernel start to
    the last cell's end, the failing cell's last error line or None, the executed notebook.
    The benchmark, tools/run_all_repeat.py and tools/record_nbval_outputs.py all use it."""
    notebook = nbformat.read(path, as_version=4)
    saved = {name: os.environ.get(name) for name in ("WFCOMM_DATA_DIR", "WFCOMM_DATABASE_URL")}
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        os.environ["WFCOMM_DATA_DIR"] = folder
        os.environ.pop("WFCOMM_DATABASE_URL", None)
        began = time.perf_counter()
        error = None
        try:
            NotebookClient(
                notebook,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1] if str(exc).strip() else "cell error"
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        seconds = time.perf_counter() - began
    return seconds, error, notebook


def run_all(path: Path, timeout: float = 600) -> dict[str, Any]:
    """One Run All on a fresh database (:func:`execute_fresh`), as the report's row."""
    seconds, error, notebook = execute_fresh(path, timeout)
    cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    return {"name": path.name, "seconds": seconds, "code_cells": cells, "error": error}


#: Run All on a fresh database, per notebook (seconds): the notebooks' pace target.
TARGET_RUN_ALL_SECONDS = 20.0


def target_row(rows: list[dict[str, Any]]) -> list[str]:
    """The targets table's row: the slowest notebook's Run All, and whether every one passed."""
    if not rows:
        return [f"| Run All per notebook | <= {TARGET_RUN_ALL_SECONDS:g} s | no notebooks | - |"]
    slowest = max(rows, key=lambda r: r["seconds"])
    failed = [r["name"] for r in rows if r["error"]]
    ok = slowest["seconds"] <= TARGET_RUN_ALL_SECONDS and not failed
    return [
        f"| Run All on a fresh database, slowest notebook ({slowest['name']}) "
        f"| <= {TARGET_RUN_ALL_SECONDS:g} s, every cell ok | {slowest['seconds']:.1f} s, "
        f"{len(failed)} failed | {'yes' if ok else '**no**'} |"
    ]


def measure(say: Callable[[str], None], quick: bool = False) -> list[dict[str, Any]]:
    """Every notebook in order; ``quick`` runs only the first."""
    results = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb"))[: 1 if quick else None]:
        say(f"notebooks: Run All {path.name}")
        results.append(run_all(path))
    return results
