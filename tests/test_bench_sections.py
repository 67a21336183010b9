"""A benchmark section that cannot run says why in the report, and the other sections' figures
are kept: the report and the chart are written from what was measured."""

from __future__ import annotations

from pathlib import Path

from wfcomm_helpers.bench import plot, report, suite


def test_a_failed_section_says_why_and_the_others_are_kept(tmp_path: Path) -> None:
    said: list[str] = []

    def full_server() -> dict:
        raise RuntimeError("remaining connection slots are reserved\nDETAIL: more")

    tail = [
        {"length": 10, "seed_ms": 2.0, "kit_ms": 1.0},
        {"length": 20, "seed_ms": 4.0, "kit_ms": 1.5},
    ]
    data = {
        "quick": True,
        "plan": {"lag": [1, 20], "tail_repeats": 2, "idle_seconds": 0.5},
        "latency": {suite.NOT_RUN: "not asked for (--only stream_tail learners)"},
        "loop_lag": {suite.NOT_RUN: "not asked for (--only stream_tail learners)"},
        "stream_tail": suite.attempt("stream_tail", lambda: tail, said.append),
        "notebooks": {suite.NOT_RUN: "not asked for (--only stream_tail learners)"},
        "learners": suite.attempt("learners", full_server, said.append),
        "when": "2026-01-01 00:00 UTC",
        "machine": {
            "cores": 2,
            "cpu": "x",
            "python": "3.11",
            "dbos": "3",
            "system": "Linux",
            "load_before": 0.1,
            "load_after": 0.1,
            "shared_note": "",
        },
    }
    assert said == [
        "learners: could not run (RuntimeError: remaining connection slots are reserved)"
    ]
    text = report.render(data)
    assert "Not measured: it failed: RuntimeError: remaining connection slots are reserved." in text
    assert text.count("Not measured: not asked for (--only stream_tail learners).") == 4
    assert "| kit tail poll at 20 values vs 10 | flat (<= 2x) | 1.5x | yes |" in text
    assert "| learners | - | not measured | - |" in text
    plot.render(data, tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 10_000


def test_the_run_all_target_fails_on_a_slow_or_a_failed_notebook() -> None:
    from wfcomm_helpers.bench import notebooks

    def rows(seconds: float, error: str | None = None) -> list[dict]:
        quick = {"name": "01.ipynb", "seconds": 9.0, "code_cells": 3, "error": None}
        return [quick, {"name": "02.ipynb", "seconds": seconds, "code_cells": 3, "error": error}]

    assert notebooks.target_row(rows(19.5)) == [
        "| Run All on a fresh database, slowest notebook (02.ipynb) | <= 20 s, every cell ok "
        "| 19.5 s, 0 failed | yes |"
    ]
    assert notebooks.target_row(rows(20.5))[0].endswith("| 20.5 s, 0 failed | **no** |")
    assert notebooks.target_row(rows(5.0, "AssertionError: x"))[0].endswith(
        "(01.ipynb) | <= 20 s, every cell ok | 9.0 s, 1 failed | **no** |"
    )
