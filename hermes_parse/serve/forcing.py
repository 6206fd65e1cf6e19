"""``tool_choice`` required / named on vLLM, through its structured outputs.

vLLM without a tool parser refuses ``required`` and a named function (HTTP
400), but its structured outputs need no parser.  The proxy asks for the same
JSON that vLLM's own tool machinery asks for (so a model forced token by
token writes the same text either way):

* a named function: its ``parameters`` schema (an empty object schema when it
  has none): the output is the arguments;
* ``required``: an array of at least one ``{"name": NAME, "parameters":
  ARGS}`` object, one of the tools each (at most one with
  ``parallel_tool_calls: false``).

The forced output is then turned back into ``<tool_call>`` blocks as it
streams (``NamedCall``, ``CallArray``), and the core's parser reads them as it
reads any model output: the deltas, problems and ids are the usual ones.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional

from .._tools import tool_functions

__all__ = ["CallArray", "NamedCall", "forced_schema"]

_EMPTY_OBJECT = {"type": "object", "properties": {}}


def _parameters(schema: Any) -> Any:
    return schema if isinstance(schema, dict) and schema else _EMPTY_OBJECT


def forced_schema(tools: List[Any], name: Optional[str], parallel: bool) -> Dict[str, Any]:
    """The JSON schema that forces a call: to ``name``, or (``None``) to any of ``tools``."""
    functions = list(tool_functions(tools))
    if name is not None:
        for function_name, parameters in functions:
            if function_name == name:
                return _parameters(parameters)
        raise KeyError(name)
    schema: Dict[str, Any] = {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "anyOf": [
                {
                    "properties": {
                        "name": {"type": "string", "enum": [function_name]},
                        "parameters": _parameters(parameters),
                    },
                    "required": ["name", "parameters"],
                }
                for function_name, parameters in functions
            ],
        },
    }
    if not parallel:
        schema["maxItems"] = 1
    return schema


class NamedCall:
    """The arguments a named choice forced, as one ``<tool_call>`` block."""

    __slots__ = ("_head", "_started")

    def __init__(self, name: str) -> None:
        self._head = '<tool_call>{"name": ' + json.dumps(name, ensure_ascii=False) + ', "arguments": '
        self._started = False

    def feed(self, text: str) -> str:
        if not text:
            return ""
        if not self._started:
            self._started = True
            return self._head + text
        return text

    def close(self) -> str:
        return "}</tool_call>" if self._started else ""


# What matters between and inside the array's items: brackets, braces, quotes, backslashes.
_SIGNIFICANT = re.compile(r'[\[\]{}"\\]')


class CallArray:
    """``[{"name": ..., "parameters": ...}, ...]`` (``required``) as ``<tool_call>``
    blocks, one per item; the text between items (``,``, blanks) is dropped.

    Only depth and string state are kept: the work is linear in the text fed.
    """

    __slots__ = ("_depth", "_string", "_escape")

    def __init__(self) -> None:
        self._depth = 0  # 0 outside the array, 1 between items, 2+ inside an item
        self._string = False
        self._escape = False

    def feed(self, text: str) -> str:
        out: List[str] = []
        position = 0
        keep_from = 0 if self._depth >= 2 else None  # where the item text being copied starts
        size = len(text)
        while position < size:
            if self._string:
                if self._escape:
                    self._escape = False
                    position += 1
                    continue
                match = _STRING_END.search(text, position)
                if match is None:
                    break
                position = match.end()
                if match.group() == "\\":
                    self._escape = True
                else:
                    self._string = False
                continue
            match = _SIGNIFICANT.search(text, position)
            if match is None:
                break
            char = match.group()
            position = match.end()
            if char == '"':
                self._string = self._depth >= 1
            elif char in "[{":
                self._depth += 1
                if self._depth == 2:  # an item opens
                    out.append("<tool_call>")
                    keep_from = position - 1
            elif char in "]}":
                if self._depth == 2:  # an item closes
                    out.append(text[keep_from:position])
                    out.append("</tool_call>")
                    keep_from = None
                self._depth = max(self._depth - 1, 0)
        if keep_from is not None:
            out.append(text[keep_from:])
        return "".join(out)

    def close(self) -> str:
        # An item cut off (max_tokens) stays open: the parser reports it truncated.
        return ""


_STRING_END = re.compile(r'["\\]')
