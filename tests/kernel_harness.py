"""A real ipykernel, driven like a notebook: code runs with the kernel's event loop running,
which is what DBOS 3.4's sync-call check and the widgets' callbacks depend on."""

from __future__ import annotations

import os
import queue
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import KernelManager


@dataclass
class CellResult:
    stdout: str = ""
    stderr: str = ""
    error: tuple[str, str] | None = None  # (ename, evalue)
    traceback: list[str] = field(default_factory=list)  # the error output's lines, no colours
    data: list[dict] = field(default_factory=list)
    status: str = ""  # the execute_reply's: "ok" or "error" (a failed cell stops Run All)

    @property
    def text(self) -> str:
        return "".join(d.get("text/plain", "") for d in self.data)

    @property
    def shown_error(self) -> str:
        """What the learner sees of an error: stderr, then the error output's lines."""
        return self.stderr + "".join(line + "\n" for line in self.traceback)


ANSI = re.compile(r"\x1b\[[0-9;]*m")


class CellError(AssertionError):
    pass


class Kernel:
    """Start with ``Kernel(cwd, env)``; ``run(code)`` returns the cell's outputs."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.km = KernelManager(kernel_name="python3")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.km.start_kernel(cwd=str(cwd), env=full_env)
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        #: Outputs that arrived for a cell that had already finished (msg_type, content).
        self.late_outputs: list[tuple[str, dict]] = []

    @property
    def pid(self) -> int:
        return self.km.provisioner.pid  # type: ignore[union-attr]

    def run(self, code: str, timeout: float = 60, allow_error: bool = False) -> CellResult:
        """Run ``code`` as a cell; return once the kernel is idle *and* has sent its
        ``execute_reply`` (a kernel that never replies leaves a notebook's Run All running)."""
        msg_id = self.client.execute(code, store_history=False)
        result = self._outputs(msg_id, code, timeout)
        deadline = time.monotonic() + timeout
        while not result.status:
            try:
                reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise CellError(f"no execute_reply within {timeout} s:\n{code}") from None
            if reply["parent_header"].get("msg_id") == msg_id:
                result.status = reply["content"]["status"]
        if result.error and not allow_error:
            raise CellError(f"{result.error[0]}: {result.error[1]}\nin cell:\n{code}")
        return result

    def _outputs(self, msg_id: str, code: str, timeout: float) -> CellResult:
        result = CellResult()
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise CellError(f"cell did not finish within {timeout} s:\n{code}") from None
            kind, content = msg["msg_type"], msg["content"]
            if msg["parent_header"].get("msg_id") != msg_id:
                if kind in ("stream", "error", "display_data", "execute_result"):
                    self.late_outputs.append((kind, content))
                continue
            if kind == "stream":
                if content["name"] == "stdout":
                    result.stdout += content["text"]
                else:
                    result.stderr += content["text"]
            elif kind in ("execute_result", "display_data"):
                result.data.append(content["data"])
            elif kind == "error":
                result.error = (content["ename"], content["evalue"])
                result.traceback = [ANSI.sub("", line) for line in content["traceback"]]
            elif kind == "status" and content["execution_state"] == "idle":
                return result

    def kill(self) -> None:
        """SIGKILL, as a crash would; returns once the process is gone."""
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.km.is_alive():
            if time.monotonic() > deadline:
                raise CellError(f"kernel {self.pid} survived SIGKILL for 30 s")
            time.sleep(0.05)

    def close(self) -> None:
        self.client.stop_channels()
        if self.km.is_alive():
            self.km.shutdown_kernel(now=True)
