"""The kit's tuning never changes what DBOS does: every scenario runs with the tuning on (the
same-process wake-up, the kit's SQLite poll) and off (DBOS's own delivery), on SQLite and on
PostgreSQL, and what a caller observes must be the same both ways and what DBOS promises:
values received and their order, None only at a timeout and never sooner, events read while
waiting (also one overwritten while its reader waits), all events at the end, the stream a
tailing reader saw.

Each generated example is a batch: a list of scenarios (several recvs per topic, keyed and
unkeyed sends, retries, sends before the first recv, concurrent senders, timeouts) whose
workflows all run at once in one DBOS, first tuned, then as DBOS alone; so one start and stop
per way serves the whole batch, and the workflows' sends and wake-ups interleave as a busy
kernel's do. Generation is derandomized with no example database, so CI runs the same batches
every time; each fault found is an ``@example``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from differential import TOPICS, Observed, Round, Scenario, Send, expected, run
from hypothesis import HealthCheck, example, given, settings, strategies as st

import wfcomm_helpers

KEYS = (None, "K1", "K2")


@st.composite
def sends(draw: st.DrawFn, prefix: str) -> tuple[Send, ...]:
    items = draw(
        st.lists(
            st.tuples(
                st.sampled_from(TOPICS),
                st.sampled_from(KEYS),
                st.integers(1, 2),
                st.booleans(),
            ),
            max_size=3,
        )
    )
    return tuple(
        Send(topic, f"{prefix}{n}", key, copies, concurrent)
        for n, (topic, key, copies, concurrent) in enumerate(items)
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(2, 4))
    rounds = tuple(Round(draw(st.sampled_from(TOPICS)), draw(sends(f"r{i}-"))) for i in range(n))
    return Scenario(rounds=rounds, early=draw(sends("early-")))


#: Issue 11: a retried keyed send stores nothing; the next recv must wait its whole timeout.
RETRY_STORES_NOTHING = Scenario(
    rounds=(Round("a", (Send("a", "M1", "K"),)), Round("a", (Send("a", "M1", "K"),)))
)
#: The issue's own sequence: the retry, then a new message the second recv must get.
RETRY_THEN_NEW = Scenario(
    rounds=(
        Round("a", (Send("a", "M1", "K"),)),
        Round("a", (Send("a", "M1", "K"), Send("a", "M2"))),
    )
)

#: Every kind at once: early sends (a concurrent double send with a key), a message waiting on
#: the other topic, a retry whose key an early send used, concurrent unkeyed copies, a timeout.
EVERY_KIND = Scenario(
    early=(Send("b", "E1", "K1", copies=2, concurrent=True), Send("a", "E2")),
    rounds=(
        Round("a", (Send("b", "B1"),)),
        Round("b", (Send("a", "A1", "K1"),)),
        Round("b", (Send("b", "B2", copies=2, concurrent=True),)),
        Round("a"),
    ),
)


def check(scenario: Scenario, way: str, seen: Observed) -> None:
    """``seen`` is what DBOS promises for ``scenario``; the message names ``way``."""
    values = expected(scenario)
    assert seen.received == values, f"{way}: received {seen.received}, DBOS promises {values}"
    late_or_early = [i for i, ok in enumerate(seen.none_on_time) if not ok]
    assert not late_or_early, (
        f"{way}: the None of round(s) {late_or_early} came before or long after its timeout "
        f"(timeouts {seen.timeouts}, took {[round(t, 2) for t in seen.took]})"
    )
    assert seen.round_events == values, f"{way}: event readers got {seen.round_events}"
    assert seen.stream == values, f"{way}: the tailing reader got {seen.stream}"
    assert seen.all_events["last"] == values[-1]
    first = seen.seen_first  # the overwritten event: any round's, as that round set it
    assert first == {"round": first["round"], "value": values[first["round"]]}, (
        f"{way}: the reader waiting on an overwritten event got {first}"
    )


async def observe_both_ways(batch: list[Scenario], database_url: str | None) -> None:
    """Every scenario of ``batch`` at once, tuned and as DBOS alone; each checked against
    DBOS's promise, and all events equal both ways."""
    observed = {}
    for tuned in (True, False):
        await wfcomm_helpers.start("test", database_url=database_url, quiet=True, tuned=tuned)
        try:
            observed[tuned] = await asyncio.gather(*(run(scenario) for scenario in batch))
        finally:
            wfcomm_helpers.shutdown()
    for tuned, runs in observed.items():
        for n, (scenario, seen) in enumerate(zip(batch, runs)):
            check(scenario, f"{'tuned' if tuned else 'DBOS alone'}, scenario {n}", seen)
    for n, (on, off) in enumerate(zip(observed[True], observed[False])):
        assert on.all_events == off.all_events, f"scenario {n}: all events differ"


#: Scenarios per generated batch, and batches per leg: about 3 min a leg on a busy 2-core
#: machine, most of it the batches' 1 s timeouts and four DBOS starts per batch.
BATCH, BATCHES = 8, 5
#: The fixed examples, run as one batch.
FOUND = [RETRY_STORES_NOTHING, RETRY_THEN_NEW, EVERY_KIND]


LEG_SETTINGS = settings(
    max_examples=BATCHES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@LEG_SETTINGS
@given(batch=st.lists(scenarios(), min_size=BATCH, max_size=BATCH))
@example(batch=FOUND)
async def test_sqlite_tuned_equals_dbos_alone(data_dir: Path, batch: list[Scenario]) -> None:
    await observe_both_ways(batch, None)


@LEG_SETTINGS
@given(batch=st.lists(scenarios(), min_size=BATCH, max_size=BATCH))
@example(batch=FOUND)
async def test_postgres_tuned_equals_dbos_alone(
    data_dir: Path, pg_url: str, batch: list[Scenario]
) -> None:
    await observe_both_ways(batch, pg_url)


def test_the_model_knows_a_reused_key_stores_nothing() -> None:
    """The oracle itself: without it the suite would only compare two runs."""
    assert expected(RETRY_STORES_NOTHING) == ["M1", None]
    assert expected(RETRY_THEN_NEW) == ["M1", "M2"]
    assert expected(EVERY_KIND) == ["E2", "E1", "B1", None]
