"""Record the nbval reference outputs: run each notebook top to bottom on a fresh database,
keep the outputs of the ``# NBVAL_CHECK_OUTPUT`` cells (with their counts), strip the rest.

    python tools/record_nbval_outputs.py notebooks/01_events.ipynb ...

Review the diff before committing: a changed reference output is a changed lesson.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from wfcomm_helpers.bench.notebooks import execute_fresh

sys.path.insert(0, str(Path(__file__).parent))

from strip_notebooks import strip


def record(path: Path) -> None:
    _, error, notebook = execute_fresh(path, timeout=120)
    if error is not None:
        sys.exit(f"{path}: Run All failed ({error}); nothing recorded.")
    path.write_text(nbformat.writes(strip(notebook)) + "\n", encoding="utf-8")
    print(f"recorded {path}")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        record(Path(name))
