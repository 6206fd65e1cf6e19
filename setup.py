"""Builds the Cython twin of the state machine; falls back to pure Python.

Each module of ``hermes_parse/machine/`` (but ``codes.py`` and ``bodies.py``) is compiled by
Cython from its Python source, typed by the ``.pxd`` beside it, into an
extension module of the same name (see ``hermes_parse/machine/__init__.py``); so is the
command's fast lane, ``hermes_parse/cli/lines.py`` (see ``hermes_parse/cli/lane.py``).  When the
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


# Every module of the machine is compiled but the plain ones, which hold only
# numbers and tables, or (bytesearch) a function whose compiled twin is C in
# its .pxd (the same rule as hermes_parse.machine.COMPILED).
PLAIN_MODULES = ("__init__", "codes", "bodies", "bytesearch")
COMPILED_MODULES = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "hermes_parse", "machine"))
    if name.endswith(".py") and name[:-3] not in PLAIN_MODULES
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
    # A Cython error is a bug in our sources, not a missing tool: it fails
    # the build loudly instead of leaving an older extension in place.
    return cythonize(
        [f"hermes_parse/machine/{name}.py" for name in COMPILED_MODULES]
        # The command's fast lane (hermes_parse/cli/lines.py: used only when compiled).
        + ["hermes_parse/cli/lines.py"],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "cdivision": True,
            "initializedcheck": False,
            # Types come from the .pxd files only: the sources' annotations
            # are for readers and type checkers.
            "annotation_typing": False,
        },
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
