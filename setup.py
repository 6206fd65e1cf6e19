"""Builds the Cython twin of the state machine; falls back to pure Python.

``hermes_parse/_machine_c.py`` is a link to ``_machine_py.py``: Cython
compiles that one source with the types in ``_machine_c.pxd``.  When the
extension cannot be built (no compiler, no Cython, or
``HERMES_PARSE_NO_EXTENSIONS=1``), the package installs anyway and runs the
pure-Python twin; it says so here and in ``hermes_parse.BACKEND``.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the extension if we can; warn and go on in pure Python if not."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means "pure Python"
            self._warn(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)

    @staticmethod
    def _warn(exc):
        print(
            "*" * 72
            + f"\nWARNING: hermes-parse's Cython extension could not be built ({exc}).\n"
            "The package works, in pure Python (hermes_parse.BACKEND == 'python').\n"
            + "*" * 72,
            file=sys.stderr,
        )


def extensions():
    if os.environ.get("HERMES_PARSE_NO_EXTENSIONS"):
        print("HERMES_PARSE_NO_EXTENSIONS is set: not building the Cython twin", file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        OptionalBuildExt._warn("Cython is not installed")
        return []
    return cythonize(
        ["hermes_parse/_machine_c.py"],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
