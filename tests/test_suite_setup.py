"""The test suite's own set-up: conftest.py loads the hypothesis profiles for every
test module (no module imports them itself, so this holds for any module run alone),
and CI's rule on skips (tests/strict_skips.py) fails a run that skips for something missing."""

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings


def test_hypothesis_profile_is_loaded(pytestconfig):
    """Our profile is active (no deadline, the fixture health check relaxed), not
    hypothesis' built-in default (200 ms deadline)."""
    chosen = (
        os.environ.get("HYPOTHESIS_PROFILE")
        or pytestconfig.getoption("--hypothesis-profile", None)
        or "default"
    )
    current = settings()
    assert current.deadline is None
    assert HealthCheck.function_scoped_fixture in current.suppress_health_check
    expected = {"default": 100, "ci": 300, "long": 20_000}
    if chosen in expected:
        assert current.max_examples == expected[chosen]
    if chosen == "ci":
        assert current.derandomize and current.database is None


RULE_TESTS = '''
import pytest

def test_runs():
    pass

def test_needs_a_file():
    pytest.skip("shared/jsontestsuite not found")

def test_pure_python_only():
    pytest.skip("--no-c-extensions")

@pytest.mark.skipif(True, reason="set HERMES_PARSE_PERF=1 (writes 200 MB)")
def test_opt_in():
    pass
'''


def _run_rule(tmp_path, name, source, strict):
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent))
    env["HERMES_PARSE_STRICT_SKIPS"] = "1" if strict else "0"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "strict_skips",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )


def test_strict_skips_fail_the_run_for_something_missing(tmp_path):
    """HERMES_PARSE_STRICT_SKIPS=1: a skip for a missing file fails the run and is named;
    the legitimate skips (--no-c-extensions, an opt-in) do not; without it, all skips pass."""
    proc = _run_rule(tmp_path, "test_rule.py", RULE_TESTS, strict=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "test_rule.py::test_needs_a_file: shared/jsontestsuite not found" in proc.stdout
    assert "1 test(s) of the core suite skipped" in proc.stdout
    assert "test_pure_python_only:" not in proc.stdout.split("does not allow")[1]
    proc = _run_rule(tmp_path, "test_rule.py", RULE_TESTS, strict=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    allowed_only = RULE_TESTS.replace('pytest.skip("shared/jsontestsuite not found")', "pass")
    proc = _run_rule(tmp_path, "test_rule.py", allowed_only, strict=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_strict_skips_catch_a_module_skipped_at_import(tmp_path):
    """A module skipped whole (importorskip of a missing package) counts too, unless it is
    an engine room's test (run in its own environment by a later CI step)."""
    source = 'import pytest\npytest.importorskip("no_such_package_hermes")\n\ndef test_x():\n    pass\n'
    proc = _run_rule(tmp_path, "test_needs_package.py", source, strict=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "no_such_package_hermes" in proc.stdout
    proc = _run_rule(tmp_path, "test_vllm_thing.py", source, strict=True)
    assert proc.returncode == 5, proc.stdout + proc.stderr  # pytest's "no tests ran"
    assert "does not allow" not in proc.stdout
