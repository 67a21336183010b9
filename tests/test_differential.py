"""The kit's tuning never changes what DBOS does: every scenario runs with the tuning on (the
same-process wake-up, the kit's SQLite poll) and off (DBOS's own delivery), on SQLite and on
PostgreSQL, and what a caller observes must be the same both ways and what DBOS promises:
values received and their order, None only at a timeout and never sooner, events read while
waiting, all events at the end, the stream a tailing reader saw.

Scenarios are generated (several recvs per topic, keyed and unkeyed sends, retries, sends
before the first recv, concurrent senders) with a fixed seed, so CI runs the same ones every
time; each fault found is an ``@example``.
"""

from __future__ import annotations

from pathlib import Path

from differential import TOPICS, Round, Scenario, Send, expected, run
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
    n = draw(st.integers(2, 3))
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


async def observe_both_ways(scenario: Scenario, database_url: str | None) -> None:
    observed = {}
    for tuned in (True, False):
        await wfcomm_helpers.start("test", database_url=database_url, quiet=True, tuned=tuned)
        try:
            observed[tuned] = await run(scenario)
        finally:
            wfcomm_helpers.shutdown()
    values = expected(scenario)
    for tuned, seen in observed.items():
        way = "tuned" if tuned else "DBOS alone"
        assert seen.received == values, f"{way}: received {seen.received}, DBOS promises {values}"
        assert all(seen.none_on_time), f"{way}: a recv's None came before or long after its timeout"
        assert seen.round_events == values, f"{way}: event readers got {seen.round_events}"
        assert seen.stream == values, f"{way}: the tailing reader got {seen.stream}"
        assert seen.all_events["last"] == values[-1]
    assert observed[True].all_events == observed[False].all_events


LEG_SETTINGS = settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@LEG_SETTINGS
@given(scenario=scenarios())
@example(scenario=RETRY_STORES_NOTHING)
@example(scenario=RETRY_THEN_NEW)
@example(scenario=EVERY_KIND)
async def test_sqlite_tuned_equals_dbos_alone(data_dir: Path, scenario: Scenario) -> None:
    await observe_both_ways(scenario, None)


@LEG_SETTINGS
@given(scenario=scenarios())
@example(scenario=RETRY_STORES_NOTHING)
@example(scenario=RETRY_THEN_NEW)
@example(scenario=EVERY_KIND)
async def test_postgres_tuned_equals_dbos_alone(
    data_dir: Path, pg_url: str, scenario: Scenario
) -> None:
    await observe_both_ways(scenario, pg_url)


def test_the_model_knows_a_reused_key_stores_nothing() -> None:
    """The oracle itself: without it the suite would only compare two runs."""
    assert expected(RETRY_STORES_NOTHING) == ["M1", None]
    assert expected(RETRY_THEN_NEW) == ["M1", "M2"]
    assert expected(EVERY_KIND) == ["E2", "E1", "B1", None]
