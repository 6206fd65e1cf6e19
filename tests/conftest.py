"""Every test that takes the ``backend`` fixture runs against both twins of the
state machine: the compiled Cython module and the pure-Python reference."""

import os

import pytest

import hermes_parse.machine

# The hypothesis profiles (default / ci / long, chosen by $HYPOTHESIS_PROFILE) for
# every test module, whichever of them runs alone.
import hypothesis_profiles  # noqa: F401

# CI's rule: with $HERMES_PARSE_STRICT_SKIPS=1 a skip for something missing fails the run.
from strict_skips import (  # noqa: F401
    pytest_collectreport,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_terminal_summary,
)


def _compiled_twin():
    return hermes_parse.machine.compiled()


def pytest_addoption(parser):
    parser.addoption(
        "--no-c-extensions",
        action="store_true",
        help="run only the pure-Python twin",
    )


_PARAMS = [
    pytest.param("cython", id="c-extension-module"),
    pytest.param("python", id="pure-python-module"),
]


@pytest.fixture(params=_PARAMS)
def backend(request):
    """The machine module under test: ``StreamParser`` and ``parse`` of one twin."""
    if request.param == "python":
        return hermes_parse.machine.load("python")
    if request.config.getoption("--no-c-extensions"):
        pytest.skip("--no-c-extensions")
    module = _compiled_twin()
    if module is None:
        if os.environ.get("CI"):
            pytest.fail("the Cython extension was not built")
        pytest.skip("the Cython extension is not built")
    return module
