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


@pytest.fixture
def bench_rows(request):
    """Append a dict per benchmark; printed as a table at the end of the run."""
    return request.config.stash[_ROWS]


def pytest_terminal_summary(terminalreporter, config):
    rows = config.stash.get(_ROWS, [])
    if not rows:
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
    if parse:
        terminalreporter.section("hermes-parse non-streaming parse(): throughput")
        write(f"{'workload':<18}{'impl':<14}{'MB':>9}{'best MB/s':>11}{'median MB/s':>13}{'rounds':>8}")
        for r in parse:
            write(f"{r['workload']:<18}{r['impl']:<14}{r['mb']:>9.2f}{r['mb_per_s_best']:>11.1f}"
                  f"{r['mb_per_s_median']:>13.1f}{r['rounds']:>8}")
