"""`wfcomm serve` as a real uvicorn process on a loopback port, driven by a real HTTP client."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dbos import DBOSClient
from httpx_sse import connect_sse
from service_harness import Server, child_env, cli_server, module_service, uvicorn_server

from wfcomm_helpers.demos import check_stream, expected_results
from wfcomm_helpers.patterns.compute import fibonacci_result

DEADLINE_SECONDS = 120.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """One server for the module (tests use distinct workflow ids), with its data folder."""
    with module_service(tmp_path_factory.mktemp("serve")) as found:
        yield found


@pytest.fixture
def http(served: tuple[Server, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url, timeout=60) as client:
        yield client


def finished(http: httpx.Client, workflow_id: str) -> dict:
    body = http.get(f"/workflows/{workflow_id}", params={"timeout": 90}, timeout=120).json()
    assert body["done"], body
    return body


def read_until_closed(http: httpx.Client, workflow_id: str) -> tuple[list, list[dict]]:
    """Offset reads, each from the last next_offset, until closed; returns values and answers."""
    values: list = []
    answers: list[dict] = []
    offset = 0
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        body = http.get(f"/workflow-stream/{workflow_id}", params={"offset": offset}).json()
        answers.append(body)
        assert body["offset"] == offset
        assert body["next_offset"] == offset + len(body["stream_values"])
        assert body["total_messages"] == len(body["stream_values"])
        values.extend(body["stream_values"])
        offset = body["next_offset"]
        if body["closed"]:
            return values, answers
        time.sleep(0.05)
    raise AssertionError(f"stream of {workflow_id} not closed within {DEADLINE_SECONDS} s")


# --- the seed's calls, replayed ---------------------------------------------------------


def test_seed_httpie_calls_work_unchanged(http: httpx.Client) -> None:
    """The paths and bodies of the seed's commands_*.sh; the fields its client library read."""
    started = http.post("/start-workflow-events/seed-events/3")
    assert started.status_code == 200
    assert started.json() == {
        "workflow_id": "seed-events",
        "message": "Events workflow seed-events started with 3 steps",
        "query_endpoints": {
            "progress": "/workflow-events/seed-events/progress",
            "status": "/workflow-events/seed-events/status",
            "result": "/workflow-events/seed-events/result",
            "all_events": "/workflow-events/seed-events/all",
        },
    }
    result = http.get("/workflow-events/seed-events/result", params={"timeout": 60}).json()
    assert result == {
        "workflow_id": "seed-events",
        "event_key": "result",
        "value": {"total_steps": 3, "results": expected_results(3)},
    }
    # status turns 'completed' just after result is set: read it once the workflow has ended
    assert finished(http, "seed-events")["status"] == "SUCCESS"
    status = http.get("/workflow-events/seed-events/status").json()  # default timeout 5
    assert status["value"] == "completed"
    assert http.get("/workflow-events/seed-events/all").json() == {
        "workflow_id": "seed-events",
        "events": {
            "status": "completed",
            "progress": 100,
            "result": {"total_steps": 3, "results": expected_results(3)},
        },
    }

    started = http.post("/start-workflow-messaging/seed-msg/2").json()
    assert set(started) == {"workflow_id", "message", "send_approval", "note"}
    assert started["send_approval"] == "/send-message/seed-msg"
    sent = http.post("/send-message/seed-msg", json={"approved": True, "message": "Looks good"})
    assert sent.status_code == 200
    assert sent.json()["payload"] == {"approved": True, "message": "Looks good"}
    assert set(sent.json()) == {"workflow_id", "message", "payload"}

    started = http.post("/start-workflow-streaming/seed-stream/2").json()
    assert started["read_stream"] == "/workflow-stream/seed-stream"
    assert set(started) == {"workflow_id", "message", "read_stream"}
    values, _ = read_until_closed(http, "seed-stream")
    snapshot = http.get("/workflow-stream/seed-stream").json()
    assert snapshot["stream_values"] == values
    assert snapshot["total_messages"] == 6
    check_stream(snapshot["stream_values"], 2)

    health = http.get("/health").json()
    assert health["status"] == "ok" and health["memory_mb"] > 0
    assert health["memory_mb"] == round(health["memory_mb"], 2)
    assert finished(http, "seed-msg")["result"] == {
        "status": "completed",
        "results": expected_results(2),
    }


# --- errors ------------------------------------------------------------------------------


def one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and detail
    return detail


