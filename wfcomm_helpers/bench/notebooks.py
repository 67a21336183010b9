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


def run_all(path: Path, timeout: float = 600) -> dict[str, Any]:
    """Seconds from kernel start to the last cell's end, with WFCOMM_DATA_DIR fresh."""
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get("WFCOMM_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix="wfcomm-nb-") as folder:
        os.environ["WFCOMM_DATA_DIR"] = folder
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
            if previous is None:
                os.environ.pop("WFCOMM_DATA_DIR", None)
            else:
                os.environ["WFCOMM_DATA_DIR"] = previous
        seconds = time.perf_counter() - began
    cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    return {"name": path.name, "seconds": seconds, "code_cells": cells, "error": error}


def measure(say: Callable[[str], None], quick: bool = False) -> list[dict[str, Any]]:
    """Every notebook in order; ``quick`` runs only the first."""
    results = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb"))[: 1 if quick else None]:
        say(f"notebooks: Run All {path.name}")
        results.append(run_all(path))
    return results
