"""Scaling curves: cost per delta against output length, every implementation, one run.

    python benches/scaling.py [--json PATH] [--sizes 1k,4k,16k,64k,160k,1m]
                              [--splitter char4] [--impl NAME ...] [--budget S] [--cap S]

Workload: one ``write_file`` call (benches/workloads.py) whose string argument is
1 KB, 4 KB, 16 KB, 64 KB, 160 KB and 1 MB of source code, cut into 4-character
deltas.  Implementations: every one in the registry (implementations.py) that is
available in this Python; the others are listed with the reason.  Run it with
vLLM's python (``"$(bash .ci/vllm-env.sh)" benches/scaling.py``) to get the vLLM
curves too, once the registry has them.

How a point is measured (as benches/gate.py does): each stream gets a fresh
streamer, every output is dropped as a server does (``implementations.drain``),
the garbage collector is off while timing, and the time is this process's CPU
time (``process_time_ns``), so another job on a shared machine does not count
as ours.  Fast streams are timed in batches of at least 50 ms.  The points are
measured in interleaved repeats (every point once, then again...), so that drift
hits them alike; a point keeps its best repeat.  Figures are meant as ratios
within one run.

Correctness: before timing, every point streams its deltas through a fresh
streamer and the accumulated result must equal the expected call, else the run
stops with an error (and the deltas are saved under benches/.cache/failures/).

Implementations whose cost per delta grows with the output (``quadratic``: the
re-parse baseline, vLLM's built-in parser) are capped: a size is skipped when
the stream is estimated, from the previous size and the square of the length
ratio, to take more than ``--cap`` seconds (default 120).  A stream slower than
``--budget`` (default 2 s, HERMES_BENCH_BUDGET) is measured once, by its
correctness run (outputs kept, garbage collector off).

Writes a JSON file (default .benchmarks/scaling.json) that benches/report.py
turns into tables and the plot, and prints a table.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from implementations import (  # noqa: E402
    IMPLEMENTATIONS,
    accumulate,
    describe_mismatch,
    drain,
    feed_all,
    save_failure,
)
from workloads import REPO_ROOT, SPLITTERS, Workload, write_file  # noqa: E402

SIZES = {
    "1k": 1024,
    "4k": 4 * 1024,
    "16k": 16 * 1024,
    "64k": 64 * 1024,
    "160k": 160 * 1024,
    "1m": 1024 * 1024,
}
DEFAULT_JSON = REPO_ROOT / ".benchmarks" / "scaling.json"
MIN_BATCH_NS = 50_000_000  # a timed batch of whole streams lasts at least 50 ms
MIN_REPEATS, MAX_REPEATS = 3, 25
FORMAT = "hermes-parse-scaling/1"


@dataclass
class Point:
    impl: object
    size: str
    workload: Workload
    deltas: Sequence[str]
    status: str = "pending"  # ok | skipped | unavailable
    reason: str = ""
    batch: int = 1
    repeats_wanted: int = 0
    repeats: int = 0
    best_ns: Optional[float] = None  # CPU time of one stream, best repeat
    timed_with: str = "drain"  # or "check" (the single, correctness run)
    first_ns: Optional[float] = None  # the correctness run's CPU time

    @property
    def us_per_delta(self) -> Optional[float]:
        return None if self.best_ns is None else self.best_ns / 1000 / len(self.deltas)

    def row(self) -> dict:
        w = self.workload
        return {
            "impl": self.impl.name,
            "size": self.size,
            "argument_chars": SIZES[self.size],
            "chars": w.chars,
            "utf8_bytes": w.utf8_bytes,
            "deltas": len(self.deltas),
            "status": self.status,
            "reason": self.reason or None,
            "us_per_delta": None if self.best_ns is None else round(self.us_per_delta, 4),
            "ms_per_stream": None if self.best_ns is None else round(self.best_ns / 1e6, 4),
            "repeats": self.repeats,
            "batch": self.batch,
            "timed_with": self.timed_with if self.best_ns is not None else None,
            "quadratic": bool(getattr(self.impl, "quadratic", False)),
        }


def _cpu_ns() -> int:
    return time.process_time_ns()


def check(point: Point) -> float:
    """Stream the deltas through a fresh streamer (garbage collector off, outputs
    kept) and verify the accumulated result.  Return the CPU ns it took."""
    streamer = point.impl.new()
    gc.collect()
    gc.disable()
    try:
        started = _cpu_ns()
        out = feed_all(streamer, point.deltas)
        elapsed = _cpu_ns() - started
    finally:
        gc.enable()
    got = accumulate(out)
    expected = point.workload.expected
    if got != expected:
        label = f"scaling-{point.workload.name}-{point.impl.name}"
        path = save_failure(label, point.deltas, got, expected)
        raise AssertionError(f"{label}: wrong result ({describe_mismatch(got, expected)}); "
                             f"input deltas saved to {path}")
    return float(max(elapsed, 1))


def measure(point: Point) -> None:
    """Time ``batch`` whole streams (streamers made beforehand); keep the best."""
    streamers = [point.impl.new() for _ in range(point.batch)]
    deltas = point.deltas
    gc.collect()
    gc.disable()
    try:
        started = _cpu_ns()
        for streamer in streamers:
            drain(streamer, deltas)
        elapsed = _cpu_ns() - started
    finally:
        gc.enable()
    per_stream = elapsed / point.batch
    point.repeats += 1
    if point.best_ns is None or per_stream < point.best_ns:
        point.best_ns = per_stream


def _estimate(prev: Point, point: Point) -> float:
    """Seconds one stream of ``point`` should take, from the previous size."""
    ratio = point.workload.chars / prev.workload.chars
    exponent = 2 if getattr(point.impl, "quadratic", False) else 1
    return prev.first_ns / 1e9 * ratio ** exponent


def run_scaling(
    impl_names: Optional[Sequence[str]] = None,
    sizes: Optional[Sequence[str]] = None,
    splitter: str = "char4",
    budget: float = float(os.environ.get("HERMES_BENCH_BUDGET", "2")),
    cap: float = 120.0,
    log=print,
) -> dict:
    """Measure every (implementation, size) point; return the JSON-ready result."""
    started_wall = time.perf_counter()
    started_cpu = _cpu_ns()
    impl_names = list(impl_names or IMPLEMENTATIONS)
    sizes = list(sizes or SIZES)
    for size in sizes:
        if size not in SIZES:
            raise SystemExit(f"unknown size {size!r}; known: {', '.join(SIZES)}")
    sizes.sort(key=SIZES.__getitem__)
    split = SPLITTERS[splitter]
    workloads = {size: write_file(SIZES[size], size) for size in sizes}
    deltas = {}
    for size, workload in workloads.items():
        pieces = split(workload.text)
        if "".join(pieces) != workload.text:
            raise RuntimeError(f"{splitter} deltas of {workload.name} do not join to the text")
        deltas[size] = tuple(pieces)

    points: List[Point] = []
    for name in impl_names:
        impl = IMPLEMENTATIONS[name]
        reason = impl.unavailable()
        previous: Optional[Point] = None
        for size in sizes:
            point = Point(impl, size, workloads[size], deltas[size])
            points.append(point)
            if reason:
                point.status, point.reason = "unavailable", reason
                continue
            if previous is None or previous.first_ns is None:
                pass
            else:
                estimate = _estimate(previous, point)
                if estimate > cap:
                    point.status = "skipped"
                    point.reason = (f"estimated {estimate:,.0f} s per stream (cap {cap:,.0f} s; "
                                    f"{'quadratic' if impl.quadratic else 'linear'} from {previous.size})")
                    log(f"  {name:<13} {size:>5}: skipped, {point.reason}")
                    continue
            first = check(point)
            point.first_ns = first
            point.status = "ok"
            if first >= budget * 1e9:
                # A slow stream: its correctness run is its one measurement.
                point.best_ns, point.repeats, point.timed_with = first, 1, "check"
            else:
                point.batch = max(1, math.ceil(MIN_BATCH_NS / first))
                batch_s = first * point.batch / 1e9
                point.repeats_wanted = max(MIN_REPEATS, min(MAX_REPEATS, math.ceil(budget / batch_s)))
            log(f"  {name:<13} {size:>5}: checked, {first / 1e6:,.1f} ms per stream "
                f"({len(point.deltas):,} deltas)")
            previous = point
        if reason:
            log(f"  {name:<13}: unavailable ({reason})")

    todo = [p for p in points if p.repeats_wanted]
    for repeat in range(max((p.repeats_wanted for p in todo), default=0)):
        for point in todo:
            if repeat < point.repeats_wanted:
                measure(point)

    rows = [p.row() for p in points]
    result = {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "workload": "write_file call, string argument of source code",
        "splitter": splitter,
        "timer": "process_time_ns, best repeat, gc off, outputs dropped",
        "budget_seconds": budget,
        "cap_seconds": cap,
        "machine": machine_info(),
        "rows": rows,
        "seconds_wall": round(time.perf_counter() - started_wall, 1),
        "seconds_cpu": round((_cpu_ns() - started_cpu) / 1e9, 1),
    }
    return result


def machine_info() -> dict:
    from conftest import versions

    info = versions()
    try:
        import subprocess

        info["commit"] = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except Exception:  # noqa: BLE001 - not a git checkout
        pass
    return info


def format_table(result: dict) -> str:
    rows = result["rows"]
    impls = list(dict.fromkeys(r["impl"] for r in rows))
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    by = {(r["impl"], r["size"]): r for r in rows}
    shown = [i for i in impls if any(by[i, s]["us_per_delta"] is not None for s in sizes)]
    lines = [f"cost per delta (us, {result['splitter']} deltas, CPU time, best repeat; smaller is better)"]
    lines.append(f"{'size':>6}{'chars':>10}{'deltas':>9}" + "".join(f"{i:>16}" for i in shown))
    for size in sizes:
        first = by[impls[0], size]
        cells = []
        for impl in shown:
            r = by[impl, size]
            cells.append(f"{r['us_per_delta']:>16.3f}" if r["us_per_delta"] is not None else f"{'-':>16}")
        lines.append(f"{size:>6}{first['chars']:>10,}{first['deltas']:>9,}" + "".join(cells))
    for impl in impls:
        reasons = {by[impl, s]["reason"] for s in sizes if by[impl, s]["reason"]}
        for reason in sorted(reasons):
            skipped = [s for s in sizes if by[impl, s]["reason"] == reason]
            lines.append(f"  {impl} {','.join(skipped)}: {reason}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write (default {DEFAULT_JSON})")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated, from " + ",".join(SIZES))
    parser.add_argument("--splitter", default="char4", choices=list(SPLITTERS))
    parser.add_argument("--impl", action="append", choices=list(IMPLEMENTATIONS),
                        help="only this implementation (repeatable); default: all in the registry")
    parser.add_argument("--budget", type=float, default=float(os.environ.get("HERMES_BENCH_BUDGET", "2")),
                        help="seconds of timed repeats per point (default 2)")
    parser.add_argument("--cap", type=float, default=120.0,
                        help="skip a point estimated to take longer than this per stream (default 120 s)")
    args = parser.parse_args(argv)
    print(f"scaling: {args.splitter} deltas, sizes {args.sizes}")
    result = run_scaling(args.impl, args.sizes.split(","), args.splitter, args.budget, args.cap)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print()
    print(format_table(result))
    print(f"scaling: {result['seconds_wall']} s wall, {result['seconds_cpu']} s CPU; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
