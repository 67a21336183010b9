"""The tables of docs/benchmarks.md, one function per section: its measured rows as Markdown."""

from __future__ import annotations

import math
from typing import Any

from .hops import PATHS
from .stats import ratio
from .suite import TARGET_IDLE_CPU, TARGET_LOAD, poll_key


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


def row_of(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["key"] == key), None)


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
    kit, default, pg = (row_of(rows, k) for k in ("kit", "default", "postgres"))
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
