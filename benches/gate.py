"""Performance gate: a short in-process benchmark that checks ratios, never times.

    python benches/gate.py [--allow-python] [--repeats N]

Workload: write_file calls with a 1 KB and a 160 KB string argument, fed in
4-character deltas, in the hermes (JSON) dialect and in every XML dialect
registered in hermes_parse/machine/bodies.py (``qwen3_coder``, ``glm``: the same
call as their templates write it, benches/workloads.py ``dialect_write_file``,
parsed with ``dialect=`` and the call's typed tools).  Times are this process's CPU time (process_time_ns), so
that another job on a shared machine does not count as ours; each
measurement is the best of several repeats (fresh
parsers, each output dropped as a server does, garbage collector off while
timing, the twins and sizes interleaved so that drift hits them alike).  Both
twins' results are checked against the expected call first.

Checks, on figures from this one run, for each dialect:

* Cython: us/delta at 160 KB  /  us/delta at 1 KB   <= 1.5   (cost per delta
  does not grow with the call)
* Cython vs pure Python at 160 KB: at least 5x faster for the JSON dialect, at
  least 4x for the XML dialects (MIN_SPEEDUP_BY_DIALECT says why)
* an XML dialect's Cython us/delta at 160 KB  /  the hermes dialect's  <= 1.3

(benches/test_bench_dialects.py holds an XML dialect to 1.5x the hermes
dialect's cost at every size from 1 KB to 1 MB.)

And the batch path (issue 15), on 50,000 short completions (40% with a call,
``completion_log``), the compiled twin, results checked first, best of 5
interleaved rounds:

* a ``parse()`` loop / ``parse_many``  >= 2.5  (issue 15 asks 3: measured
  3.0-3.6x on the shared machine, too close to gate at 3 without flakes;
  benches/batch.py measures the target)
* ``hermes_parse.arrow.parse`` / ``parse_many``  <= 1.5  (asked: 1.2; measured
  1.17-1.41x while parse_utf8 searched the tags with bytes.find, 0.96x since it
  finds them by memchr (machine/bytesearch.pxd); the shared machine moves a ratio
  by up to a quarter between runs, so the gate catches Arrow going slow and
  benches/batch.py measures the target)

And the command: ``hermes-parse extract`` of the same log, written as bare
``{"id", "completion"}`` records and as chat.completion responses (50,000 each),
in this process, its fast lane (hermes_parse/cli/lane.py) against the usual way
(the lane off), outputs compared first (``--seed``), best of 5 interleaved:

* the usual way / the lane  >= 1.25 for each (measured 1.5-1.7x; the lane
  off, or falling back on every line, gives 1.0)

A dialect whose ratio is out of bounds has its four cases measured again (up
to 20 s more, bests kept) before the check fails.  Exit 0 when every check
holds, 1 when one breaks or a result is wrong.  When the
Cython twin is not compiled: exit 1, or exit 0 with a message under
``--allow-python`` (the pure-Python figures are still printed).  Takes about
twenty seconds with three dialects; stops repeating at 45 s whatever
--repeats says.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from implementations import (  # noqa: E402
    IMPLEMENTATIONS, accumulate, describe_mismatch, drain, feed_all, ours_dialect, stale_build,
)
from conftest import _version as version, cpu_model  # noqa: E402  (benches/conftest.py: the suite's machine facts)
from workloads import DIALECTS, dialect_workload_name, get_deltas, get_workload  # noqa: E402

MAX_GROWTH = 1.5  # Cython us/delta at 160 KB over 1 KB
MIN_SPEEDUP = 5.0  # Cython over pure Python at 160 KB
# The XML bodies find the end of a string value's stretch with str.find, which
# is C in the pure twin too, so their twins are closer (on the shared 2-core
# Intel Xeon machine, 2026-12-03: qwen3_coder 5.5x, glm 5.05x, hermes 5.96x).
# They measured 4.06-4.48x until values.escape_into's loop index was typed (it
# was a Python int: an object and a generic str index per character); the
# speed-up did not catch that, the cost over hermes (1.41-1.44x then, 1.07-1.09x
# now) does: both are gated.  4x fails a compiled body that lost its types (a
# pure-Python build is about 1x).
MIN_SPEEDUP_BY_DIALECT = {"qwen3_coder": 4.0, "glm": 4.0}
MAX_XML_OVER_HERMES = 1.3  # an XML dialect's Cython us/delta over hermes's, 160 KB
SMALL, LARGE = "write_file_1k", "write_file_160k"
SPLITTER = "char4"
TIME_CAP = 45.0  # seconds: stop repeating past this
CONFIRM_S = 20.0  # seconds: a dialect's cases measured again before a ratio fails
MIN_BATCH_NS = 50_000_000  # a timed batch of whole streams lasts at least 50 ms
BATCH_RECORDS = 50_000
MIN_LOOP_OVER_BATCH = 2.5
MAX_ARROW_OVER_BATCH = 1.5
MIN_USUAL_OVER_LANE = 1.25  # extract: measured 1.5-1.7x (bare and chat records)


class Case:
    """One (twin, workload) pair: its deltas and its best time per stream."""

    def __init__(self, impl, workload_name: str):
        self.impl = impl
        self.workload = get_workload(workload_name)
        self.deltas = get_deltas(workload_name, SPLITTER)
        self.batch = 1
        self.best_ns = None

    @property
    def label(self) -> str:
        return f"{self.impl.name} {self.workload.name}"

    def check(self) -> str | None:
        got = accumulate(feed_all(self.impl.new(), self.deltas))
        if got != self.workload.expected:
            return f"{self.label} {SPLITTER}: wrong result: {describe_mismatch(got, self.workload.expected)}"
        return None

    def calibrate(self) -> None:
        started = time.process_time_ns()
        drain(self.impl.new(), self.deltas)
        one = max(time.process_time_ns() - started, 1)
        self.batch = max(1, -(-MIN_BATCH_NS // one))

    def measure(self) -> None:
        """Time ``batch`` whole streams (parsers made beforehand); keep the best."""
        streamers = [self.impl.new() for _ in range(self.batch)]
        deltas = self.deltas
        gc.collect()
        gc.disable()
        try:
            started = time.process_time_ns()
            for streamer in streamers:
                drain(streamer, deltas)
            elapsed = time.process_time_ns() - started
        finally:
            gc.enable()
        per_stream = elapsed / self.batch
        if self.best_ns is None or per_stream < self.best_ns:
            self.best_ns = per_stream

    @property
    def us_per_delta(self) -> float:
        return self.best_ns / 1000 / len(self.deltas)


def batch_failures() -> list:
    """The batch path's ratios (module docstring); the names of broken checks."""
    import hermes_parse
    import hermes_parse.arrow
    import pyarrow as pa

    from workloads import completion_log

    log = completion_log(BATCH_RECORDS, with_calls=0.40)
    texts = [w.text for w in log]
    column = pa.array(texts, pa.string())
    expected = [w.expected for w in log]

    def calls(names, arguments):
        return list(zip(names, arguments))

    loop = [hermes_parse.parse(text) for text in texts]
    batch = hermes_parse.parse_many(texts)
    table = hermes_parse.arrow.parse(column).to_pydict()
    offsets = batch.call_offsets
    for i, (content, want_calls) in enumerate(expected):
        got_loop = (loop[i].content, [(c.name, c.arguments) for c in loop[i].tool_calls])
        got_batch = (batch.content[i], calls(batch.call_name[offsets[i]:offsets[i + 1]],
                                             batch.call_arguments[offsets[i]:offsets[i + 1]]))
        got_arrow = (table["content"][i], [(c["name"], c["arguments"]) for c in table["tool_calls"][i]])
        if not got_loop == got_batch == got_arrow == (content, want_calls):
            print(f"gate: FAIL: batch path, record {i}: loop {got_loop!r}, parse_many {got_batch!r}, "
                  f"arrow {got_arrow!r}, expected {(content, want_calls)!r}")
            return ["batch path: wrong result"]
    del loop, batch, table

    runs = {
        "parse() loop": lambda: [hermes_parse.parse(text) for text in texts],
        "parse_many": lambda: hermes_parse.parse_many(texts),
        "arrow.parse": lambda: hermes_parse.arrow.parse(column),
    }
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(5):
        for name, run in runs.items():
            gc.collect()
            gc.disable()
            try:
                started = time.process_time_ns()
                run()
                best[name] = min(best[name], time.process_time_ns() - started)
            finally:
                gc.enable()
    for name, ns in best.items():
        print(f"  batch: {name:<40}{ns / 1000 / BATCH_RECORDS:>8.3f} us/record")
    loop_over = best["parse() loop"] / best["parse_many"]
    arrow_over = best["arrow.parse"] / best["parse_many"]
    checks = [
        ("batch: parse() loop / parse_many", loop_over, f">= {MIN_LOOP_OVER_BATCH}", loop_over >= MIN_LOOP_OVER_BATCH),
        ("batch: arrow.parse / parse_many", arrow_over, f"<= {MAX_ARROW_OVER_BATCH}", arrow_over <= MAX_ARROW_OVER_BATCH),
    ]
    failures = []
    for name, value, limit, ok in checks:
        print(f"  {name:<56}{value:>8.2f}  {limit:<8} {'ok' if ok else 'BROKEN'}")
        if not ok:
            failures.append(name)
    return failures


