"""A workshop learner as a real process: its own executor id, on the shared PostgreSQL server,
running a small script of the test's (``python -c SCRIPT <name>-wf``), talked to by lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def start_learner(script: str, name: str, pg_url: str, data_dir: Path) -> subprocess.Popen[str]:
    """``script`` in a new process as learner ``name`` (``WFCOMM_EXECUTOR_ID``), its workflow id
    ``<name>-wf`` as its argument; stdin, stdout and stderr are pipes."""
    env = {
        **os.environ,
        "WFCOMM_DATABASE_URL": pg_url,
        "WFCOMM_EXECUTOR_ID": name,
        "WFCOMM_DATA_DIR": str(data_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-c", script, f"{name}-wf"],
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def read_line(proc: subprocess.Popen[str], name: str) -> str:
    """The learner's next line; if it died instead, fail with what it wrote on stderr."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise AssertionError(f"learner {name} died: {proc.communicate()[1]}")
    return line.rstrip("\n")
