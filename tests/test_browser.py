"""The notebooks in a real JupyterLab, driven by Playwright in Debian's Chromium.

One JupyterLab server (loopback, random token, every Jupyter folder and the kit's data in a
temporary folder) serves a scratch copy of ``notebooks/`` plus small harness notebooks written
here. Each test opens a notebook, runs all cells from the Run menu, presses the panel's buttons
and waits (Playwright's auto-waiting ``expect``, no sleeps) for what a learner should see.
Screenshots of the final states go to ``artifacts/screenshots/`` (git-ignored).

The tiny harness notebook is the check for ipywidgets#4012 (background asyncio tasks that only
advance when another cell runs): its click must update the widgets with no cell running.
The harness tests prove that these tests can fail: a button that does nothing times out on the
expected text, a widget without a model shows "Error displaying widget" and the check catches
it, and with the widget front end disabled no panel control ever appears.

Needs ``/usr/bin/chromium`` (Debian package ``chromium``; ``WFCOMM_CHROMIUM`` overrides the
path) and the ``playwright`` package: without them these tests skip with the reason printed,
and fail under ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

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
    import browser_harness as lab
    from playwright.sync_api import Browser, Page, expect, sync_playwright
    from test_worker import worker_processes
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


#: A setup cell whose kit error (PostgreSQL unreachable) is the first `await` of the kernel.
SETUP_ON_A_CLOSED_PORT = """\
import wfcomm_helpers
await wfcomm_helpers.start("events", database_url="postgresql://u:pw@127.0.0.1:1/wfcomm")"""


#: A panel wider than any laptop's notebook: twenty buttons in a row that does not wrap.
WIDE_PANEL = """\
import ipywidgets as w

