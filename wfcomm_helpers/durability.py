"""What a crash did and did not change, proved from DBOS's own records.

:func:`prove` reads ``DBOS.list_workflow_steps_async`` (every recorded step, event, ``recv``,
sleep and stream write, with start and end times), the pattern's data, and the worker's step
journal (each *execution* of the CPU step: DBOS records a step's result once, not its attempts),
and returns a :class:`DurabilityReport`: one line per promise, each kept or not.

- Every pattern: a step that finished before the crash ran once; the step that was running when
  the worker died ran again (steps are at-least-once); each step has one record.
- events: one record per ``set_event`` call (no duplicate in the history), same final values.
- messaging: the decision is received once (one ``recv`` record holding it), after the restart
  if it was sent while the worker was down; the ``recv`` deadline was recorded once, before the
  crash, and kept.
- streaming: a reader tailing by offset across the crash saw every value once, in order, and
  the stream closed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS

from .demos import check_stream, expected_results
from .patterns.lookup import workflow_result
from .runtime.dbos_private import (
    CLOSE_STREAM_STEP,
    RECV_STEP,
    SET_EVENT_STEP,
    SLEEP_STEP,
    WRITE_STREAM_STEP,
)
from .runtime.errors import WfcommError
from .teaching.worker_process import WorkerSpec

CPU_STEP = "fibonacci_step"


@dataclass(frozen=True)
class Execution:
    """One execution of the CPU step, from the journal: fib(n) in process ``pid``, epoch
    seconds; ``ended`` is None when the process died during it."""

    n: int
    pid: int
    started: float
    ended: float | None


def step_executions(pattern: str, workflow_id: str) -> list[Execution]:
    """Every execution of the workflow's CPU steps that the pattern's worker journaled."""
    journal = WorkerSpec(pattern).journal
    open_runs: dict[tuple[int, int], float] = {}
    runs: list[Execution] = []
    try:
        lines = journal.read_text().splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by SIGKILL
        if entry.get("workflow_id") != workflow_id:
            continue
        key = (entry["n"], entry["pid"])
        if entry["event"] == "start":
            open_runs[key] = entry["time"]
        else:
            runs.append(Execution(entry["n"], entry["pid"], open_runs.pop(key), entry["time"]))
    runs += [Execution(n, pid, t, None) for (n, pid), t in open_runs.items()]
    return sorted(runs, key=lambda run: run.started)


@dataclass
class DurabilityReport:
    """The promises checked after a run: ``checks`` is [(kept, sentence)]; ``str()`` prints
    one line each; ``ok`` when every one was kept."""

    workflow_id: str
    steps: list[dict[str, Any]]
    executions: list[Execution]
    checks: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(kept for kept, _ in self.checks)

    def check(self, kept: bool, sentence: str) -> None:
        self.checks.append((bool(kept), sentence))

    def __str__(self) -> str:
        return "\n".join(f"{'ok ' if kept else 'NO '} {line}" for kept, line in self.checks)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [step for step in self.steps if step["function_name"] == name]


class BrokenPromise(WfcommError):
    """A durability promise was not kept (the report's failing lines)."""


def _check_steps(report: DurabilityReport, n_steps: int, fib_base: int) -> None:
    ids = [step["function_id"] for step in report.steps]
    report.check(len(ids) == len(set(ids)), f"each of the {len(ids)} recorded steps has one record")
    outputs = [step["output"] for step in report.named(CPU_STEP)]
    report.check(
        outputs == expected_results(n_steps, fib_base),
        f"{len(outputs)} CPU step results recorded, expected {n_steps}, each the right value",
    )
    ordinal = worker_ordinals(report.executions)
    runs: dict[int, list[Execution]] = defaultdict(list)
    for run in report.executions:
        runs[run.n].append(run)
    for n, attempts in sorted(runs.items()):
        finished = [run for run in attempts if run.ended is not None]
        where = [f"worker {ordinal[run.pid]}" for run in attempts]
        if len(attempts) == 1:
            report.check(bool(finished), f"fib({n}) ran once ({where[0]})")
        else:
            report.check(
                len(finished) == 1,
                f"fib({n}) was running when {where[0]} died: it ran again in {where[-1]} "
                f"({len(attempts)} executions); steps are at-least-once",
            )


def worker_ordinals(executions: list[Execution]) -> dict[int, int]:
    """pid -> 1, 2, ... in order of first execution: lines that read the same every run."""
    ordinal: dict[int, int] = {}
    for run in executions:
        ordinal.setdefault(run.pid, len(ordinal) + 1)
    return ordinal


def _check_events(
    report: DurabilityReport, final: dict[str, Any], n_steps: int, fib_base: int
) -> None:
    calls = len(report.named(SET_EVENT_STEP))
    want = 2 + 2 * n_steps + 3
    report.check(calls == want, f"{calls} set_event records, one per call ({want}): no duplicate")
    results = {"total_steps": n_steps, "results": expected_results(n_steps, fib_base)}
    report.check(
        final == {"status": "completed", "progress": 100, "result": results},
        f"final events: status {final.get('status')!r}, progress {final.get('progress')!r}, "
        "and the result every run must give",
    )


def _check_messaging(
    report: DurabilityReport, decision: dict[str, Any] | None, sent_at: float | None
) -> None:
    recvs = report.named(RECV_STEP)
    got = recvs[0]["output"] if len(recvs) == 1 else None
    report.check(
        len(recvs) == 1 and got == decision,
        f"recv recorded once, holding {got!r} (expected {decision!r})",
    )
    if recvs and sent_at is not None and recvs[0]["completed_at_epoch_ms"] is not None:
        report.check(
            recvs[0]["completed_at_epoch_ms"] / 1000 >= sent_at,
            "the decision sent while the worker was down was received after the restart",
        )
    deadlines = [s for s in report.named(SLEEP_STEP) if s["function_id"] == _recv_id(recvs) + 1]
    if deadlines:
        report.check(len(deadlines) == 1, "the recv deadline was recorded once, and kept")


def _recv_id(recvs: list[dict[str, Any]]) -> int:
    return int(recvs[0]["function_id"]) if recvs else -2


def _check_stream(
    report: DurabilityReport, seen: list[tuple[int, Any]], n_steps: int, fib_base: int
) -> None:
    offsets = [offset for offset, _ in seen]
    report.check(
        offsets == list(range(len(seen))),
        f"the reader saw offsets {offsets[:3]}...{offsets[-1:]}: each once, in order",
    )
    try:
        check_stream([value for _, value in seen], n_steps, fib_base)
        report.check(True, f"all {len(seen)} values (2N+2) in order, then the stream closed")
    except WfcommError as exc:
        report.check(False, str(exc))
    writes = len(report.named(WRITE_STREAM_STEP))
    report.check(writes == len(seen), f"{writes} stream-write records: none written twice")
    report.check(len(report.named(CLOSE_STREAM_STEP)) == 1, "the stream was closed once")


async def prove(
    pattern: str,
    workflow_id: str,
    n_steps: int,
    *,
    fib_base: int | None = None,
    decision: dict[str, Any] | None = None,
    decision_sent_at: float | None = None,
    stream_seen: list[tuple[int, Any]] | None = None,
    timeout: float = 120.0,
) -> DurabilityReport:
    """Wait for the workflow to end, then check what its pattern promises across a crash.

    ``decision`` (messaging): the message sent, and ``decision_sent_at`` when (epoch s) if it
    was sent while the worker was down. ``stream_seen`` (streaming): the ``(offset, value)``
    pairs a reader collected while tailing (see :func:`wfcomm_helpers.patterns.streaming.follow_stream`).
    """
    from .patterns.compute import DEFAULT_FIB_BASE

    await workflow_result(workflow_id, timeout=timeout)
    report = DurabilityReport(
        workflow_id,
        steps=list(await DBOS.list_workflow_steps_async(workflow_id)),
        executions=step_executions(pattern, workflow_id),
    )
    base = DEFAULT_FIB_BASE if fib_base is None else fib_base
    approved = pattern != "messaging" or (decision or {}).get("approved") is True
    _check_steps(report, n_steps if approved else 0, base)
    if pattern == "events":
        _check_events(report, await DBOS.get_all_events_async(workflow_id), n_steps, base)
    elif pattern == "messaging":
        _check_messaging(report, decision, decision_sent_at)
    elif stream_seen is not None:
        _check_stream(report, stream_seen, n_steps, base)
    return report
