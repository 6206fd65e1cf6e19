"""CI's rule for skips: with ``HERMES_PARSE_STRICT_SKIPS=1`` (the core pytest step of
``.ci/run`` sets it) the run fails when a test of the core suite skips for any
reason but the few legitimate ones below.  A skip for a missing file, package,
program or build is a failure there: the core suite needs nothing outside the
repository and its ``test`` extra.

Loaded by tests/conftest.py (its hooks are imported there); ``-p strict_skips``
loads it on its own (tests/test_suite_setup.py does, on a throw-away test file).
"""

from __future__ import annotations

import os
import re

import pytest

ENV = "HERMES_PARSE_STRICT_SKIPS"

# Skips that say nothing is missing: a choice of the person running the tests.
ALLOWED_REASONS = (
    re.compile(r"--no-c-extensions\Z"),  # pytest --no-c-extensions: the pure-Python twin only
    re.compile(r"set HERMES_PARSE_PERF=1\b"),  # an opt-in measurement (writes 200 MB)
    re.compile(r"a placeholder path\Z"),  # a README command on a path the reader fills in
)
# The engine rooms' tests run in their own environments (.ci/vllm-env.sh,
# .ci/xinference-env.sh, .ci/sglang-env.sh: later steps of .ci/run); in the core step they skip.
ROOM_TESTS = re.compile(r"(tests/)?test_(vllm|xinference|serve_vllm|sglang)[\w]*\.py(::|\Z)")

# (nodeid, reason) of the skips that break the rule, in this process's session.
_BAD: list = []


def strict() -> bool:
    return os.environ.get(ENV, "") not in ("", "0")


def skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = longrepr[2]
    else:
        reason = str(longrepr)
    return reason[len("Skipped: ") :] if reason.startswith("Skipped: ") else reason


def allowed(nodeid: str, reason: str) -> bool:
    return bool(ROOM_TESTS.match(nodeid)) or any(p.match(reason) for p in ALLOWED_REASONS)


def _record(report) -> None:
    if strict() and report.skipped and not hasattr(report, "wasxfail"):
        reason = skip_reason(report)
        if not allowed(report.nodeid, reason):
            _BAD.append((report.nodeid, reason))


def pytest_sessionstart(session):
    _BAD.clear()


def pytest_runtest_logreport(report):
    _record(report)


def pytest_collectreport(report):
    _record(report)


def pytest_sessionfinish(session, exitstatus):
    if _BAD and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _BAD:
        return
    terminalreporter.section(f"skips that {ENV}=1 does not allow", sep="=", red=True)
    for nodeid, reason in _BAD:
        terminalreporter.line(f"{nodeid}: {reason}")
    terminalreporter.line(
        f"{len(_BAD)} test(s) of the core suite skipped for something missing: the run "
        "fails (tests/strict_skips.py lists the skips that are allowed)"
    )
