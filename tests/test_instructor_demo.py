"""INSTRUCTOR.md's live failure demo, run as written: its Python blocks in a real kernel (after
the notebook's setup), its shell lines with the real ``wfcomm`` command, in the file's order."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_worker import worker_processes

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Live failure demo"
VARIATION = "**Variation for messaging"

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(400)]


def demo_blocks() -> dict[str, list[tuple[str, str]]]:
    """{"events": [(lang, code), ...], "messaging": [...]} from the demo section, in order."""
    text = (ROOT / "INSTRUCTOR.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    events_part, messaging_part = section.split(VARIATION)
    fence = re.compile(r"^ *```(python|bash)\n(.*?)^ *```", re.S | re.M)

    def blocks(part: str) -> list[tuple[str, str]]:
        found = []
        for lang, body in fence.findall(part):
            lines = body.splitlines()
            indent = min(len(x) - len(x.lstrip()) for x in lines if x.strip())
            found.append((lang, "\n".join(x[indent:] for x in lines)))
        return found

    return {"events": blocks(events_part), "messaging": blocks(messaging_part)}


def run_shell(block: str, data_dir: Path) -> str:
    """Each command line of a bash block with the real ``wfcomm``; every one must succeed."""
    out = ""
    wfcomm = str(Path(sys.executable).parent / "wfcomm")
    for line in block.splitlines():
        line = line.split(" #")[0].strip()
        if not line:
            continue
        args = shlex.split(line)
        assert args[0] == "wfcomm", f"the demo asks for {line!r}, which this test cannot run"
        done = subprocess.run(
            [wfcomm, *args[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "WFCOMM_DATA_DIR": str(data_dir)},
        )
        assert done.returncode == 0, f"{line}: {done.stdout}{done.stderr}"
        out += done.stdout
    return out


def test_the_demo_has_the_blocks_this_test_checks():
    blocks = demo_blocks()
    assert [lang for lang, _ in blocks["events"]] == ["python", "bash", "python", "bash", "python"]
    assert [lang for lang, _ in blocks["messaging"]] == ["python", "bash", "python"]


@pytest.mark.parametrize("pattern", ["events", "messaging"])
def test_instructor_demo_runs_as_written(kernel, data_dir, pattern):
    kernel.run(f"import wfcomm_helpers\nawait wfcomm_helpers.start({pattern!r}, quiet=True)")
    outputs = []
    for lang, code in demo_blocks()[pattern]:
        if lang == "python":
            outputs.append(kernel.run(code, timeout=300).stdout)
        else:
            outputs.append(run_shell(code, data_dir))
    report = outputs[-1].splitlines()[1:]  # after "... worker started (pid N)."
    assert report and all(line.startswith("ok ") for line in report), outputs[-1]
    if pattern == "events":
        assert "worker killed (pid" in outputs[2]
        assert "PENDING" in outputs[3], outputs[3]
        assert any("set_event records, one per call (25): no duplicate" in x for x in report)
    else:
        assert "worker killed (pid" in outputs[0]
        assert any("recv recorded once, holding {'approved': True" in x for x in report)
    kernel.run("wfcomm_helpers.shutdown()")
    assert worker_processes() == []
