"""The one reader of an OpenAI ``tools`` list, for the core and every room.

A request's ``tools`` arrives as dicts (JSON), as objects (vLLM's and the
OpenAI SDK's pydantic models), or as a request body holding ``"tools"``; a
tool is ``{"type": "function", "function": {"name", "parameters", ...}}`` or,
loosely, the function itself.  Entries without a string name are ignored here
(a server has validated the request; the command says more about a file).
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Iterable, Iterator, Optional, Tuple

__all__ = ["param_types", "tool_functions", "tool_names", "tool_schemas"]


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


# Parameter types as the machine's bodies use them (machine/codes.py: T_*).
# Kept here as plain numbers so that the core's readers of ``tools`` stay in
# one module; machine/codes.py holds the same numbers (a test checks it).
T_ANY, T_STRING, T_INTEGER, T_NUMBER, T_BOOLEAN, T_OBJECT, T_ARRAY, T_NULL = range(8)
T_NULLABLE = 16

# Type names outside JSON Schema, as models' templates and vLLM read them.
_TYPE_NAMES = {
    "string": T_STRING, "str": T_STRING, "text": T_STRING, "varchar": T_STRING,
    "char": T_STRING, "enum": T_STRING,
    "integer": T_INTEGER, "int": T_INTEGER,
    "number": T_NUMBER, "float": T_NUMBER, "double": T_NUMBER, "decimal": T_NUMBER,
    "boolean": T_BOOLEAN, "bool": T_BOOLEAN, "binary": T_BOOLEAN,
    "object": T_OBJECT, "dict": T_OBJECT, "map": T_OBJECT,
    "array": T_ARRAY, "list": T_ARRAY, "tuple": T_ARRAY, "arr": T_ARRAY,
    "null": T_NULL, "none": T_NULL,
}  # fmt: skip
_TYPE_PREFIXES = (
    ("int", T_INTEGER), ("uint", T_INTEGER), ("long", T_INTEGER), ("short", T_INTEGER),
    ("unsigned", T_INTEGER), ("num", T_NUMBER), ("float", T_NUMBER), ("double", T_NUMBER),
    ("list", T_ARRAY), ("array", T_ARRAY), ("dict", T_OBJECT),
)  # fmt: skip


def _type_name(name: Any) -> int:
    if not isinstance(name, str):
        return T_ANY
    name = name.strip().lower()
    code = _TYPE_NAMES.get(name)
    if code is not None:
        return code
    for prefix, code in _TYPE_PREFIXES:  # int64, float32, list[str] ...
        if name.startswith(prefix):
            return code
    return T_ANY


def _literal_type(value: Any) -> int:
    if value is None:
        return T_NULL
    if isinstance(value, bool):
        return T_BOOLEAN
    if isinstance(value, int):
        return T_INTEGER
    if isinstance(value, float):
        return T_NUMBER
    if isinstance(value, str):
        return T_STRING
    if isinstance(value, dict):
        return T_OBJECT
    if isinstance(value, (list, tuple)):
        return T_ARRAY
    return T_ANY


def _first_of(codes: Iterable[int]) -> int:
    """The first type that is not null, with the nullable flag if null is among them."""
    first = T_ANY
    nullable = False
    found = False
    for code in codes:
        if code & T_NULLABLE:
            nullable = True
        if code & 15 == T_NULL:
            nullable = True
        elif not found:
            first = code & 15
            found = True
    if not found and nullable:
        return T_NULL
    return first | T_NULLABLE if nullable else first


def schema_type(schema: Any, depth: int = 0) -> int:
    """The type code (``T_*``) of one parameter's JSON Schema.

    ``type`` (a name, or a list: the first non-null one), else ``anyOf`` /
    ``oneOf`` (the first non-null branch), else what ``enum`` / ``const``
    hold, else ``properties`` (object) or ``items`` (array); null allowed
    where listed (or ``nullable: true``).  Anything else is ``T_ANY``.
    """
    if not isinstance(schema, dict) or depth > 8:
        return T_ANY
    kind = schema.get("type")
    if isinstance(kind, list):
        code = _first_of(_type_name(name) for name in kind)
    elif kind is not None:
        code = _type_name(kind)
    elif isinstance(schema.get("anyOf"), list) or isinstance(schema.get("oneOf"), list):
        branches = schema.get("anyOf") or schema.get("oneOf") or ()
        code = _first_of(schema_type(branch, depth + 1) for branch in branches)
    elif isinstance(schema.get("enum"), list) and schema["enum"]:
        code = _first_of(_literal_type(value) for value in schema["enum"])
    elif "const" in schema:
        code = _literal_type(schema["const"])
    elif isinstance(schema.get("properties"), dict):
        code = T_OBJECT
    elif "items" in schema:
        code = T_ARRAY
    else:
        code = T_ANY
    if schema.get("nullable") is True and code & 15 not in (T_ANY, T_NULL):
        code |= T_NULLABLE
    return code


def param_types(tools: Optional[Iterable[Any]]) -> Optional[Dict[str, Dict[str, int]]]:
    """``{tool name: {parameter name: type code}}`` for ``tools``, or ``None``
    when none were given: how the XML dialects type the values a model wrote
    as text.  A parameter without a usable schema is ``T_ANY`` (left out)."""
    schemas = tool_schemas(tools)
    if schemas is None:
        return None
    types: Dict[str, Dict[str, int]] = {}
    for name, parameters in schemas.items():
        properties = _field(parameters, "properties") if parameters is not None else None
        codes: Dict[str, int] = {}
        if isinstance(properties, dict):
            for key, schema in properties.items():
                if isinstance(key, str):
                    code = schema_type(schema)
                    if code != T_ANY:
                        codes[key] = code
        types[name] = codes
    return types
