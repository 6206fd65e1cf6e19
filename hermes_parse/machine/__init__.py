"""The state machine: Hermes text in, OpenAI ``delta`` dicts out.  The core.

Theory of operation
-------------------
The input is what a Hermes chat template makes a model write::

    I'll check.<tool_call>\\n{"name": "f", "arguments": {"x": 1}}\\n</tool_call>

``StreamParser`` reads it one character at a time, whatever the chunks were,
and its state after a character depends only on the characters so far.  So
the deltas of any chunking concatenate to the same message, and ``parse`` is
one ``feed`` and a ``close``.  Work per character is constant, hence the cost
of a delta does not grow with the output.

The modules, from the outside in:

* ``envelope.py``: ``StreamParser`` and ``parse``.  Splits content from
  ``<tool_call>`` blocks, holds back what is undecided, decides each block's
  fate (a call, or content with a ``not_a_call`` problem), reports problems.
* ``body.py``: the contract of a body grammar (what is between the tags),
  one per dialect, registered by name in ``bodies.py``: ``hermes.py`` (the
  JSON body ``{"name": ..., "arguments": ...}``), ``qwen3_coder.py``
  (``<function=NAME><parameter=P>...``) and ``glm.py`` (``NAME<arg_key>
  ...<arg_value>...``); ``values.py`` writes the XML dialects' text values as
  JSON by the tool's schema.
* ``reader.py``: ``JsonReader``, one JSON value (or Python literal) read with
  its own stack and written out normalised, raw, decoded or not at all.
* ``sink.py``: where content and calls are written, as deltas or, for
  ``parse()``, as the message itself; it counts finished calls.
* ``codes.py``: the numbers the modules share (modes, status, events, types).
* ``bytesearch.py``: ``parse_utf8``'s reading of a column's bytes: the search
  for a tag (memchr in the compiled twin) and a row's text, read in place
  (the one place the twins are not one source).

What must be held back, and why:

* whitespace at the start or after a call block: it is dropped if a call
  block or the end of the text follows, content otherwise;
* a prefix of ``<tool_call>``: it is a tag or content, we don't know yet;
* a block until its name is complete: it may still turn out to be content
  (``not_a_call``), and arguments written before the name wait for it.
  ``max_buffer`` caps this; past it the block is content.

Once a call's name is out, nothing sent is taken back: a later defect is a
``Problem`` and the rest of the block is skipped up to its closing tag.

The two twins
-------------
Each module is one Python source that is both twins.  ``setup.py`` compiles
every ``X.py`` here with Cython, typed by the ``X.pxd`` beside it, into the
extension module ``hermes_parse.machine.X`` (the ``.so`` sits beside the
source and is imported first); the ``.pxd`` files ``cimport`` each other's
classes, so the envelope calls the body and the reader as direct C calls.
The pure-Python twin is the same sources loaded under another package name,
``hermes_parse._machine_py``, by a finder that only ever reads ``.py`` files;
the sources import each other relatively, so each twin only sees itself.
(A source never imports a name its ``.pxd`` cimports: it imports the class
under another name, ``JsonReader as new_reader``, to make instances.)

Keep the sources to what Cython compiles to plain C: states are module-level
ints, characters are compared one by one, and text is never copied per
character (runs are sliced out whole).  ``load(twin)`` returns a twin's
envelope module; ``hermes_parse.BACKEND`` says which one the API uses.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Optional

__all__ = ["PURE_PACKAGE", "load", "compiled"]

_HERE = os.path.dirname(os.path.abspath(__file__))
# The pure twin's package: a sibling of this one, so that "from .. import x"
# in a source means hermes_parse.x in both twins.
PURE_PACKAGE = "hermes_parse._machine_py"
# The compiled modules: all but the plain ones (numbers and tables, plain
# Python in both twins, and bytesearch, whose compiled twin is the C in its
# .pxd); setup.py follows the same rule.
PLAIN = ("__init__", "codes", "bodies", "bytesearch")
COMPILED = tuple(
    sorted(
        name[:-3]
        for name in os.listdir(_HERE)
        if name.endswith(".py") and name[:-3] not in PLAIN
    )
)


class _PureFinder(importlib.abc.MetaPathFinder):
    """Finds ``hermes_parse._machine_py.X`` as the source ``machine/X.py``."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, leaf = fullname.rpartition(".")
        if package != PURE_PACKAGE:
            return None
        source = os.path.join(_HERE, leaf + ".py")
        if not os.path.isfile(source):
            return None
        loader = importlib.machinery.SourceFileLoader(fullname, source)
        return importlib.util.spec_from_file_location(fullname, source, loader=loader)


def _pure_package() -> ModuleType:
    package = sys.modules.get(PURE_PACKAGE)
    if package is None:
        if not any(isinstance(finder, _PureFinder) for finder in sys.meta_path):
            sys.meta_path.append(_PureFinder())
        package = ModuleType(PURE_PACKAGE, "The pure-Python twin of hermes_parse.machine.")
        package.__path__ = []  # a package, whose modules only _PureFinder finds
        package.__package__ = PURE_PACKAGE
        sys.modules[PURE_PACKAGE] = package
    return package


def compiled() -> Optional[ModuleType]:
    """The compiled twin's envelope module, or ``None`` when any module of it
    is not built (or cannot be imported)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name in COMPILED:
        spec = importlib.util.find_spec(f"{__name__}.{name}")
        if spec is None or not (spec.origin or "").endswith(suffixes):
            return None
    try:
        return importlib.import_module(__name__ + ".envelope")
    except ImportError:  # built for another Python, or a broken build
        return None


def load(twin: str) -> ModuleType:
    """The envelope module (``StreamParser``, ``parse``) of ``twin``:
    ``"cython"`` (raises ``ImportError`` when it is not built) or ``"python"``."""
    if twin == "python":
        _pure_package()
        return importlib.import_module(PURE_PACKAGE + ".envelope")
    if twin == "cython":
        module = compiled()
        if module is None:
            raise ImportError("the compiled twin of hermes_parse.machine is not built")
        return module
    raise ValueError("twin must be 'cython' or 'python'")
