"""The batch path: many completions at once, against a ``parse()`` loop and the floor.

    python benches/batch.py [--n 1000000] [--pure-n 100000] [--rounds 3] [--json PATH]
                            [--command-n 1000000] [--ray]

On demand, not part of the pytest suite (CI runs tests/ only, and a round of a
million records takes seconds).  The workload is ``completion_log(n)`` of
workloads.py, the parse() suite's ``log_10000`` scaled up, with the share of
issue 15: ``n`` short completions, 60% plain answers, the rest one or two calls (Qwen-style Hermes
blocks, most after a line of content), the same text byte for byte on every run.
Compared in one run, on the compiled twin (and the pure-Python twin on the first
``--pure-n`` records; ``--pure-n 0`` leaves it out):

* ``parse-loop``  ``[parse(text) for text in texts]`` (default options: a random
  id per call), the ``Message`` objects kept
* ``parse_many``  ``parse_many(texts)``: columns out (a ``Batch``)
* ``arrow``       ``hermes_parse.arrow.parse(array)`` of a pyarrow ``string``
  array of the same texts (made beforehand, not timed): an Arrow table out
* ``orjson-floor`` bare ``orjson.loads`` of the JSON bodies, cut out of the texts
  beforehand, as bytes (the floor of test_bench_parse.py: it returns no message)

Every implementation's output is checked before it is timed: the parse() loop
against the expected content and calls of every record (built from the
structure the texts were written from, not by a parser), ``parse_many`` against
the loop record for record (content, call names and arguments, every call
having an id, no problems), the Arrow table against ``parse_many``'s columns,
the floor against the expected calls.  Then the implementations are timed in
interleaved rounds (one round of each, ``--rounds`` times), CPU time of this
process (``process_time_ns``) with the garbage collector off, as in
benches/scaling.py; the best round counts.  MB/s is the UTF-8 size of the whole
completions over that time, for every row, so the rows compare directly.

Ratios printed (the targets of issue 15): parse() loop / parse_many (>= 3),
parse_many / floor (<= 4), arrow / parse_many (<= 1.20).

The command (``--command-n`` records of the same log, 0: not run): ``hermes-parse
extract`` and ``hermes-parse stats --json`` to /dev/null in a subprocess, on the texts written as bare
``{"id", "completion"}`` records and as vLLM ``chat.completion`` responses
(tests/test_cli_scale.py's shape), best of ``--rounds`` runs; MB/s is the size of
the JSON Lines file over the CPU time of the process (target: >= 100 MB/s each).
Its output is checked first: as many lines (or records counted) as records, as many calls
as the log has.

``--ray``: the scaling row, Ray Data in local mode: the texts in a Parquet file
(row groups of 65,536), ``read_parquet().map_batches(arrow.parse, batch_format=
"pyarrow")`` counted, with Ray started on 1 and then 2 CPUs (workers); wall time of
the job (Ray's start-up and a first warm-up job excluded), best of ``--rounds``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import re
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from implementations import IMPLEMENTATIONS, describe_mismatch  # noqa: E402
from workloads import REPO_ROOT, completion_log  # noqa: E402

DEFAULT_JSON = REPO_ROOT / ".benchmarks" / "batch.json"
TARGETS = {"loop_over_batch": 3.0, "batch_over_floor": 4.0, "arrow_over_batch": 1.20}


def _cpu_ns() -> int:
    return time.process_time_ns()


def _timed(run):
    gc.collect()
    gc.disable()
    try:
        started = _cpu_ns()
        out = run()
        elapsed = _cpu_ns() - started
    finally:
        gc.enable()
    return out, max(elapsed, 1)


# ---------------------------------------------------------------------------
# The implementations: (name, run, check); check(out) raises on a wrong result.


def _loop_results(messages):
    return [(m.content, [(c.name, c.arguments) for c in m.tool_calls]) for m in messages]


def _batch_results(batch):
    offsets = batch.call_offsets
    names, arguments = batch.call_name, batch.call_arguments
    return [(batch.content[i], list(zip(names[offsets[i]:offsets[i + 1]], arguments[offsets[i]:offsets[i + 1]])))
            for i in range(len(batch))]


def _ours(twin_name: str, suffix: str, log, texts):
    """The three ways through one twin of the machine."""
    impl = IMPLEMENTATIONS[twin_name]
    reason = impl.unavailable()
    if reason:
        print(f"batch: {twin_name} skipped: {reason}")
        return []
    module = impl.module
    parse, parse_many = module.parse, module.parse_many
    expected = [w.expected for w in log]
    expected_calls = sum(len(e[1]) for e in expected)
    reference: dict = {}

    def run_loop():
        return [parse(text) for text in texts]

    def check_loop(messages):
        got = _loop_results(messages)
        if len(got) != len(expected):
            raise AssertionError(f"parse-loop{suffix}: {len(got)} results for {len(expected)} texts")
        for i, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                raise AssertionError(f"parse-loop{suffix} record {i} ({texts[i][:200]!r}): {describe_mismatch(g, e)}")
            if messages[i].problems:
                raise AssertionError(f"parse-loop{suffix} record {i}: problems {messages[i].problems!r}")
        reference["records"] = got

    def run_many():
        return parse_many(texts)

    def check_many(batch):
        want = reference["records"]  # the loop is checked first
        if len(batch) != len(want) or not all(batch.valid):
            raise AssertionError(f"parse_many{suffix}: {len(batch)} records for {len(want)} texts (or a null one)")
        got = _batch_results(batch)
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                raise AssertionError(f"parse_many{suffix} record {i} differs from parse(): {describe_mismatch(g, w)}")
        if len(batch.call_name) != expected_calls or batch.call_offsets[-1] != expected_calls:
            raise AssertionError(f"parse_many{suffix}: {len(batch.call_name)} calls, expected {expected_calls}")
        if not all(batch.call_id) or len(batch.call_id) != expected_calls:
            raise AssertionError(f"parse_many{suffix}: a call without an id")
        if batch.problem_kind or any(batch.problem_offsets):
            raise AssertionError(f"parse_many{suffix}: problems {batch.problem_kind[:5]!r}")
        reference["batch"] = batch

    runs = [(f"parse-loop{suffix}", run_loop, check_loop), (f"parse_many{suffix}", run_many, check_many)]
    try:
        import pyarrow as pa

        from hermes_parse import arrow
    except ImportError as exc:
        print(f"batch: arrow{suffix} skipped: {exc}")
        return runs
    array = pa.array(texts, pa.string())
    options = {} if twin_name == "ours-cython" else {"_machine": module}

    def run_arrow():
        return arrow.parse(array, **options)

    def check_arrow(table):
        batch = reference["batch"]
        if table.num_rows != len(batch):
            raise AssertionError(f"arrow{suffix}: {table.num_rows} rows for {len(batch)} texts")
        if table.column("content").to_pylist() != batch.content:
            raise AssertionError(f"arrow{suffix}: content differs from parse_many's")
        calls = table.column("tool_calls").combine_chunks()
        if calls.null_count or calls.offsets.to_pylist() != batch.call_offsets:
            raise AssertionError(f"arrow{suffix}: tool_calls offsets differ from parse_many's")
        values = calls.flatten()
        for field, column in (("name", batch.call_name), ("arguments", batch.call_arguments), ("id", None)):
            got = values.field(field).to_pylist()
            if column is None:
                if len(got) != expected_calls or not all(got):
                    raise AssertionError(f"arrow{suffix}: a call without an id")
            elif got != column:
                raise AssertionError(f"arrow{suffix}: tool_calls.{field} differs from parse_many's")
        if table.column("problems").combine_chunks().flatten().to_pylist():
            raise AssertionError(f"arrow{suffix}: problems")

    runs.append((f"arrow{suffix}", run_arrow, check_arrow))
    return runs


_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


def _floor(log, texts):
    try:
        import orjson
    except ImportError as exc:
        print(f"batch: orjson-floor skipped: {exc}")
        return []
    bodies = [body.strip().encode("utf-8") for text in texts for body in _BLOCK.findall(text)]
    expected = [call for w in log for call in w.expected[1]]

    def run():
        loads = orjson.loads
        return [loads(body) for body in bodies]

    def check(out):
        got = [(obj["name"], json.dumps(obj["arguments"], ensure_ascii=False)) for obj in out]
        if got != expected:
            raise AssertionError("orjson-floor: decoded calls differ from the expected ones")

    return [("orjson-floor", run, check)]


# ---------------------------------------------------------------------------
# The command, in a subprocess.

CPU_OF_CHILD = """\
import resource, sys
from hermes_parse.cli import main
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
sys.stderr.write("CPU %.4f\\n" % (usage.ru_utime + usage.ru_stime))
sys.exit(code)
"""


def _write_logs(log, directory: Path) -> dict:
    """The texts as bare records and as chat.completion responses (JSON Lines files)."""
    sys.path.append(str(REPO_ROOT / "tests"))  # after benches/: its conftest is benches'
    from test_cli_support import chat_record

    paths = {"bare": directory / "bare.jsonl", "chat": directory / "chat.jsonl"}
    with open(paths["bare"], "w", encoding="utf-8") as bare, open(paths["chat"], "w", encoding="utf-8") as chat:
        for i, w in enumerate(log):
            bare.write(json.dumps({"id": f"req-{i}", "completion": w.text}, ensure_ascii=False) + "\n")
            chat.write(json.dumps(chat_record(i, w.text), ensure_ascii=False) + "\n")
    return paths


def measure_command(log, rounds: int) -> list:
    import subprocess
    import tempfile

    calls = sum(len(w.expected[1]) for w in log)
    with_calls = sum(bool(w.expected[1]) for w in log)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        paths = _write_logs(log, Path(directory))
        for (kind, path), command in [(item, command) for command in ("extract", "stats") for item in paths.items()]:
            size = path.stat().st_size
            argv = [sys.executable, "-c", CPU_OF_CHILD, command, *(["--json"] if command == "stats" else []), str(path)]
            out = subprocess.run(argv, capture_output=True, check=True)
            if command == "extract":
                lines = out.stdout.splitlines()
                got = (len(lines), sum(line.count(b'"type":"function"') for line in lines))
                del lines
            else:
                counts = json.loads(out.stdout)
                got = (counts["records"], counts["tool_calls"])
            if got != (len(log), calls):
                raise AssertionError(f"command {command} ({kind}): {got[0]} records, {got[1]} calls; expected {len(log)}, {calls}")
            del out
            best = float("inf")
            for r in range(rounds):
                proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
                cpu = float(proc.stderr.decode().rsplit("CPU ", 1)[1])
                best = min(best, cpu)
            print(f"batch: command {command} ({kind}): {size / 1e6:.1f} MB, best {best:.2f} s CPU = {size / 1e6 / best:.1f} MB/s",
                  flush=True)
            rows.append(dict(group="command", impl=f"{command} ({kind})", records=len(log), calls=calls,
                             records_with_calls=with_calls, file_bytes=size, best_s=best,
                             mb_per_s=size / best / 1e6, us_per_record=best * 1e6 / len(log), rounds=rounds + 1))
    return rows


# ---------------------------------------------------------------------------
# Ray Data, local mode: 1 and 2 workers.

RAY_JOB = """\
import sys, time
import ray, pyarrow as pa
import hermes_parse.arrow
path, cpus, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)

