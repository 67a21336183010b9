"""`wfcomm demo events|messaging|streaming`: the seed's commands_*.sh, made to check.

The seed's scripts printed each step and "success" whatever happened. Each demo here narrates
the same walk, checks every answer exactly (event values, outcomes, the stream's 2N+2 values in
order) and stops at the first deviation with :class:`DemoFailure`, so the command exits non-zero.
They run against a :class:`~wfcomm_helpers.connection.Connection`: `wfcomm serve` (--url) or a
running notebook's database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .connection import Connection
from .patterns.compute import DEFAULT_FIB_BASE, expected_result
from .patterns.messaging import TOPIC, approval, decision_key
from .patterns.registry import load, pattern, registered
from .patterns.streaming import stream_length
from .runtime.errors import InvalidInputError, UnknownWorkflowError, WfcommError

Say = Callable[[str], None]

#: How long a demo waits for a workflow it started (the steps take well under a second).
RESULT_TIMEOUT_SECONDS = 120.0
#: The messaging demo's timeout flow: short, so the demo is quick.
SHORT_APPROVAL_TIMEOUT_SECONDS = 2.0
#: Between two offset reads of a stream that is still open (a polling reader's pace).
POLL_INTERVAL_SECONDS = 0.2


class DemoFailure(WfcommError):
    """A demo saw something other than what the pattern guarantees."""

    http_status = 500


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailure(f"demo failed: {what}")


def expected_results(n_steps: int, fib_base: int = DEFAULT_FIB_BASE) -> list[dict[str, int]]:
    """The step results every workflow of ``n_steps`` must produce (computed here, locally, in
    microseconds: :func:`~wfcomm_helpers.patterns.compute.expected_result`)."""
    return [expected_result(fib_base + i) for i in range(n_steps)]


async def _finished(conn: Connection, workflow_id: str) -> dict[str, Any]:
    report = await conn.report(workflow_id, RESULT_TIMEOUT_SECONDS)
    expect(
        report["done"],
        f"{workflow_id} is still {report['status']} after {RESULT_TIMEOUT_SECONDS:g} s",
    )
    expect(
        report["status"] == "SUCCESS",
        f"{workflow_id} ended {report['status']} ({report['error']}), expected SUCCESS",
    )
    return report


# --- events ----------------------------------------------------------------------------


def check_events(events: dict[str, Any], n_steps: int) -> None:
    """The final events of a finished events workflow, exactly."""
    want = {
        "status": "completed",
        "progress": 100,
        "result": {"total_steps": n_steps, "results": expected_results(n_steps)},
    }
    for key, value in want.items():
        expect(
            events.get(key) == value, f"event {key!r} is {events.get(key)!r}, expected {value!r}"
        )
    expect(set(events) == set(want), f"events {sorted(events)}, expected {sorted(want)}")


async def demo_events(conn: Connection, n_steps: int, workflow_id: str | None, say: Say) -> None:
    say(f"Events: the workflow publishes status, progress and result; we read them ({conn.where}).")
    wid = await conn.start_events(n_steps, workflow_id, DEFAULT_FIB_BASE)
    say(f"1. Started events workflow {wid} with {n_steps} steps.")
    status = await conn.get_event(wid, "status", 30)
    allowed = {"started", "completed", *(f"processing_step_{i + 1}" for i in range(n_steps))}
    expect(status in allowed, f"status is {status!r}, expected one of {sorted(allowed)}")
    say(f"2. get_event(status, timeout=30) -> {status!r}: the latest value, not a history.")
    result = await conn.get_event(wid, "result", RESULT_TIMEOUT_SECONDS)
    want = {"total_steps": n_steps, "results": expected_results(n_steps)}
    expect(result == want, f"result is {result!r}, expected {want!r}")
    say(f"3. get_event(result) waited until the workflow set it: {n_steps} exact results.")
    report = await _finished(conn, wid)
    expect(report["result"] == expected_results(n_steps), f"return value {report['result']!r}")
    say(f"4. {wid} is SUCCESS and returned its {n_steps} results.")
    # Only now: the workflow sets status 'completed' just after result, so a reader woken by
    # result can still see the step before.
    all_events = await conn.all_events(wid)
    check_events(all_events, n_steps)
    say("5. All events: status 'completed', progress 100, and the same result.")
    missing = f"{wid}-does-not-exist"
    try:
        await conn.get_event(missing, "status", 5)
    except UnknownWorkflowError:
        pass
    else:
        raise DemoFailure(f"demo failed: an event of unknown workflow {missing!r} did not fail")
    say("6. An unknown workflow id fails at once (the seed waited out the whole timeout).")


# --- messaging --------------------------------------------------------------------------


def check_outcome(result: Any, want: dict[str, Any]) -> None:
    expect(result == want, f"outcome is {result!r}, expected {want!r}")


async def demo_messaging(conn: Connection, n_steps: int, workflow_id: str | None, say: Say) -> None:
    say(f"Messaging: the workflow waits on topic {TOPIC!r}; we send it a decision ({conn.where}).")
    base = workflow_id or None

    approve_id = await conn.start_messaging(
        n_steps, base and f"{base}-approve", 60, DEFAULT_FIB_BASE
    )
    say(f"1. Approve flow: started {approve_id}; it waits up to 60 s for a message.")
    message = approval(True, "Go ahead")
    for _ in range(2):
        await conn.send(approve_id, message, decision_key(approve_id))
    say("   Sent the approval twice under one idempotency key, as a retry would.")
    report = await _finished(conn, approve_id)
    check_outcome(report["result"], {"status": "completed", "results": expected_results(n_steps)})
    say(f"   {approve_id} completed its {n_steps} steps.")

    reject_id = await conn.start_messaging(n_steps, base and f"{base}-reject", 60, DEFAULT_FIB_BASE)
    say(f"2. Reject flow: started {reject_id}.")
    await conn.send(reject_id, approval(False, "Budget exceeded"), decision_key(reject_id))
    report = await _finished(conn, reject_id)
    check_outcome(
        report["result"],
        {"status": "cancelled", "reason": "Not approved: Budget exceeded", "results": []},
    )
    say(f"   {reject_id} answered 'cancelled' and ran no step; DBOS still records SUCCESS.")

    timeout = SHORT_APPROVAL_TIMEOUT_SECONDS
    timeout_id = await conn.start_messaging(
        n_steps, base and f"{base}-timeout", timeout, DEFAULT_FIB_BASE
    )
    say(f"3. Timeout flow: started {timeout_id} with a {timeout:g} s timeout; we send nothing.")
    report = await _finished(conn, timeout_id)
    check_outcome(
        report["result"],
        {
            "status": "cancelled",
            "reason": f"Timeout: no message on topic {TOPIC!r} within {timeout:g} s",
            "results": [],
        },
    )
    say(f"   {timeout_id} gave up after {timeout:g} s: 'cancelled', no step ran.")

    missing = f"{approve_id}-does-not-exist"
    try:
        await conn.send(missing, message, None)
    except UnknownWorkflowError:
        pass
    else:
        raise DemoFailure(f"demo failed: a send to unknown workflow {missing!r} did not fail")
    say("4. A send to an unknown workflow id fails at once (the seed answered 500).")


# --- streaming --------------------------------------------------------------------------


def check_stream(values: list[Any], n_steps: int, fib_base: int = DEFAULT_FIB_BASE) -> None:
    """The 2N+2 values of a finished streaming workflow, in order."""
    expect(
        len(values) == stream_length(n_steps),
        f"the stream has {len(values)} values, expected {stream_length(n_steps)} (2N+2)",
    )
    kinds = [v.get("type") if isinstance(v, dict) else None for v in values]
    want_kinds = ["start", *(["progress", "result"] * n_steps), "complete"]
    expect(kinds == want_kinds, f"value types {kinds}, expected {want_kinds}")
    results = expected_results(n_steps, fib_base)
    for i in range(n_steps):
        progress, result = values[1 + 2 * i], values[2 + 2 * i]
        expect(
            progress.get("step") == i + 1 and progress.get("total_steps") == n_steps,
            f"value {1 + 2 * i} is {progress!r}, expected progress of step {i + 1}/{n_steps}",
        )
        expect(
            result.get("step") == i + 1 and result.get("result") == results[i],
            f"value {2 + 2 * i} is {result!r}, expected step {i + 1}'s result {results[i]!r}",
        )
    expect(
        values[-1].get("total_results") == n_steps,
        f"the last value is {values[-1]!r}, expected total_results {n_steps}",
    )


async def demo_streaming(conn: Connection, n_steps: int, workflow_id: str | None, say: Say) -> None:
    say(f"Streaming: the workflow appends to an ordered log; we read it by offset ({conn.where}).")
    wid = await conn.start_streaming(n_steps, workflow_id, DEFAULT_FIB_BASE)
    say(f"1. Started streaming workflow {wid} with {n_steps} steps.")
    values: list[Any] = []
    offset, reads = 0, 0
    while True:
        chunk = await conn.read_stream(wid, offset)
        reads += 1
        expect(
            chunk.offset == offset and chunk.next_offset == offset + len(chunk.values),
            f"a read from offset {offset} returned next_offset {chunk.next_offset} "
            f"with {len(chunk.values)} values",
        )
        values.extend(chunk.values)
        offset = chunk.next_offset
        if chunk.closed:
            break
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    check_stream(values, n_steps)
    say(
        f"2. {reads} offset reads, each from where the last stopped: {len(values)} values "
        "(2N+2) in order, no duplicate, then 'closed'."
    )
    followed = [value async for _, value in conn.follow(wid, 0)]
    expect(
        followed == values,
        f"following from offset 0 gave {len(followed)} values that differ "
        f"from the {len(values)} read by offset",
    )
    say(
        "3. Following the stream live from offset 0 gives the very same values: reading never "
        "consumes."
    )
    tail = [value async for _, value in conn.follow(wid, len(values) - 1)]
    expect(tail == values[-1:], f"following from offset {len(values) - 1} gave {tail!r}")
    say("4. Following from the last offset gives just the 'complete' value, then the end.")
    report = await _finished(conn, wid)
    expect(report["result"] == expected_results(n_steps), f"return value {report['result']!r}")
    say(f"5. {wid} is SUCCESS and returned its {n_steps} results.")


def demo_names() -> list[str]:
    """The registered patterns that have a demo."""
    return [p.name for p in registered() if p.demo is not None]


async def run(
    name: str,
    conn: Connection,
    n_steps: int = 3,
    workflow_id: str | None = None,
    say: Say = print,
) -> None:
    """Run demo ``name``; raises :class:`DemoFailure` at the first deviation."""
    demo = pattern(name).demo
    if demo is None:
        raise InvalidInputError(f"Unknown demo {name!r}: use one of {', '.join(demo_names())}.")
    await load(demo)(conn, n_steps, workflow_id, say)
    say(f"demo {name}: every check passed.")
