"""vLLM tool parsers, per delta: our plugin against vLLM's built-in ``hermes``.

Runs where vLLM imports (the venv of ``.ci/vllm-env.sh``)::

    "$(bash .ci/vllm-env.sh)" -m pytest benches/test_bench_vllm.py -s

Both parsers get the very calls vLLM's serving layer makes:
``extract_tool_calls_streaming(previous_text, current_text, delta_text,
previous_token_ids, current_token_ids, delta_token_ids, request)`` once per
delta, with ``current_text`` grown as vLLM grows it (``previous + delta``,
a copy of the whole output per delta).  Only the parser call is timed
(``perf_counter_ns`` around it, the same for both), not vLLM's own string
concatenation; but that copy still evicts the CPU caches before each call, so
at 160 KB every parser pays about a microsecond more per call for it.  Ours
does not read ``current_text``, so it is also timed alone ("isolated":
``current_text=""``), which shows its own cost per delta.  The stream: ``write_file`` with a 1 KB and a 160 KB string
argument (benches/workloads.py) in 4-character deltas; the last delta carries
``<|im_end|>``, as the real last engine output does.  Every run's deltas are
accumulated as an OpenAI client does and checked against the expected call.

Figures: best of ROUNDS rounds (HERMES_BENCH_VLLM_ROUNDS, default 5; the
built-in's 160 KB round takes about 10 s).  Targets of issue 3, asserted: our
cost per delta at 160 KB at most 1.5x the 1 KB cost (timed alone, the two
sizes interleaved), at least 30x faster than
the built-in at 160 KB and 2x at 1 KB.
"""

from __future__ import annotations

import gc
import json
import os
import time

import pytest

pytest.importorskip("vllm", reason="vLLM is not installed here: run with the python that .ci/vllm-env.sh prints")

from workloads import get_deltas, get_workload  # noqa: E402

import vllm_impl  # noqa: E402
from vllm_impl import IM_END, accumulate as _accumulate  # noqa: E402,F401

ROUNDS = int(os.environ.get("HERMES_BENCH_VLLM_ROUNDS", "5"))
SIZES = ("write_file_1k", "write_file_160k")
_FIGURES: dict = {}


def _tokenizer():
    reason = vllm_impl.unavailable()
    if reason:
        pytest.skip(reason)
    tokenizer = vllm_impl.tokenizer()
    return tokenizer


def _one_round(cls, tokenizer, request, deltas, keep, isolated=False):
    parser = cls(tokenizer, request.tools)
    previous = ""
    timer = time.perf_counter_ns
    spent = 0
    out = []
    last = len(deltas) - 1
    empty: list = []
    end = [IM_END]
    for i, delta in enumerate(deltas):
        current = "" if isolated else previous + delta  # what vLLM's serving layer does, untimed
        ids = end if i == last else empty
        t0 = timer()
        message = parser.extract_tool_calls_streaming(previous, current, delta, empty, empty, ids, request)
        spent += timer() - t0
        if keep and message is not None:
            out.append(message)
        previous = current
    return spent, out, parser


@pytest.fixture(scope="module")
def setup():
    return _tokenizer(), vllm_impl.request(), vllm_impl.parser_classes()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("impl", ["ours", "builtin"])
def test_per_delta(setup, impl, size):
    tokenizer, request, classes = setup
    deltas = get_deltas(size, "char4")
    workload = get_workload(size)
    cls = classes[impl]
    # Correctness first (untimed): the accumulated message is the expected one.
    _, messages, parser = _one_round(cls, tokenizer, request, deltas, keep=True)
    content, calls = _accumulate(messages)
    expected_content, expected_calls = workload.expected
    assert content == expected_content
    assert [(n, json.loads(a)) for n, a in calls] == [(n, json.loads(a)) for n, a in expected_calls]
    if impl == "ours":
        assert calls == expected_calls  # exact text, not just the same JSON
        assert parser.get_remaining_unstreamed_args() == ""  # vLLM's final patch adds nothing
    rounds = ROUNDS if impl == "ours" or size.endswith("1k") else max(1, min(ROUNDS, 3))
    for isolated in (False, True) if impl == "ours" else (False,):
        best = None
        gc.collect()
        gc.disable()
        try:
            for _ in range(rounds):
                spent, _, _ = _one_round(cls, tokenizer, request, deltas, keep=False, isolated=isolated)
                best = spent if best is None else min(best, spent)
        finally:
            gc.enable()
        per_delta_us = best / len(deltas) / 1000
        mode = "isolated" if isolated else "in-loop"
        _FIGURES[(impl + ("-isolated" if isolated else ""), size)] = per_delta_us
        print(f"\n{impl:8s} {mode:9s} {size:16s} {len(deltas):6d} deltas  {per_delta_us:8.2f} us/delta (best of {rounds})")


