"""``wfcomm bench [--quick] [--pg-url URL] [--docs DIR] [--only SECTION ...]`` (``python3 kit.py bench`` sets up first)

Runs every benchmark, comparing in one run, and writes ``benchmarks.md`` and ``benchmarks.png``
to ``docs/``. Not part of the test suite. ``--quick`` uses small counts (well under a minute)
and writes to ``.wfcomm/bench-quick/``: a smoke run never replaces the committed figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, NoReturn

from . import keepalive, notebooks, plot, report, reruns, suite

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "latency",
    "loop_lag",
    "stream_tail",
    "notebooks",
    "panel_reruns",
    "keep_alive",
    "learners",
)
#: Where a run writes unless --docs says otherwise: the committed report, or a smoke run's.
DOCS, QUICK_DOCS = ROOT / "docs", ROOT / ".wfcomm" / "bench-quick"
#: Requests per server in the keep-alive section, by --quick.
KEEP_ALIVE_REQUESTS = {False: 200, True: 10}
#: Seconds of idle kernel CPU read after the panel re-runs, by --quick.
RERUN_IDLE_SECONDS = {False: 15.0, True: 3.0}


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine(load_before: float, load_after: float) -> dict[str, Any]:
    """``load_after`` is read before the learners, who load the machine on purpose; a load
    above the core count means processes queued for a core."""
    cores = os.cpu_count() or 1
    busy = max(load_before, load_after) > cores
    return {
        "cores": cores,
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "dbos": version("dbos"),
        "system": f"{platform.system()} {platform.release()}",
        "load_before": load_before,
        "load_after": load_after,
        "shared_note": " (other work was running on the machine: figures are pessimistic)"
        if busy
        else "",
    }


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A bad option is one line (argparse's default adds the usage block)."""
        self.exit(2, f"wfcomm: {message}: see `{self.prog} --help`.\n")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="wfcomm bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("WFCOMM_TEST_PG_URL"),
        help="a PostgreSQL server URL whose role may create databases "
        "(default: $WFCOMM_TEST_PG_URL); without one the Postgres parts are "
        "skipped and say so",
    )
    parser.add_argument(
        "--docs",
        type=Path,
        help=f"where to write benchmarks.md and benchmarks.png (default: {DOCS}, or "
        f"{QUICK_DOCS} with --quick)",
    )
    parser.add_argument("--json", type=Path, help="also save the raw figures as JSON here")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="run only these sections (the report says the others were not asked for)",
    )
    args = parser.parse_args(argv)
    if args.docs is None:
        args.docs = QUICK_DOCS if args.quick else DOCS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    plan = suite.Plan.make(args.quick)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    sections: dict[str, Callable[[], Any]] = {
        "latency": lambda: suite.latency(plan, args.pg_url, say),
        "loop_lag": lambda: suite.loop_lag(plan, say),
        "stream_tail": lambda: suite.stream_tail(plan, say),
        "notebooks": lambda: notebooks.measure(say, args.quick),
        "panel_reruns": lambda: reruns.measure(RERUN_IDLE_SECONDS[args.quick], say),
        "keep_alive": lambda: keepalive.measure(KEEP_ALIVE_REQUESTS[args.quick], say),
        "learners": lambda: suite.learners(plan, args.pg_url, say),
    }
    data: dict[str, Any] = {"quick": args.quick, "plan": asdict(plan), "only": args.only}
    load_after = load_before
    for name, work in sections.items():
        if name == "learners":  # they load the machine on purpose
            load_after = os.getloadavg()[0]
        if args.only and name not in args.only:
            data[name] = {suite.NOT_RUN: f"not asked for (--only {' '.join(args.only)})"}
            continue
        data[name] = suite.attempt(name, work, say)
    data["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    data["machine"] = machine(load_before, load_after)
    args.docs.mkdir(parents=True, exist_ok=True)
    (args.docs / "benchmarks.md").write_text(report.render(data))
    plot.render(data, args.docs / "benchmarks.png")
    if args.json:
        args.json.write_text(json.dumps(data, indent=1))
    say(
        f"wrote {args.docs / 'benchmarks.md'} and benchmarks.png in "
        f"{time.perf_counter() - began:.0f} s"
    )
    for line in report.summary(data)[2:]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
