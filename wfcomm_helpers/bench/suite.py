"""The benchmark sections: each runs its compared configurations in this one run and returns
plain data for :mod:`.report`."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..runtime.settings import sqlite_polling_interval
from . import floor, learners as learner_runs
from .procs import (
    fresh_postgres_database,
    postgres_reachable,
    run_probe,
)
from .stats import summary_ms

#: Latency targets of the kit on SQLite (ms) and its idle CPU target (% of one core).
TARGET_P50_MS, TARGET_P95_MS, TARGET_IDLE_CPU = 10.0, 25.0, 5.0
TARGET_LOOP_LAG_P99_MS, TARGET_LEARNER_P95_MS = 20.0, 50.0
#: The idle load the CPU target is judged on: three workflows waiting in recv.
TARGET_LOAD = "workflows:3"
IDLE_LOADS = [["workflows", 3], ["panels", 1]]


@dataclass(frozen=True)
class Plan:
    """Counts for a full run or a ``--quick`` smoke run."""

    hops: int
    default_hops: int
    idle_seconds: float
    sweep: tuple[float, ...]
    lag: tuple[int, int]
    tail: tuple[int, ...]
    tail_repeats: int
    learners: int
    learner_hops: int

    @classmethod
    def make(cls, quick: bool) -> "Plan":
        if quick:
            return cls(
                hops=5,
                default_hops=2,
                idle_seconds=0.5,
                sweep=(),
                lag=(1, 20),
                tail=(20, 100),
                tail_repeats=2,
                learners=3,
                learner_hops=3,
            )
        return cls(
            hops=60,
            default_hops=20,
            idle_seconds=6.0,
            sweep=(0.02, 0.05, 0.1, 0.2, 0.5),
            lag=(3, 24),
            tail=(100, 1000, 2500, 5000, 10000),
            tail_repeats=5,
            learners=30,
            learner_hops=20,
        )


def _hop_summaries(result: dict[str, Any]) -> dict[str, Any]:
    return {
        path: {**summary_ms(run["latencies"]), "found": run["found"]}
        for path, run in result["hops"].items()
    }


def _config_row(
    key: str, label: str, wake: str, result: dict[str, Any], poll: float | None
) -> dict:
    return {
        "key": key,
        "label": label,
        "wake": wake,
        "poll": poll,
        "hops": _hop_summaries(result),
        "idle_cpu": result.get("idle_cpu", {}),
        "dbos": result["dbos"],
    }


def poll_key(poll: float) -> str:
    """The row of a poll-only run at ``poll`` seconds (no same-process wake-up)."""
    return f"poll-{poll:g}"


def _poll_sweep(
    plan: Plan, kit_poll: float, idle: dict[str, Any], say: Callable[[str], None]
) -> list[dict[str, Any]]:
    """One row per polling interval (the kit's own always in it), the wake-up removed."""
    rows = []
    for poll in sorted({*plan.sweep, kit_poll}):
        say(f"latency: the kit's poll alone at {poll:g} s (a value from another process)")
        label = (
            "kit (SQLite), value from another process"
            if poll == kit_poll
            else f"SQLite, poll {poll:g} s"
        )
        rows.append(
            _config_row(
                poll_key(poll),
                label,
                f"poll {poll:g} s",
                run_probe(
                    {"config": "kit", "poll": poll, "wakeup": False, "hops": plan.hops, **idle}
                ),
                poll,
            )
        )
    return rows


def _postgres_row(plan: Plan, pg_url: str, say: Callable[[str], None]) -> dict[str, Any]:
    """The kit on a fresh database of the PostgreSQL server at ``pg_url``."""
    say("latency: the kit on PostgreSQL")
    with fresh_postgres_database(pg_url) as url:
        return _config_row(
            "postgres",
            "kit (PostgreSQL)",
            "at commit (LISTEN/NOTIFY)",
            run_probe({"config": "kit", "db_url": url, "hops": plan.hops}),
            None,
        )


def latency(plan: Plan, pg_url: str | None, say: Callable[[str], None]) -> dict[str, Any]:
    """Hop latency and idle CPU per configuration, the floor, and the polling sweep.

    The sweep runs the kit without its same-process wake-up, so each hop waits for the poll
    exactly as a value written by another process (the ``wfcomm`` command) does; the kit's own
    interval is always in it."""
    idle = {"idle_seconds": plan.idle_seconds, "idle": IDLE_LOADS}
    kit_poll = sqlite_polling_interval()
    rows = []
    say("latency: DBOS default configuration (SQLite, 1.0 s poll)")
    rows.append(
        _config_row(
            "default",
            "DBOS default (SQLite)",
            "poll 1 s",
            run_probe({"config": "default", "hops": plan.default_hops, **idle}),
            1.0,
        )
    )
    say(f"latency: the kit (SQLite, wake-up at commit, {kit_poll:g} s poll)")
    rows.append(
        _config_row(
            "kit",
            "kit (SQLite)",
            f"at commit (poll {kit_poll:g} s)",
            run_probe({"config": "kit", "hops": plan.hops, **idle}),
            kit_poll,
        )
    )
    rows += _poll_sweep(plan, kit_poll, idle, say)
    postgres_skipped = postgres_skip_reason(pg_url)
    if postgres_skipped is None:
        assert pg_url is not None
        rows.append(_postgres_row(plan, pg_url, say))
    with tempfile.TemporaryDirectory() as folder:
        floor_ms = summary_ms(floor.measure(Path(folder), max(200, plan.hops * 3)))
    return {
        "rows": rows,
        "floor": floor_ms,
        "postgres_skipped": postgres_skipped,
        "kit_poll": kit_poll,
    }


def postgres_skip_reason(pg_url: str | None) -> str | None:
    if not pg_url:
        return "no PostgreSQL URL: set WFCOMM_TEST_PG_URL or pass --pg-url"
    return postgres_reachable(pg_url)


def loop_lag(plan: Plan, say: Callable[[str], None]) -> dict[str, Any]:
    say(f"loop lag: 3 workflows x {plan.lag[0]} Fibonacci steps from fib({plan.lag[1]})")
    return run_probe({"config": "kit", "lag": list(plan.lag)})["loop_lag"]


def stream_tail(plan: Plan, say: Callable[[str], None]) -> list[dict[str, float]]:
    say(f"stream tail: lengths {', '.join(map(str, plan.tail))}")
    return run_probe({"config": "kit", "tail": list(plan.tail), "tail_repeats": plan.tail_repeats})[
        "stream_tail"
    ]


#: The key of a section that was not measured; its value says why, for the report.
NOT_RUN = "not_run"


def attempt(name: str, work: Callable[[], Any], say: Callable[[str], None]) -> Any:
    """``work()``'s figures, or ``{NOT_RUN: why}`` when it fails: one section that cannot run
    (a full server, a missing browser) must not lose the figures of the others."""
    try:
        return work()
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        why = f"{type(exc).__name__}: {lines[0] if lines else 'no message'}"
        say(f"{name}: could not run ({why})")
        return {NOT_RUN: f"it failed: {why}"}


def not_run(section: Any) -> str | None:
    """Why ``section`` was not measured, or None when it has figures."""
    if isinstance(section, dict):
        return section.get(NOT_RUN)
    return None


def learners(plan: Plan, pg_url: str | None, say: Callable[[str], None]) -> dict[str, Any]:
    skipped = postgres_skip_reason(pg_url)
    if skipped is not None:
        return {"skipped": skipped}
    assert pg_url is not None
    return learner_runs.measure(plan.learners, plan.learner_hops, pg_url, say)
