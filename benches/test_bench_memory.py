"""Peak memory of streaming a 100 MB string argument: the parser must not hold the output.

    python -m pytest benches/test_bench_memory.py -s

(about two and a half minutes: part of the full suite, marked ``memory``, so
``-m "not memory"`` leaves it out; CI's gate, benches/gate.py, never runs it).
HERMES_BENCH_MEMORY_MB sets the size (default 100).  ``python
benches/test_bench_memory.py > memory.json`` runs both twins without pytest and
prints the figures as one JSON document for benches/report.py.

Each implementation runs in a fresh subprocess (this file run as a script), so
that one's high-water mark is not the other's.  The child builds one
``write_file`` call whose ``content`` argument is 100 MB (UTF-8) of source code
(a 64 KB piece of benches/workloads.py's code, repeated; built with one
``str.join``, so building it does not leave a high-water mark above the text
itself), and the expected arguments, then measures, in this order:

1. ``stream`` (RSS): the text fed to a fresh ``StreamParser`` in 4-character
   deltas (25 million of them), each output checked against the expected
   arguments at its offset (``str.startswith``, no copy) and dropped as a server
   does.  Figure: the resident set's peak during the stream minus its size just
   before (Linux's VmHWM, reset before the stream through /proc/self/clear_refs;
   where that is refused, ``ru_maxrss``, an upper bound).
2. ``stream`` (traced): the same with ``tracemalloc`` on, in 64-character deltas
   (tracemalloc costs a lot per allocation: 4-character deltas under it take
   five minutes).  Figure: tracemalloc's peak, i.e. the most bytes allocated at
   once by the parser, the deltas and the outputs; the text itself was allocated
   before tracing began and is not counted.
3. ``parse()`` (RSS, reported, loosely bounded): ``parse(text)`` of the whole
   text, measured as in 1.  Its result holds the arguments, so its figure is at
   least one output.

Asserted for streaming, for each twin: the result is right, and both figures are
under 5% of the output's size (at least 4 MiB allowed): far from "twice the
output" (the parser holds the current call's name and small state, never the
arguments it has streamed).  For ``parse()``: at most 2.5 times the result's
size in memory.  The figures go to the terminal summary and into
``--benchmark-json`` (key ``hermes_bench.memory``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

MB = int(os.environ.get("HERMES_BENCH_MEMORY_MB", "100"))
STREAM_STEP = 4
TRACED_STEP = 64
STREAM_BOUND_FRACTION = 0.05
STREAM_BOUND_FLOOR = 4 * 1024 * 1024
PARSE_BOUND = 2.5  # parse() peak over its result's size in memory
IMPLS = ["ours-cython", "ours-python"]


# ---------------------------------------------------------------------------
# The child: one implementation, one process.


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise KeyError(field)


class PeakRSS:
    """How far the resident set rose above its size at ``start()``, at its peak.

    Linux lets a process reset its high-water mark (``echo 5 >
    /proc/self/clear_refs``), then VmHWM is exact.  Where that is refused, it
    falls back to ``ru_maxrss``: an upper bound (an earlier, higher mark hides
    a lower peak), flagged ``exact: false``."""

    def start(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self.exact = True
        except OSError:
            self.exact = False
        self.base = _status_bytes("VmRSS")

    def extra(self) -> int:
        if self.exact:
            peak = _status_bytes("VmHWM")
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        return max(0, peak - self.base)


def _build(utf8_bytes: int):
    """(text, expected arguments): a write_file call with a string argument of
    at least ``utf8_bytes`` bytes, each built by one join."""
    from workloads import code_text

    piece = json.dumps(code_text(64 * 1024), ensure_ascii=False)[1:-1]  # escaped for a JSON string
    count = -(-utf8_bytes // len(piece.encode("utf-8")))
    args_head = '{"path": "src/inventory/huge.py", "content": "'
    text = "".join(
        ["I'll write the generated module now.\n\n<tool_call>\n"
         '{"name": "write_file", "arguments": ' + args_head]
        + [piece] * count
        + ['"}}\n</tool_call>']
    )
    arguments = "".join([args_head] + [piece] * count + ['"}'])
    return text, arguments


def _stream(module, text: str, arguments: str, step: int) -> dict:
    parser = module.StreamParser()
    feed = parser.feed
    at = 0
    ok = True
    names = []
    content = []
    started = time.process_time()
    for i in range(0, len(text), step):
        for delta in feed(text[i:i + step]):
            if "content" in delta:
                content.append(delta["content"])
            for call in delta.get("tool_calls") or ():
                function = call.get("function") or {}
                if "name" in function:
                    names.append(function["name"])
                fragment = function.get("arguments")
                if fragment:
                    ok = ok and arguments.startswith(fragment, at)
                    at += len(fragment)
    for delta in parser.close():
        for call in delta.get("tool_calls") or ():
            fragment = (call.get("function") or {}).get("arguments")
            if fragment:
                ok = ok and arguments.startswith(fragment, at)
                at += len(fragment)
    seconds = time.process_time() - started
    ok = ok and at == len(arguments) and names == ["write_file"] and \
        "".join(content) == "I'll write the generated module now.\n\n"
    return {"ok": ok, "seconds_cpu": round(seconds, 2), "deltas": -(-len(text) // step)}


def child(impl_name: str, utf8_bytes: int) -> dict:
    import tracemalloc

    from implementations import IMPLEMENTATIONS

    module = IMPLEMENTATIONS[impl_name].module
    started = time.perf_counter()
    text, arguments = _build(utf8_bytes)
    out = {
        "impl": impl_name,
        "module": module.__file__,
        "text_chars": len(text),
        "output_chars": len(arguments),
        "output_utf8_bytes": len(arguments.encode("utf-8")),
        "output_sizeof": sys.getsizeof(arguments),
        "text_sizeof": sys.getsizeof(text),
    }

    # 1. Streaming, 4-character deltas, no tracing: resident-set high-water mark.
    rss = PeakRSS()
    rss.start()
    stream = _stream(module, text, arguments, STREAM_STEP)
    stream.update(step=STREAM_STEP, rss_before=rss.base, peak_rss_extra=rss.extra(), exact=rss.exact)
    out["stream_rss"] = stream

    # 2. Streaming under tracemalloc (the text was allocated before: not counted).
    tracemalloc.start()
    tracemalloc.reset_peak()
    traced = _stream(module, text, arguments, TRACED_STEP)
    traced["step"] = TRACED_STEP
    traced["peak_traced"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out["stream_traced"] = traced

    # 3. parse() of the whole text: its result holds the arguments once.
    rss.start()
    started_parse = time.process_time()
    message = module.parse(text)
    seconds = time.process_time() - started_parse
    extra = rss.extra()
    calls = [(c.name, c.arguments) for c in message.tool_calls]
    out["parse"] = {
        "ok": calls == [("write_file", arguments)],
        "seconds_cpu": round(seconds, 2),
        "rss_before": rss.base,
        "peak_rss_extra": extra,
        "exact": rss.exact,
    }
    del message
    out["seconds_wall"] = round(time.perf_counter() - started, 1)
    return out


def run_child(impl_name: str, mb: int = MB, timeout: float = 1200) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", impl_name, str(mb * 1_000_000)],
        capture_output=True, text=True, timeout=timeout, cwd=str(BENCH_DIR.parent),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child for {impl_name} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stream_bound(output_bytes: int) -> int:
    return max(STREAM_BOUND_FLOOR, int(STREAM_BOUND_FRACTION * output_bytes))


# ---------------------------------------------------------------------------
# The test (the parent).

# The child (this file run as a script) does not import pytest.
pytest = None if __name__ == "__main__" else __import__("pytest")

if pytest is not None:

    @pytest.mark.memory
    @pytest.mark.parametrize("impl_name", IMPLS)
    def test_memory_100mb(impl_name, bench_rows, bench_extra):
        from implementations import IMPLEMENTATIONS

        reason = IMPLEMENTATIONS[impl_name].unavailable()
        if reason:
            pytest.skip(reason)
        result = run_child(impl_name)
        result["mb"] = MB
        bench_extra.setdefault("memory", []).append(result)
        output = result["output_utf8_bytes"]
        rss, traced, parse = result["stream_rss"], result["stream_traced"], result["parse"]
        bench_rows.append(dict(
            kind="memory", impl=impl_name, output_mb=output / 1e6,
            rss_extra=rss["peak_rss_extra"], traced_peak=traced["peak_traced"],
            parse_extra=parse["peak_rss_extra"], output_sizeof=result["output_sizeof"],
            seconds=result["seconds_wall"],
        ))
        assert rss["ok"], f"{impl_name}: streaming in {STREAM_STEP}-char deltas gave a wrong result"
        assert traced["ok"], f"{impl_name}: streaming in {TRACED_STEP}-char deltas gave a wrong result"
        assert parse["ok"], f"{impl_name}: parse() gave a wrong result"
        bound = stream_bound(output)
        assert rss["peak_rss_extra"] < bound, (
            f"{impl_name}: streaming a {output / 1e6:.0f} MB argument raised the peak RSS by "
            f"{rss['peak_rss_extra'] / 1e6:.1f} MB (bound {bound / 1e6:.1f} MB)")
        assert traced["peak_traced"] < bound, (
            f"{impl_name}: streaming a {output / 1e6:.0f} MB argument peaked at "
            f"{traced['peak_traced'] / 1e6:.1f} MB traced (bound {bound / 1e6:.1f} MB)")
        assert parse["peak_rss_extra"] <= PARSE_BOUND * result["output_sizeof"], (
            f"{impl_name}: parse() peaked at {parse['peak_rss_extra'] / 1e6:.0f} MB for a result of "
            f"{result['output_sizeof'] / 1e6:.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]))))
    else:  # standalone: one JSON document that benches/report.py reads
        results = []
        for name in IMPLS:
            results.append(run_child(name))
            print(f"{name}: done", file=sys.stderr)
        print(json.dumps({"format": "hermes-parse-memory/1", "mb": MB, "memory": results}, indent=1))
