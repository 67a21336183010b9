"""The three notebooks: Run All passes twice in a row (fresh database, then the existing one)
with a low cell timeout, every code cell runs, and the committed files are clean."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.name for p in NOTEBOOKS]
#: A hung recv or read must fail fast, not after nbval's default of 2000 s.
CELL_TIMEOUT_SECONDS = 60
#: What changes run to run in the compared cells (workflow ids, durations, memory, times).
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
MARKER = "# NBVAL_CHECK_OUTPUT"


def nbval_command(path: Path) -> list[str]:
    """nbval in lax mode: every cell must run without error, and the ``# NBVAL_CHECK_OUTPUT``
    cells (what DBOS raises, what a read returns) must print their stored reference output."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval-lax",
        f"--nbval-sanitize-with={SANITIZE}",
        f"--nbval-cell-timeout={CELL_TIMEOUT_SECONDS}",
        str(path),
    ]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def run_all(name: str, env: dict[str, str], what: str) -> None:
    """Run the notebook under nbval in a fresh process and assert every code cell passed.
    nbval exits 0 even when a cell times out (it marks the rest xfail), so count the passes."""
    expected = len(code_cells(load(ROOT / "notebooks" / name)))
    done = subprocess.run(
        nbval_command(ROOT / "notebooks" / name),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, (
        f"{name} ({what}) failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
    )
    assert re.fullmatch(rf"{expected} passed(, \d+ warnings?)? in .*", summary), (
        f"{name} ({what}): {summary}"
    )


def test_the_three_notebooks_exist():
    assert NAMES == ["01_events.ipynb", "02_messaging.ipynb", "03_streaming.ipynb"]


@pytest.mark.kernel
@pytest.mark.parametrize("name", NAMES)
def test_run_all_twice_fresh_then_existing_database(name, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "WFCOMM_DATABASE_URL"}
    env["WFCOMM_DATA_DIR"] = str(tmp_path / "data")
    for run in ("fresh database", "existing database"):
        run_all(name, env, run)
    assert (tmp_path / "data").is_dir()


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_clean(name):
    notebook = load(ROOT / "notebooks" / name)
    assert notebook["metadata"]["kernelspec"] == {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    assert "widgets" not in notebook["metadata"], "saved widget state: clear it before committing"
    for cell in code_cells(notebook):
        if "NBVAL_CHECK_OUTPUT" in source(cell):
            assert cell["execution_count"] is not None, "an nbval reference output needs its count"
            continue
        assert cell["outputs"] == [], f"output left in a cell: {source(cell)[:60]!r}"
        assert cell["execution_count"] is None, f"execution count left: {source(cell)[:60]!r}"
    for cell in notebook["cells"]:
        assert "widgets" not in cell.get("metadata", {})


@pytest.mark.parametrize("name", NAMES)
def test_notebook_follows_the_kit_structure(name):
    notebook = load(ROOT / "notebooks" / name)
    markdown = [source(c) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    code = [source(c) for c in code_cells(notebook)]
    number = name[:2]
    assert markdown[0].startswith(f"# {number} · ")
    for heading in ("**You will learn to**", "**Prerequisites**", "**Time:**"):
        assert heading in markdown[0]
    # One setup cell starts DBOS and sets the marker the last cell checks.
    setup = [c for c in code if "await wfcomm_helpers.start(" in c]
    assert len(setup) == 1 and f'NOTEBOOK = "{name[:-6]}"' in setup[0]
    assert code[-1].startswith(f'assert NOTEBOOK == "{name[:-6]}"')
    # Three exercises (the third on the workflow side), each with a stub, a hint and a check.
    checks = [c for c in code if re.match(r"await exercises\.check_\d_\d\(", c)]
    assert len(checks) >= 3
    assert sum(m.startswith("<details><summary>Hint</summary>\n\n") for m in markdown) >= 3
    assert sum("raise NotImplementedError" in c for c in code) == len(checks)
    text = "\n".join(markdown)
    for phrase in (
        "What just happened?",
        "Where the experiment was wrong",
        "## Summary",
        "## Clean up",
        "## What's next",
        "Some questions to consider",
        "exercises.solution(",
        "## Crash it: durability you can see",
    ):
        assert phrase in text, phrase
    # The second-process cell runs the kit's command line without holding the loop: no `!`.
    assert any("await lesson.run_cli(" in c for c in code)
    assert not [c for c in code if re.search(r"^\s*!", c, re.M)], "a ! cell holds the event loop"
    # The lesson's outputs are compared, and each compared cell has its reference.
    assert any(c.startswith(MARKER) for c in code)


@pytest.mark.kernel
@pytest.mark.postgres
@pytest.mark.parametrize("name", NAMES)
def test_run_all_on_postgres(name, pg_url, tmp_path):
    """Run All with WFCOMM_DATABASE_URL set, each notebook on a fresh database of its own."""
    env = dict(os.environ, WFCOMM_DATABASE_URL=pg_url, WFCOMM_DATA_DIR=str(tmp_path / "data"))
    run_all(name, env, "PostgreSQL")


def _one_reference_cell(reference: dict, tmp_path: Path, printed: str | None) -> Path:
    """A notebook of notebook 01's first compared cell, its stored output optionally changed."""
    cell = json.loads(json.dumps(reference))
    if printed is not None:
        cell["outputs"][0]["text"] = printed
    notebook = load(ROOT / "notebooks" / "01_events.ipynb")
    imports = {"cell_type": "code", "execution_count": None, "id": "imports", "metadata": {}}
    notebook["cells"] = [dict(imports, outputs=[], source="from dbos import DBOS"), cell]
    path = tmp_path / "reference.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


@pytest.mark.kernel
def test_a_changed_reference_output_fails(tmp_path):
    """The compared cells really are compared: the stored output passes, a changed one fails."""
    cells = code_cells(load(ROOT / "notebooks" / "01_events.ipynb"))
    reference = next(
        c for c in cells if source(c).startswith(MARKER) and "DBOS.get_event(" in source(c)
    )
    runs = {}
    for what, printed in (("stored", None), ("changed", "DBOS raised nothing\n")):
        path = _one_reference_cell(reference, tmp_path, printed)
        runs[what] = subprocess.run(
            nbval_command(path), cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
    assert runs["stored"].returncode == 0, runs["stored"].stdout[-2000:]
    assert runs["changed"].returncode != 0, runs["changed"].stdout[-2000:]
    assert "DBOS raised nothing" in runs["changed"].stdout
