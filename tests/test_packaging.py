"""The packaging files agree with pyproject.toml, the one place versions are set: environment.yml
(no conda channel is reachable here to solve it, so its agreement is checked instead), the nox
sessions and the CI workflow that runs them, the devcontainer and Binder set-ups, and the
pre-commit hook that strips notebooks but keeps nbval's reference outputs."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
VERSION = re.compile(r"[=<>~!]=?\s*\d|\b\d+\.\d+(\.\d+)?\b")


def floor(spec: SpecifierSet) -> str:
    return next(s.version for s in spec if s.operator == ">=")


def pyproject_names() -> set[str]:
    texts = list(PROJECT["dependencies"])
    for extra in PROJECT["optional-dependencies"].values():
        texts += extra
    return {Requirement(t).name.lower() for t in texts}


def conda_entries() -> tuple[list[str], list[str]]:
    """(conda packages, pip lines) of environment.yml."""
    conda, pip = [], []
    for entry in ENVIRONMENT["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
        else:
            conda.append(entry)
    return conda, pip


def nox_sessions() -> set[str]:
    """Session names in noxfile.py, read without importing nox (not a test dependency)."""
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(target) == "nox.session":
                    names.add(node.name)
    return names


def test_environment_yml_installs_this_package_with_pip_and_pins_nothing_twice() -> None:
    conda, pip = conda_entries()
    assert len(pip) == 1, pip
    match = re.fullmatch(r"-e \.\[([a-z,]+)\]", pip[0])
    assert match, f"environment.yml must install the package itself, not {pip[0]!r}"
    assert set(match[1].split(",")) <= set(PROJECT["optional-dependencies"])
    names = {re.split(r"[=<>~! ]", entry, maxsplit=1)[0].lower() for entry in conda}
    assert "pip" in names and "python" in names
    assert not names & pyproject_names(), "a package is versioned in both files"
    for entry in conda:
        if not entry.startswith("python"):
            assert not VERSION.search(entry), f"{entry}: versions belong in pyproject.toml"


def test_environment_python_bound_matches_requires_python() -> None:
    conda, _ = conda_entries()
    python = SpecifierSet(next(e for e in conda if e.startswith("python"))[len("python") :])
    requires = SpecifierSet(PROJECT["requires-python"])
    assert floor(python) == floor(requires)
    assert all(requires.contains(v) for v in ("3.10", "3.13") if python.contains(v))


def test_ci_runs_on_push_and_nightly_through_existing_nox_sessions() -> None:
    triggers = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "push" in triggers and triggers["schedule"][0]["cron"]
    sessions = nox_sessions()
    assert {"tests", "lowest", "lint"} <= sessions
    test_job = WORKFLOW["jobs"]["test"]
    # include: the first list on a schedule (or by hand), the second on a push: what .ci/run does.
    include = test_job["strategy"]["matrix"]["include"]
    events, nightly, on_push = (json.loads(text) for text in re.findall(r"'(\[.*?\])'", include))
    assert set(events) == {"schedule", "workflow_dispatch"} and "github.event_name" in include
    assert {row["session"] for row in nightly} == {"tests", "lowest"}
    assert on_push == [row for row in nightly if row["session"] == "tests"]
    lowest = next(row for row in nightly if row["session"] == "lowest")
    assert lowest["python"] == floor(SpecifierSet(PROJECT["requires-python"]))
    steps = " ".join(step.get("run", "") for step in test_job["steps"])
    assert "nox -s ${{ matrix.session }}" in steps and "chromium" in steps
    assert "postgres" in test_job["services"]
    assert test_job["env"]["WFCOMM_TEST_PG_URL"].startswith("postgresql://")
    for job in WORKFLOW["jobs"].values():
        for step in job["steps"]:
            for session in re.findall(r"nox -s (\w+)", step.get("run", "")):
                assert session in sessions


def test_the_tests_session_is_the_readme_command_and_noxfile_holds_no_versions() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "python3 kit.py test" in readme
    source = (ROOT / "noxfile.py").read_text()
    assert '"python3", "kit.py", "test"' in source
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef)) and ast.get_docstring(node)
    }
    strings = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]
    assert not [s for s in strings if VERSION.search(s)], "versions belong in pyproject.toml"


def test_lowest_session_pins_every_lower_bound_of_pyproject() -> None:
    nox = pytest.importorskip("nox", reason="nox is a dev tool (pip install nox)")
    assert nox
    sys.path.insert(0, str(ROOT))
    try:
        import noxfile
    finally:
        sys.path.remove(str(ROOT))
    pins = dict(pin.split("==") for pin in noxfile.lower_bounds())
    for name in ("dbos", "ipywidgets", "ipykernel", "jupyterlab", "pytest", "typer", "matplotlib"):
        assert name in pins
    # A session whose Python is missing fails instead of passing having run nothing.
    assert noxfile.nox.options.error_on_missing_interpreters is True
    for text in PROJECT["dependencies"]:
        req = Requirement(text)
        assert pins[req.name] == noxfile.lowest_release(floor(req.specifier))
    assert noxfile.lowest_release("2.3") == "2.3.*"  # pytest-timeout 2.3 was never released
    assert noxfile.lowest_release("2") == "2.0.*"
    assert noxfile.python_floor() == floor(SpecifierSet(PROJECT["requires-python"]))


def test_devcontainer_and_binder_build_from_environment_yml() -> None:
    devcontainer = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert "environment.yml" in devcontainer["postCreateCommand"]
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "--file environment.yml" in post_build
    assert not (ROOT / "binder" / "environment.yml").exists(), "a second copy would drift"
    for text in (devcontainer["postCreateCommand"], post_build):
        assert not re.search(r"[=<>~]=\s*\d", text), "versions belong in pyproject.toml"


def test_pre_commit_strips_outputs_but_keeps_nbval_references() -> None:
    pytest.importorskip("nbstripout", reason="nbstripout is a dev tool (pip install nbstripout)")
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from strip_notebooks import strip
    finally:
        sys.path.remove(str(ROOT / "tools"))
    reference = new_code_cell(
        "# NBVAL_CHECK_OUTPUT\nprint('hi')",
        execution_count=3,
        outputs=[new_output("stream", name="stdout", text="hi\n")],
    )
    ordinary = new_code_cell(
        "print('live')",
        execution_count=4,
        outputs=[new_output("stream", name="stdout", text="live\n")],
    )
    notebook = new_notebook(cells=[reference, ordinary], metadata={"widgets": {"state": {}}})
    stripped = strip(nbformat.reads(nbformat.writes(notebook), as_version=nbformat.NO_CONVERT))
    kept, cleared = stripped.cells
    assert (kept.execution_count, kept.outputs[0].text) == (3, "hi\n")
    assert "keep_output" not in kept.metadata
    assert (cleared.execution_count, cleared.outputs) == (None, [])
    assert "widgets" not in stripped.metadata
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    assert "python tools/strip_notebooks.py" in entries and any("ruff" in e for e in entries)