def parse_completions(batch):
    parsed = hermes_parse.arrow.parse(batch, "completion")
    return pa.Table.from_arrays(batch.columns + parsed.columns, batch.column_names + parsed.column_names)

best = float("inf")
for round in range(rounds + 1):  # the first warms Ray's workers up, untimed
    started = time.perf_counter()
    rows = ray.data.read_parquet(path).map_batches(parse_completions, batch_format="pyarrow").count()
    if round:
        best = min(best, time.perf_counter() - started)
ray.shutdown()
print("RAY", rows, best)
"""


def measure_ray(log, rounds: int) -> list:
    import subprocess
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "completions.parquet"
        table = pa.table({"id": list(range(len(log))), "completion": pa.array([w.text for w in log], pa.string())})
        pq.write_table(table, path, row_group_size=65536)
        size = sum(len(w.text.encode("utf-8")) for w in log)
        for cpus in (1, 2):
            out = subprocess.run([sys.executable, "-c", RAY_JOB, str(path), str(cpus), str(rounds)],
                                 capture_output=True, check=True, text=True)
            count, best = out.stdout.rsplit("RAY ", 1)[1].split()
            if int(count) != len(log):
                raise AssertionError(f"ray: {count} rows for {len(log)}")
            best_s = float(best)
            print(f"batch: ray ({cpus} worker{'s' * (cpus > 1)}): {best_s:.2f} s wall, {size / 1e6 / best_s:.1f} MB/s",
                  flush=True)
            rows.append(dict(group="ray", impl=f"ray-data ({cpus} worker{'s' * (cpus > 1)})", records=len(log),
                             utf8_bytes=size, best_s=best_s, mb_per_s=size / best_s / 1e6,
                             us_per_record=best_s * 1e6 / len(log), rounds=rounds, timer="wall"))
    return rows


def measure(group: str, log, rounds: int) -> list:
    texts = [w.text for w in log]
    size = sum(len(t.encode("utf-8")) for t in texts)
    calls = sum(len(w.expected[1]) for w in log)
    twin = "ours-cython" if group == "cython" else "ours-python"
    suffix = "" if group == "cython" else " (pure)"
    runs = _ours(twin, suffix, log, texts) + (_floor(log, texts) if group == "cython" else [])
    best = {}
    each = {name: [] for name, _, _ in runs}  # every timed round's time, in order
    for name, run, check in runs:  # untimed probe (also timed), checked
        out, elapsed = _timed(run)
        check(out)
        del out
        best[name] = elapsed
        print(f"batch: {name}: checked, {len(texts):,} records, {calls:,} calls; probe {elapsed / 1e9:.2f} s CPU",
              flush=True)
    for r in range(rounds):  # interleaved: one round of each, then again
        for name, run, _check in runs:
            out, elapsed = _timed(run)
            del out
            best[name] = min(best[name], elapsed)
            each[name].append(elapsed / 1e9)
        print(f"batch: {group} after round {r + 1}/{rounds}, best so far: "
              + ", ".join(f"{n} {best[n] / 1e9:.2f} s" for n, _, _ in runs), flush=True)
    return [dict(group=group, impl=name, records=len(texts), calls=calls, utf8_bytes=size,
                 best_s=best[name] / 1e9, mb_per_s=size / (best[name] / 1e9) / 1e6,
                 us_per_record=best[name] / 1e3 / len(texts), rounds=rounds + 1, rounds_s=each[name])
            for name, _, _ in runs]


def ratios(rows: list) -> dict:
    out = {}
    for group in dict.fromkeys(r["group"] for r in rows):
        by = {r["impl"].replace(" (pure)", ""): r["best_s"] for r in rows if r["group"] == group}
        if "parse_many" not in by:
            continue
        if "parse-loop" in by:
            out[f"{group}: loop_over_batch"] = by["parse-loop"] / by["parse_many"]
        if "arrow" in by:
            out[f"{group}: arrow_over_batch"] = by["arrow"] / by["parse_many"]
            # The same ratio round by round (the two ran one after the other):
            # a phase of the shared machine slows both, where the best rounds
            # of each may come from different phases.
            each = {r["impl"].replace(" (pure)", ""): r.get("rounds_s") for r in rows if r["group"] == group}
            if each.get("arrow") and each.get("parse_many"):
                paired = sorted(a / b for a, b in zip(each["arrow"], each["parse_many"]))
                out[f"{group}: arrow_over_batch, paired by round"] = paired
    cython = {r["impl"]: r["best_s"] for r in rows if r["group"] == "cython"}
    if "orjson-floor" in cython and "parse_many" in cython:
        out["cython: batch_over_floor"] = cython["parse_many"] / cython["orjson-floor"]
    return out


def format_table(rows: list, ratio: dict) -> str:
    lines = ["| twin | implementation | records | MB | MB/s | µs per record | × parse_many |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    extra = [r for r in rows if r["group"] in ("command", "ray")]
    rows = [r for r in rows if r["group"] not in ("command", "ray")]
    for r in rows:
        base = next(x["best_s"] for x in rows if x["group"] == r["group"] and x["impl"].startswith("parse_many"))
        twin = "compiled" if r["group"] == "cython" else "pure Python"
        if r["impl"] == "orjson-floor":
            twin = "—"
        lines.append(f"| {twin} | `{r['impl'].replace(' (pure)', '')}` | {r['records']:,} | {r['utf8_bytes'] / 1e6:,.1f} "
                     f"| {r['mb_per_s']:,.1f} | {r['us_per_record']:.3f} | {r['best_s'] / base:.2f}× |")
    lines.append("")
    for key, value in ratio.items():
        if isinstance(value, list):  # the paired rounds: their median, and the range
            lines.append(f"- {key}: median {statistics.median(value):.2f}× ({value[0]:.2f}× to {value[-1]:.2f}×, "
                         f"{len(value)} rounds)")
            continue
        target = TARGETS[key.split(": ")[1]]
        if key.endswith("batch_over_floor") or key.endswith("arrow_over_batch"):
            met = value <= target
            sign = "≤"
        else:
            met = value >= target
            sign = "≥"
        lines.append(f"- {key}: {value:.2f}× (target {sign} {target}×: {'met' if met else 'NOT met'})")
    if extra:
        lines += ["", "| run | records | MB | MB/s | µs per record | timer |", "| --- | ---: | ---: | ---: | ---: | --- |"]
        for r in extra:
            size = r.get("file_bytes", r.get("utf8_bytes"))
            timer = "wall" if r["group"] == "ray" else "CPU"
            lines.append(f"| `{r['impl']}` | {r['records']:,} | {size / 1e6:,.1f} | {r['mb_per_s']:,.1f} "
                         f"| {r['us_per_record']:.3f} | {timer} |")
        for r in extra:
            if r["group"] == "command":
                met = r["mb_per_s"] >= 100
                lines.append(f"- command {r['impl']}: {r['mb_per_s']:.1f} MB/s of CPU (target ≥ 100: {'met' if met else 'NOT met'})")
    return "\n".join(lines)


def machine_info() -> dict:
    from scaling import machine_info as info

    out = info()
    for dist in ("pyarrow", "ray"):
        from conftest import _version

        out[dist] = _version(dist)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="records (default 1,000,000)")
    parser.add_argument("--pure-n", type=int, default=100_000,
                        help="records for the pure-Python twin (default 100,000; 0: not run)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after the checked probe (default 3)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write (default {DEFAULT_JSON})")
    parser.add_argument("--command-n", type=int, default=1_000_000,
                        help="records for the command (default 1,000,000; 0: not run)")
    parser.add_argument("--ray", action="store_true", help="also the Ray Data scaling row (1 and 2 workers)")
    args = parser.parse_args(argv)
    started_wall, started_cpu = time.perf_counter(), _cpu_ns()
    log = completion_log(args.n, with_calls=0.40)  # issue 15: 40% with a call
    print(f"batch: built {len(log):,} completions in {time.perf_counter() - started_wall:.1f} s", flush=True)
    rows = measure("cython", log, args.rounds)
    if args.pure_n:
        rows += measure("python", log[:args.pure_n], args.rounds)
    if args.command_n:
        rows += measure_command(log[:args.command_n], args.rounds)
    if args.ray:
        rows += measure_ray(log, args.rounds)
    ratio = ratios(rows)
    result = {
        "format": "hermes-parse-batch/1",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "timer": "process_time_ns, best round (interleaved), gc off",
        "machine": machine_info(),
        "rows": rows,
        "ratios": ratio,
        "seconds_wall": round(time.perf_counter() - started_wall, 1),
        "seconds_cpu": round((_cpu_ns() - started_cpu) / 1e9, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print()
    for key, value in result["machine"].items():
        print(f"{key}: {value}")
    print()
    print(format_table(rows, ratio))
    print(f"\nbatch: {result['seconds_wall']} s wall, {result['seconds_cpu']} s CPU; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
