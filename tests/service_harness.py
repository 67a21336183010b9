"""A real `wfcomm serve` (uvicorn) in a subprocess on a free loopback port, and the CLI runner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str | None) -> dict[str, str]:
    """This process's environment with ``extra`` set (None removes a variable)."""
    env = dict(os.environ)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Server:
    """Start with a command that serves on ``port``; ``url`` once /health answers."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"server did not answer within {STARTUP_SECONDS} s")
            time.sleep(0.1)

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()

    def stop(self) -> int:
        """Ctrl-C, as a user would; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()
        return self.proc.returncode


def uvicorn_server(tmp_path: Path, env: dict[str, str]) -> Server:
    """The FastAPI app served by uvicorn itself (independent of the CLI's serve command)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "wfcomm_helpers.service:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    return Server(command, port, env, tmp_path / f"uvicorn-{port}.log")


@contextmanager
def module_service(folder: Path) -> Iterator[tuple[Server, Path]]:
    """One uvicorn service on its own data folder under ``folder``, stopped cleanly after:
    ``(server, data folder)``. For a test module whose tests use distinct workflow ids."""
    running = uvicorn_server(
        folder, child_env(WFCOMM_DATA_DIR=str(folder / "data"), WFCOMM_DATABASE_URL=None)
    )
    yield running, folder / "data"
    assert running.stop() == 0, running.output()


def cli_server(tmp_path: Path, env: dict[str, str], *args: str) -> Server:
    """``wfcomm serve --port P *args`` through the command line."""
    port = free_port()
    command = [sys.executable, "-m", "wfcomm_helpers.cli", "serve", "--port", str(port), *args]
    return Server(command, port, env, tmp_path / f"serve-{port}.log")


def wfcomm(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run the command line in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "wfcomm_helpers.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def one_line_failure(result: subprocess.CompletedProcess) -> str:
    """A failed command: non-zero exit, exactly one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wfcomm: "), result.stderr
    return lines[0]