def test_unknown_ids_are_404_at_once(http: httpx.Client) -> None:
    unknown = (
        "No workflow with id 'nope' in this database: start one first, or check the id "
        "for typos (ids are case-sensitive)."
    )
    # An hour's timeout: if the server waited for the event, this client would give up at 60 s.
    calls = [
        http.get("/workflow-events/nope/status", params={"timeout": 3600}),
        http.get("/workflow-events/nope/all"),
        http.get("/workflow-stream/nope"),
        http.get("/workflow-stream/nope/follow"),
        http.post("/send-message/nope", json={"approved": True}),
        http.get("/workflows/nope"),
    ]
    for response in calls:
        assert one_line_error(response, 404) == unknown


def test_other_pattern_ids_are_409(http: httpx.Client) -> None:
    http.post("/start-workflow-events/taken/1").raise_for_status()
    assert one_line_error(http.post("/start-workflow-streaming/taken/1"), 409) == (
        "Workflow 'taken' is an events workflow, not a streaming one: use a new id for this "
        "pattern."
    )
    for response in (
        http.post("/start-workflow-messaging/taken/1"),
        http.post("/send-message/taken", json={"approved": True}),
        http.get("/workflow-stream/taken"),
        http.get("/workflow-stream/taken/follow"),
    ):
        assert "is an events workflow" in one_line_error(response, 409)
    # The same id and pattern again attaches to the existing workflow: ids are idempotency keys.
    assert http.post("/start-workflow-events/taken/1").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "params", "detail"),
    [
        (
            "POST",
            "/start-workflow-events/a/0",
            {},
            "The step count must be between 1 and 100, not 0.",
        ),
        (
            "POST",
            "/start-workflow-events/a/101",
            {},
            "The step count must be between 1 and 100, not 101.",
        ),
        (
            "POST",
            "/start-workflow-streaming/a/abc",
            {},
            "The step count must be a whole number, not 'abc'.",
        ),
        (
            "POST",
            "/start-workflow-events/a/2",
            {"fib_base": 99},
            "The Fibonacci base must be between 0 and 32 (fib(32) takes about a second), not 99.",
        ),
        (
            "POST",
            "/start-workflow-messaging/a/2",
            {"timeout": -1},
            "The approval timeout must be between 0 and 3600 seconds, not '-1'.",
        ),
        (
            "GET",
            "/workflow-events/a/status",
            {"timeout": "soon"},
            "The timeout must be a number of seconds, not 'soon'.",
        ),
        (
            "GET",
            "/workflow-events/a/status",
            {"timeout": 4000},
            "The timeout must be between 0 and 3600 seconds, not '4000'.",
        ),
        (
            "GET",
            "/workflow-events/a/colour",
            {},
            "Unknown event key 'colour': use one of progress, status, result.",
        ),
        (
            "GET",
            "/workflow-stream/a",
            {"offset": -1},
            "The stream offset counts from 0; -1 is negative.",
        ),
        (
            "GET",
            "/workflow-stream/a/follow",
            {"offset": "x"},
            "The stream offset must be a whole number, not 'x'.",
        ),
        (
            "GET",
            "/workflows/a",
            {"timeout": "x"},
            "The timeout must be a number of seconds, not 'x'.",
        ),
    ],
)
def test_bad_numbers_are_422_with_one_line(
    http: httpx.Client, method: str, path: str, params: dict, detail: str
) -> None:
    assert one_line_error(http.request(method, path, params=params), 422) == detail


def test_send_bodies_that_are_not_json_objects_are_422(http: httpx.Client) -> None:
    http.post("/start-workflow-messaging/body/1", params={"timeout": 0}).raise_for_status()
    not_json = http.post(
        "/send-message/body", content=b"approved=yes", headers={"Content-Type": "application/json"}
    )
    assert one_line_error(not_json, 422).startswith("The request body is not JSON")
    not_object = http.post("/send-message/body", json=[True])
    assert one_line_error(not_object, 422) == (
        'The message must be a JSON object such as {"approved": true}, not an array.'
    )


def test_event_not_set_within_timeout_is_the_seeds_404(http: httpx.Client) -> None:
    # One slow step (fib(32)) before any result is set; the read asks with no wait at all.
    http.post("/start-workflow-events/slow/1", params={"fib_base": 32}).raise_for_status()
    response = http.get("/workflow-events/slow/result", params={"timeout": 0})
    assert one_line_error(response, 404) == "Event 'result' not found or timeout reached"
    value = http.get("/workflow-events/slow/result", params={"timeout": 60}).json()["value"]
    assert value == {"total_steps": 1, "results": [fibonacci_result(32)]}


# --- messaging: status, result, idempotency ----------------------------------------------


