"""Run All each notebook N times, each run in a new kernel on a fresh data directory, and print
every run's time and its first failing cell; optionally with a CPU-bound process beside it.

    python tools/run_all_repeat.py --runs 10 notebooks/02_messaging.ipynb
    python tools/run_all_repeat.py --runs 10 --burner notebooks/0*.ipynb
    python tools/run_all_repeat.py --runs 1 --slowest 8 notebooks/01_events.ipynb

Exit status 1 when any run failed. ``--slowest K`` also prints the K slowest cells of each run
(from the timings nbclient records in each cell's metadata), to find where the time goes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import nbformat

from wfcomm_helpers.bench.notebooks import execute_fresh

#: The CPU-bound process the issue asks for: one core kept busy for the whole run.
BURNER = [sys.executable, "-c", "while 1: pass"]


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """Seconds a code cell took, from nbclient's ``execution`` metadata (0.0 if it never ran)."""
    timing = cell.get("metadata", {}).get("execution", {})
    began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (began and ended):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(ended) - parse(began)).total_seconds()


def first_line(cell: nbformat.NotebookNode) -> str:
    lines = [line for line in cell.source.splitlines() if not line.startswith("# NBVAL")]
    return (lines or [""])[0][:70]


def run_once(path: Path) -> tuple[float, str | None, nbformat.NotebookNode]:
    """One Run All of ``path`` on a fresh WFCOMM_DATA_DIR: (seconds, failure or None, notebook)."""
    seconds, failure, notebook = execute_fresh(path, timeout=120, prefix="wfcomm-repeat-")
    if failure is not None:
        failed = [
            i
            for i, c in enumerate(notebook.cells)
            if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.outputs)
        ]
        where = f"cell [{failed[0]}] {first_line(notebook.cells[failed[0]])!r}" if failed else "?"
        failure = f"{where}: {failure}"
    return seconds, failure, notebook


def report(path: Path, runs: int, slowest: int) -> int:
    """Run ``path`` ``runs`` times, printing one line per run; returns the number of failures."""
    failures = 0
    for run in range(1, runs + 1):
        seconds, failure, notebook = run_once(path)
        failures += failure is not None
        print(
            f"{path.name} run {run}/{runs}: {seconds:.1f} s {'FAIL ' + failure if failure else 'ok'}"
        )
        timed = [
            (cell_seconds(c), i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"
        ]
        for took, i, cell in sorted(timed, key=lambda t: t[0], reverse=True)[:slowest]:
            print(f"    {took:6.2f} s  [{i}] {first_line(cell)}")
        sys.stdout.flush()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=10, help="Run Alls per notebook (default 10)")
    parser.add_argument("--burner", action="store_true", help="a CPU-bound process beside the runs")
    parser.add_argument("--slowest", type=int, default=0, help="print the K slowest cells per run")
    args = parser.parse_args()
    burner = subprocess.Popen(BURNER) if args.burner else None
    try:
        failures = sum(report(path, args.runs, args.slowest) for path in args.notebooks)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    total = args.runs * len(args.notebooks)
    print(f"{total - failures}/{total} runs passed{' (with a CPU burner)' if burner else ''}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
