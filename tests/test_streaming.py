"""Streaming: exact 2N+2 contents in order, offset reads that resume, the closed flag."""

from __future__ import annotations

import pytest

import wfcomm_helpers
from wfcomm_helpers import streaming
from wfcomm_helpers.patterns.compute import fibonacci_result
from wfcomm_helpers.patterns.lookup import AppClient, workflow_result
from wfcomm_helpers.runtime.errors import InvalidInputError, UnknownWorkflowError

BASE = 5


def without_timestamps(values: list[dict]) -> list[dict]:
    return [{k: v for k, v in value.items() if k != "timestamp"} for value in values]


def expected_stream(n: int) -> list[dict]:
    values: list[dict] = [{"type": "start", "message": f"Starting {n} steps"}]
    for i in range(n):
        step = i + 1
        values.append(
            {
                "type": "progress",
                "step": step,
                "total_steps": n,
                "message": f"Processing step {step}/{n}",
            }
        )
        values.append({"type": "result", "step": step, "result": fibonacci_result(BASE + i)})
    values.append({"type": "complete", "message": f"Completed {n} steps", "total_results": n})
    return values


async def test_follow_yields_exactly_2n_plus_2_values_in_order(running_app) -> None:
    wid = await streaming.start_streaming(3, fib_base=BASE)
    followed = [item async for item in streaming.follow_stream(wid)]

    assert [offset for offset, _ in followed] == list(range(streaming.stream_length(3)))
    values = [value for _, value in followed]
    assert without_timestamps(values) == expected_stream(3)
    stamps = [value["timestamp"] for value in values]
    assert stamps == sorted(stamps)
    assert await workflow_result(wid, timeout=30) == [fibonacci_result(BASE + i) for i in range(3)]


async def test_offset_reads_resume_without_duplicates(running_app) -> None:
    wid = await streaming.start_streaming(4, fib_base=BASE)
    collected: list[dict] = []
    chunk = streaming.StreamChunk()
    reads = 0
    while not chunk.closed:
        chunk = await streaming.read_stream_chunk(wid, chunk.next_offset)
        assert chunk.offset == len(collected)
        collected += chunk.values
        reads += 1
        assert reads < 10_000, "the stream never closed"
    assert without_timestamps(collected) == expected_stream(4)
    assert chunk.next_offset == streaming.stream_length(4)

    # Reading never consumes: any offset can be read again, by any reader.
    again = await streaming.read_stream_chunk(wid, 5)
    assert again.values == collected[5:]
    assert (again.offset, again.next_offset, again.closed) == (5, 10, True)
    past_the_end = await streaming.read_stream_chunk(wid, 10)
    assert (past_the_end.values, past_the_end.closed) == ([], True)


async def test_a_stream_not_yet_written_reads_empty_and_open(running_app) -> None:
    url = running_app.target.url
    wfcomm_helpers.shutdown()
    client = AppClient(system_database_url=url, application_name=running_app.app)
    try:
        # Enqueued while no app runs: the workflow exists but has written nothing yet.
        wid = await streaming.start_streaming(1, fib_base=BASE, backend=client)
        chunk = await streaming.read_stream_chunk(wid, 0, backend=client)
        assert (chunk.values, chunk.next_offset, chunk.closed) == ([], 0, False)

        await wfcomm_helpers.start("test", database_url=url, quiet=True)
        await workflow_result(wid, timeout=30)
        chunk = await streaming.read_stream_chunk(wid, 0, backend=client)
        assert without_timestamps(chunk.values) == expected_stream(1)
        assert chunk.closed
    finally:
        client.destroy()


async def test_unknown_ids_and_bad_offsets_fail_clearly(running_app) -> None:
    with pytest.raises(UnknownWorkflowError):
        await streaming.read_stream_chunk("nothing-here")
    with pytest.raises(UnknownWorkflowError):
        [item async for item in streaming.follow_stream("nothing-here")]
    with pytest.raises(InvalidInputError) as caught:
        await streaming.read_stream_chunk("anything", -1)
    assert str(caught.value) == "The stream offset counts from 0; -1 is negative."
