"""`wfcomm serve` against what a web page, a flood and out-of-range input do to it (#12 items
14, 15, 16, 18), and its contract as its own client sees it (#13): typed errors, typed
parameters in the OpenAPI schema."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from service_harness import Server, child_env, cli_server, module_service, uvicorn_server

from wfcomm_helpers.runtime.errors import (
    InvalidInputError,
    UnknownWorkflowError,
    WrongWorkflowTypeError,
)

#: Threads `wfcomm serve` may hold after a flood: DBOS's bounded pool plus its fixed threads.
THREAD_LIMIT = 64
#: Starts in the flood (600 grew the threads to 449 before the bound; 300 is past the limit).
FLOOD = 300
#: The header naming the error of a non-2xx answer: part of the service's contract.
ERROR_HEADER = "X-Wfcomm-Error"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    with module_service(tmp_path_factory.mktemp("guards")) as found:
        yield found


@pytest.fixture
def http(served: tuple[Server, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url, timeout=60) as client:
        yield client


def one_line(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers.get(ERROR_HEADER) == error
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail
    return detail


def messages_to(data_dir: Path, workflow_id: str) -> int:
    with sqlite3.connect(data_dir / "wfcomm-serve.sqlite") as db:
        return db.execute(
            "SELECT count(*) FROM notifications WHERE destination_uuid = ?", (workflow_id,)
        ).fetchone()[0]


# --- 18: a web page cannot drive the local server -----------------------------------------


def test_a_text_plain_post_is_415_and_delivers_nothing(http: httpx.Client, served) -> None:
    http.post("/start-workflow-messaging/page-target/1").raise_for_status()
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        answer = http.post(
            "/send-message/page-target",
            content=b'{"approved": true}',
            headers={"Content-Type": media_type},
        )
        assert one_line(answer, 415, "UnsupportedMediaTypeError") == (
            f"The request body is {media_type}, not application/json: send JSON with "
            "Content-Type: application/json."
        )
    no_type = http.post("/send-message/page-target", content=b'{"approved": true}')
    assert one_line(no_type, 415, "UnsupportedMediaTypeError").startswith(
        "The request body is of no declared type"
    )
    assert messages_to(served[1], "page-target") == 0
    assert http.get("/workflows/page-target").json()["status"] == "PENDING"
    sent = http.post("/send-message/page-target", json={"approved": False, "reason": "test"})
    assert sent.status_code == 200 and messages_to(served[1], "page-target") == 1


def test_a_request_from_another_sites_page_is_403_and_starts_nothing(http: httpx.Client) -> None:
    page = {"Origin": "http://attacker.example"}
    answer = http.post("/start-workflow-events/page-start/1", headers=page)
    assert one_line(answer, 403, "CrossSiteRequestError").startswith(
        "Refused a request from the web page at http://attacker.example:"
    )
    assert http.get("/workflows/page-start").status_code == 404
    same_site = {"Origin": str(http.base_url).rstrip("/")}  # the service's own /docs page
    assert http.post("/start-workflow-events/page-start/1", headers=same_site).status_code == 200


def test_a_page_whose_domain_points_at_loopback_is_403(http: httpx.Client) -> None:
    """DNS rebinding: the page's own domain re-pointed at 127.0.0.1, so Origin matches Host."""
    port = http.base_url.port
    rebound = {"Host": f"attacker.example:{port}", "Origin": f"http://attacker.example:{port}"}
    answer = http.post("/start-workflow-events/rebound-start/1", headers=rebound)
    assert one_line(answer, 403, "ForeignHostError") == (
        f"Refused a request for host 'attacker.example:{port}' on the loopback address: wfcomm "
        "serve on 127.0.0.1 answers only requests for 127.0.0.1, localhost or [::1]."
    )
    assert http.get("/workflows/rebound-start").status_code == 404
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.1"):
        assert http.get("/health", headers={"Host": host}).status_code == 200, host


def test_a_non_loopback_host_warns_in_one_line(tmp_path: Path) -> None:
    env = child_env(WFCOMM_DATA_DIR=str(tmp_path / "data"), WFCOMM_DATABASE_URL=None)
    running = cli_server(tmp_path, env, "--host", "0.0.0.0")
    try:
        first = running.output().splitlines()[0]
    finally:
        assert running.stop() == 0, running.output()
    assert first.startswith("wfcomm serve: warning: 0.0.0.0 is reachable from other machines")
    quiet = cli_server(tmp_path, env)
    assert quiet.stop() == 0
    assert "warning" not in quiet.output()


# --- 14: out-of-range input is 422, never 500 ---------------------------------------------