w.HBox([w.Button(description=f"button {i}") for i in range(20)]).add_class("wfcomm-panel")"""


def _write_notebook(path: Path, cells: list) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, path)


def write_harness_notebooks(folder: Path) -> None:
    _write_notebook(
        folder / "harness_tiny.ipynb", [new_code_cell(TINY_SETUP), new_code_cell(TINY_PANEL)]
    )
    _write_notebook(
        folder / "harness_dead.ipynb", [new_code_cell(TINY_SETUP), new_code_cell(DEAD_PANEL)]
    )
    _write_notebook(folder / "harness_no_view.ipynb", [new_code_cell(NO_FRONTEND_WIDGET)])
    _write_notebook(folder / "harness_wide.ipynb", [new_code_cell(WIDE_PANEL)])
    _write_notebook(
        folder / "harness_error.ipynb",
        [new_code_cell('raise ValueError("boom")'), new_code_cell("print('after')")],
    )
    _write_notebook(
        folder / "harness_setup_error.ipynb",
        [new_code_cell(SETUP_ON_A_CLOSED_PORT), new_code_cell("print('after')")],
    )


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
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=lab.CHROMIUM_ARGS)
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
        expect(page.locator(".tiny-label")).to_have_text("completed", timeout=DEAD_CLICK_TIMEOUT_MS)


def test_a_cell_that_raises_fails_the_run(page: Page) -> None:
    panel = lab.open_notebook(page, "harness_error.ipynb")
    lab.run_menu(page, "Run All Cells")
    expect(panel.locator(lab.ERROR_OUTPUT)).to_contain_text("ValueError", timeout=CLICK_TIMEOUT_MS)
    # The cell after it never ran: the wait fails naming the cell that stopped the run.
    with pytest.raises(AssertionError, match=r"^error output in cell 0 \('raise ValueError"):
        lab.wait_cells_ran(panel.locator(".jp-CodeCell"), timeout=DEAD_CLICK_TIMEOUT_MS)
    # The failure names the cell and the error's last line, not only a count.
    with pytest.raises(
        AssertionError,
        match=r"^error output in cell 0 \('raise ValueError\(\"boom\"\)'\): ValueError: boom$",
    ):
        lab.assert_no_error_outputs(panel.locator(".jp-CodeCell"))


def test_run_all_stops_at_a_failing_setup_cell(page: Page) -> None:
    """The kit's one-line error fails the setup cell (a reply with status error), so Run All
    stops there: the next cell never runs."""
    panel = lab.open_notebook(page, "harness_setup_error.ipynb")
    lab.run_menu(page, "Run All Cells")
    cells = panel.locator(".jp-CodeCell")
    expect(cells.first.locator(lab.ERROR_OUTPUT)).to_have_text(
        re.compile(r"^DatabaseUnreachableError: Cannot reach PostgreSQL at postgresql://u:\*\*\*@"),
        timeout=CLICK_TIMEOUT_MS,
    )
    expect(cells.first.locator(".jp-InputArea-prompt")).to_have_text(
        re.compile(r"^\[\d+\]:$"), timeout=CLICK_TIMEOUT_MS
    )
    expect(page.locator(".jp-StatusBar-TextItem", has_text=lab.KERNEL_IDLE)).to_be_visible(
        timeout=CLICK_TIMEOUT_MS
    )
    expect(cells.nth(1).locator(".jp-InputArea-prompt")).to_have_text("[ ]:")
    expect(cells.nth(1).locator(".jp-OutputArea-output")).to_have_count(0)


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
    bare = lab.start_lab(
        tmp_path / "home", served.root_dir, disabled_extensions=(lab.WIDGETS_EXTENSION,)
    )
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


# --- the kit's notebooks, as a learner uses them ----------------------------------------------
#
# Each notebook ends with a clean-up cell (``panel.close()`` and ``wfcomm_helpers.shutdown()``)
# and a last cell that proves every cell ran. A learner runs everything above the clean-up,
# plays with the panel, then runs the rest: so do these tests. The notebook's own cells have
# already pressed the panel's buttons once (through the same methods), so every expectation
# below looks for something only the browser click can produce: a new workflow id, a step
# count typed into the page, an intermediate state.

CLEANUP_MARKER = "panel.close()"


def run_up_to_cleanup(page: Page, name: str):
    """Open ``name``, run every cell above the clean-up cell, check they ran and rendered."""
    notebook = lab.open_notebook(page, name)
    cells = notebook.locator(".jp-CodeCell")
    cleanup_index = cells.evaluate_all(
        "(cells, marker) => cells.findIndex(cell => cell.textContent.includes(marker))",
        CLEANUP_MARKER,
    )
    assert cleanup_index > 0, f"{name} has no clean-up cell containing {CLEANUP_MARKER!r}"
    lab.select_cell(cells.nth(cleanup_index))
    lab.run_menu(page, "Run All Above Selected Cell")
    lab.wait_cells_ran(cells, limit=cleanup_index)
    lab.assert_no_widget_errors(page)
    expect(page.locator(".wfcomm-health")).to_contain_text("kernel health: memory")
    return notebook


def finish(page: Page, notebook, name: str, start_selector: str) -> None:
    """Screenshot the panel as the learner sees it, then run the clean-up and the last cell."""
    panel_cell = notebook.locator(".jp-CodeCell", has=page.locator(start_selector))
    panel_cell.evaluate("node => node.scrollIntoView({block: 'start'})")
    lab.screenshot(page, SCREENSHOTS, name.removesuffix(".ipynb"))
    cells = notebook.locator(".jp-CodeCell")
    lab.select_cell(cells.filter(has_text=CLEANUP_MARKER))
    lab.run_menu(page, "Run Selected Cell and All Below")
    lab.wait_cells_ran(cells)
    expect(cells.last.locator(".jp-OutputArea-output")).to_have_text(
        f"Every cell of {name.removesuffix('.ipynb')} ran."
    )
    lab.assert_no_widget_errors(page)


def started_id(page: Page, pattern: str, seen: set[str]) -> str:
    """Wait for the panel's notice to announce a new workflow; returns its id."""
    notice = page.locator(".wfcomm-notice")
    expect(notice).to_have_text(re.compile(pattern), timeout=CLICK_TIMEOUT_MS)
    match = re.match(pattern, notice.inner_text())
    assert match, notice.inner_text()
    workflow_id = match.group(1)
    assert workflow_id not in seen, f"no new workflow: {workflow_id} was already shown"
    seen.add(workflow_id)
    return workflow_id


