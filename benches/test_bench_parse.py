"""Non-streaming throughput: parse() of whole completions, in MB/s of UTF-8 input.

Run with the rest of the suite (see test_bench_stream.py), or alone:

    python -m pytest benches/test_bench_parse.py -rs --benchmark-group-by=group

Workloads: a log of 10,000 short completions (40% plain answers, the rest one or
two calls, most after a line of content) and one huge call (write_file with a
1 MB string argument).  Implementations:

* ``ours-cython`` / ``ours-python``: ``parse(text)`` of each twin (default
  options, so each call also gets a random id)
* ``vllm-regex``: vLLM's non-streaming Hermes approach, reimplemented: ``regex``
  findall of ``<tool_call>(.*?)</tool_call>``, ``json.loads`` of each body,
  ``json.dumps(arguments, ensure_ascii=False)``, content = text before the first tag
* ``orjson-floor``: bare ``orjson.loads`` of the same JSON bodies, pre-extracted
  as bytes: the least work anything that returns the calls must do

MB/s is always the UTF-8 size of the whole completions over the time, so the
figures compare directly.  Every implementation's result is checked against the
expected content and calls (the floor's: names and arguments).
"""

from __future__ import annotations

import functools
import json
import os
import time

import pytest

from implementations import IMPLEMENTATIONS, choose_rounds, describe_mismatch
from workloads import Workload, completion_log, get_workload

BUDGET = float(os.environ.get("HERMES_BENCH_BUDGET", "2"))


@functools.lru_cache(maxsize=None)
def parse_workload(name: str) -> tuple:
    if name == "log_10000":
        return tuple(completion_log(10_000))
    if name == "write_file_1m":
        return (get_workload("write_file_1m"),)
    raise KeyError(name)


PARSE_WORKLOADS = ["log_10000", "write_file_1m"]


# ---------------------------------------------------------------------------
# vLLM's non-streaming approach, reimplemented (its Hermes2ProToolParser.extract_tool_calls).

@functools.lru_cache(maxsize=1)
def _tool_call_regex():
    import regex

    return regex.compile(r"<tool_call>(.*?)</tool_call>", regex.DOTALL)


def vllm_regex_parse(text: str):
    if "<tool_call>" not in text:
        return text, []
    calls = []
    for body in _tool_call_regex().findall(text):
        obj = json.loads(body)
        calls.append((obj["name"], json.dumps(obj["arguments"], ensure_ascii=False)))
    content = text[:text.find("<tool_call>")]
    return content or None, calls


def _json_bodies(texts) -> list:
    bodies = []
    for text in texts:
        for body in _tool_call_regex().findall(text):
            bodies.append(body.strip().encode("utf-8"))
    return bodies


def _runner(impl_name: str, texts: list):
    """(function timed once per round, function turning its return into results)"""
    if impl_name in ("ours-cython", "ours-python"):
        impl = IMPLEMENTATIONS[impl_name]
        reason = impl.unavailable()
        if reason:
            pytest.skip(reason)
        parse = impl.module.parse

        def run():
            return [parse(text) for text in texts]

        def results(out):
            return [(m.content, [(c.name, c.arguments) for c in m.tool_calls]) for m in out]

        return run, results
    if impl_name == "vllm-regex":
        pytest.importorskip("regex")

        def run():
            return [vllm_regex_parse(text) for text in texts]

        return run, list
    if impl_name == "orjson-floor":
        orjson = pytest.importorskip("orjson")
        bodies = _json_bodies(texts)

        def run():
            loads = orjson.loads
            return [loads(body) for body in bodies]

        return run, None
    raise KeyError(impl_name)


def _check(impl_name: str, workloads, out, results) -> None:
    if results is None:  # the floor: compare what it decoded with the expected calls
        expected = [call for w in workloads for call in w.expected[1]]
        got = [(obj["name"], json.dumps(obj["arguments"], ensure_ascii=False)) for obj in out]
        if got != expected:
            raise AssertionError(f"{impl_name}: decoded calls differ from the expected ones")
        return
    got_all = results(out)
    if len(got_all) != len(workloads):
        raise AssertionError(f"{impl_name}: {len(got_all)} results for {len(workloads)} texts")
    for workload, got in zip(workloads, got_all):
        if got != workload.expected:
            raise AssertionError(f"{impl_name} on {workload.name} ({workload.text[:200]!r}...): "
                                 f"{describe_mismatch(got, workload.expected)}")


@pytest.mark.parametrize("impl_name", ["ours-cython", "ours-python", "vllm-regex", "orjson-floor"])
@pytest.mark.parametrize("workload_name", PARSE_WORKLOADS)
def test_parse(benchmark, bench_rows, workload_name, impl_name):
    workloads: tuple[Workload, ...] = parse_workload(workload_name)
    texts = [w.text for w in workloads]
    size = sum(w.utf8_bytes for w in workloads)
    run, results = _runner(impl_name, texts)

    started = time.perf_counter()
    out = run()  # untimed probe, also checked
    elapsed = time.perf_counter() - started
    _check(impl_name, workloads, out, results)
    del out

    benchmark.group = f"parse {workload_name}"
    benchmark.extra_info.update(workload=workload_name, impl=impl_name, texts=len(texts), utf8_bytes=size)
    out = benchmark.pedantic(run, rounds=choose_rounds(elapsed, BUDGET))
    _check(impl_name, workloads, out, results)

    stats = benchmark.stats.stats if benchmark.stats else None
    if stats is None:
        return
    best = size / stats.min / 1e6
    median = size / stats.median / 1e6
    benchmark.extra_info.update(mb_per_s_best=round(best, 2), mb_per_s_median=round(median, 2))
    bench_rows.append(dict(kind="parse", workload=workload_name, impl=impl_name, mb=size / 1e6,
                           mb_per_s_best=best, mb_per_s_median=median, rounds=stats.rounds))
