"""Keep-alive latency of `wfcomm serve`: the kit's own listening socket (``wfcomm serve``)
against uvicorn binding it itself, each a real server process on a loopback port, each asked
``GET /health`` many times over one kept-alive connection.

A listening socket made without ``IPPROTO_TCP`` keeps asyncio from setting ``TCP_NODELAY`` on
the connections it accepts; every answer after the first on a connection then waited ~40 ms
for the client's delayed acknowledgement (Nagle's algorithm)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from .stats import summary_ms

STARTUP_SECONDS = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _commands(port: int) -> dict[str, list[str]]:
    """The two ways to serve the same app, by the row name of the report."""
    return {
        "wfcomm serve (the kit binds)": [
            sys.executable, "-m", "wfcomm_helpers.cli", "serve", "--port", str(port)
        ],
        "uvicorn binds": [
            sys.executable, "-m", "uvicorn", "--factory", "wfcomm_helpers.service:create_app",
            "--host", "127.0.0.1", "--port", str(port),
        ],
    }  # fmt: skip


def _time_requests(url: str, requests: int) -> list[float]:
    """Seconds per ``GET /health`` on one connection, after it answered once."""
    import httpx

    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(base_url=url, timeout=30) as client:
        while True:
            try:
                client.get("/health").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        samples = []
        for _ in range(requests):
            began = time.perf_counter()
            client.get("/health").raise_for_status()
            samples.append(time.perf_counter() - began)
    return samples


def measure(requests: int, say: Any) -> list[dict[str, Any]]:
    """One row per way of binding: ``{name, p50, p95, p99, max, n}`` in ms."""
    rows = []
    for name in _commands(0):
        port = _free_port()
        with tempfile.TemporaryDirectory(prefix="wfcomm-bench-") as folder:
            env = {**os.environ, "WFCOMM_DATA_DIR": folder}
            env.pop("WFCOMM_DATABASE_URL", None)
            server = subprocess.Popen(
                _commands(port)[name],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                samples = _time_requests(f"http://127.0.0.1:{port}", requests)
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(timeout=60)
        rows.append({"name": name, **summary_ms(samples)})
        say(f"keep-alive: {name}: p50 {rows[-1]['p50']:.1f} ms")
    return rows


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The report's section body (Markdown lines)."""
    out = [
        "`GET /health` over one kept-alive connection (the way the `wfcomm` command and any "
        "HTTP client library talk to the service), after a first answer; each server on its "
        "own fresh SQLite file. The two rows must agree: a gap of ~40 ms means Nagle's "
        "algorithm holds each answer back.",
        "",
        "| server | requests | p50 | p95 | p99 |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        out.append(
            f"| {row['name']} | {row['n']} | {row['p50']:.1f} | {row['p95']:.1f} | "
            f"{row['p99']:.1f} |"
        )
    return out
