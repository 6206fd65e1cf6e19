"""hermes-parse: Hermes-format tool calls (``<tool_call>{...}</tool_call>``) to
OpenAI ``tool_calls``, streaming or whole, with one semantics.

>>> import hermes_parse
>>> message = hermes_parse.parse('<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>')
>>> message.tool_calls[0].arguments
'{"x": 1}'

``BACKEND`` says which twin of the state machine runs: ``"cython"`` (the
compiled one) or ``"python"`` (no compiled extension, or
``HERMES_PARSE_NO_EXTENSIONS=1`` in the environment).
"""

import importlib.machinery as _machinery
import os as _os
import platform as _platform

from ._fold import CallFold
from ._types import (
    ClosedError,
    Message,
    Problem,
    ToolCall,
    random_call_id,
    seeded_ids,
    sequential_ids,
)


def _load_twin():
    if _os.environ.get("HERMES_PARSE_NO_EXTENSIONS") or _platform.python_implementation() != "CPython":
        from . import _machine_py

        return _machine_py, "python"
    try:
        from . import _machine_c
    except ImportError:
        _machine_c = None
    # Without a build, `_machine_c` imports as the plain link to
    # _machine_py.py: that is the Python twin, not the Cython one.
    if _machine_c is not None and _machine_c.__file__.endswith(tuple(_machinery.EXTENSION_SUFFIXES)):
        return _machine_c, "cython"
    from . import _machine_py

    return _machine_py, "python"


_machine, BACKEND = _load_twin()
StreamParser = _machine.StreamParser
parse = _machine.parse

__version__ = "0.1.0"
__all__ = [
    "BACKEND",
    "CallFold",
    "ClosedError",
    "Message",
    "Problem",
    "StreamParser",
    "ToolCall",
    "parse",
    "random_call_id",
    "seeded_ids",
    "sequential_ids",
]
