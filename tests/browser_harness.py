"""A real JupyterLab server and a real Chromium, for the browser tests (tests/test_browser.py).

The server runs on a free loopback port with a random token. Everything it could read or write
outside the environment is redirected into one temporary folder: Jupyter config, user data,
runtime files, JupyterLab settings and workspaces, IPython's profile and the kit's data. The
widget front end is not hidden: it lives in the environment's ``share/jupyter/labextensions``,
which Jupyter finds through ``sys.prefix`` whatever ``JUPYTER_DATA_DIR`` says.

Playwright cannot download its own browser here, so the tests drive Debian's ``chromium``
with :data:`CHROMIUM_ARGS`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

#: Headless Chromium that stays off the network: without the background-networking flags it
#: keeps trying to reach Google's services, which a closed network turns into long stalls.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The status bar once a kernel is connected and idle: "Python 3 (ipykernel) | Idle".
KERNEL_IDLE = re.compile(r"^(?!No Kernel).+ \| Idle$")
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
#: What ipywidgets' front end shows instead of a widget whose model it cannot find ...
WIDGET_ERROR_TEXT = "Error displaying widget"
#: ... and instead of a widget whose view class does not load ("Click to show javascript error").
WIDGET_ERROR_VIEW = ".jupyter-widgets-error-widget"

# JupyterLab's DOM, as the tests find it.
MAIN_TABS = "#jp-main-dock-panel .lm-TabBar-tab"
#: How JupyterLab renders an exception raised by a cell: a traceback, or the kit's one line
#: (``NotStartedError: ...``), both in a stderr-typed output.
_STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
ERROR_OUTPUT = ", ".join(
    f"{_STDERR_OUTPUT}:has-text({sign!r})" for sign in ("Traceback", "Error: ", "Exception: ")
)
NOTEBOOK_TABS = f"{MAIN_TABS}:has-text('.ipynb')"
DISCARD_BUTTON = ".jp-Dialog .jp-Dialog-button.jp-mod-warn"
#: An ipywidgets progress bar at its maximum draws its inner bar at full width.
FULL_BAR = re.compile(r"width:\s*100%")

# Settings written into the isolated settings folder. No news / update checks (closed network,
# and their toast would cover the screenshots); every cell rendered, so locators see them all.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running ``jupyter lab`` process; ``url(path)`` adds the token."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    @property
    def data_dir(self) -> Path:
        """The kit's data folder (``WFCOMM_DATA_DIR``) of the server and its kernels."""
        return self.log_path.parent / "wfcomm-data"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> None:
        """SIGINT twice is ``jupyter lab``'s clean shutdown (kernels included)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)


def start_lab(
    home: Path, root_dir: Path, disabled_extensions: tuple[str, ...] = (), deadline: float = 90
) -> LabServer:
    """Start JupyterLab serving ``root_dir``, with all its state under ``home``; wait until
    ``/api/status`` answers (polled with the token, up to ``deadline`` seconds)."""
    home, root_dir = home.resolve(), root_dir.resolve()
    dirs = {
        name: home / sub
        for name, sub in {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
            "IPYTHONDIR": "ipython",
            "WFCOMM_DATA_DIR": "wfcomm-data",
        }.items()
    }
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    for name, settings in LAB_SETTINGS.items():
        target = dirs["JUPYTERLAB_SETTINGS_DIR"] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings))
    if disabled_extensions:
        labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
        labconfig.mkdir(exist_ok=True)
        disabled = {name: True for name in disabled_extensions}
        (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": disabled}))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "WFCOMM_"))}
    env.update({name: str(path) for name, path in dirs.items()})
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    port, token = free_port(), secrets.token_hex(16)
    log_path = home / "jupyter-lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LabServer(process, port, token, root_dir, log_path)
    try:
        _wait_ready(server, deadline)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: LabServer, deadline: float) -> None:
    end = time.monotonic() + deadline
    status_url = server.url("api/status")
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {server.process.returncode}:\n{server.log()}"
            )
        try:
            with urllib.request.urlopen(status_url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > end:
            raise TimeoutError(f"jupyter lab did not answer within {deadline} s:\n{server.log()}")
        time.sleep(0.2)  # polling interval of a condition with a deadline, not a wait for timing


def copy_notebooks(source: Path, target: Path) -> Path:
    """A scratch copy, so saving (or autosave) never writes outputs into the repository."""
    target.mkdir(parents=True, exist_ok=True)
    for notebook in sorted(source.glob("*.ipynb")):
        shutil.copy2(notebook, target / notebook.name)
    return target


# --- driving a notebook the way a learner does ------------------------------------------------


def open_lab(page: Page, server: LabServer, timeout: float = 90_000) -> None:
    """Load JupyterLab once; notebooks are then opened from its file browser."""
    page.goto(server.url("lab"))
    expect(page.locator(".jp-DirListing-item").first).to_be_visible(timeout=timeout)


def open_notebook(page: Page, name: str, timeout: float = 60_000) -> Locator:
    """Double-click ``name`` in the file browser and wait until its kernel is connected and
    idle; returns the notebook panel.

    JupyterLab asks "Select Kernel" when a notebook opens before it has loaded the kernel list
    (a race in its session start-up); a learner presses Select, which keeps the preferred one.
    """
    page.locator(".jp-DirListing-item", has_text=re.compile(f"^{re.escape(name)}")).dblclick()
    tab = page.locator(".jp-mod-current.lm-TabBar-tab", has_text=name)
    expect(tab).to_be_visible(timeout=timeout)
    dialog = page.locator(".jp-Dialog")
    ready = page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)
    expect(dialog.or_(ready).first).to_be_visible(timeout=timeout)
    if dialog.is_visible():
        dialog.locator(".jp-mod-accept").click()
        expect(dialog).to_have_count(0)
    expect(ready).to_be_visible(timeout=timeout)
    return notebook_panel(page)


def notebook_panel(page: Page) -> Locator:
    """The notebook in front."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def close_documents(page: Page, timeout: float = 30_000) -> None:
    """Close every open notebook, discarding changes (the copies are scratch). A changed
    notebook asks "Save your work": its warn-style button is Discard. (JupyterLab reopens a
    Launcher when the main area empties, so the Launcher is left alone.)"""
    tabs = page.locator(NOTEBOOK_TABS)
    while (count := tabs.count()) > 0:
        tabs.first.locator(".lm-TabBar-tabCloseIcon").click()
        page.wait_for_function(
            "([tabs, discard, n]) => [...document.querySelectorAll(tabs)]"
            ".filter(tab => tab.textContent.includes('.ipynb')).length < n"
            " || document.querySelector(discard) !== null",
            arg=[MAIN_TABS, DISCARD_BUTTON, count],
            timeout=timeout,
        )
        discard = page.locator(DISCARD_BUTTON)
        if discard.count():
            discard.click()
        expect(tabs).to_have_count(count - 1, timeout=timeout)