def notifications_to(data_dir: Path, workflow_id: str) -> int:
    """Messages DBOS stored for ``workflow_id`` (consumed or not), read from the file itself."""
    with sqlite3.connect(data_dir / "wfcomm-serve.sqlite") as db:
        return db.execute(
            "SELECT count(*) FROM notifications WHERE destination_uuid = ?", (workflow_id,)
        ).fetchone()[0]


def test_status_endpoint_shows_the_messaging_outcome(http: httpx.Client) -> None:
    http.post("/start-workflow-messaging/outcome/2").raise_for_status()
    waiting = http.get("/workflows/outcome").json()
    assert waiting == {
        "workflow_id": "outcome",
        "workflow_name": "messaging_workflow",
        "pattern": "messaging",
        "status": "PENDING",
        "done": False,
        "result": None,
        "error": None,
    }
    still = http.get("/workflows/outcome", params={"timeout": 0.5}).json()
    assert still["status"] == "PENDING" and not still["done"]
    http.post("/send-message/outcome", json={"approved": False, "reason": "too costly"})
    report = finished(http, "outcome")
    assert report["status"] == "SUCCESS"  # "cancelled" is the workflow's answer, not DBOS's state
    assert report["result"] == {
        "status": "cancelled",
        "reason": "Not approved: too costly",
        "results": [],
    }


def test_send_with_an_idempotency_key_is_stored_once(
    http: httpx.Client, served: tuple[Server, Path]
) -> None:
    data_dir = served[1]
    # Workflows that already gave up (timeout 0): a send succeeds and is stored, never read.
    for wid in ("keyed", "unkeyed"):
        http.post(f"/start-workflow-messaging/{wid}/1", params={"timeout": 0}).raise_for_status()
        assert finished(http, wid)["result"]["status"] == "cancelled"
    for _ in range(3):
        http.post(
            "/send-message/keyed", json={"approved": True}, params={"idempotency_key": "retry-1"}
        ).raise_for_status()
        http.post("/send-message/unkeyed", json={"approved": True}).raise_for_status()
    assert notifications_to(data_dir, "keyed") == 1
    assert notifications_to(data_dir, "unkeyed") == 3
    empty_key = http.post(
        "/send-message/keyed", json={"approved": True}, params={"idempotency_key": " "}
    )
    assert one_line_error(empty_key, 422) == (
        "The idempotency key is empty: leave it out or give it text."
    )


# --- streaming: offsets and SSE ----------------------------------------------------------


def test_offset_reads_resume_without_duplicates(http: httpx.Client) -> None:
    # Steps of fib(30..32): the stream is read while it is still being written.
    http.post("/start-workflow-streaming/offsets/3", params={"fib_base": 30}).raise_for_status()
    values, answers = read_until_closed(http, "offsets")
    assert any(not a["closed"] for a in answers), "every read saw a closed stream"
    assert len(answers) >= 2
    assert len(values) == 8
    assert len({v["timestamp"] for v in values}) == 8  # no value twice
    assert [v["type"] for v in values] == ["start"] + ["progress", "result"] * 3 + ["complete"]
    assert [v["result"] for v in values if v["type"] == "result"] == expected_results(3, 30)
    middle = http.get("/workflow-stream/offsets", params={"offset": 5}).json()
    assert middle["stream_values"] == values[5:]
    assert (middle["next_offset"], middle["closed"]) == (8, True)
    end = http.get("/workflow-stream/offsets", params={"offset": 8}).json()
    assert (end["stream_values"], end["next_offset"], end["closed"]) == ([], 8, True)


def test_sse_follows_the_stream_live_to_its_close(http: httpx.Client) -> None:
    http.post("/start-workflow-streaming/live/3", params={"fib_base": 30}).raise_for_status()
    with connect_sse(http, "GET", "/workflow-stream/live/follow") as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        events = list(source.iter_sse())
    values = [json.loads(e.data) for e in events if e.event == "value"]
    assert [e.id for e in events if e.event == "value"] == [str(i) for i in range(8)]
    assert [e.event for e in events] == ["value"] * 8 + ["end"]
    assert json.loads(events[-1].data) == {"next_offset": 8, "closed": True}
    check_stream(values, 3, 30)
    assert values == http.get("/workflow-stream/live").json()["stream_values"]

    with connect_sse(http, "GET", "/workflow-stream/live/follow", params={"offset": 6}) as source:
        tail = list(source.iter_sse())
    assert [e.id for e in tail if e.event == "value"] == ["6", "7"]
    assert [json.loads(e.data) for e in tail if e.event == "value"] == values[6:]


# --- the server never blocks (made true) ------------------------------------------------


