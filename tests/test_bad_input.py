"""Bad input, tried systematically against the kit's client calls: each gets one line saying
what was wrong (and how to fix it), and nothing is recorded in the database for it.

A table of hand-picked cases runs through the real calls on a real SQLite file; property-based
tests (hypothesis) then sweep the checks those calls share with many generated values.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any, Awaitable, Callable

import pytest
from dbos import DBOS
from hypothesis import given, settings, strategies as st

import wfcomm_helpers
from wfcomm_helpers import events, messaging, streaming
from wfcomm_helpers.patterns.lookup import workflow_result
from wfcomm_helpers.runtime import validation
from wfcomm_helpers.runtime.errors import InvalidInputError, UnknownWorkflowError, WfcommError

BAD_IDS = ["", "   ", None, 123, " padded", "line\nbreak", "tab\there", "x" * 201]
BAD_STEPS = [0, -1, 101, 10**12, "abc", "3.5", 3.5, None, True, math.nan, math.inf, [3]]
BAD_TIMEOUTS = [-1, -0.001, 3601, 1e308, math.inf, math.nan, "soon", None, True, [1]]
BAD_MESSAGES = [
    "approve",
    None,
    42,
    [True],
    ("approved", True),
    {"blob": b"bytes"},
    {"text": "x" * (validation.MAX_MESSAGE_BYTES + 1)},
]
BAD_OFFSETS = [-1, "first", 1.5, None, True]
UNKNOWN_IDS = ["no-such-workflow", "événement-✓-日本"]

Call = Callable[[Any], Awaitable[Any]]


def cases() -> list[tuple[str, Call, Any]]:
    """(label, call taking the bad value, the bad value) for every client call's arguments."""
    table: list[tuple[str, Call, Any]] = []
    for value in BAD_STEPS:
        table += [
            ("start_events n_steps", lambda v: events.start_events(v), value),
            ("start_messaging n_steps", lambda v: messaging.start_messaging(v), value),
            ("start_streaming n_steps", lambda v: streaming.start_streaming(v), value),
        ]
    for value in BAD_TIMEOUTS:
        table += [
            (
                "start_messaging timeout",
                lambda v: messaging.start_messaging(1, timeout_seconds=v),
                value,
            ),
            ("get_event timeout", lambda v: events.get_event("any-id", "status", v), value),
        ]
    for value in BAD_IDS:
        if value is not None:  # start_events(1, None) means "give it a new id"
            table.append(("start_events id", lambda v: events.start_events(1, v), value))
        table += [
            ("get_event id", lambda v: events.get_event(v, "status", 0), value),
            ("get_all_events id", lambda v: events.get_all_events(v), value),
            ("send_message id", lambda v: messaging.send_message(v, {"approved": True}), value),
            ("send_decision id", lambda v: messaging.send_decision(v, True), value),
            ("read_stream_chunk id", lambda v: streaming.read_stream_chunk(v, 0), value),
            ("workflow_result id", lambda v: workflow_result(v, timeout=1), value),
        ]
    for value in BAD_OFFSETS:
        table.append(
            ("read_stream_chunk offset", lambda v: streaming.read_stream_chunk("any", v), value)
        )
    table.append(("get_event key", lambda v: events.get_event("any-id", v, 0), "colour"))
    table.append(
        (
            "send_message idempotency key",
            lambda v: messaging.send_message("any", {"approved": True}, idempotency_key=v),
            "  ",
        )
    )
    return table


async def recorded() -> tuple[int, int]:
    """How many workflows and messages the database holds."""
    workflows = await DBOS.list_workflows_async(load_input=False, load_output=False)
    with sqlite3.connect(wfcomm_helpers.current().target.sqlite_path) as conn:
        messages = conn.execute("SELECT count(*) FROM notifications").fetchone()[0]
    return len(workflows), int(messages)


@pytest.fixture
async def waiting_messaging(dbos_app) -> str:
    """A messaging workflow waiting for its decision: the target for bad messages."""
    return await messaging.start_messaging(1, timeout_seconds=60, fib_base=0)


@pytest.mark.parametrize(
    ("label", "call", "value"), cases(), ids=[f"{c[0]}={c[2]!r:.30}" for c in cases()]
)
async def test_bad_argument_one_line_nothing_recorded(dbos_app, label, call, value):
    before = await recorded()
    with pytest.raises(InvalidInputError) as caught:
        await call(value)
    message = str(caught.value)
    assert message and "\n" not in message and len(message) < 300, message
    assert message.endswith("."), message
    assert await recorded() == before, f"{label}: something was recorded for rejected input"


