"""Scaling curves inside the full suite: benches/scaling.py, run once.

    python -m pytest benches/test_bench_scaling.py -s

One test (marked ``scaling``; about five minutes, most of it the re-parse
baseline at 16 KB and 64 KB) that runs every (implementation, size) point of
benches/scaling.py in one interleaved run, prints the table at the end of the
session and puts the result into ``--benchmark-json`` under
``hermes_bench.scaling`` (benches/report.py draws the plot from it).  Every
point's result was checked by scaling.py before it was timed.

Asserted, from this run's figures: our compiled twin's cost per delta at the
largest size is at most 1.5 times its cost at the smallest (the gate's check,
out to 1 MB).
"""

from __future__ import annotations

import pytest

from implementations import IMPLEMENTATIONS
from scaling import run_scaling

MAX_GROWTH = 1.5


@pytest.mark.scaling
def test_scaling_curves(bench_extra):
    result = run_scaling(log=lambda line: print(line, flush=True))
    bench_extra["scaling"] = result
    rows = [r for r in result["rows"] if r["impl"] == "ours-cython" and r["us_per_delta"] is not None]
    if not rows:
        pytest.skip(IMPLEMENTATIONS["ours-cython"].unavailable() or "ours-cython was not measured")
    first, last = rows[0], rows[-1]
    growth = last["us_per_delta"] / first["us_per_delta"]
    assert growth <= MAX_GROWTH, (
        f"ours-cython: {last['us_per_delta']:.3f} us/delta at {last['size']} vs "
        f"{first['us_per_delta']:.3f} at {first['size']} ({growth:.2f}x > {MAX_GROWTH})")