def test_health_answers_while_three_workflows_compute(served: tuple[Server, Path]) -> None:
    """The seed ran its Fibonacci on the event loop: while a step computed, no request was
    answered. Here steps run in worker threads. One thread asks /health back to back while three
    workflows compute; DBOS records when each Fibonacci step started and ended. Counted, not
    timed: health answers asked for and received inside one step, while all three are PENDING
    (a blocked loop gives none: a request that arrives during a step waits for its end). Counts
    only: how long an answer took depends on the machine's load, whether it came at all does not."""
    server, data = served
    ids = [f"busy-{i}" for i in range(3)]
    answers: list[tuple[float, float]] = []  # (asked, answered), epoch seconds
    stop = threading.Event()

    def ask_health() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while not stop.is_set():
                asked = time.time()
                assert client.get("/health").json()["status"] == "ok"
                answers.append((asked, time.time()))

    asker = threading.Thread(target=ask_health)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for wid in ids:
            http.post(f"/start-workflow-events/{wid}/2", params={"fib_base": 31}).raise_for_status()
        asker.start()
        try:
            reports = [finished(http, wid) for wid in ids]
        finally:
            stop.set()
            asker.join()
    assert [r["result"] for r in reports] == [expected_results(2, 31)] * 3
    client = DBOSClient(system_database_url=f"sqlite:///{data / 'wfcomm-serve.sqlite'}")
    try:
        steps = [
            s
            for wid in ids
            for s in client.list_workflow_steps(wid)
            if s["function_name"] == "fibonacci_step"
        ]
        ends = [client.list_workflows(workflow_ids=[wid])[0].updated_at for wid in ids]
    finally:
        client.destroy()
    assert len(steps) == 6
    all_pending_until = min(ends) / 1000
    while_pending = [(a, b) for a, b in answers if b <= all_pending_until]
    spans = [(s["started_at_epoch_ms"] / 1000, s["completed_at_epoch_ms"] / 1000) for s in steps]
    # An answer asked after a step started and received before it ended: a step run on the loop
    # holds every request until it ends, so a blocked loop gives none (steps then run one at a time).
    # Three, not more: under CI load the compute threads hold the GIL and answers come slowly
    # (9 of 17 were inside a step once beside a CPU burner).
    inside_a_step = [(a, b) for a, b in while_pending if any(s <= a and b <= e for s, e in spans)]
    assert len(inside_a_step) >= 3, (len(inside_a_step), len(while_pending), spans)


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_service_on_postgres(tmp_path: Path, data_dir: Path, pg_url: str) -> None:
    running = uvicorn_server(
        tmp_path, child_env(WFCOMM_DATA_DIR=str(data_dir), WFCOMM_DATABASE_URL=pg_url)
    )
    try:
        with httpx.Client(base_url=running.url, timeout=60) as http:
            assert not (data_dir / "wfcomm-serve.sqlite").exists()
            http.post("/start-workflow-events/pg-events/2").raise_for_status()
            value = http.get("/workflow-events/pg-events/result", params={"timeout": 60}).json()
            assert value["value"] == {"total_steps": 2, "results": expected_results(2)}
            http.post("/start-workflow-streaming/pg-stream/2").raise_for_status()
            values, _ = read_until_closed(http, "pg-stream")
            check_stream(values, 2)
            with connect_sse(
                http, "GET", "/workflow-stream/pg-stream/follow", params={"offset": 3}
            ) as source:
                followed = [json.loads(e.data) for e in source.iter_sse() if e.event == "value"]
            assert followed == values[3:]
            http.post("/start-workflow-messaging/pg-msg/1").raise_for_status()
            http.post(
                "/send-message/pg-msg", json={"approved": True}, params={"idempotency_key": "k"}
            ).raise_for_status()
            assert finished(http, "pg-msg")["result"] == {
                "status": "completed",
                "results": expected_results(1),
            }
            assert one_line_error(http.get("/workflows/nope"), 404).startswith("No workflow")
            assert "is an events workflow" in one_line_error(
                http.post("/send-message/pg-events", json={"approved": True}), 409
            )
    finally:
        assert running.stop() == 0, running.output()


@pytest.mark.postgres
def test_serve_on_a_postgres_database_a_notebook_app_already_used(
    tmp_path: Path, data_dir: Path, pg_url: str
) -> None:
    env = child_env(WFCOMM_DATA_DIR=str(data_dir), WFCOMM_DATABASE_URL=pg_url)
    first = cli_server(tmp_path, env, "--app", "events")  # as the events notebook would
    assert first.stop() == 0, first.output()
    second = uvicorn_server(tmp_path, env)  # the serve app on the same database
    assert second.stop() == 0, second.output()
