"""Every exercise check accepts its reference solution (so neither can go stale), refuses the
untouched stub with one line, and names what is wrong in a plausible wrong answer."""

from __future__ import annotations

import pytest
from dbos import DBOS

from wfcomm_helpers import exercises
from wfcomm_helpers.messaging import TOPIC
from wfcomm_helpers.streaming import STREAM_KEY


@pytest.mark.parametrize("exercise", sorted(exercises.CHECKS))
async def test_reference_solution_passes(dbos_app, exercise):
    check, solution = exercises.CHECKS[exercise]
    result = await check(solution)
    assert result.passed, result.line
    assert result.line.startswith(f"Exercise {exercise} ✔ passed: ")


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


async def test_wrong_answers_say_what_is_wrong(dbos_app):
    async def no_wait(workflow_id):
        return await DBOS.get_event_async(workflow_id, "result", 0)

    assert (await exercises.check_1_2(no_wait)).line == (
        "Exercise 1.2 ✘ not yet: it returned None: it did not wait for the event."
    )

    async def reject(workflow_id):
        await DBOS.send_async(workflow_id, {"approved": False, "reason": "no"}, TOPIC)

    assert (await exercises.check_2_1(reject)).line == (
        "Exercise 2.1 ✘ not yet: the workflow answered: Not approved: no."
    )

    async def retry_without_key(workflow_id, message):
        for _ in range(2):
            await DBOS.send_async(workflow_id, message, TOPIC)

    assert (await exercises.check_2_2(retry_without_key)).line == (
        "Exercise 2.2 ✘ not yet: expected the number of messages the workflow received to be 1, "
        "got 2."
    )

    async def whole_stream(workflow_id, offset):
        return [v async for v in DBOS.read_stream_async(workflow_id, STREAM_KEY)]

    assert (await exercises.check_3_1(whole_stream)).line == (
        "Exercise 3.1 ✘ not yet: you returned the whole stream: start at the offset."
    )

    async def forgets_the_last_type(workflow_id):
        counts = await exercises.solution_3_2(workflow_id)
        del counts["complete"]
        return counts

    assert (await exercises.check_3_2(forgets_the_last_type)).line == (
        "Exercise 3.2 ✘ not yet: expected the count per type to be "
        "{'start': 1, 'progress': 3, 'result': 3, 'complete': 1}, "
        "got {'start': 1, 'progress': 3, 'result': 3}."
    )
