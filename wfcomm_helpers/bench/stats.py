"""Percentiles and the small records the benchmarks pass around as JSON."""

from __future__ import annotations

import math
from typing import Iterable


def percentile(samples: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no samples."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(samples_s: Iterable[float]) -> dict[str, float]:
    """p50 / p95 / p99 / max in milliseconds of samples given in seconds."""
    values = [s * 1000 for s in samples_s]
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values, default=math.nan),
    }


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan
