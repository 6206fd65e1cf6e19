"""The one reader of an OpenAI ``tools`` list, for the core and every room.

A request's ``tools`` arrives as dicts (JSON), as objects (vLLM's and the
OpenAI SDK's pydantic models), or as a request body holding ``"tools"``; a
tool is ``{"type": "function", "function": {"name", "parameters", ...}}`` or,
loosely, the function itself.  Entries without a string name are ignored here
(a server has validated the request; the command says more about a file).
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Iterable, Iterator, Optional, Tuple

__all__ = ["tool_functions", "tool_names", "tool_schemas"]


def _field(value: Any, name: str, default: Any = None) -> Any:
    if isinstance(value, dict):
        return value.get(name, default)
    return getattr(value, name, default)


def tool_functions(tools: Optional[Iterable[Any]]) -> Iterator[Tuple[str, Any]]:
    """Yield ``(name, parameters)`` for each declared function with a string name.

    ``parameters`` is the JSON Schema as given (a dict, or ``None`` when absent).
    """
    for tool in tools or ():
        function = _field(tool, "function", None)
        if function is None:
            function = tool
        name = _field(function, "name")
        if isinstance(name, str):
            yield name, _field(function, "parameters")


def tool_names(tools: Optional[Iterable[Any]]) -> Optional[FrozenSet[str]]:
    """The names declared in ``tools``, or ``None`` when no tools were given."""
    if tools is None:
        return None
    return frozenset(name for name, _ in tool_functions(tools))


def tool_schemas(tools: Optional[Iterable[Any]]) -> Optional[Dict[str, Any]]:
    """``{name: parameters schema or None}`` for ``tools``, or ``None`` when none were given.

    A name declared twice keeps its first schema, as the first match wins in a
    model's prompt.
    """
    if tools is None:
        return None
    schemas: Dict[str, Any] = {}
    for name, parameters in tool_functions(tools):
        schemas.setdefault(name, parameters)
    return schemas