def test_events_panel_start_shows_progress_status_and_result(page: Page) -> None:
    notebook = run_up_to_cleanup(page, "01_events.ipynb")
    steps = page.locator(".wfcomm-events-steps input")
    steps.fill("3")  # the notebook's panel was built with 5
    steps.press("Enter")
    page.locator(".wfcomm-events-start").click()
    started_id(page, r"^Started (\S+) with 3 steps", set())
    expect(page.locator(".wfcomm-events-status")).to_have_text(
        "completed", timeout=CLICK_TIMEOUT_MS
    )
    expect(lab.progress_bar(page.locator(".wfcomm-events-progress"))).to_have_attribute(
        "style", lab.FULL_BAR
    )
    expect(page.locator(".wfcomm-events-result")).to_have_text(
        re.compile(r"^3 steps: fib\(\d+\)=\d+(, fib\(\d+\)=\d+){2}$")
    )
    all_events = page.locator(".wfcomm-events-all")
    expect(all_events).to_contain_text('"status": "completed"')
    expect(all_events).to_contain_text('"progress": 100')
    finish(page, notebook, "01_events.ipynb", ".wfcomm-events-start")


def test_messaging_panel_approve_completes_and_reject_cancels(page: Page) -> None:
    notebook = run_up_to_cleanup(page, "02_messaging.ipynb")
    countdown = page.locator(".wfcomm-msg-countdown")
    outcome = page.locator(".wfcomm-msg-outcome")
    dbos_status = page.locator(".wfcomm-msg-dbos-status")
    notice = page.locator(".wfcomm-notice")
    seen: set[str] = set()

    def start() -> str:
        page.locator(".wfcomm-msg-start").click()
        workflow_id = started_id(page, r"^Started (\S+): it waits for Approve or Reject\.$", seen)
        expect(countdown).to_have_text(re.compile(r"^waiting for a decision: \d+ s left$"))
        expect(dbos_status).to_have_text("DBOS status: PENDING")
        return workflow_id

    workflow_id = start()
    page.locator(".wfcomm-msg-approve").click()
    expect(notice).to_have_text(re.compile(f"^Sent 'approve' to {workflow_id}"))
    expect(outcome).to_have_text(re.compile(r"^completed: 2 steps ran$"), timeout=CLICK_TIMEOUT_MS)
    expect(dbos_status).to_have_text("DBOS status: SUCCESS")

    workflow_id = start()
    text = page.locator(".wfcomm-msg-text input")
    text.fill("too risky")
    text.press("Tab")
    page.locator(".wfcomm-msg-reject").click()
    expect(notice).to_have_text(re.compile(f"^Sent 'reject' to {workflow_id}"))
    expect(outcome).to_have_text("cancelled: Not approved: too risky", timeout=CLICK_TIMEOUT_MS)
    expect(dbos_status).to_have_text("DBOS status: SUCCESS")  # the workflow's answer, not DBOS's
    expect(countdown).to_have_text("done")
    finish(page, notebook, "02_messaging.ipynb", ".wfcomm-msg-start")


def expected_stream_lines(n_steps: int) -> list[re.Pattern[str]]:
    """The 2N+2 log lines of one streaming workflow, in order."""
    lines = [rf"\[0\] start: Starting {n_steps} steps"]
    for step in range(1, n_steps + 1):
        lines.append(rf"\[{2 * step - 1}\] progress: Processing step {step}/{n_steps}")
        lines.append(rf"\[{2 * step}\] result: step {step}: fib\(\d+\) = \d+")
    lines.append(rf"\[{2 * n_steps + 1}\] complete: Completed {n_steps} steps")
    return [re.compile(f"^{line}$") for line in lines]


