"""Each call's arguments checked against its tool's ``parameters`` JSON Schema.

One ``Validators`` per request, made from its ``tools`` (a schema is compiled
the first time a call to its tool is checked).  A call's problems are
``schema_mismatch`` (one per error of the validator, with JSON pointers into
the arguments and the schema, as ``hermes-parse extract --tools`` reports
them); arguments that are not JSON were reported by the parser already.  An
undeclared name is the parser's ``unknown_tool``.  A schema that is not a
valid JSON Schema is not checked (``invalid_schema``, once): the request is
the client's, the proxy does not refuse it for that.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from .._tools import tool_schemas

__all__ = ["Validators"]


def _pointer(path) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class Validators:
    """The request's tools, by name, each with its schema."""

    __slots__ = ("_schemas", "_compiled")

    def __init__(self, tools: Any) -> None:
        self._schemas: Dict[str, Any] = tool_schemas(tools) or {}
        self._compiled: Dict[str, Any] = {}

    def wants(self, name: str) -> bool:
        """Whether a call to ``name`` has a schema to check (so its arguments are kept)."""
        return isinstance(self._schemas.get(name), dict)

    def _validator(self, name: str) -> Optional[Any]:
        if name in self._compiled:
            return self._compiled[name]
        import jsonschema
        from jsonschema import validators

        schema = self._schemas[name]
        cls = validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        try:
            cls.check_schema(schema)
            validator = cls(schema)
        except jsonschema.SchemaError:
            validator = None
        self._compiled[name] = validator
        return validator

    def check(self, index: int, name: str, arguments: str) -> Tuple[bool, List[dict]]:
        """Whether call ``index`` is valid, and its problems (dicts, as
        ``Problem.to_dict`` gives them).  Arguments that are not JSON are not
        valid, with no problem here (the parser reported them)."""
        try:
            value = json.loads(arguments)
        except ValueError:
            return False, []
        if not self.wants(name):
            return True, []
        validator = self._validator(name)
        if validator is None:
            detail = f"{name}: the tool's parameters are not a valid JSON Schema"
            return True, [_problem("invalid_schema", index, detail)]
        problems = []
        for error in sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
            problem = _problem("schema_mismatch", index, f"{name}: {error.message}")
            problem["pointer"] = _pointer(error.absolute_path)
            problem["schema_pointer"] = _pointer(error.absolute_schema_path)
            problems.append(problem)
        return not problems, problems


def _problem(kind: str, index: Optional[int], detail: str) -> dict:
    return {"kind": kind, "offset": None, "length": None, "index": index, "detail": detail}
