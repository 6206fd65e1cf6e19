"""Hypothesis profiles for the property tests, chosen by $HYPOTHESIS_PROFILE.

- ``default``: 100 examples a test, for a developer's run (under a minute, both twins).
- ``ci``: derandomized (the same examples on every run), 300 examples.
- ``long``: 20,000 examples a test, for a fuzzing session of hours.

``pytest --hypothesis-profile=NAME`` works too (when $HYPOTHESIS_PROFILE is unset).
"""

import os

from hypothesis import HealthCheck, Verbosity, settings

# The property tests take pytest's function-scoped ``backend`` fixture; it is
# a module chosen once per test, not state that examples could share.
_SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

# No deadline anywhere: a loaded machine would make timings flaky; speed is the benches' job.
settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=_SUPPRESSED,
)
settings.register_profile(
    "ci",
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_SUPPRESSED,
)
settings.register_profile(
    "long",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=_SUPPRESSED,
    verbosity=Verbosity.normal,
)

_chosen = os.environ.get("HYPOTHESIS_PROFILE")
if _chosen:
    settings.load_profile(_chosen)
elif getattr(settings, "_current_profile", "default") == "default":
    # Not chosen on pytest's command line either: take our "default".
    settings.load_profile("default")