def command_failures() -> list:
    """extract's fast lane (hermes_parse/cli/lane.py) against the usual way
    (the lane off), in this process, on the batch log written as bare
    records and as chat.completion responses: the outputs equal (--seed),
    then the ratio of CPU times; the names of broken checks."""
    import contextlib
    import io
    import json
    import tempfile

    from hermes_parse.cli import lane, main as cli_main
    from workloads import completion_log

    sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # after benches/: its conftest is ours
    from test_cli_support import chat_record

    if not lane.COMPILED:
        print("  command: the lane is not compiled")
        return ["command: the lane is not compiled"]
    log = completion_log(BATCH_RECORDS, with_calls=0.40)

    def extract(path, lane_on, seed=()):
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        compiled = lane.COMPILED
        lane.COMPILED = lane_on
        try:
            with contextlib.redirect_stdout(out):
                started = time.process_time_ns()
                code = cli_main(["extract", "--no-progress", *seed, str(path)])
                elapsed = time.process_time_ns() - started
        finally:
            lane.COMPILED = compiled
        out.flush()
        return code, out.buffer.getvalue(), elapsed

    failures = []
    with tempfile.TemporaryDirectory() as directory:
        for shape in ("bare", "chat"):
            path = Path(directory) / f"{shape}.jsonl"
            with open(path, "w", encoding="utf-8") as file:
                for i, w in enumerate(log):
                    record = {"id": f"req-{i}", "completion": w.text} if shape == "bare" else chat_record(i, w.text)
                    file.write(json.dumps(record, ensure_ascii=False) + "\n")
            taken = extract(path, True, ("--seed", "1"))
            usual = extract(path, False, ("--seed", "1"))
            if taken[:2] != usual[:2] or taken[1].count(b"\n") != len(log):
                print(f"gate: FAIL: command ({shape}): the lane's output differs from the usual way's")
                failures.append(f"command ({shape}): wrong output")
                continue
            best = {True: float("inf"), False: float("inf")}
            for _ in range(5):
                for lane_on in (True, False):
                    gc.collect()
                    best[lane_on] = min(best[lane_on], extract(path, lane_on)[2])
            size = path.stat().st_size
            for lane_on, ns in best.items():
                name = "lane" if lane_on else "usual way"
                print(f"  command ({shape}): {name:<29}{ns / 1000 / len(log):>8.3f} us/record {size / ns * 1000:>7.1f} MB/s")
            ratio = best[False] / best[True]
            ok = ratio >= MIN_USUAL_OVER_LANE
            label = f"command ({shape}): usual way / lane"
            print(f"  {label:<56}{ratio:>8.2f}  {'>= ' + str(MIN_USUAL_OVER_LANE):<8} {'ok' if ok else 'BROKEN'}")
            if not ok:
                failures.append(label)
    return failures