def test_streaming_panel_logs_every_value_once_and_closes(page: Page) -> None:
    notebook = run_up_to_cleanup(page, "03_streaming.ipynb")
    page.locator(".wfcomm-stream-start").click()
    started_id(page, r"^Started (\S+): ", set())
    expect(page.locator(".wfcomm-stream-closed")).to_have_text("closed", timeout=CLICK_TIMEOUT_MS)
    log = page.locator(".wfcomm-stream-log")
    first = log.inner_text().splitlines()[0]
    n_steps = int(re.fullmatch(r"\[0\] start: Starting (\d+) steps", first).group(1))
    total = 2 * n_steps + 2
    expect(page.locator(".wfcomm-stream-count")).to_have_text(f"{total} values")
    expect(page.locator(".wfcomm-stream-live-count")).to_have_text(
        f"{total} values", timeout=CLICK_TIMEOUT_MS
    )
    for reader in (log, page.locator(".wfcomm-stream-live-log")):
        lines = reader.inner_text().splitlines()
        patterns = expected_stream_lines(n_steps)
        assert len(lines) == len(patterns), lines
        for line, pattern in zip(lines, patterns, strict=True):
            assert pattern.match(line), f"{line!r} does not match {pattern.pattern!r}"

    offset = page.locator(".wfcomm-stream-offset input")
    offset.fill("3")  # the notebook's own cell re-read from 6
    offset.press("Enter")
    page.locator(".wfcomm-stream-reread").click()
    expect(page.locator(".wfcomm-stream-reread-count")).to_have_text(
        f"{total - 3} values", timeout=CLICK_TIMEOUT_MS
    )
    expect(page.locator(".wfcomm-notice")).to_have_text(
        f"Re-read {total - 3} values from offset 3; reader 1 still has {total}: "
        "reading does not consume."
    )
    finish(page, notebook, "03_streaming.ipynb", ".wfcomm-stream-start")


# --- panel layout at a laptop's size (issue 15) ------------------------------------------------
#
# At 1280x900 with the file browser open, every label, button and notice of a panel must be
# readable: none cut off ("Start one nobody…"), none outside the panel, the notice next to the
# buttons it answers, and after the clean-up cell the health strip says it stopped.

LAPTOP = {"width": 1280, "height": 900}
#: What a panel shows in words: labels, buttons, the notice and the health strip.
WORDS = ".widget-label, .widget-button, .wfcomm-notice, .wfcomm-health"
#: Every element of WORDS that is cut off (scrollWidth > clientWidth) or sticks out of the panel.
CLIPPED_JS = """(panel, selector) => {
  const box = panel.getBoundingClientRect();
  const bad = [];
  for (const el of panel.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const text = (el.innerText || '').trim();
    if (!text || r.width === 0) continue;
    if (el.scrollWidth > el.clientWidth + 1 || r.left < box.left - 1 || r.right > box.right + 1) {
      bad.push(`"${text.slice(0, 50)}": scrollWidth ${el.scrollWidth}, clientWidth ` +
               `${el.clientWidth}, x ${Math.round(r.left)}-${Math.round(r.right)} in panel ` +
               `${Math.round(box.left)}-${Math.round(box.right)}`);
    }
  }
  return bad;
}"""
#: Every widget view in the panel (the panel included) wider than its box: a horizontal
#: scroll bar or cut-off content at this size.
OVERFLOW_JS = """panel => [panel, ...panel.querySelectorAll('.jupyter-widgets')]
  .filter(el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
  .map(el => `${el.className}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`)"""
#: The notice may sit at most this far below the bottom of the panel's Start button (px).
NOTICE_NEAR_PX = 60


