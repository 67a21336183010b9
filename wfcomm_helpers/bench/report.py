"""docs/benchmarks.md from the sections' data: tables, ratios and the targets met or missed."""

from __future__ import annotations

import math
from typing import Any

from . import keepalive, reruns
from .hops import PATHS
from .stats import ratio
from .suite import (
    NOT_RUN,
    TARGET_IDLE_CPU,
    TARGET_LEARNER_P95_MS,
    TARGET_LOAD,
    TARGET_LOOP_LAG_P99_MS,
    TARGET_P50_MS,
    TARGET_P95_MS,
    not_run,
    poll_key,
)


def ms(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1f}"


def times(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def worst(row: dict[str, Any], stat: str) -> float:
    return max(row["hops"][path][stat] for path in PATHS)


def all_found(row: dict[str, Any]) -> bool:
    return all(row["hops"][p]["found"] == row["hops"][p]["n"] for p in PATHS)


def idle_ok(row: dict[str, Any]) -> bool:
    return row["idle_cpu"].get(TARGET_LOAD, math.inf) <= TARGET_IDLE_CPU


def _row(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["key"] == key), None)


def _sqlite_targets(latency: dict[str, Any]) -> list[str]:
    kit = _row(latency["rows"], "kit")
    assert kit is not None
    p50, p95 = worst(kit, "p50"), worst(kit, "p95")
    cpu = kit["idle_cpu"].get(TARGET_LOAD, math.nan)
    return [
        f"| kit on SQLite, notebook hop (same process): p50, slowest path "
        f"| <= {TARGET_P50_MS:g} ms | {ms(p50)} ms | {yes(p50 <= TARGET_P50_MS)} |",
        f"| kit on SQLite, notebook hop (same process): p95, slowest path "
        f"| <= {TARGET_P95_MS:g} ms | {ms(p95)} ms | {yes(p95 <= TARGET_P95_MS)} |",
        f"| kit idle CPU, 3 workflows waiting | <= {TARGET_IDLE_CPU:g} % of a core "
        f"| {ms(cpu)} % | {yes(cpu <= TARGET_IDLE_CPU)} |",
    ]


def _lag_target(lag: dict[str, Any]) -> list[str]:
    p99 = lag["kit"]["p99"]
    return [
        f"| loop lag p99, 3 workflows computing (kit) | <= {TARGET_LOOP_LAG_P99_MS:g} ms "
        f"| {ms(p99)} ms | {yes(p99 <= TARGET_LOOP_LAG_P99_MS)} |"
    ]


def _tail_target(tail: list[dict[str, Any]]) -> list[str]:
    growth = ratio(tail[-1]["kit_ms"], tail[0]["kit_ms"])
    return [
        f"| kit tail poll at {tail[-1]['length']} values vs {tail[0]['length']} "
        f"| flat (<= 2x) | {times(growth)} | {yes(growth <= 2)} |"
    ]


def _learners_target(learners: dict[str, Any]) -> list[str]:
    if "skipped" in learners:
        return ["| learners on one Postgres: hop p95 | <= 50 ms | skipped | - |"]
    run = learners["runs"][0]
    lp95 = run["all"]["p95"]
    failed = len(run["failed"])
    ok = lp95 <= TARGET_LEARNER_P95_MS and not run["lost"] and not failed
    return [
        f"| {run['label']} on one Postgres: hop p95, all accounted "
        f"| <= {TARGET_LEARNER_P95_MS:g} ms, none lost | {ms(lp95)} ms, "
        f"{len(run['lost'])} lost, {failed} could not start | {yes(ok)} |"
    ]


def summary(data: dict[str, Any]) -> list[str]:
    """The targets table; a section that was not measured says so in its row."""
    lines = ["| measure | target | measured | met |", "|---|---|---|---|"]
    for key, targets in (
        ("latency", _sqlite_targets),
        ("loop_lag", _lag_target),
        ("stream_tail", _tail_target),
        ("panel_reruns", reruns.target_row),
        ("learners", _learners_target),
    ):
        section = data.get(key, {NOT_RUN: "not in this run"})
        why = not_run(section)
        lines += targets(section) if why is None else [f"| {key} | - | not measured | - |"]
    return lines


