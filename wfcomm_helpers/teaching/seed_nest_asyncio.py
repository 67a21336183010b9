"""The seed's advice "then apply nest-asyncio", run where it cannot harm this kernel.

nest-asyncio makes a running loop re-entrant so that ``asyncio.run`` works inside it; it does
not change DBOS's refusal of synchronous calls in a running loop. ipykernel 7 depends on the
maintained fork, ``nest-asyncio2``, which the demo applies.
"""

from __future__ import annotations

import asyncio
import sys

_NEST_ASYNCIO_SCRIPT = """
import asyncio
import nest_asyncio2
from dbos import DBOS

async def main():
    nest_asyncio2.apply()
    print("after nest_asyncio2.apply(), asyncio.run inside the loop:",
          asyncio.run(asyncio.sleep(0, "works")))
    try:
        DBOS.send("any-id", {"approved": True}, "notification")
        print("after nest_asyncio2.apply(), DBOS.send: no error")
    except RuntimeError as exc:
        print("after nest_asyncio2.apply(), DBOS.send: RuntimeError:", exc)

asyncio.run(main())
"""


async def nest_asyncio_demo() -> list[str]:
    """Apply nest-asyncio2 (the fork ipykernel 7 depends on) in a fresh process with a running
    loop, as a kernel has, and try a sync DBOS call. It runs in a second process because the
    patch cannot be undone and would stay in this kernel; it is awaited, so this kernel's loop
    keeps running meanwhile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _NEST_ASYNCIO_SCRIPT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    if process.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the nest-asyncio2 demo process failed: {last}")
    return out.decode(errors="replace").strip().splitlines()
