"""docs/benchmarks.png: the six measurements as one figure, readable at a glance."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on CI or a server
import matplotlib.pyplot as plt

from .hops import PATHS
from .suite import (
    TARGET_IDLE_CPU,
    TARGET_LEARNER_P95_MS,
    TARGET_LOAD,
    TARGET_LOOP_LAG_P99_MS,
    TARGET_P50_MS,
    TARGET_P95_MS,
    not_run,
    poll_key,
)
from .tables import sweep_rows


def _latency(ax: Any, latency: dict[str, Any]) -> None:
    keys = ("default", "kit", poll_key(latency["kit_poll"]), "postgres")
    short = {
        "default": "DBOS default\n(SQLite)",
        "kit": "kit (SQLite)",
        "postgres": "kit (PostgreSQL)",
    }
    rows = [r for k in keys for r in latency["rows"] if r["key"] == k]
    labels = [short.get(r["key"], "kit (SQLite),\nanother process") for r in rows] + ["floor"]
    width = 0.8 / len(PATHS)
    for i, path in enumerate(PATHS):
        p50 = [r["hops"][path]["p50"] for r in rows] + [latency["floor"]["p50"]]
        p95 = [r["hops"][path]["p95"] for r in rows] + [latency["floor"]["p95"]]
        xs = [x + i * width for x in range(len(labels))]
        ax.bar(xs, p95, width, alpha=0.35, color=f"C{i}")
        ax.bar(xs, p50, width, color=f"C{i}", label=path)
    ax.axhline(TARGET_P50_MS, color="green", ls="--", lw=1, label=f"target p50 {TARGET_P50_MS:g}")
    ax.axhline(TARGET_P95_MS, color="red", ls="--", lw=1, label=f"target p95 {TARGET_P95_MS:g}")
    ax.set_yscale("log")
    ax.set_xticks([x + width for x in range(len(labels))], labels, fontsize=7)
    ax.set_ylabel("ms (solid p50, pale p95), log")
    ax.set_title("Hop latency: client action -> waiting reader")
    ax.legend(fontsize=7)


def _sweep(ax: Any, latency: dict[str, Any]) -> None:
    rows = sweep_rows(latency["rows"])
    polls = [r["poll"] for r in rows]
    ax.plot(
        polls,
        [max(r["hops"][p]["p95"] for p in PATHS) for r in rows],
        "o-",
        color="C3",
        label="hop p95, value from another process",
    )
    ax.plot(
        polls,
        [max(r["hops"][p]["p50"] for p in PATHS) for r in rows],
        "o-",
        color="C1",
        label="hop p50, value from another process",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("SQLite polling interval (s), log")
    ax.set_ylabel("latency ms, log")
    cpu = ax.twinx()
    cpu.plot(
        polls,
        [r["idle_cpu"].get(TARGET_LOAD, math.nan) for r in rows],
        "s-",
        color="C0",
        label="idle CPU, 3 workflows waiting",
    )
    cpu.plot(
        polls,
        [r["idle_cpu"].get("panels:1", math.nan) for r in rows],
        "s:",
        color="C0",
        label="idle CPU, one live panel per pattern",
    )
    cpu.axhline(TARGET_IDLE_CPU, color="C0", ls="--", lw=1)
    cpu.set_ylabel("% of one core")
    ax.axvline(latency["kit_poll"], color="gray", lw=6, alpha=0.25)
    ax.set_title(f"SQLite poll (grey: the kit, {latency['kit_poll']:g} s; dashed: CPU target)")
    handles = ax.get_legend_handles_labels()[0] + cpu.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="upper center")


def _loop_lag(ax: Any, lag: dict[str, Any]) -> None:
    names = ["seed: Fibonacci\non the loop", "kit: step in\na thread"]
    values = [lag["seed"]["p99"], lag["kit"]["p99"]]
    bars = ax.bar(names, values, color=["C3", "C2"])
    ax.bar_label(bars, [f"{v:.0f} ms" for v in values])
    ax.axhline(
        TARGET_LOOP_LAG_P99_MS,
        color="red",
        ls="--",
        lw=1,
        label=f"target {TARGET_LOOP_LAG_P99_MS:g} ms",
    )
    ax.set_ylabel("event-loop lag p99 (ms)")
    ax.set_title("Loop lag, 3 workflows computing")
    ax.legend(fontsize=7)


def _tail(ax: Any, rows: list[dict[str, float]]) -> None:
    lengths = [r["length"] for r in rows]
    ax.plot(lengths, [r["seed_ms"] for r in rows], "o-", color="C3", label="seed: re-read from 0")
    ax.plot(lengths, [r["kit_ms"] for r in rows], "o-", color="C2", label="kit: offset read")
    ax.set_yscale("log")
    ax.set_xlabel("stream length (values)")
    ax.set_ylabel("ms per poll for the newest value, log")
    ax.set_title("Stream tail cost")
    ax.legend(fontsize=7)


def _notebooks(ax: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        ax.text(0.5, 0.5, "no notebooks found", ha="center", va="center")
        ax.set_axis_off()
        return
    bars = ax.barh(
        [r["name"] for r in rows],
        [r["seconds"] for r in rows],
        color=["C2" if not r["error"] else "C3" for r in rows],
    )
    ax.bar_label(bars, [f"{r['seconds']:.1f} s" for r in rows])
    ax.set_xlabel("Run All on a fresh database (s)")
    ax.set_title("Notebooks")
    ax.tick_params(axis="y", labelsize=7)


def _learners(ax: Any, data: dict[str, Any]) -> None:
    if "skipped" in data:
        ax.text(0.5, 0.5, "learners: skipped\n(no PostgreSQL)", ha="center", va="center")
        ax.set_axis_off()
        return
    runs = data["runs"]
    xs = range(len(runs))
    ax.bar(xs, [r["all"]["p95"] for r in runs], color="C0", alpha=0.4, label="p95")
    ax.bar(xs, [r["all"]["p50"] for r in runs], color="C0", label="p50")
    ax.axhline(
        TARGET_LEARNER_P95_MS,
        color="red",
        ls="--",
        lw=1,
        label=f"target p95 {TARGET_LEARNER_P95_MS:g} ms",
    )
    names = [f"{r['processes']} processes\n(CPU {r['cpu_busy']:.0f} % busy)" for r in runs]
    ax.set_xticks(list(xs), names, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("hop ms, all paths, log")
    lost = sum(len(r["lost"]) for r in runs)
    ax.set_title(f"{data['learners']} learners on one Postgres ({lost} values lost)")
    ax.legend(fontsize=7)


def render(data: dict[str, Any], path: Path) -> None:
    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    panels = [
        (_latency, "latency"),
        (_sweep, "latency"),
        (_loop_lag, "loop_lag"),
        (_tail, "stream_tail"),
        (_notebooks, "notebooks"),
        (_learners, "learners"),
    ]
    for ax, (draw, key) in zip([a for row in axes for a in row], panels):
        why = not_run(data[key])
        if why is None:
            draw(ax, data[key])
        else:
            ax.text(0.5, 0.5, f"{key}: not measured", ha="center", va="center")
            ax.set_axis_off()
    fig.suptitle(
        f"wfcomm benchmarks ({data['when']}, {data['machine']['cores']} cores, "
        f"dbos {data['machine']['dbos']})"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