def measured(section: Any, table: Any) -> list[str]:
    """``table(section)``, or the one line saying why the section has no figures."""
    why = not_run(section)
    return table(section) if why is None else [f"Not measured: {why}."]


def latency_tables(latency: dict[str, Any]) -> list[str]:
    rows, floor = latency["rows"], latency["floor"]
    header = "| configuration | wake-up | " + " | ".join(f"{p} p50 / p95" for p in PATHS)
    lines = [
        header + " | hops | all values found |",
        "|---|---|" + "---|" * len(PATHS) + "---|---|",
    ]
    cross = poll_key(latency["kit_poll"])
    shown = [r for k in ("default", "kit", cross, "postgres") for r in rows if r["key"] == k]
    for r in shown:
        cells = " | ".join(f"{ms(r['hops'][p]['p50'])} / {ms(r['hops'][p]['p95'])}" for p in PATHS)
        lines.append(
            f"| {r['label']} | {r['wake']} | {cells} | {r['hops'][PATHS[0]]['n']} "
            f"| {yes(all_found(r))} |"
        )
    floor_cell = f"{ms(floor['p50'])} / {ms(floor['p95'])}"
    lines.append(
        "| floor: raw SQLite commit + read-back | none | "
        + " | ".join(floor_cell for _ in PATHS)
        + f" | {floor['n']} | - |"
    )
    if latency["postgres_skipped"]:
        lines.append(f"\nPostgreSQL row skipped: {latency['postgres_skipped']}.")
    kit, default, pg = (_row(rows, k) for k in ("kit", "default", "postgres"))
    assert kit is not None and default is not None
    lines += [
        "",
        "Ratios of p50:",
        "",
        "| path | DBOS default / kit (kit is this many times faster) "
        "| kit / floor (the cost of DBOS's statements) | kit on SQLite / kit on PostgreSQL |",
        "|---|---|---|---|",
    ]
    for p in PATHS:
        k = kit["hops"][p]["p50"]
        vs_pg = times(ratio(k, pg["hops"][p]["p50"])) if pg else "skipped"
        lines.append(
            f"| {p} | {times(ratio(default['hops'][p]['p50'], k))} "
            f"| {times(ratio(k, floor['p50']))} | {vs_pg} |"
        )
    return lines


def sweep_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DBOS's default and the poll-only runs, by interval."""
    chosen = (r for r in rows if r["key"] == "default" or r["key"].startswith("poll-"))
    return sorted(chosen, key=lambda r: r["poll"])


def sweep_table(rows: list[dict[str, Any]], kit_poll: float) -> list[str]:
    lines = [
        "| SQLite poll interval | value from another process: slowest path p50 | p95 "
        "| idle CPU, 3 workflows waiting | idle CPU, one live panel per pattern "
        f"| idle CPU <= {TARGET_IDLE_CPU:g} % |",
        "|---|---|---|---|---|---|",
    ]
    for r in sweep_rows(rows):
        name = f"{r['poll']:g} s" + (" (kit)" if r["key"] == poll_key(kit_poll) else "")
        name += " (DBOS default)" if r["key"] == "default" else ""
        cpu = r["idle_cpu"]
        lines.append(
            f"| {name} | {ms(worst(r, 'p50'))} ms | {ms(worst(r, 'p95'))} ms "
            f"| {ms(cpu.get(TARGET_LOAD, math.nan))} % "
            f"| {ms(cpu.get('panels:1', math.nan))} % | {yes(idle_ok(r))} |"
        )
    return lines


def polling_verdict(rows: list[dict[str, Any]], kit_poll: float) -> str:
    good = [f"{r['poll']:g} s" for r in sweep_rows(rows) if idle_ok(r)]
    within = ", ".join(good) if good else "none"
    kit = next((r for r in sweep_rows(rows) if r["key"] == poll_key(kit_poll)), None)
    shortest = bool(kit and idle_ok(kit)) and all(
        r["poll"] >= kit_poll for r in sweep_rows(rows) if idle_ok(r)
    )
    why = ": the shortest of them" if shortest else ""
    return (
        f"Intervals within the idle CPU target (<= {TARGET_IDLE_CPU:g} % of a core with 3 "
        f"workflows waiting) in this run: {within}. The kit uses {kit_poll:g} s "
        f"(`settings.SQLITE_POLLING_INTERVAL_SEC`; `WFCOMM_SQLITE_POLL_SEC` overrides it)"
        f"{why}. PostgreSQL (LISTEN/NOTIFY) has no such trade-off."
    )


