"""Issue #13's layout rules that code can check: teaching-only workflows are registered only
where a notebook imports them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

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


def test_readme_tree_names_every_top_level_entry_and_layer_module() -> None:
    """README's "Where things live" names each top-level module and folder of the package and
    every module of its layer folders (patterns/, runtime/, teaching/)."""
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    tree = readme.split("## Where things live", 1)[1].split("```", 2)[1]
    package = root / "wfcomm_helpers"
    wanted = [
        p.name + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if not p.name.startswith((".", "_")) or p.name == "__init__.py"
        if p.is_dir() or p.suffix == ".py"
        if p.name != "__pycache__"
    ]
    for layer in ("patterns", "runtime", "teaching"):
        wanted += [p.name for p in (package / layer).glob("*.py") if p.name != "__init__.py"]
    missing = [name for name in wanted if f" {name} " not in tree]
    assert missing == [], f"README's tree does not name {missing}"


def test_no_module_over_300_lines_and_no_function_over_60() -> None:
    package = Path(__file__).resolve().parent.parent / "wfcomm_helpers"
    too_long = []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text()
        name = path.relative_to(package.parent)
        if source.count("\n") > 300:
            too_long.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 60:
                    too_long.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert too_long == []
