"""A workshop: many learners' kernels on one PostgreSQL database, all acting at once.

Each learner runs the three hops (send -> recv, set_event -> get_event, write -> tail) in its
own workflows, about once a second, and every value must arrive exactly once. Two layouts,
measured in one run:
- ``server``: the learners' sessions spread over one process per core. The server carries
  every learner's transactions; the learners' own CPU is what a click costs, as when each
  learner's kernel runs on the learner's own machine. The target is judged on this one.
- ``one machine``: one process per learner, all on this machine, as on a small JupyterHub:
  each kernel's idle work (queue polls, background jobs) adds up, so this measures the
  machine's cores as much as the server.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import psutil
import psycopg

from ..runtime.settings import postgres_pool_size
from .procs import ProbeFailed, admin_url, finish_probe, fresh_postgres_database, start_probe
from .stats import summary_ms

#: A simulated learner acts every 0.5 to 1.5 s: one click a second, busier than any person.
LEARNER_LEAST_GAP, LEARNER_SPREAD = 0.5, 1.0


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    processes: int


def layouts(learners: int, kernels_that_fit: int) -> list[Layout]:
    """The two layouts; the one-kernel-per-learner one as large as the server's free
    connection slots allow (a stock server, max_connections 100, holds about 30)."""
    cores = min(os.cpu_count() or 1, learners)
    kernels = min(learners, kernels_that_fit)
    room = "" if kernels == learners else " (the most the server's free slots hold)"
    return [
        Layout(
            "server", f"{learners} learners' sessions in {cores} processes (one per core)", cores
        ),
        Layout(
            "one machine", f"{learners} learners in {kernels} kernel processes here{room}", kernels
        ),
    ]


def kernels_that_fit(pg_url: str) -> int:
    """How many more kernels the server has connection slots for now: max_connections less
    the superuser reserve, the sessions open now and one for the benchmark's sampler, over
    the connections one kernel holds (DBOS's pool and its LISTEN connection)."""
    with psycopg.connect(_admin(pg_url)) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        ).fetchone()
    free = int(row[0]) if row else 0
    return max(1, (free - 1) // (postgres_pool_size() + 1))


def sessions_per_process(learners: int, processes: int) -> list[int]:
    return [learners // processes + (i < learners % processes) for i in range(processes)]


def run_layout(layout: Layout, learners: int, hops_each: int, pg_url: str) -> dict[str, Any]:
    """Every process launches DBOS, waits at a barrier, then all run their sessions at once."""
    with fresh_postgres_database(pg_url) as url, tempfile.TemporaryDirectory() as barrier:
        processes = []
        for i, sessions in enumerate(sessions_per_process(learners, layout.processes)):
            env = {
                **os.environ,
                "WFCOMM_EXECUTOR_ID": f"learner-{i:02d}",
                # Each learner's kernel has its own pool: in the server layout a process
                # carries many learners, so it gets theirs. The kernel layout keeps one
                # kernel's pool, as its size was fitted to the server's free slots.
                "WFCOMM_PG_POOL_SIZE": str(
                    postgres_pool_size() * (sessions if layout.key == "server" else 1)
                ),
            }
            spec = {
                "config": "kit",
                "db_url": url,
                "hops": hops_each,
                "sessions": sessions,
                "barrier": barrier,
                "least_gap": LEARNER_LEAST_GAP,
                "spread": LEARNER_SPREAD,
            }
            processes.append(start_probe(spec, tempfile.mkdtemp(prefix="wfcomm-learner-"), env))
        _release_when_ready(Path(barrier), processes)
        cpu_before = psutil.cpu_times()
        peak, per_process = _peak_connections(pg_url, processes)
        busy = _busy_percent(cpu_before, psutil.cpu_times())
        results, failed = [], []
        for process in processes:
            try:
                results.append(finish_probe(process))
            except ProbeFailed as exc:
                failed.append(str(exc))
    sessions = [session for r in results for session in r["sessions"]]
    lost = [
        f"{i}:{path}"
        for i, session in enumerate(sessions)
        for path, run in session.items()
        if run["found"] != hops_each or len(run["latencies"]) != hops_each
    ]
    lost += [f"session {i}" for i in range(len(sessions), learners)]
    per_path = {
        path: summary_ms([s for session in sessions for s in session[path]["latencies"]])
        for path in (sessions[0] if sessions else {})
    }
    pooled = [s for session in sessions for run in session.values() for s in run["latencies"]]
    return {
        "key": layout.key,
        "label": layout.label,
        "processes": layout.processes,
        "all": summary_ms(pooled),
        "per_path": per_path,
        "lost": lost,
        "failed": failed,
        "peak_connections": peak,
        "most_per_process": per_process,
        "cpu_busy": busy,
    }


def measure(
    learners: int, hops_each: int, pg_url: str, say: Callable[[str], None]
) -> dict[str, Any]:
    runs = []
    for layout in layouts(learners, kernels_that_fit(pg_url)):
        say(f"learners: {layout.label}, one PostgreSQL database")
        runs.append(run_layout(layout, learners, hops_each, pg_url))
    return {
        "learners": learners,
        "hops_each": hops_each,
        "gap": [LEARNER_LEAST_GAP, LEARNER_LEAST_GAP + LEARNER_SPREAD],
        "runs": runs,
        "max_connections": _server_setting(pg_url, "max_connections"),
    }


def _busy_percent(before: Any, after: Any) -> float:
    """How busy the machine's cores were between two ``psutil.cpu_times()``, in %."""
    total = sum(after) - sum(before)
    idle = (after.idle + getattr(after, "iowait", 0)) - (before.idle + getattr(before, "iowait", 0))
    return 100.0 * (1 - idle / total) if total > 0 else float("nan")


def _admin(pg_url: str) -> str:
    return admin_url(pg_url).render_as_string(hide_password=False)


def _server_setting(pg_url: str, name: str) -> str:
    with psycopg.connect(_admin(pg_url)) as conn:
        row = conn.execute(f"SHOW {name}").fetchone()
    return str(row[0]) if row else "?"


def _peak_connections(pg_url: str, processes: list[Any]) -> tuple[int, int]:
    """While the learners run (sampled every 50 ms): the most connections open on the whole
    server, and the most one learner process held (its sessions carry its guard's
    ``application_name``, :func:`wfcomm_helpers.runtime.guard.session_name`)."""
    peak = most_per_process = 0
    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        while any(p.poll() is None for p in processes):
            row = conn.execute(
                "SELECT (SELECT count(*) FROM pg_stat_activity), (SELECT coalesce(max(n), 0)"
                " FROM (SELECT count(*) AS n FROM pg_stat_activity"
                " WHERE application_name LIKE 'wfcomm %' GROUP BY application_name) AS named)"
            ).fetchone()
            if row:
                peak = max(peak, int(row[0]))
                most_per_process = max(most_per_process, int(row[1]))
            time.sleep(0.05)
    return peak, most_per_process


def _release_when_ready(barrier: Path, processes: list[Any], deadline_s: float = 300) -> None:
    """Wait until every learner process has launched DBOS, then let them all start at once."""
    deadline = time.monotonic() + deadline_s
    while len(list(barrier.glob("ready-*"))) < len(processes):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            break
        time.sleep(0.05)
    (barrier / "go").touch()
