"""A newcomer's first hour (#12 items 8-11): `python3 kit.py lab` serves the kit's folder with
its environment in JupyterLab's terminals, every README command works as written on a fresh
machine, a smoke benchmark leaves the committed report alone, and the container recipes
neither stop at a licence prompt nor start a second JupyterLab."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from service_harness import free_port

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 240.0
#: The lab's token: a request carrying it needs no XSRF cookie.
TOKEN = "wfcomm-test"
AUTH = {"Authorization": f"token {TOKEN}"}


def load_kit():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("kit", ROOT / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- 8: kit.py lab ------------------------------------------------------------------------


@pytest.mark.timeout(600)
def test_lab_serves_the_kit_root_and_terminals_get_its_environment(tmp_path: Path) -> None:
    websocket = pytest.importorskip("websocket", reason="websocket-client comes with JupyterLab")
    kit = load_kit()
    python = str(kit.venv_python())
    if not Path(python).exists():
        pytest.fail(f"{python} is missing: the suite runs from the kit's .venv (kit.py test)")
    port = free_port()
    options = [
        "--no-browser",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={TOKEN}",
    ]
    command = kit.lab_command(python, options)
    env = {**kit.kit_environment(), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = (tmp_path / "lab.log").open("w")
    lab = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert lab.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                contents = httpx.get(f"{url}/api/contents", headers=AUTH, timeout=5)
                if contents.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not answer"
            time.sleep(0.2)
        names = {item["name"] for item in contents.json()["content"]}
        assert {"README.md", "docs", "notebooks", "kit.py"} <= names, names

        made = httpx.post(f"{url}/api/terminals", headers=AUTH, timeout=60)
        assert made.status_code == 200, made.text
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/terminals/websocket/{made.json()['name']}?token={TOKEN}",
            timeout=60,
        )
        try:
            # KIT""< in the typed line, KIT< only in what the shell prints
            ws.send(json.dumps(["stdin", 'echo "KIT""<$(pwd)|$(command -v wfcomm)>"\r']))
            seen = ""
            while not re.search(r"KIT<([^|>]*)\|([^>]*)>", seen):
                message = json.loads(ws.recv())
                if message[0] == "stdout":
                    seen += message[1]
        finally:
            ws.close()
        cwd, found = re.findall(r"KIT<([^|>]*)\|([^>]*)>", seen)[-1]
        assert Path(cwd) == ROOT
        assert Path(found) == kit.venv_bin() / "wfcomm"
    finally:
        lab.terminate()
        lab.wait(timeout=60)
        log.close()


def test_lab_opens_a_notebook_the_learner_names_instead() -> None:
    kit = load_kit()
    assert str(ROOT / "notebooks" / "01_events.ipynb") in kit.lab_command("py", ["--port", "9"])
    mine = kit.lab_command("py", ["notebooks/03_streaming.ipynb", "--port", "9999"])
    assert not any(arg.endswith("01_events.ipynb") for arg in mine)
    assert f"--ServerApp.root_dir={ROOT}" in mine


# --- 9: every README command works as written -----------------------------------------------

#: Commands a fresh machine has (Python, conda for conda users, the shell's own).
FRESH = {"python3", "conda", "export", "source", "bash"}


def readme_commands() -> list[str]:
    """Every command in README's ``bash`` blocks, comments dropped, ``a && b`` split in two."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    lines = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [part.strip() for line in lines if line for part in line.split("&&")]


def test_every_readme_command_works_on_a_fresh_machine() -> None:
    """In order, each command needs only what a fresh machine has or an earlier one made."""
    commands = readme_commands()
    assert commands
    activated = False
    for command in commands:
        first = command.split()[0]
        assert activated or first in FRESH or first.startswith(".venv/bin/"), command
        activated = activated or command.startswith(("conda activate", "source .venv"))


def nox_sessions() -> set[str]:
    return set(re.findall(r"@nox\.session[^\n]*\ndef (\w+)\(", (ROOT / "noxfile.py").read_text()))


def wfcomm_accepts(args: list[str]) -> bool:
    """The CLI knows the command ``args`` name: its ``--help`` exits 0 (2 for an unknown one)."""
    from typer.testing import CliRunner

    from wfcomm_helpers.cli.root import app

    return CliRunner().invoke(app, [*args, "--help"]).exit_code == 0


