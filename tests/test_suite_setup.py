"""The test suite's own set-up: conftest.py loads the hypothesis profiles for every
test module (no module imports them itself, so this holds for any module run alone)."""

import os

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
