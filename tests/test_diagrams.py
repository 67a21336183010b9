"""The sequence diagrams: docs/diagrams.md holds each pattern's file verbatim, every table a
diagram names exists in the installed DBOS's system-database schema, and every diagram is a
Mermaid sequence diagram with the three lanes."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wfcomm_helpers import messaging
from wfcomm_helpers.runtime.dbos_private import system_tables  # no public list of the tables

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = ("events", "messaging", "streaming")
TABLES = re.compile(
    r"\b(workflow_status|operation_outputs|notifications|workflow_events_history|"
    r"workflow_events|streams)\b"
)


def part(pattern: str) -> str:
    return (ROOT / "docs" / "diagrams" / f"{pattern}.md").read_text()


def test_the_page_holds_each_pattern_file_verbatim():
    page = (ROOT / "docs" / "diagrams.md").read_text()
    for pattern in PATTERNS:
        assert part(pattern) in page, pattern
    assert page.count("```mermaid") == len(PATTERNS)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_diagram_names_real_tables_and_three_lanes(pattern):
    text = part(pattern)
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    lines = block.strip().splitlines()
    assert lines[0] == "sequenceDiagram"
    assert [line.split()[1] for line in lines if line.strip().startswith("participant")] == [
        "C",
        "DB",
        "W",
    ]
    assert ";" not in block, "a semicolon ends a Mermaid statement"
    named = set(TABLES.findall(text))
    assert named, "the diagram names no table"
    real = system_tables()
    assert named <= real, named - real


def events_set_by(workflow: Callable[..., Any]) -> set[str]:
    """The event keys ``workflow`` passes to ``DBOS.set_event_async`` (names resolved in its
    module)."""
    names = vars(inspect.getmodule(workflow))
    keys = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(workflow)))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "set_event_async":
            key = node.args[0]
            keys.add(key.value if isinstance(key, ast.Constant) else names[key.id])
    return keys


def test_the_messaging_diagram_names_exactly_the_events_its_workflow_sets():
    drawn = set(re.findall(r'set_event\("(\w+)"', part("messaging")))
    assert drawn == events_set_by(messaging.messaging_workflow) == {"waiting", "answered"}