@pytest.fixture
def laptop(browser: Browser, served: lab.LabServer) -> Iterator[Page]:
    """A 1280x900 JupyterLab tab with the file browser open beside the notebook."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        lab.open_lab(page, served)
        expect(page.locator(".jp-FileBrowser")).to_be_visible()
        yield page
        lab.close_documents(page)
    finally:
        context.close()
        lab.shutdown_kernels(served)


def play_events(page: Page) -> None:
    page.locator(".wfcomm-events-start").click()
    expect(page.locator(".wfcomm-events-status")).to_have_text(
        "completed", timeout=CLICK_TIMEOUT_MS
    )
    expect(page.locator(".wfcomm-notice")).to_contain_text("DBOS status SUCCESS")


def play_messaging(page: Page) -> None:
    page.locator(".wfcomm-msg-idle-start").click()
    page.locator(".wfcomm-msg-start").click()
    expect(page.locator(".wfcomm-msg-dbos-status")).to_have_text("DBOS status: PENDING")
    expect(page.locator(".wfcomm-msg-countdown")).to_contain_text("waiting for a decision")
    page.locator(".wfcomm-msg-approve").click()
    expect(page.locator(".wfcomm-msg-outcome")).to_have_text(
        "completed: 2 steps ran", timeout=CLICK_TIMEOUT_MS
    )
    expect(page.locator(".wfcomm-msg-idle-outcome")).to_contain_text(
        "cancelled: Timeout", timeout=CLICK_TIMEOUT_MS
    )


def play_streaming(page: Page) -> None:
    page.locator(".wfcomm-stream-start").click()
    expect(page.locator(".wfcomm-stream-closed")).to_have_text("closed", timeout=CLICK_TIMEOUT_MS)
    expect(page.locator(".wfcomm-notice")).to_contain_text("each reader got all")


@pytest.mark.parametrize(
    ("name", "start_selector", "play"),
    [
        ("01_events.ipynb", ".wfcomm-events-start", play_events),
        ("02_messaging.ipynb", ".wfcomm-msg-start", play_messaging),
        ("03_streaming.ipynb", ".wfcomm-stream-start", play_streaming),
    ],
)
def test_panel_words_fit_at_1280x900_with_the_file_browser_open(
    laptop: Page, name: str, start_selector: str, play
) -> None:
    notebook = run_up_to_cleanup(laptop, name)
    play(laptop)
    panel = laptop.locator(".wfcomm-panel")
    expect(panel).to_have_count(1)
    panel.evaluate("node => node.scrollIntoView({block: 'start'})")
    stem = name.removesuffix(".ipynb")
    lab.screenshot(laptop, SCREENSHOTS, f"laptop_{stem}")
    assert panel.evaluate(CLIPPED_JS, WORDS) == []
    assert panel.evaluate(OVERFLOW_JS) == []
    start, notice = laptop.locator(start_selector).bounding_box(), notice_box(laptop)
    gap = notice["y"] - (start["y"] + start["height"])
    assert gap < NOTICE_NEAR_PX, f"the notice is {gap:.0f} px below the Start button"
    finish(laptop, notebook, name, start_selector)
    expect(laptop.locator(".wfcomm-health")).to_have_text(re.compile(r"^kernel health: stopped"))
    panel.evaluate("node => node.scrollIntoView({block: 'start'})")
    lab.screenshot(laptop, SCREENSHOTS, f"laptop_{stem}_after_clean_up")


def test_a_panel_wider_than_the_page_is_caught(laptop: Page) -> None:
    """The overflow checks can fail: a row of twenty buttons is wider than the notebook, so
    the row squeezes each button below its label's width."""
    run_notebook(laptop, "harness_wide.ipynb")
    panel = laptop.locator(".wfcomm-panel")
    expect(panel.locator(".widget-button")).to_have_count(20)
    overflowing = panel.evaluate(OVERFLOW_JS)
    assert len(overflowing) == 20, overflowing
    assert all("widget-button: scrollWidth" in line for line in overflowing), overflowing
    assert len(panel.evaluate(CLIPPED_JS, WORDS)) == 20


def notice_box(page: Page) -> dict[str, float]:
    box = page.locator(".wfcomm-notice").bounding_box()
    assert box is not None, "the notice is not displayed"
    return box


# --- crash it: the crash panel, the timeline and the diagrams (issue 15) -------------------------
#
# At the laptop size, in each notebook: every Mermaid diagram is drawn (not its source), the
# crash section's matplotlib timeline is a PNG, and the crash panel's buttons crash and recover
# a workflow: PENDING while the worker is down, SUCCESS after Restart, the proof's lines all
# kept, the live timeline with one mark per record DBOS holds (counted again here from the
# database file with a DBOSClient), nothing cut off, no worker process left after clean-up.


def crash_click(page: Page, label: str, notice: str | re.Pattern[str]) -> None:
    """Click a crash-panel button and wait for its notice."""
    page.locator(f".wfcomm-crash-{label}").click()
    expect(page.locator(".wfcomm-crash-notice")).to_have_text(notice, timeout=CLICK_TIMEOUT_MS)


#: The crash section's code cells (each calls the worker, the proof, the timeline or the panel).
CRASH_CELLS = "worker.|prove(|workflow_timeline(|CrashPanel("
#: The crash panel's words, checked for clipping like the main panels' WORDS.
CRASH_WORDS = (
    ".widget-button, .wfcomm-crash-status, .wfcomm-crash-notice, .wfcomm-crash-proof-line, "
    ".wfcomm-timeline-caption, .wfcomm-timeline-name"
)


