"""Issue #13's layout rules that code can check: teaching-only workflows are registered only
where a notebook imports them."""

from __future__ import annotations

import json
import subprocess
import sys

SEED = "wfcomm_helpers.teaching.seed_mistakes"

# What `wfcomm serve` and the crash worker import before DBOS launches, then the workflows the
# runtime registers (every registered pattern's): the seed's wrong designs must not be among them.
SERVER_AND_WORKER = f"""
import json, sys
import wfcomm_helpers.cli.serve, wfcomm_helpers.service, wfcomm_helpers.teaching.worker_process
from wfcomm_helpers.runtime import lifecycle
from wfcomm_helpers.patterns.registry import import_workflows
wfcomm_helpers.service.create_app()
import_workflows()
before = {SEED!r} in sys.modules
from wfcomm_helpers import seed_mistakes  # a notebook's own import
print(json.dumps([before, {SEED!r} in sys.modules]))
"""


def test_seed_mistakes_are_registered_only_by_the_notebooks_import() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVER_AND_WORKER],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [False, True]