def loop_lag_table(lag: dict[str, Any], plan_lag: tuple[int, int]) -> list[str]:
    lines = ["| design | lag p50 | lag p99 | lag max | wall time |", "|---|---|---|---|---|"]
    names = {"seed": "seed: async Fibonacci on the loop", "kit": "kit: sync step in a thread"}
    for key in ("seed", "kit"):
        r = lag[key]
        lines.append(
            f"| {names[key]} | {ms(r['p50'])} ms | {ms(r['p99'])} ms | {ms(r['max'])} ms "
            f"| {r['seconds']:.2f} s |"
        )
    lines.append(
        f"\nseed / kit, p99: {times(ratio(lag['seed']['p99'], lag['kit']['p99']))}. "
        f"Work: 3 workflows at once, {plan_lag[0]} steps each, fib({plan_lag[1]}) "
        "upwards; lag sampled every 5 ms."
    )
    return lines


def tail_table(rows: list[dict[str, float]]) -> list[str]:
    lines = [
        "| stream length | seed: re-read from 0 (ms per poll) | kit: offset read (ms per poll) "
        "| seed vs kit |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['length']} | {ms(r['seed_ms'])} | {ms(r['kit_ms'])} "
            f"| {times(ratio(r['seed_ms'], r['kit_ms']))} |"
        )
    return lines


def notebooks_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["No notebooks found in notebooks/ when this ran."]
    lines = ["| notebook | code cells | Run All (s) | result |", "|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['code_cells']} | {r['seconds']:.1f} | {r['error'] or 'ok'} |"
        )
    return lines


def layout_comparison(server: dict[str, Any], machine: dict[str, Any]) -> str:
    slower = ratio(machine["all"]["p95"], server["all"]["p95"])
    said = (
        f"The two layouts put the same load on the server. With one process per learner "
        f"on this machine, p95 is {times(slower)} the first layout's"
    )
    if slower < 1.5:
        return said + ": this machine's cores kept up with every kernel's idle work."
    return (
        said + f" and the cores were {machine['cpu_busy']:.0f} % busy: every kernel's idle "
        "work (queue polls, background jobs, a few % of a core each) adds up. In a workshop "
        "each kernel runs on its learner's own machine; a JupyterHub for the room needs "
        "cores to match."
    )


