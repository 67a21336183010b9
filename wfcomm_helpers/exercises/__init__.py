"""The notebooks' exercises: a check per exercise and its reference solution.

A check runs the learner's function against a real workflow (or, for the workflow-side
exercises 1.3, 2.3 and 3.3, runs the learner's code *as* a workflow) and returns one line:
passed, or the misconception it found. CI runs every check against its reference solution and
against a catalogue of wrong answers (tests/test_exercises.py).

``solution("1.1")`` prints the reference solution, for a learner who is stuck.
"""

from __future__ import annotations

import inspect

from .common import CheckResult
from .events_checks import check_1_1, check_1_2, check_1_3, solution_1_1, solution_1_2, solution_1_3
from .messaging_checks import (
    check_2_1,
    check_2_2,
    check_2_3,
    solution_2_1,
    solution_2_2,
    solution_2_3,
)
from .streaming_checks import (
    check_3_1,
    check_3_2,
    check_3_3,
    solution_3_1,
    solution_3_2,
    solution_3_3,
)

#: Each check with its reference solution (CI runs every pair).
CHECKS = {
    "1.1": (check_1_1, solution_1_1),
    "1.2": (check_1_2, solution_1_2),
    "1.3": (check_1_3, solution_1_3),
    "2.1": (check_2_1, solution_2_1),
    "2.2": (check_2_2, solution_2_2),
    "2.3": (check_2_3, solution_2_3),
    "3.1": (check_3_1, solution_3_1),
    "3.2": (check_3_2, solution_3_2),
    "3.3": (check_3_3, solution_3_3),
}


def solution(exercise: str) -> None:
    """Print the reference solution of ``exercise`` (e.g. "1.1"); an unknown name is one line."""
    if exercise not in CHECKS:
        print(f"No exercise {exercise!r}: use one of {', '.join(CHECKS)}.")
        return
    print(inspect.getsource(CHECKS[exercise][1]))


__all__ = ["CHECKS", "CheckResult", "solution"] + [
    f"{kind}_{name.replace('.', '_')}" for name in CHECKS for kind in ("check", "solution")
]