def run_menu(page: Page, item: str) -> None:
    """Choose ``Run > item`` from JupyterLab's menu bar."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def run_all(page: Page, panel: Locator, timeout: float = 120_000) -> None:
    """Run > Run All Cells, then wait until every code cell has run."""
    run_menu(page, "Run All Cells")
    wait_cells_ran(panel.locator(".jp-CodeCell"), timeout)


def select_cell(cell: Locator) -> None:
    """Click a cell's input prompt: selects it in command mode, as a learner's click does."""
    cell.locator(".jp-InputArea-prompt").click()
    expect(cell).to_have_class(re.compile(r"\bjp-mod-selected\b"))


def wait_cells_ran(cells: Locator, timeout: float = 120_000, limit: int | None = None) -> None:
    """Every one of ``cells`` (the first ``limit`` of them if given) shows an execution count
    (``[3]:``), so the run did not stop at an error; then the kernel is idle again and no cell
    shows an error."""
    prompts = cells.locator(".jp-InputArea-prompt")
    count = prompts.count() if limit is None else limit
    assert count > 0, "no code cells to wait for"
    for index in range(count):
        try:
            expect(prompts.nth(index)).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=timeout)
        except AssertionError:
            assert_no_error_outputs(cells)  # a run that stopped at an error: name that cell
            raise
    page = cells.page
    expect(page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)).to_be_visible(
        timeout=timeout
    )
    assert_no_error_outputs(cells)


def assert_no_error_outputs(cells: Locator) -> None:
    """No cell shows an error; else fail naming each such cell (its index among ``cells`` and
    its first source line) and the error's last line, not only a count."""
    try:
        expect(cells.locator(ERROR_OUTPUT)).to_have_count(0)
    except AssertionError:
        found = []
        for index in range(cells.count()):
            errors = cells.nth(index).locator(ERROR_OUTPUT)
            if errors.count():
                source = cells.nth(index).locator(".jp-InputArea-editor .cm-line").first
                lines = [x for x in errors.first.inner_text().splitlines() if x.strip()]
                found.append(
                    f"cell {index} ({source.inner_text().strip()!r}): "
                    f"{lines[-1] if lines else '(empty)'}"
                )
        raise AssertionError("error output in " + "; ".join(found or ["a cell"])) from None


def widget_errors(page: Page) -> Locator:
    """Every way ipywidgets' front end shows a widget it could not draw."""
    return page.get_by_text(WIDGET_ERROR_TEXT).or_(page.locator(WIDGET_ERROR_VIEW))


def assert_no_widget_errors(page: Page) -> None:
    expect(widget_errors(page)).to_have_count(0)


def screenshot(page: Page, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def progress_bar(progress: Locator) -> Locator:
    """The inner bar of an ``IntProgress`` view (its width is the value, in per cent)."""
    return progress.locator(".progress-bar")


def shutdown_kernels(server: LabServer) -> None:
    """Shut down every kernel the server runs (the REST call JupyterLab's Shut Down uses)."""
    headers = {"Authorization": f"token {server.token}"}
    listing = urllib.request.Request(server.url("api/kernels"), headers=headers)
    with urllib.request.urlopen(listing, timeout=10) as reply:
        kernels = json.load(reply)
    for kernel in kernels:
        request = urllib.request.Request(
            server.url(f"api/kernels/{kernel['id']}"), headers=headers, method="DELETE"
        )
        urllib.request.urlopen(request, timeout=30).close()
