"""The benchmark must not rot: ``--quick`` runs every measurement with small counts and must
account for every value it sends. Figures are not asserted here (targets live in the report)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from service_harness import child_env, one_line_failure, wfcomm

SECTIONS = [
    "## Targets",
    "## Hop latency (ms): from the client action to the value seen by a waiting reader",
    "## The SQLite polling interval: values from another process against idle CPU",
    "## Event-loop lag while three workflows compute",
    "## Stream tail cost against stream length",
    "## `wfcomm serve`: keep-alive answers (ms)",
    "## Run All of each notebook on a fresh database",
    "## Kernel idle CPU after re-running the panel cells",
    "## Learners sharing one PostgreSQL server",
]


def test_quick_benchmark_writes_every_section_and_loses_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WFCOMM_DATABASE_URL"}
    env["WFCOMM_DATA_DIR"] = str(tmp_path / "data")
    run = subprocess.run(
        [sys.executable, "-m", "wfcomm_helpers.bench", "--quick", "--docs", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = (tmp_path / "benchmarks.md").read_text()
    assert (tmp_path / "benchmarks.png").stat().st_size > 10_000
    for section in SECTIONS:
        assert section in report, section
    hop_rows = re.findall(
        r"^\| (DBOS default \(SQLite\)|kit \(SQLite\)(?:, value from another "
        r"process)?|kit \(PostgreSQL\)) \|.*\| (\w+) \|$",
        report,
        flags=re.MULTILINE,
    )
    expected = ["DBOS default (SQLite)", "kit (SQLite)", "kit (SQLite), value from another process"]
    if os.environ.get("WFCOMM_TEST_PG_URL"):
        expected.append("kit (PostgreSQL)")
        assert "lost or wrong: none." in report
    assert [name for name, _ in hop_rows] == expected
    assert all(found == "yes" for _, found in hop_rows), hop_rows
    notebooks = re.findall(
        r"^\| 0\d_\w+\.ipynb \| \d+ \| [\d.]+ \| (\w+) \|$", report, flags=re.MULTILINE
    )
    assert notebooks and set(notebooks) == {"ok"}, notebooks  # --quick runs one notebook
    servers = re.findall(
        r"^\| (wfcomm serve \(the kit binds\)|uvicorn binds) \| 10 \|", report, re.M
    )
    assert servers == ["wfcomm serve (the kit binds)", "uvicorn binds"], servers
    reruns = re.findall(r"^\| (1|10) \| \d+\.\d\d \|$", report, flags=re.MULTILINE)
    assert reruns == ["1", "10"], "the panel re-runs section has no figures"


def test_wfcomm_bench_explains_a_bad_option_in_one_line(tmp_path: Path) -> None:
    env = child_env(WFCOMM_DATA_DIR=str(tmp_path / "data"))
    bad = wfcomm("bench", "--quik", env=env)
    assert bad.returncode == 2
    assert one_line_failure(bad) == (
        "wfcomm: unrecognized arguments: --quik: see `wfcomm bench --help`."
    )
    assert not (tmp_path / "data").exists()  # nothing ran
    helped = wfcomm("bench", "--help", env=env)
    assert helped.returncode == 0 and "--quick" in helped.stdout and "--pg-url" in helped.stdout