def measure_rounds(cases: list, repeats: int, since: float, cap_s: float) -> int:
    """Measure ``cases`` interleaved, ``repeats`` rounds (bests kept), stopping
    after the round that ends ``cap_s`` seconds past ``since``; the rounds run."""
    rounds = 0
    for rounds in range(1, max(1, repeats) + 1):
        for case in cases:
            case.measure()
        if time.perf_counter() - since > cap_s:
            break
    return rounds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--allow-python", action="store_true",
                        help="exit 0 (with a message) when the Cython twin is not compiled")
    parser.add_argument("--repeats", type=int, default=11, help="repeats per measurement (best is kept)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    cython, python = IMPLEMENTATIONS["ours-cython"], IMPLEMENTATIONS["ours-python"]
    python_reason = python.unavailable()
    if python_reason:
        print(f"gate: FAIL: the pure-Python twin does not import: {python_reason}")
        return 1
    cython_reason = cython.unavailable()

    import hermes_parse

    print("hermes-parse performance gate")
    rows = [
        ("machine", f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} cpus"),
        ("platform", platform.platform()),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("hermes_parse", f"{hermes_parse.__version__} (BACKEND={hermes_parse.BACKEND})"),
        ("Cython", version("Cython")),
        ("ours-cython", cython_reason or cython.module.__file__),
        ("ours-python", python.module.__file__),
        ("workload", f"{SMALL} ({get_workload(SMALL).chars} chars) and {LARGE} "
                     f"({get_workload(LARGE).chars} chars), {SPLITTER} deltas"),
    ]
    stale = None if cython_reason else stale_build()
    if stale:
        rows.append(("WARNING", stale))
    for key, value in rows:
        print(f"  {key:<13} {value}")

    from hermes_parse.machine.bodies import BODIES

    twins = ["python"] if cython_reason else ["cython", "python"]
    # (dialect, 1 KB workload, 160 KB workload, {twin: implementation})
    dialects = [("hermes", SMALL, LARGE, {"cython": cython, "python": python})]
    for dialect in DIALECTS:
        if dialect == "hermes":
            continue
        if dialect not in BODIES:  # its body is not written yet: nothing to gate
            print(f"  {'dialect':<13} {dialect}: not registered in hermes_parse/machine/bodies.py, not gated")
            continue
        impls = {twin: ours_dialect(twin, dialect) for twin in twins}
        for impl in impls.values():
            reason = impl.unavailable()
            if reason:
                print(f"gate: FAIL: {impl.label}: {reason}")
                return 1
        dialects.append((dialect, dialect_workload_name(dialect, "1k"), dialect_workload_name(dialect, "160k"), impls))

    cases = {}
    for dialect, small, large, impls in dialects:
        for twin in twins:
            for size, workload in (("small", small), ("large", large)):
                cases[dialect, twin, size] = Case(impls[twin], workload)
    for case in cases.values():
        problem = case.check()
        if problem:
            print(f"gate: FAIL: {problem}")
            return 1
        case.calibrate()

    repeats = measure_rounds(list(cases.values()), args.repeats, started, TIME_CAP)

    print()
    print(f"  {'twin / workload':<42}{'deltas':>8}{'best us/delta':>15}{'best ms/stream':>16}")
    for case in cases.values():
        print(f"  {case.label:<42}{len(case.deltas):>8}{case.us_per_delta:>15.3f}{case.best_ns / 1e6:>16.3f}")
    print(f"  (best of {repeats} repeats)")
    print()

    def us(dialect, twin, size):
        return cases[dialect, twin, size].us_per_delta

    failures = []
    if cython_reason:
        for dialect, _, _, _ in dialects:
            py_growth = us(dialect, "python", "large") / us(dialect, "python", "small")
            print(f"  {dialect}: pure Python us/delta 160 KB / 1 KB: {py_growth:.2f} (not gated)")
        print(f"gate: the Cython twin is not compiled: {cython_reason}")
        if args.allow_python:
            print("gate: --allow-python: no ratio checked, exit 0")
            return 0
        print("gate: FAIL (pass --allow-python to accept a pure-Python build)")
        return 1

    def checks_of(dialect):
        growth = us(dialect, "cython", "large") / us(dialect, "cython", "small")
        speedup = us(dialect, "python", "large") / us(dialect, "cython", "large")
        min_speedup = MIN_SPEEDUP_BY_DIALECT.get(dialect, MIN_SPEEDUP)
        checks = [
            (f"{dialect}: Cython us/delta 160 KB / 1 KB", growth, f"<= {MAX_GROWTH}", growth <= MAX_GROWTH),
            (f"{dialect}: Cython speed-up over pure Python, 160 KB", speedup, f">= {min_speedup}",
             speedup >= min_speedup),
        ]
        if dialect != "hermes":
            over = us(dialect, "cython", "large") / us("hermes", "cython", "large")
            checks.append((f"{dialect}: Cython us/delta over hermes, 160 KB", over, f"<= {MAX_XML_OVER_HERMES}",
                           over <= MAX_XML_OVER_HERMES))
        return checks

    for dialect, *_ in dialects:
        checks = checks_of(dialect)
        if not all(ok for *_, ok in checks):
            # Confirm before failing: a burst of load from another job can spoil
            # every repeat of one case in a short run (seen once, in glm's
            # speed-up at 160 KB: it failed, and passed at 4.89 on a rerun).
            # A real regression stays out of bounds.
            print(f"  {dialect}: a ratio is out of bounds; measuring its four cases again ({CONFIRM_S:.0f} s at most)")
            own = [cases[dialect, twin, size] for size in ("small", "large") for twin in twins]
            measure_rounds(own, args.repeats, time.perf_counter(), CONFIRM_S)
            checks = checks_of(dialect)
        speedup_small = us(dialect, "python", "small") / us(dialect, "cython", "small")
        for name, value, limit, ok in checks:
            print(f"  {name:<56}{value:>8.2f}  {limit:<8} {'ok' if ok else 'BROKEN'}")
            if not ok:
                failures.append(name)
        print(f"  {dialect + ': Cython speed-up over pure Python, 1 KB':<56}{speedup_small:>8.2f}  (not gated)")
    failures += batch_failures()
    failures += command_failures()
    print(f"gate: {time.perf_counter() - started:.1f} s")
    if failures:
        print("gate: FAIL: " + "; ".join(failures))
        return 1
    print("gate: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