def test_each_readme_command_names_what_exists() -> None:
    """The whole line, not its first word: a renamed subcommand, session, extra, file, conda
    environment or setting would leave a README command that fails as written."""
    kit = load_kit()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    conda_name = yaml.safe_load((ROOT / "environment.yml").read_text())["name"]
    settings = (ROOT / "wfcomm_helpers" / "runtime" / "settings.py").read_text()
    for command in readme_commands():
        words = shlex.split(command)
        if words[:2] == ["python3", "kit.py"]:
            assert words[2:3] and words[2] in kit.EXTRAS, command
        elif words[0] == ".venv/bin/wfcomm":
            assert wfcomm_accepts(words[1:]), command
        elif words[0] == ".venv/bin/nox":
            assert words[1] == "-s" and words[2] in nox_sessions(), command
        elif words[:3] == [".venv/bin/pip", "install", "-e"]:
            assert re.fullmatch(r"\.\[(\w+)\]", words[3])[1] in extras, command
        elif words[:3] == ["conda", "env", "create"]:
            assert words[3] == "-f" and (ROOT / words[4]).is_file(), command
        elif words[:2] == ["conda", "activate"]:
            assert words[2] == conda_name, command
        elif words[:2] == ["jupyter", "lab"]:
            assert all((ROOT / w).exists() for w in words[2:] if not w.startswith("-")), command
        elif words[0] == "export":
            assert f'"{words[1].split("=")[0]}"' in settings, command
        elif words[:2] == [".venv/bin/pre-commit", "install"]:
            assert (ROOT / ".pre-commit-config.yaml").is_file(), command
        else:
            assert command == "python3 -m venv .venv", command


# --- 10: a smoke benchmark writes elsewhere --------------------------------------------------


def test_a_quick_benchmark_does_not_touch_the_committed_report() -> None:
    from wfcomm_helpers.bench.__main__ import parse

    assert parse([]).docs == ROOT / "docs"
    quick = parse(["--quick"]).docs
    assert ROOT / "docs" not in (quick, *quick.parents)
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(quick)], cwd=ROOT, capture_output=True
    )
    assert tracked.returncode != 0, "the smoke run's folder must not be committed"


@pytest.mark.timeout(300)
def test_a_quick_benchmark_section_measures_and_reports(tmp_path: Path) -> None:
    """The cheapest section for real (`--only loop_lag`, well under a minute): figures for both
    designs that are samples of a real run, a report that holds them and says which sections
    were not asked for, and the committed report untouched. (Quick counts are too small to rank
    the two designs: the full run's report does.)"""
    committed = (ROOT / "docs" / "benchmarks.md").read_bytes()
    figures = tmp_path / "figures.json"
    run = subprocess.run(
        [sys.executable, "-m", "wfcomm_helpers.bench", "--quick", "--only", "loop_lag"]
        + ["--docs", str(tmp_path), "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = json.loads(figures.read_text())
    lag = data["loop_lag"]
    for design in ("seed", "kit"):
        row = lag[design]
        assert row["samples"] > 0 and row["seconds"] > 0, lag
        assert 0 <= row["p50"] <= row["p99"] <= row["max"], lag
    assert data["latency"] == {"not_run": "not asked for (--only loop_lag)"}
    report = (tmp_path / "benchmarks.md").read_text()
    assert f"| {lag['kit']['p99']:.1f} ms |" in report
    assert "| latency | - | not measured | - |" in report
    assert (tmp_path / "benchmarks.png").stat().st_size > 0
    assert (ROOT / "docs" / "benchmarks.md").read_bytes() == committed


# --- 11: conda and the devcontainer -------------------------------------------------------


def test_environment_yml_never_asks_for_the_defaults_channel() -> None:
    channels = yaml.safe_load((ROOT / "environment.yml").read_text())["channels"]
    assert channels[-1] == "nodefaults" and "defaults" not in channels


def test_the_devcontainer_starts_jupyterlab_once_per_container() -> None:
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert "postAttachCommand" not in config, "an attach would start a second JupyterLab"
    start = config["postStartCommand"]
    assert "jupyter lab" in start and "--ServerApp.root_dir=" in start
    assert start.rstrip().endswith("&"), "in the background: the container must finish starting"


def test_instructor_points_to_no_binder_link_that_does_not_exist() -> None:
    text = (ROOT / "INSTRUCTOR.md").read_text()
    assert "the Binder link" not in text
    links = re.findall(r"https?://mybinder\.org/\S+", text)
    assert not links or all("/gh/" in link for link in links)
