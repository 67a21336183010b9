"""Record the nbval reference outputs: run each notebook top to bottom on a fresh database,
keep the outputs of the ``# NBVAL_CHECK_OUTPUT`` cells (with their counts), strip the rest.

    python tools/record_nbval_outputs.py notebooks/01_events.ipynb ...

Review the diff before committing: a changed reference output is a changed lesson.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).parent))

from strip_notebooks import strip


def record(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as data:
        os.environ["WFCOMM_DATA_DIR"] = data
        os.environ.pop("WFCOMM_DATABASE_URL", None)
        NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    path.write_text(nbformat.writes(strip(notebook)) + "\n", encoding="utf-8")
    print(f"recorded {path}")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        record(Path(name))
