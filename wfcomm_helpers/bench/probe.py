"""One benchmark process: launch DBOS in one configuration, run the asked measurements, print
one JSON line. ``DBOS`` is a process singleton, so every configuration gets its own process.

    python -m wfcomm_helpers.bench.probe '{"config": "kit", "data_dir": "/tmp/x", "hops": 20}'

config: ``default`` (DBOS's defaults on SQLite) or ``kit`` (``wfcomm_helpers.start``: SQLite,
or Postgres when ``"db_url"`` is given). With ``kit``, ``"poll": seconds`` sets the SQLite
polling interval and ``"wakeup": false`` removes the same-process wake-up, so a hop waits for
the poll as a value written by another process does.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSConfig

from ..runtime import lifecycle as runtime, wakeup
from ..runtime.settings import sqlite_polling_interval
from . import hops, idle, looplag, streamtail

RESULT_PREFIX = "BENCH-RESULT "


#: The random part of the gaps between hops where nothing polls (Postgres).
NOTIFY_SPREAD = 0.05


async def launch(spec: dict[str, Any]) -> float:
    """Start DBOS as ``spec`` says; returns the polling interval in effect (or a nominal one
    for LISTEN/NOTIFY), which spreads the hops over the polling cycle."""
    os.environ["WFCOMM_DATA_DIR"] = spec["data_dir"]
    if spec["config"] == "kit":
        if "poll" in spec:
            os.environ["WFCOMM_SQLITE_POLL_SEC"] = str(spec["poll"])
        await runtime.start("bench", database_url=spec.get("db_url"), quiet=True)
        if spec.get("wakeup") is False:
            wakeup.uninstall()
        return NOTIFY_SPREAD if spec.get("db_url") else sqlite_polling_interval()
    config: DBOSConfig = {
        "name": "wfcomm-bench",
        "system_database_url": f"sqlite:///{spec['data_dir']}/bench-{spec['config']}.sqlite",
        "log_level": "WARNING",
    }
    os.makedirs(spec["data_dir"], exist_ok=True)
    DBOS(config=config)
    DBOS.launch()
    return 1.0  # DBOS's default polling interval


async def _barrier(folder: Path) -> None:
    """Many learner processes begin their hops together: say ready, wait for ``go``."""
    (folder / f"ready-{os.getpid()}").touch()
    while not (folder / "go").exists():
        await asyncio.sleep(0.01)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    spread = await launch(spec)
    out: dict[str, Any] = {"dbos": version("dbos")}
    try:
        if spec.get("barrier"):
            await _barrier(Path(spec["barrier"]))
        if spec.get("hops"):
            pace = hops.Pace(spread=spec.get("spread", spread), least=spec.get("least_gap", 0.03))
            sessions = await asyncio.gather(
                *(hops.measure(spec["hops"], pace) for _ in range(spec.get("sessions", 1)))
            )
            out["hops"], out["sessions"] = sessions[0], sessions
        for load, count in spec.get("idle", []):
            out.setdefault("idle_cpu", {})[f"{load}:{count}"] = await idle.measure(
                load, count, spec["idle_seconds"]
            )
        if spec.get("lag"):
            out["loop_lag"] = await looplag.measure(*spec["lag"])
        if spec.get("tail"):
            out["stream_tail"] = await streamtail.measure(spec["tail"], spec["tail_repeats"])
    finally:
        runtime.shutdown() if runtime.is_running() else DBOS.destroy()
    return out


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = asyncio.run(run(spec))
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
