"""Every exercise check accepts its reference solution (so neither can go stale), refuses the
untouched stub with one line, and rejects each wrong answer of its catalogue (the
misconceptions first) with one line that names the misconception."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import pytest
from dbos import DBOS, error

import wfcomm_helpers
from wfcomm_helpers import exercises
from wfcomm_helpers.patterns.messaging import TOPIC
from wfcomm_helpers.patterns.streaming import STREAM_KEY, read_stream_chunk

# --- The wrong answers: each a misconception a learner (or the seed) has -----------------------


async def hard_coded_completed(workflow_id):
    return "completed"


async def status_with_the_seeds_timeout(workflow_id):
    return await DBOS.get_event_async(workflow_id, "status", 5)


async def dbos_state_not_the_event(workflow_id):
    return (await DBOS.get_workflow_status_async(workflow_id)).status


async def progress_key(workflow_id):
    return await DBOS.get_event_async(workflow_id, "progress", 0)


async def result_without_waiting(workflow_id):
    return await DBOS.get_event_async(workflow_id, "result", 0)


async def result_timeout_too_short(workflow_id):
    return await DBOS.get_event_async(workflow_id, "result", 0.3)


async def return_value_not_the_event(workflow_id):
    return await (await DBOS.retrieve_workflow_async(workflow_id)).get_result()


async def returns_instead_of_publishing(n_steps):
    return {"status": "completed", "progress": 100}


async def sync_set_event(n_steps):
    DBOS.set_event("status", "completed")


async def forgets_completed(n_steps):
    await DBOS.set_event_async("status", "working")
    await DBOS.set_event_async("progress", 100)


async def progress_as_a_fraction(n_steps):
    await DBOS.set_event_async("progress", 1.0)
    await DBOS.set_event_async("status", "completed")


async def rejects(workflow_id):
    await DBOS.send_async(workflow_id, {"approved": False, "reason": "no"}, TOPIC)


async def no_topic(workflow_id):
    await DBOS.send_async(workflow_id, {"approved": True, "message": "yes"})


async def bare_true(workflow_id):
    await DBOS.send_async(workflow_id, True, TOPIC)


async def sync_send(workflow_id):
    DBOS.send(workflow_id, {"approved": True}, TOPIC)


async def sends_once(workflow_id, message):
    await DBOS.send_async(workflow_id, message, TOPIC, idempotency_key=f"k:{workflow_id}")


async def retry_without_key(workflow_id, message):
    for _ in range(2):
        await DBOS.send_async(workflow_id, message, TOPIC)


async def a_new_key_per_attempt(workflow_id, message):
    for attempt in range(2):
        await DBOS.send_async(
            workflow_id, message, TOPIC, idempotency_key=f"{workflow_id}:{attempt}"
        )


async def ignores_the_payload(timeout_seconds):
    message = await DBOS.recv_async(TOPIC, timeout_seconds)
    return "timed out" if message is None else "approved"


async def timeout_is_a_rejection(timeout_seconds):
    message = await DBOS.recv_async(TOPIC, timeout_seconds)
    return "approved" if message and message["approved"] else "rejected"


async def listens_on_another_topic(timeout_seconds):
    message = await DBOS.recv_async("approvals", timeout_seconds)
    return "timed out" if message is None else "approved"


async def no_timeout(timeout_seconds):
    message = await DBOS.recv_async(TOPIC)
    return "timed out" if message is None else "approved"


async def follows_to_the_close(workflow_id, offset):
    return [v async for v in DBOS.read_stream_async(workflow_id, STREAM_KEY, offset=offset)]


async def ignores_the_offset(workflow_id, offset):
    return (await read_stream_chunk(workflow_id, 0)).values


async def seeds_cut_off_uncaught(workflow_id, offset):
    return [
        v
        async for v in DBOS.read_stream_async(
            workflow_id, STREAM_KEY, offset=offset, timeout_seconds=0.1
        )
    ]


async def one_value(workflow_id, offset):
    return await DBOS.read_stream_offset_async(workflow_id, STREAM_KEY, offset)


async def counts_a_snapshot(workflow_id):
    counts = {}
    for value in (await read_stream_chunk(workflow_id, 0)).values:
        counts[value["type"]] = counts.get(value["type"], 0) + 1
    return counts


async def seeds_total_budget(workflow_id):
    counts = {}

    async def follow():
        async for value in DBOS.read_stream_async(workflow_id, STREAM_KEY):
            counts[value["type"]] = counts.get(value["type"], 0) + 1

    try:
        await asyncio.wait_for(follow(), 0.1)  # the seed's 0.1 s budget for the whole read
    except asyncio.TimeoutError:
        pass
    return counts


async def forgets_the_last_type(workflow_id):
    counts = await exercises.solution_3_2(workflow_id)
    del counts["complete"]
    return counts


async def never_closes(lines):
    for line in lines:
        await DBOS.write_stream_async("lines", line)


async def the_whole_list_as_one_value(lines):
    await DBOS.write_stream_async("lines", lines)
    await DBOS.close_stream_async("lines")


async def closes_first(lines):
    await DBOS.close_stream_async("lines")


async def sync_write_stream(lines):
    DBOS.write_stream("lines", lines[0])


SYNC = "made a synchronous DBOS call inside the event loop: await the \\*_async method instead\\."

#: exercise -> [(wrong answer, the one line it must get, as a regex)]
CATALOGUE = {
    "1.1": [
        (
            hard_coded_completed,
            "it answered 'completed' for a workflow still running: read the event, do not hard-code the answer\\.",
        ),
        (
            status_with_the_seeds_timeout,
            "it took \\d+\\.\\d s: it waited \\(a timeout of 0 answers at once\\)\\.|it did not return within 2 s.*",
        ),
        (
            dbos_state_not_the_event,
            "'PENDING' is DBOS's state of the workflow, not its 'status' event\\.",
        ),
        (progress_key, "expected the 'status' event to be 'processing_step_1', got 0\\."),
    ],
    "1.2": [
        (
            result_without_waiting,
            "it returned None after \\d+\\.\\d s, before the result event was set: it did not wait \\(long enough\\)\\.",
        ),
        (
            result_timeout_too_short,
            "it returned None after \\d+\\.\\d s, before the result event was set: it did not wait \\(long enough\\)\\.",
        ),
        (
            return_value_not_the_event,
            "that is the workflow's return value, not its 'result' event\\.",
        ),
    ],
    "1.3": [
        (
            returns_instead_of_publishing,
            "a client sees no events: publish with await DBOS\\.set_event_async\\(key, value\\)\\.",
        ),
        (sync_set_event, f"the workflow {SYNC}"),
        (forgets_completed, "a client reads status 'working': publish 'completed' at the end\\."),
        (
            progress_as_a_fraction,
            "expected the last progress a client reads to be 100, got 1\\.0\\.",
        ),
    ],
    "2.1": [
        (rejects, "the workflow answered: Not approved: no\\."),
        (
            no_topic,
            "the workflow heard nothing on 'notification' in 3 s: send on messaging\\.TOPIC\\.",
        ),
        (
            bare_true,
            'the workflow could not read your message: send \\{"approved": True, \\.\\.\\.\\}\\.',
        ),
        (sync_send, f"it {SYNC}"),
    ],
    "2.2": [
        (sends_once, "it sent 1 time\\(s\\): a retry sends the message again; send twice\\."),
        (
            retry_without_key,
            "the workflow received 2: without an idempotency_key each send is a new message\\.",
        ),
        (
            a_new_key_per_attempt,
            "2 different idempotency keys are 2 messages: use the same key for every attempt\\.",
        ),
    ],
    "2.3": [
        (ignores_the_payload, "it approved a rejection: act on message\\['approved'\\]\\."),
        (
            timeout_is_a_rejection,
            "a timeout gives None, not a rejection: answer 'timed out' then\\.",
        ),
        (
            listens_on_another_topic,
            "it never received the approval sent on 'notification': recv on that topic\\.",
        ),
        (
            no_timeout,
            "still waiting long after a 0\\.5 s timeout: pass the timeout to recv_async\\.",
        ),
    ],
    "3.1": [
        (
            follows_to_the_close,
            "it waited on an open stream \\(a read with no timeout follows it to the close\\): return what is there now\\.",
        ),
        (ignores_the_offset, "you returned the whole stream: start at the offset\\."),
        (
            seeds_cut_off_uncaught,
            "DBOSStreamTimeoutError on an open stream means 'nothing more yet': catch it and return what you have\\.",
        ),
        (one_value, "return a list of values, not dict\\."),
    ],
    "3.2": [
        (
            counts_a_snapshot,
            "it stopped after \\d of 8 values, before the stream closed: follow it to the close \\(no timeout\\)\\.",
        ),
        (
            seeds_total_budget,
            "it stopped after \\d of 8 values, before the stream closed: follow it to the close \\(no timeout\\)\\.",
        ),
        (
            forgets_the_last_type,
            re.escape(
                "expected the count per type to be {'start': 1, 'progress': 3, 'result': 3, 'complete': 1}, got {'start': 1, 'progress': 3, 'result': 3}."
            ),
        ),
    ],
    "3.3": [
        (
            never_closes,
            "a reader got 3 value\\(s\\) and then waited: the stream is still open; end it with close_stream_async\\.",
        ),
        (
            the_whole_list_as_one_value,
            "a reader got 1 value, the whole list: write each line as its own value\\.",
        ),
        (closes_first, "a reader found 'lines' closed and empty: close it after the writes\\."),
        (sync_write_stream, f"the workflow {SYNC}"),
    ],
}
WRONG = [(ex, answer, line) for ex, answers in CATALOGUE.items() for answer, line in answers]


def test_every_exercise_has_a_catalogue_of_three_or_more():
    assert set(CATALOGUE) == set(exercises.CHECKS)
    assert all(len(answers) >= 3 for answers in CATALOGUE.values())


@pytest.mark.parametrize("exercise", sorted(exercises.CHECKS))
async def test_reference_solution_passes(dbos_app, exercise):
    check, solution = exercises.CHECKS[exercise]
    result = await check(solution)
    assert result.passed, result.line
    assert result.line.startswith(f"Exercise {exercise} ✔ passed: ")


@pytest.mark.parametrize(
    ("exercise", "answer", "line"), WRONG, ids=[f"{e}-{a.__name__}" for e, a, _ in WRONG]
)
async def test_wrong_answer_is_rejected_naming_the_misconception(dbos_app, exercise, answer, line):
    result = await exercises.CHECKS[exercise][0](answer)
    assert not result.passed, f"{answer.__name__} passed {exercise}: {result.line}"
    assert "\n" not in result.line
    prefix = f"Exercise {exercise} ✘ not yet: "
    assert result.line.startswith(prefix) and re.fullmatch(line, result.line[len(prefix) :]), (
        result.line
    )


@pytest.mark.parametrize("exercise", sorted(exercises.CHECKS))
async def test_untouched_stub_is_one_line(dbos_app, exercise):
    async def stub(*args):
        raise NotImplementedError

    result = await exercises.CHECKS[exercise][0](stub)
    assert (
        result.line
        == f"Exercise {exercise} ✘ not yet: the stub is still there: write the function."
    )


async def test_a_sync_function_is_refused(dbos_app):
    def current_status(workflow_id):
        return "completed"

    result = await exercises.check_1_1(current_status)
    assert result.line == "Exercise 1.1 ✘ not yet: current_status must be an `async def` function."


NOT_RUNNING = (
    "✘ not yet: DBOS is not running in this kernel (a fresh kernel, or the clean-up cell "
    "stopped it): run the setup cell, then this check again."
)


@pytest.mark.parametrize("exercise", sorted(exercises.CHECKS))
async def test_a_check_after_clean_up_says_to_run_setup(dbos_app, exercise):
    wfcomm_helpers.shutdown()
    check, solution = exercises.CHECKS[exercise]
    result = await asyncio.wait_for(check(solution), 5)
    assert result.line == f"Exercise {exercise} {NOT_RUNNING}"


def test_a_check_in_a_fresh_kernel_says_to_run_setup(tmp_path):
    """A new Python process that never ran the setup cell (a restarted kernel): one line."""
    code = (
        "import asyncio\n"
        "from wfcomm_helpers import exercises\n"
        "print(asyncio.run(exercises.check_3_3(exercises.solution_3_3)).line)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WFCOMM_DATA_DIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"Exercise 3.3 {NOT_RUNNING}"], done.stdout + done.stderr


def test_solution_on_demand_prints_the_reference(capsys):
    exercises.solution("2.2")
    assert "idempotency_key=key" in capsys.readouterr().out
    exercises.solution("9.9")
    assert capsys.readouterr().out.startswith("No exercise '9.9': use one of 1.1, 1.2, 1.3,")


def test_the_stream_timeout_error_is_public():
    assert error.DBOSStreamTimeoutError.__name__ == "DBOSStreamTimeoutError"
