"""Streaming benchmark: cost per delta of turning Hermes text into OpenAI deltas.

Run the whole suite (this file and test_bench_parse.py) from the repository root:

    python -m pytest benches -rs --benchmark-group-by=group --benchmark-columns=min,median,rounds

(the per-delta table is printed at the end; add ``-k "write_file_160k and char4"``
to pick combinations, ``--benchmark-json=out.json`` to keep the figures).  The CI
gate, a short in-process subset that checks ratios, is ``python benches/gate.py``.

One test, parametrized over workload x splitter x implementation.  Each timed
round feeds a fresh streamer every delta and closes it, dropping each output as
a server does once sent (``implementations.drain``: keeping 44,000 outputs alive
would time the garbage collector, not the parser).  Correctness is checked in
the same test, untimed, before and after the timed rounds: a fresh streamer of
the same implementation is fed the same deltas, its outputs are accumulated as
an OpenAI client does and must equal the expected content and calls, else the
test fails (and the failing deltas are saved under benches/.cache/failures/).
So a fast wrong answer fails.

The re-parse baseline is quadratic: it is kept off the 1 MB workload, off 1-char
deltas above 10 KB, and off any combination that would hand partial_json_parser
more than REPARSE_MAX_CHARS characters per round unless HERMES_BENCH_SLOW=1.

Environment: HERMES_BENCH_BUDGET (seconds of timed rounds per combination,
default 2), HERMES_BENCH_SLOW=1 (run the slow re-parse combinations too).
"""

from __future__ import annotations

import os
import time

import pytest

from implementations import (
    IMPLEMENTATIONS,
    accumulate,
    choose_rounds,
    describe_mismatch,
    drain,
    feed_all,
    reparse_chars,
    save_failure,
)
from workloads import SPLITTERS, TOKEN_SPLITTERS, WORKLOADS, get_deltas, get_workload, tokenizer_unavailable

BUDGET = float(os.environ.get("HERMES_BENCH_BUDGET", "2"))
SLOW = os.environ.get("HERMES_BENCH_SLOW") == "1"
# 1-char deltas are fine for the baseline up to the 10 KB workloads (11 KB of text).
REPARSE_CHAR1_MAX_CHARS = 12 * 1024
# About a minute of partial_json_parser per round here; 160 KB in 32-token deltas
# (~140 M) fits, 160 KB in 4-char deltas (~3,600 M, half an hour a round) does not.
REPARSE_MAX_CHARS = 200_000_000
# Above this, no untimed probe: a single timed round, whose own output is checked.
PROBE_MAX_CHARS = 20_000_000


def _reparse_skip(workload, splitter, deltas) -> str | None:
    if workload.name == "write_file_1m":
        return "reparse is quadratic: kept off the 1 MB workload"
    if splitter == "char1" and workload.chars > REPARSE_CHAR1_MAX_CHARS:
        return f"reparse is quadratic: kept off 1-char deltas above 10 KB ({workload.chars} chars)"
    chars = reparse_chars(workload.text, deltas)
    if chars > REPARSE_MAX_CHARS and not SLOW:
        return (f"reparse is quadratic: would hand partial_json_parser {chars / 1e6:,.0f} M chars "
                f"per round (cap {REPARSE_MAX_CHARS / 1e6:,.0f} M); set HERMES_BENCH_SLOW=1 to run it")
    return None


@pytest.mark.parametrize("impl_name", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("splitter", list(SPLITTERS))
@pytest.mark.parametrize("workload_name", WORKLOADS)
def test_stream(benchmark, bench_rows, workload_name, splitter, impl_name):
    impl = IMPLEMENTATIONS[impl_name]
    reason = impl.unavailable()
    if reason:
        pytest.skip(reason)
    if splitter in TOKEN_SPLITTERS:
        reason = tokenizer_unavailable()
        if reason:
            pytest.skip(reason)
    if impl_name == "vllm-hermes" and workload_name == "nested_pretty":
        pytest.skip("vLLM's built-in hermes streams the model's pretty-printed text, not the "
                    "json.dumps form it returns non-streamed: wrong by this check (docs/vllm.md)")
    workload = get_workload(workload_name)
    deltas = get_deltas(workload_name, splitter)
    probe = True
    if impl.quadratic:
        reason = _reparse_skip(workload, splitter, deltas)
        if reason:
            pytest.skip(reason)
        probe = reparse_chars(workload.text, deltas) <= PROBE_MAX_CHARS

    label = f"{workload_name}-{splitter}-{impl_name}"
    expected = workload.expected

    def verify(out) -> None:
        got = accumulate(out)
        if got != expected:
            path = save_failure(label, deltas, got, expected)
            pytest.fail(f"{label}: wrong result ({describe_mismatch(got, expected)}); "
                        f"input deltas saved to {path}")

    def check() -> float:
        """Stream the deltas through a fresh streamer, untimed, and verify the
        accumulated result.  Return the seconds it took."""
        streamer = impl.new()
        started = time.perf_counter()
        out = feed_all(streamer, deltas)
        elapsed = time.perf_counter() - started
        verify(out)
        return elapsed

    benchmark.group = f"stream {workload_name} {splitter}"
    benchmark.extra_info.update(
        workload=workload_name, splitter=splitter, impl=impl_name,
        deltas=len(deltas), chars=workload.chars, utf8_bytes=workload.utf8_bytes,
    )
    setup = lambda: ((impl.new(), deltas), {})  # noqa: E731  a fresh streamer per round
    if probe:
        elapsed = check()
        if elapsed < 1.0:  # the check keeps every output alive, so it runs slower: time a real round
            started = time.perf_counter()
            drain(impl.new(), deltas)
            elapsed = time.perf_counter() - started
        rounds = choose_rounds(elapsed, BUDGET)
        benchmark.pedantic(drain, setup=setup, rounds=rounds)
        check()
    else:
        # The slowest baseline runs (a minute or more a round): one round, which
        # keeps its outputs (negligible next to its cost) so that it is verified itself.
        verify(benchmark.pedantic(feed_all, setup=setup, rounds=1))

    stats = benchmark.stats.stats if benchmark.stats else None
    if stats is None:  # --benchmark-disable: ran once, checked, nothing to report
        return
    us_min = stats.min * 1e6 / len(deltas)
    us_median = stats.median * 1e6 / len(deltas)
    benchmark.extra_info.update(
        us_per_delta_min=round(us_min, 4),
        us_per_delta_median=round(us_median, 4),
        mb_per_s_best=round(workload.utf8_bytes / stats.min / 1e6, 2),
    )
    bench_rows.append(dict(kind="stream", workload=workload_name, splitter=splitter, impl=impl_name,
                           deltas=len(deltas), chars=workload.chars, us_per_delta_min=us_min,
                           us_per_delta_median=us_median, rounds=stats.rounds))
