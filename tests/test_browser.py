"""The notebooks in a real JupyterLab, driven by Playwright in Debian's Chromium.

One JupyterLab server (loopback, random token, every Jupyter folder and the kit's data in a
temporary folder) serves a scratch copy of ``notebooks/`` plus small harness notebooks written
here. Each test opens a notebook, runs all cells from the Run menu, presses the panel's buttons
and waits (Playwright's auto-waiting ``expect``, no sleeps) for what a learner should see.
Screenshots of the final states go to ``artifacts/screenshots/`` (git-ignored).

The harness tests prove that these tests can fail: a button that does nothing times out on the
expected text, a widget without a model shows "Error displaying widget" and the check catches
it, and with the widget front end disabled no panel control ever appears.

Needs ``/usr/bin/chromium`` (Debian package ``chromium``; ``WFCOMM_CHROMIUM`` overrides the
path) and the ``playwright`` package: without them these tests skip with the reason printed,
and fail under ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import urllib.request
from pathlib import Path
from typing import Iterator

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("WFCOMM_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing_browser_parts() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    return None


MISSING = _missing_browser_parts()
if MISSING is None:
    from playwright.sync_api import Browser, Page, expect, sync_playwright

    import browser_harness as lab
elif not IN_CI:
    print(f"SKIP reason: {MISSING}")
    pytest.skip(MISSING, allow_module_level=True)
# else: under CI=true every test fails in the ``browser_parts`` fixture, saying what is missing.

# A learner's wait is seconds; these bound a wait on a loaded 2-core machine.
CLICK_TIMEOUT_MS = 45_000
#: How long the "a click that does nothing" proof waits before it counts the click as lost.
DEAD_CLICK_TIMEOUT_MS = 4_000

# --- harness notebooks ---------------------------------------------------------------------------

TINY_SETUP = """\
import asyncio
import ipywidgets as w

button = w.Button(description="Go").add_class("tiny-go")
label = w.Label("idle").add_class("tiny-label")
out = w.Output().add_class("tiny-out")
bar = w.IntProgress(value=0, max=3).add_class("tiny-bar")"""

TINY_PANEL = """\
async def work():
    for i in range(1, 4):
        await asyncio.sleep(0.05)
        bar.value = i
        out.append_stdout(f"value {i}\\n")
    label.value = "completed"

button.on_click(lambda _: asyncio.ensure_future(work()))
w.VBox([button, bar, label, out])"""

DEAD_PANEL = """\
# This button has no on_click handler: pressing it changes nothing.
w.VBox([button, bar, label, out])"""

#: A widget whose view lives in a front-end module nobody installed.
NO_FRONTEND_WIDGET = """\
import ipywidgets as w
from traitlets import Unicode

class Unrendered(w.DOMWidget):
    _view_name = Unicode("UnrenderedView").tag(sync=True)
    _view_module = Unicode("wfcomm-not-installed").tag(sync=True)
    _view_module_version = Unicode("1.0.0").tag(sync=True)

Unrendered()"""


def _write_notebook(path: Path, cells: list) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python",
    }
    nbformat.write(notebook, path)


def write_harness_notebooks(folder: Path) -> None:
    _write_notebook(folder / "harness_tiny.ipynb",
                    [new_code_cell(TINY_SETUP), new_code_cell(TINY_PANEL)])
    _write_notebook(folder / "harness_dead.ipynb",
                    [new_code_cell(TINY_SETUP), new_code_cell(DEAD_PANEL)])
    _write_notebook(folder / "harness_no_view.ipynb", [new_code_cell(NO_FRONTEND_WIDGET)])


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser_parts() -> None:
    if MISSING is not None:
        pytest.fail(f"The browser tests could not run under CI=true: {MISSING}", pytrace=False)


@pytest.fixture(scope="module")
def served(
    browser_parts: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[lab.LabServer]:
    """JupyterLab serving a scratch copy of the notebooks and the harness notebooks."""
    root = lab.copy_notebooks(ROOT / "notebooks", tmp_path_factory.mktemp("root"))
    write_harness_notebooks(root)
    server = lab.start_lab(tmp_path_factory.mktemp("jupyter-home"), root)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(browser_parts: None) -> Iterator[Browser]:
    """Debian's Chromium; Playwright gives every launch a fresh, temporary user-data-dir."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=lab.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab_page(browser: Browser, served: lab.LabServer) -> Iterator[Page]:
    """One JupyterLab tab for the whole module: loading the app is the slow part."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    lab.open_lab(page, served)
    yield page
    context.close()


@pytest.fixture
def page(lab_page: Page, served: lab.LabServer) -> Iterator[Page]:
    yield lab_page
    lab.close_documents(lab_page)
    lab.shutdown_kernels(served)  # one DBOS kernel at a time on a small machine


def run_notebook(page: Page, name: str):
    """Open ``name`` from the file browser, Run All, and check that every cell ran and every
    widget rendered."""
    panel = lab.open_notebook(page, name)
    lab.run_all(page, panel)
    lab.assert_no_widget_errors(page)
    return panel


# --- the harness itself --------------------------------------------------------------------------

def test_tiny_notebook_button_updates_widgets_live(page: Page) -> None:
    run_notebook(page, "harness_tiny.ipynb")
    page.locator(".tiny-go").click()
    expect(page.locator(".tiny-label")).to_have_text("completed", timeout=CLICK_TIMEOUT_MS)
    expect(page.locator(".tiny-out")).to_have_text(re.compile(r"value 1\s+value 2\s+value 3"))
    expect(lab.progress_bar(page.locator(".tiny-bar"))).to_have_attribute("style", lab.FULL_BAR)
    lab.screenshot(page, SCREENSHOTS, "harness_tiny")


def test_a_click_that_does_nothing_fails_with_a_clear_assertion(page: Page) -> None:
    run_notebook(page, "harness_dead.ipynb")
    page.locator(".tiny-go").click()
    with pytest.raises(AssertionError, match=r"(?s)to have text.*completed.*idle"):
        expect(page.locator(".tiny-label")).to_have_text(
            "completed", timeout=DEAD_CLICK_TIMEOUT_MS
        )


def test_a_widget_whose_view_cannot_load_is_caught(page: Page) -> None:
    lab.open_notebook(page, "harness_no_view.ipynb")
    lab.run_all(page, lab.notebook_panel(page))
    expect(page.locator(lab.WIDGET_ERROR_VIEW)).to_be_visible(timeout=CLICK_TIMEOUT_MS)
    with pytest.raises(AssertionError, match="to have count"):
        lab.assert_no_widget_errors(page)


def test_without_the_widget_front_end_no_control_appears(
    browser: Browser, served: lab.LabServer, tmp_path: Path
) -> None:
    """The same tiny notebook on a server with jupyterlab_widgets disabled: the cells run, but
    the button is never drawn, so every per-notebook test would fail at its first click."""
    bare = lab.start_lab(tmp_path / "home", served.root_dir,
                         disabled_extensions=(lab.WIDGETS_EXTENSION,))
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        lab.open_lab(page, bare)
        panel = lab.open_notebook(page, "harness_tiny.ipynb")
        lab.run_all(page, panel)
        expect(panel.get_by_text("VBox(children=")).to_be_visible()  # the plain-text fallback
        with pytest.raises(AssertionError, match="tiny-go"):
            expect(page.locator(".tiny-go")).to_be_visible(timeout=DEAD_CLICK_TIMEOUT_MS)
        lab.screenshot(page, SCREENSHOTS, "harness_no_widget_front_end")
    finally:
        context.close()
        bare.stop()