@pytest.mark.parametrize("value", BAD_MESSAGES, ids=lambda v: f"{v!r:.30}")
async def test_bad_message_one_line_nothing_sent(waiting_messaging, value):
    before = await recorded()
    with pytest.raises(InvalidInputError) as caught:
        await messaging.send_message(waiting_messaging, value)
    message = str(caught.value)
    assert message.startswith("The message ") and "\n" not in message, message
    assert await recorded() == before
    # The workflow is still waiting and takes a good message afterwards.
    await messaging.send_decision(waiting_messaging, True)
    assert (await workflow_result(waiting_messaging, timeout=30))["status"] == "completed"


@pytest.mark.parametrize("unknown", UNKNOWN_IDS)
@pytest.mark.parametrize(
    "call",
    [
        lambda v: events.get_event(v, "status", 5),
        lambda v: events.get_all_events(v),
        lambda v: messaging.send_decision(v, True),
        lambda v: streaming.read_stream_chunk(v, 0),
        lambda v: workflow_result(v, timeout=5),
    ],
    ids=["get_event", "get_all_events", "send_decision", "read_stream_chunk", "workflow_result"],
)
async def test_unknown_workflow_one_line_at_once(dbos_app, call, unknown):
    before = await recorded()
    with pytest.raises(UnknownWorkflowError) as caught:
        await call(unknown)
    assert str(caught.value) == (
        f"No workflow with id {unknown!r} in this database: start one first, or check the id "
        "for typos (ids are case-sensitive)."
    )
    assert await recorded() == before


async def test_unicode_and_large_payloads_that_fit_arrive_intact(waiting_messaging):
    text = "✓ approuvé — 日本語 — " + "é" * 20_000  # ~40 kB of UTF-8: under the limit
    await messaging.send_message(waiting_messaging, {"approved": True, "message": text})
    assert (await workflow_result(waiting_messaging, timeout=30))["status"] == "completed"


async def test_unicode_workflow_id_is_accepted(dbos_app):
    wid = await events.start_events(1, "événement-✓-日本", fib_base=0)
    assert wid == "événement-✓-日本"
    assert (await workflow_result(wid, timeout=30)) == [{"n": 0, "fibonacci": 0}]


# --- Property-based: the shared checks, with many generated values ------------------------------


def one_line(error: WfcommError) -> bool:
    text = str(error)
    return bool(text) and "\n" not in text and text.endswith(".")


out_of_range_steps = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=validation.MAX_STEPS + 1),
    st.floats().filter(lambda f: not (f.is_integer() and 1 <= f <= validation.MAX_STEPS)),
    st.text().filter(lambda s: not s.strip().isdigit()),
    st.none(),
    st.booleans(),
    st.lists(st.integers()),
)


@settings(max_examples=300, deadline=None)
@given(out_of_range_steps)
def test_any_bad_step_count_is_one_line(value):
    with pytest.raises(InvalidInputError) as caught:
        validation.n_steps(value)
    assert one_line(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=validation.MAX_STEPS))
def test_every_good_step_count_passes_as_int_or_text(value):
    assert validation.n_steps(value) == validation.n_steps(str(value)) == value


bad_timeouts = st.one_of(
    st.floats(max_value=-1e-9),
    st.floats(min_value=validation.MAX_TIMEOUT_SECONDS + 1e-6),
    st.just(math.nan),
    st.text().filter(lambda s: _not_a_float(s)),
    st.none(),
    st.booleans(),
)


def _not_a_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


@settings(max_examples=300, deadline=None)
@given(bad_timeouts)
def test_any_bad_timeout_is_one_line(value):
    with pytest.raises(InvalidInputError) as caught:
        validation.timeout_seconds(value)
    assert one_line(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.none(), st.integers()))
def test_workflow_id_is_accepted_only_when_usable(value):
    try:
        checked = validation.workflow_id(value)
    except InvalidInputError as error:
        assert one_line(error)
        return
    assert checked == value and checked.strip() == checked and checked.isprintable()
    assert 0 < len(checked) <= validation.MAX_WORKFLOW_ID_LENGTH


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_message_must_be_an_object(value):
    if isinstance(value, dict):
        assert validation.json_object(value) is value
        return
    with pytest.raises(InvalidInputError) as caught:
        validation.json_object(value)
    assert one_line(caught.value)
