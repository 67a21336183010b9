"""The sequence diagrams: docs/diagrams.md holds each pattern's file verbatim, every table a
diagram names exists in the installed DBOS's system-database schema, and every diagram is a
Mermaid sequence diagram with the three lanes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wfcomm_helpers.dbos_private import system_tables  # no public list of the tables

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