@pytest.mark.parametrize("offset", [2**31, 2**63 - 1, 2**63, 10**30])
def test_a_huge_offset_is_422(http: httpx.Client, offset: int) -> None:
    http.post("/start-workflow-streaming/huge/1").raise_for_status()
    for path in ("/workflow-stream/huge", "/workflow-stream/huge/follow"):
        answer = http.get(path, params={"offset": offset})
        assert one_line(answer, 422, "InvalidInputError") == (
            f"The stream offset must be at most {2**31 - 1} (a stream is never that long), "
            f"not {offset}."
        )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"[" * 1500 + b"]" * 1500,
            "it nests arrays or objects deeper than Python can read (about 1000)",
        ),
        (b'{"approved": NaN}', "NaN is not a JSON number"),
        (b'{"approved": true, "n": Infinity}', "Infinity is not a JSON number"),
    ],
)
def test_bodies_json_cannot_hold_are_422(http: httpx.Client, body: bytes, reason: str) -> None:
    http.post("/start-workflow-messaging/deep/1", params={"timeout": 0}).raise_for_status()
    answer = http.post(
        "/send-message/deep", content=body, headers={"Content-Type": "application/json"}
    )
    detail = one_line(answer, 422, "InvalidInputError")
    assert detail.startswith(f"The request body is not JSON ({reason})"), detail


# --- 13: the contract, seen by the client ---------------------------------------------------


def test_numbers_are_typed_in_the_openapi_schema(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()["paths"]

    def types(method: str, path: str) -> dict[str, str]:
        operation = schema[path][method]
        return {p["name"]: p["schema"].get("type") for p in operation["parameters"]}

    assert types("post", "/start-workflow-events/{workflow_id}/{n_steps}") == {
        "workflow_id": "string",
        "n_steps": "integer",
        "fib_base": "integer",
    }
    assert types("post", "/start-workflow-messaging/{workflow_id}/{n_steps}")["timeout"] == (
        "number"
    )
    assert types("get", "/workflow-stream/{workflow_id}")["offset"] == "integer"
    assert types("get", "/workflow-events/{workflow_id}/{event_key}")["timeout"] == "number"
    assert types("get", "/workflows/{workflow_id}")["timeout"] == "number"


def test_the_client_raises_the_python_apis_error_types(served) -> None:
    from wfcomm_helpers.connection import HttpConnection

    async def calls() -> None:
        conn = HttpConnection(served[0].url)
        try:
            with pytest.raises(UnknownWorkflowError):
                await conn.report("no-such-workflow", 0)
            await conn.start_events(1, "typed-events", 22)
            with pytest.raises(WrongWorkflowTypeError):
                await conn.read_stream("typed-events", 0)
            with pytest.raises(InvalidInputError):
                await conn.start_events(0, "typed-zero", 22)
            # An unset key within the timeout (one slow step, fib(32), comes before the
            # result): None, as from the Python API, not an error.
            await conn.start_events(1, "typed-slow", 32)
            assert await conn.get_event("typed-slow", "result", 0) is None
        finally:
            await conn.close()

    asyncio.run(calls())


# --- 15: keep-alive answers are not held back by Nagle's algorithm --------------------------


def test_the_listening_socket_lets_asyncio_set_tcp_nodelay() -> None:
    from wfcomm_helpers.cli.serve import listen

    listener = listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    seen: list[int] = []

    async def check() -> None:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            await writer.drain()
            while not seen:
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(asyncio.wait_for(check(), 60))
    assert seen and seen[0] != 0


# --- 16: a flood of starts does not grow the server's threads without bound -----------------


@pytest.mark.timeout(1200)
def test_threads_stay_bounded_under_a_flood_of_starts(tmp_path: Path) -> None:
    env = child_env(WFCOMM_DATA_DIR=str(tmp_path / "data"), WFCOMM_DATABASE_URL=None)
    running = uvicorn_server(tmp_path, env)
    try:

        def start(i: int) -> int:
            with httpx.Client(base_url=running.url, timeout=120) as client:
                return client.post(f"/start-workflow-events/flood-{i}/1").status_code

        with ThreadPoolExecutor(30) as pool:
            assert set(pool.map(start, range(FLOOD))) == {200}
        with httpx.Client(base_url=running.url, timeout=600) as client:
            last = client.get(f"/workflows/flood-{FLOOD - 1}", params={"timeout": 540}).json()
        assert last["status"] == "SUCCESS", last
        threads = psutil.Process(running.proc.pid).num_threads()
    finally:
        assert running.stop() == 0, running.output()
    assert threads <= THREAD_LIMIT, threads