def run_through_crash_section(page: Page, name: str):
    """Run every cell above the clean-up cell; the crash section's cells show no error.
    (Only those are checked here: the rest of the notebook has its own browser tests.)"""
    notebook = lab.open_notebook(page, name)
    cells = notebook.locator(".jp-CodeCell")
    cleanup = cells.evaluate_all(
        "(cells, marker) => cells.findIndex(cell => cell.textContent.includes(marker))",
        CLEANUP_MARKER,
    )
    assert cleanup > 0, f"{name} has no clean-up cell containing {CLEANUP_MARKER!r}"
    lab.select_cell(cells.nth(cleanup))
    lab.run_menu(page, "Run All Above Selected Cell")
    prompts = cells.locator(".jp-InputArea-prompt")
    for index in range(cleanup):
        expect(prompts.nth(index)).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=240_000)
    crash = cells.filter(has_text=re.compile("|".join(map(re.escape, CRASH_CELLS.split("|")))))
    assert crash.count() >= 6, f"{name}: {crash.count()} crash-section cells"
    lab.assert_no_error_outputs(crash)
    lab.assert_no_widget_errors(page)
    return notebook


def mermaid_blocks(name: str) -> int:
    """How many ```mermaid blocks the notebook's Markdown cells hold (the repository's copy)."""
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return sum(
        cell.source.count("```mermaid") for cell in notebook.cells if cell.cell_type == "markdown"
    )


def assert_diagrams_drawn(notebook, name: str, heading: str) -> None:
    """JupyterLab's Mermaid renderer draws each diagram as an SVG image, its source kept hidden
    beside it; a diagram that does not parse shows a warning and the source instead."""
    figures = notebook.locator(".jp-RenderedMermaid img")
    expect(figures).to_have_count(mermaid_blocks(name), timeout=CLICK_TIMEOUT_MS)
    for index in range(figures.count()):
        src = unquote(figures.nth(index).get_attribute("src") or "")
        assert src.startswith("data:image/svg+xml") and "<svg" in src, src[:80]
    expect(notebook.locator(".jp-RenderedMermaid.jp-mod-warning")).to_have_count(0)
    sources = notebook.locator("pre", has_text="sequenceDiagram")
    for index in range(sources.count()):
        expect(sources.nth(index)).to_be_hidden()
    diagram = notebook.locator(".jp-MarkdownCell", has_text=heading)
    expect(diagram.locator(".jp-RenderedMermaid img")).to_be_visible()


def assert_static_timeline(notebook) -> None:
    picture = notebook.locator(".jp-CodeCell", has_text="workflow_timeline(crash_id").locator(
        ".jp-OutputArea-output img"
    )
    expect(picture).to_have_count(1)
    assert picture.get_attribute("src").startswith("data:image/png;base64,")


def recorded_steps(served: lab.LabServer, pattern: str, workflow_id: str) -> int:
    """How many records DBOS holds for the workflow, read from the notebook's database file
    by a DBOSClient in this process (not through the kernel)."""
    from dbos import DBOSClient

    from wfcomm_helpers.runtime.settings import app_name

    path = served.data_dir / f"{app_name(pattern)}.sqlite"
    assert path.exists(), f"no database at {path}: {sorted(served.data_dir.iterdir())}"
    client = DBOSClient(system_database_url=f"sqlite:///{path}")
    try:
        return len(client.list_workflow_steps(workflow_id))
    finally:
        client.destroy()


