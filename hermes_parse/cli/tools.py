"""``--tools FILE``: the request's tools, and each call checked against them.

A call to a tool that is not declared is an ``unknown_tool`` problem (the
parser reports it for the calls it finds); arguments that fail the tool's
``parameters`` JSON Schema are ``schema_mismatch`` problems, one per error of
the validator (the ``jsonschema`` package: a real validator, every draft),
with a JSON pointer into the arguments and one into the schema.  The names
and schemas are read by the core's one reader of ``tools``
(``hermes_parse._tools``); this module adds the file, its error messages and
the validation.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from .._tools import tool_functions, tool_schemas
from .io import Fatal, UsageError


def _pointer(path) -> str:
    """RFC 6901 JSON pointer of a jsonschema error path."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class Tools:
    """The tools of one ``--tools`` file, each with a compiled schema validator."""

    def __init__(self, tools: List[dict], validators: Dict[str, Any]) -> None:
        self.declared = tools
        self._validators = validators

    @classmethod
    def load(cls, path: str) -> "Tools":
        """Read an OpenAI ``tools`` list (or a request body holding one).

        Raises ``UsageError`` for a file that is not such a list or whose schemas
        are not valid JSON Schemas, ``Fatal`` when ``jsonschema`` is missing.
        """
        try:
            import jsonschema
            from jsonschema import validators as jsonschema_validators
        except ImportError:
            raise Fatal(
                "--tools needs the 'jsonschema' package: pip install jsonschema"
                " (or pip install 'hermes-parse[cli]')"
            ) from None
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read())
        except OSError as exc:
            raise UsageError(f"--tools: cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UsageError(f"--tools: {path} is not JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("tools", [data] if "function" in data or "name" in data else None)
        if not isinstance(data, list):
            raise UsageError(
                f"--tools: {path} must hold an OpenAI tools list"
                ' ([{"type": "function", "function": {...}}]) or a request with "tools"'
            )
        for number, tool in enumerate(data):
            # The core's reader (hermes_parse._tools) skips a tool without a
            # name, as a server that validated the request may; a file gets told.
            read = list(tool_functions([tool])) if isinstance(tool, dict) else []
            if not read or not read[0][0]:
                raise UsageError(f"--tools: {path}: tool {number} has no function name")
        validators: Dict[str, Any] = {}
        for name, schema in (tool_schemas(data) or {}).items():
            if schema is None:
                validators[name] = None
                continue
            validator_class = jsonschema_validators.validator_for(
                schema, default=jsonschema.Draft202012Validator
            )
            try:
                validator_class.check_schema(schema)
            except jsonschema.SchemaError as exc:
                raise UsageError(
                    f"--tools: {path}: the parameters of {name!r} are not a valid JSON Schema"
                    f" (at {_pointer(exc.absolute_path) or '/'}): {exc.message}"
                ) from None
            validators[name] = validator_class(schema)
        return cls(data, validators)

    def check(self, index: int, name: str, arguments: str, known: bool) -> List[dict]:
        """Problems of one call (``index`` in the message's ``tool_calls``).

        ``known``: the parser has already reported it if the name is undeclared.
        Arguments that are not JSON were reported by the parser; they are not
        validated.
        """
        if name not in self._validators:
            if known:
                return []
            return [_problem("unknown_tool", index, f"{name!r} is not among the tools", "", None)]
        validator = self._validators[name]
        if validator is None:
            return []
        try:
            value = json.loads(arguments)
        except ValueError:
            return []
        return [
            _problem(
                "schema_mismatch",
                index,
                f"{name}: {error.message}",
                _pointer(error.absolute_path),
                _pointer(error.absolute_schema_path),
            )
            for error in sorted(
                validator.iter_errors(value),
                key=lambda e: (list(map(str, e.absolute_path)), e.message),
            )
        ]


def _problem(
    kind: str, index: int, detail: str, pointer: str, schema_pointer: Optional[str]
) -> dict:
    problem = {"kind": kind, "offset": None, "length": None, "index": index, "detail": detail}
    if kind == "schema_mismatch":
        problem["pointer"] = pointer
        problem["schema_pointer"] = schema_pointer
    return problem
