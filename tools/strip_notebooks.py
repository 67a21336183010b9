"""pre-commit hook: strip notebook outputs with nbstripout, except the cells nbval compares.

A code cell with a ``# NBVAL_CHECK_OUTPUT`` line keeps its outputs and its execution count
(nbval refuses a reference output whose cell has no count); every other cell loses both. Saved
widget state goes too (it is stale the moment the kernel stops). nbstripout's own command line
cannot do this: it keeps either every count or none.

    python tools/strip_notebooks.py notebooks/*.ipynb    # exit 1 when it changed a file
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbstripout import strip_output

MARKER = "NBVAL_CHECK_OUTPUT"
#: Notebook and cell metadata that changes on every run or save.
VOLATILE_KEYS = ["metadata.widgets", "cell.metadata.execution", "cell.metadata.ExecuteTime"]


def is_reference(cell: nbformat.NotebookNode) -> bool:
    """nbval compares this cell's output: a ``# NBVAL_CHECK_OUTPUT`` comment line."""
    return cell.cell_type == "code" and any(
        line.strip().lstrip("#").strip() == MARKER for line in cell.source.splitlines()
    )


def strip(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    counts = {}
    for index, cell in enumerate(notebook.cells):
        if is_reference(cell):
            counts[index] = cell.get("execution_count")
            cell.metadata["keep_output"] = True
    strip_output(
        notebook, keep_output=None, keep_count=False, keep_id=True, extra_keys=VOLATILE_KEYS
    )
    for index, count in counts.items():
        notebook.cells[index].metadata.pop("keep_output")
        notebook.cells[index].execution_count = count
    return notebook


def main(paths: list[str]) -> int:
    changed = 0
    for path in map(Path, paths):
        before = path.read_text(encoding="utf-8")
        notebook = strip(nbformat.reads(before, as_version=nbformat.NO_CONVERT))
        after = nbformat.writes(notebook) + "\n"
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"stripped {path}")
            changed += 1
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
