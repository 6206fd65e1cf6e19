"""hermes-parse: the tool calls models write in ``<tool_call>`` blocks (Hermes
JSON, Qwen3-Coder and GLM XML) to OpenAI ``tool_calls``, streaming or whole,
with one semantics.

>>> import hermes_parse
>>> message = hermes_parse.parse('<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>')
>>> message.tool_calls[0].arguments
'{"x": 1}'

The plan of the package (rooms depend on the core, never the reverse):

* the core: this module (the public API), ``_types.py`` (``Message``,
  ``ToolCall``, ``Problem``, call ids), ``_fold.py`` (``CallFold``: deltas
  into calls), ``_batch.py`` (``parse_many``'s columns), ``_tools.py``
  (reading an OpenAI ``tools`` list) and
  ``machine/`` (the streaming state machine, compiled and pure-Python twins;
  its ``__init__`` has the theory of operation);
* ``cli/``: the ``hermes-parse`` command;
* ``serve/``: ``hermes-parse serve``, the OpenAI-compatible proxy;
* ``arrow.py``: Arrow columns in and out (Polars, DuckDB, Ray);
* ``vllm/``: the vLLM tool-parser plugin (and its one-pass ``Parser``);
* ``sglang/``: the SGLang detector;
* ``xinference/``: the Xinference adapter.

``BACKEND`` says which twin of the state machine runs: ``"cython"`` (the
compiled one) or ``"python"`` (no compiled extension, not CPython, or
``HERMES_PARSE_NO_EXTENSIONS=1`` in the environment).
"""

import os as _os
import platform as _platform
from typing import TYPE_CHECKING

from . import machine as _machine_twins
from ._batch import Batch
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
    if not _os.environ.get("HERMES_PARSE_NO_EXTENSIONS") and _platform.python_implementation() == "CPython":
        module = _machine_twins.compiled()
        if module is not None:
            return module, "cython"
    return _machine_twins.load("python"), "python"


if TYPE_CHECKING:  # the pure-Python twin is the specification of both
    from .machine import envelope as _machine  # the twin that runs (hermes_parse.arrow, cli.lane)
    from .machine.envelope import StreamParser, parse, parse_many

    BACKEND: str
else:
    _machine, BACKEND = _load_twin()
    StreamParser = _machine.StreamParser
    parse = _machine.parse
    parse_many = _machine.parse_many

__version__ = "0.1.0"
__all__ = [
    "BACKEND",
    "Batch",
    "CallFold",
    "ClosedError",
    "Message",
    "Problem",
    "StreamParser",
    "ToolCall",
    "parse",
    "parse_many",
    "random_call_id",
    "seeded_ids",
    "sequential_ids",
]