def crash_and_recover(page: Page, pattern: str) -> str:
    """Kill twice, Start, Run, Kill while it runs (PENDING), Restart: recovered; returns the id.
    For messaging, the approval is sent while the worker is down."""
    status = page.locator(".wfcomm-crash-status")
    killed = re.compile(rf"^{pattern} worker killed \(pid \d+, SIGKILL\)\.$")
    started = re.compile(rf"^{pattern} worker started \(pid \d+\)\.$")
    crash_click(page, "kill", killed)  # the notebook's own cells left one running
    expect(status).to_contain_text(f"{pattern} worker: not running.")
    crash_click(page, "kill", f"No {pattern} worker is running.")
    crash_click(page, "start", started)
    expect(status).to_contain_text(re.compile(rf"{pattern} worker: running \(pid \d+\)"))
    crash_click(page, "run", re.compile(rf"^Started \S+ on the {pattern} worker\.$"))
    workflow_id = page.locator(".wfcomm-crash-notice").inner_text().split()[1]
    marks = page.locator(".wfcomm-crash-timeline .wfcomm-timeline-mark")
    if pattern == "messaging":  # recv has recorded its deadline: it is waiting for a decision
        sleep = page.locator(".wfcomm-crash-timeline .wfcomm-timeline-mark[data-kind='sleep']")
        expect(sleep).to_have_count(1, timeout=CLICK_TIMEOUT_MS)
    expect(status).to_contain_text(
        re.compile(r"PENDING, [1-9]\d* records"), timeout=CLICK_TIMEOUT_MS
    )
    expect(marks.first).to_be_visible()  # drawn live, while the workflow runs
    crash_click(page, "kill", killed)
    expect(status).to_contain_text("(worker down: the workflow waits, PENDING)")
    if pattern == "messaging":
        crash_click(
            page, "approve", f"Sent the approval to {workflow_id} while the worker is down."
        )
    crash_click(page, "restart", started)
    expect(status).to_contain_text(
        re.compile(r"SUCCESS, \d+ records \(recovered after the crash\)$"), timeout=CLICK_TIMEOUT_MS
    )
    return workflow_id


def assert_proof_and_marks(page: Page, served: lab.LabServer, pattern: str, wid: str) -> None:
    """The proof's lines are all kept; the timeline has one mark per record DBOS holds."""
    lines = page.locator(".wfcomm-crash-proof-line")
    expect(lines.first).to_be_visible(timeout=CLICK_TIMEOUT_MS)
    texts = lines.all_inner_texts()
    assert len(texts) >= 3 and all(line.startswith("ok ") for line in texts), texts
    if pattern == "messaging":
        assert any("received after the restart" in line for line in texts), texts
    records = int(
        re.search(r"SUCCESS, (\d+) records", page.locator(".wfcomm-crash-status").inner_text())[1]
    )
    assert records == recorded_steps(served, pattern, wid)
    timeline = page.locator(".wfcomm-crash-timeline .wfcomm-timeline")
    expect(timeline).to_have_attribute("data-records", str(records))
    expect(timeline.locator(".wfcomm-timeline-mark")).to_have_count(records)
    expect(timeline.locator(".wfcomm-timeline-down").first).to_be_visible()  # the time down


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("01_events.ipynb", "events"),
        ("02_messaging.ipynb", "messaging"),
        ("03_streaming.ipynb", "streaming"),
    ],
)
def test_crash_panel_kill_and_restart_recover_the_workflow(
    laptop: Page, served: lab.LabServer, name: str, pattern: str
) -> None:
    notebook = run_through_crash_section(laptop, name)
    assert_diagrams_drawn(notebook, name, f"What travels where: {pattern}")
    assert_static_timeline(notebook)
    wid = crash_and_recover(laptop, pattern)
    assert_proof_and_marks(laptop, served, pattern, wid)
    crash = laptop.locator(".wfcomm-crash")
    crash.evaluate("node => node.scrollIntoView({block: 'start'})")
    lab.screenshot(laptop, SCREENSHOTS, f"crash_{name.removesuffix('.ipynb')}")
    assert crash.evaluate(CLIPPED_JS, CRASH_WORDS) == []
    assert crash.evaluate(OVERFLOW_JS) == []
    lab.assert_no_error_outputs(notebook.locator(".jp-CodeCell"))
    cells = notebook.locator(".jp-CodeCell")
    lab.select_cell(cells.filter(has_text=CLEANUP_MARKER))
    lab.run_menu(laptop, "Run Selected Cell and All Below")
    lab.wait_cells_ran(cells, timeout=CLICK_TIMEOUT_MS)
    expect(cells.last.locator(".jp-OutputArea-output")).to_have_text(
        f"Every cell of {name.removesuffix('.ipynb')} ran."
    )
    assert worker_processes(str(served.data_dir)) == []
