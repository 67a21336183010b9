"""A newcomer's first hour (#12 items 8-11): `python3 kit.py lab` serves the kit's folder with
its environment in JupyterLab's terminals, every README command works as written on a fresh
machine, a smoke benchmark leaves the committed report alone, and the container recipes
neither stop at a licence prompt nor start a second JupyterLab."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from service_harness import free_port

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


def test_every_readme_command_works_on_a_fresh_machine() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        activated = False
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if not command:
                continue
            first = command.split()[0]
            assert activated or first in FRESH or first.startswith(".venv/bin/"), line
            activated = activated or command.startswith(("conda activate", "source .venv"))


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