def _windows(cls, tokenizer, request, deltas, width):
    """One isolated round; the time spent in each run of ``width`` calls."""
    parser = cls(tokenizer, request.tools)
    call = parser.extract_tool_calls_streaming
    timer = time.perf_counter_ns
    empty: list = []
    sums = []
    for start in range(0, len(deltas) - width + 1, width):
        t0 = timer()
        for delta in deltas[start:start + width]:
            call("", "", delta, empty, empty, empty, request)
        sums.append(timer() - t0)
    return sums


def test_ours_cost_per_delta_is_flat(setup):
    """Our cost per delta does not grow with the output: the calls deep in the
    160 KB argument (its last windows of as many calls as the whole 1 KB
    stream has) cost what the 1 KB stream's calls cost.  Each window's figure
    is its best over the rounds, which filters out the preemptions that a long
    round on a busy two-core machine always suffers."""
    tokenizer, request, classes = setup
    cls = classes["ours"]
    small = get_deltas(SIZES[0], "char4")
    large = get_deltas(SIZES[1], "char4")
    width = len(small)
    best_small = None
    best_windows = None
    gc.collect()
    gc.disable()
    try:
        for _ in range(max(ROUNDS, 7)):
            [spent] = _windows(cls, tokenizer, request, small, width)
            best_small = spent if best_small is None else min(best_small, spent)
            windows = _windows(cls, tokenizer, request, large, width)
            best_windows = windows if best_windows is None else [min(a, b) for a, b in zip(best_windows, windows)]
    finally:
        gc.enable()
    late = sorted(best_windows[-20:])[10]  # median of the last 20 windows
    small_us, late_us = best_small / width / 1000, late / width / 1000
    _FIGURES[("ours-flat", SIZES[0])], _FIGURES[("ours-flat", SIZES[1])] = small_us, late_us
    print(f"\nours alone: {small_us:.2f} us/delta over the 1 KB stream, {late_us:.2f} deep in the 160 KB one "
          f"({late_us / small_us:.2f}x)")
    assert late_us <= 1.5 * small_us, "our cost per delta grows with the output"


def test_targets():
    needed = [(impl, size) for impl in ("ours", "ours-isolated", "ours-flat", "builtin") for size in SIZES]
    if any(key not in _FIGURES for key in needed):
        pytest.skip("run with the per-delta benchmarks (the whole file)")
    ours_1k, ours_160k = _FIGURES[("ours", SIZES[0])], _FIGURES[("ours", SIZES[1])]
    alone_1k, alone_160k = _FIGURES[("ours-isolated", SIZES[0])], _FIGURES[("ours-isolated", SIZES[1])]
    builtin_1k, builtin_160k = _FIGURES[("builtin", SIZES[0])], _FIGURES[("builtin", SIZES[1])]
    print(f"\nus per delta, 1 KB / 160 KB: ours {ours_1k:.2f} / {ours_160k:.2f} "
          f"(isolated {alone_1k:.2f} / {alone_160k:.2f}); built-in hermes {builtin_1k:.2f} / {builtin_160k:.2f}; "
          f"speed-up {builtin_1k / ours_1k:.1f}x / {builtin_160k / ours_160k:.1f}x")
    flat_1k, flat_160k = _FIGURES[("ours-flat", SIZES[0])], _FIGURES[("ours-flat", SIZES[1])]
    assert flat_160k <= 1.5 * flat_1k, "our cost per delta grows with the output"
    assert builtin_160k >= 30 * ours_160k, "less than 30x faster than the built-in at 160 KB"
    assert builtin_1k >= 2 * ours_1k, "less than 2x faster than the built-in at 1 KB"