def learners_table(data: dict[str, Any]) -> list[str]:
    if "skipped" in data:
        return [f"Skipped: {data['skipped']}."]
    lines = [
        "| layout | hop p50 | p95 | p99 | max | values lost | could not start "
        "| connections at peak | machine CPU busy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in data["runs"]:
        a = run["all"]
        lines.append(
            f"| {run['label']} | {ms(a['p50'])} | {ms(a['p95'])} | {ms(a['p99'])} "
            f"| {ms(a['max'])} | {len(run['lost'])} | {len(run['failed'])} "
            f"| {run['peak_connections']} | {run['cpu_busy']:.0f} % |"
        )
    server, machine = data["runs"][0], data["runs"][-1]
    lines += [
        "",
        f"Per path, {server['label']}:",
        "",
        "| path | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|",
    ]
    for path, s in server["per_path"].items():
        lines.append(
            f"| {path} | {ms(s['p50'])} | {ms(s['p95'])} | {ms(s['p99'])} | {ms(s['max'])} |"
        )
    lost = sorted({item for run in data["runs"] for item in run["lost"]})
    lines.append(
        f"\nEach of {data['learners']} learners: {data['hops_each']} hops per path, each "
        f"{data['gap'][0]:g} to {data['gap'][1]:g} s after the last (about one click a "
        "second, all learners at once). Every message received once, every event and "
        f"stream value read back: lost or wrong: {', '.join(lost) if lost else 'none'}."
    )
    lines.append(f"\n{layout_comparison(server, machine)}")
    lines.append(
        f"\nServer: max_connections = {data['max_connections']}; with {machine['processes']} "
        f"kernel processes at most {machine['peak_connections']} connections were open on the "
        f"whole server (counting every other session), and one kernel held at most "
        f"{machine['most_per_process']} (counted by its sessions' application_name)."
    )
    failed = [f for run in data["runs"] for f in run["failed"]]
    if failed:
        lines.append(f"\n**{len(failed)} learner processes could not run**: {failed[0]}")
    return lines


def render(data: dict[str, Any]) -> str:
    m, latency = data["machine"], data["latency"]
    out = [
        "# Benchmarks",
        "",
        f"Generated by `python3 kit.py bench{' --quick' if data['quick'] else ''}` on "
        f"{data['when']}: {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"dbos {m['dbos']}, {m['system']}. Load average {m['load_before']:.2f} before the run and "
        f"{m['load_after']:.2f} before the learners section (which loads the machine on "
        f"purpose){m['shared_note']}. Every comparison below was "
        "measured in this one run.",
        "",
        "![Benchmarks at a glance](benchmarks.png)",
        "",
        "## Targets",
        "",
        *summary(data),
        "",
        "## Hop latency (ms): from the client action to the value seen by a waiting reader",
        "",
        *measured(latency, latency_tables),
        "",
        "## The SQLite polling interval: values from another process against idle CPU",
        "",
        "SQLite has no LISTEN/NOTIFY: one DBOS thread polls every waiting key each interval. "
        "The kit wakes readers in the writer's own process at commit (the kit (SQLite) row "
        "above), so the poll only carries values written by another process, such as the "
        "`wfcomm` command. The rows below time exactly that: the kit with its wake-up removed. "
        "A shorter interval shows such values sooner and costs CPU while anything waits.",
        "",
        *measured(
            latency,
            lambda d: [
                *sweep_table(d["rows"], d["kit_poll"]),
                "",
                polling_verdict(d["rows"], d["kit_poll"]),
            ],
        ),
        "",
        "## Event-loop lag while three workflows compute",
        "",
        *measured(data["loop_lag"], lambda d: loop_lag_table(d, data["plan"]["lag"])),
        "",
        "## Stream tail cost against stream length",
        "",
        "One poll that fetches the newest value: the seed re-reads from offset 0 "
        "(`seed_mistakes.seed_stream_snapshot`, with its 0.1 s cut-off); the kit reads from "
        "the offset it has (the call `streaming.read_stream_chunk` makes). Median of "
        f"{data['plan']['tail_repeats']} polls.",
        "",
        *measured(data["stream_tail"], tail_table),
        "",
        "## `wfcomm serve`: keep-alive answers (ms)",
        "",
        *measured(data.get("keep_alive", {NOT_RUN: "not in this run"}), keepalive.table),
        "",
        "## Run All of each notebook on a fresh database",
        "",
        *measured(data["notebooks"], notebooks_table),
        "",
        "## Kernel idle CPU after re-running the panel cells",
        "",
        *measured(data.get("panel_reruns", {NOT_RUN: "not in this run"}), reruns.table),
        "",
        "## Learners sharing one PostgreSQL server",
        "",
        *measured(data["learners"], learners_table),
        "",
        "## How it was measured",
        "",
        "- Each DBOS configuration ran in its own process (DBOS is a process singleton) on a "
        "fresh database; the client and the workflow share the process, as in a notebook.",
        "- A hop is timed with `time.perf_counter` from just before the client call "
        "(`send_async`) or the workflow's write (`set_event_async`, `write_stream_async`) to "
        "the moment the waiting reader (`recv_async`, `get_event_async`, a "
        "`read_stream_async` loop) returns it. The gap before each hop is 30 ms plus a random "
        "part as long as the polling interval (50 ms on PostgreSQL), so hops land at random "
        "points of the polling cycle, as clicks do.",
        "- Same-process wake-up: the kit sets the waiting reader's DBOS event right after the "
        "writer's commit (`wfcomm_helpers.wakeup`); the poll-only rows remove it "
        "(`wakeup.uninstall()`), so their hops wait for the poll as another process's would.",
        "- Idle CPU: user + system time of the process over "
        f"{data['plan']['idle_seconds']:g} s while the load waits, as % of one core.",
        "- The DBOS default configuration is `DBOS(config={name, system_database_url})` on a "
        "SQLite file; the kit's is `wfcomm_helpers.start(...)`; PostgreSQL is the kit's "
        "configuration on a fresh database of the given server.",
        "",
    ]
    return "\n".join(out)
