"""What the XML dialects share: the parameter types read from ``tools``
(``_tools.param_types``), the values read as JSON by type (``values.json_value``),
string escaping (``values.escape_into``), and the ``dialect`` option itself."""

from __future__ import annotations

import importlib
import json

import pytest

import hermes_parse.machine
from hermes_parse import _tools
from hermes_parse._tools import param_types, schema_type
from hermes_parse.machine import codes

T = _tools


def tools_with(properties):
    return [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": properties}}}]


def test_type_codes_are_the_machines():
    """_tools keeps the machine's numbers as plain ints: they must be the same."""
    for name in ("T_ANY", "T_STRING", "T_INTEGER", "T_NUMBER", "T_BOOLEAN", "T_OBJECT", "T_ARRAY", "T_NULL", "T_NULLABLE"):
        assert getattr(_tools, name) == getattr(codes, name), name


@pytest.mark.parametrize(
    "schema, code",
    [
        ({"type": "string"}, T.T_STRING),
        ({"type": "integer"}, T.T_INTEGER),
        ({"type": "number"}, T.T_NUMBER),
        ({"type": "boolean"}, T.T_BOOLEAN),
        ({"type": "object"}, T.T_OBJECT),
        ({"type": "array", "items": {"type": "string"}}, T.T_ARRAY),
        ({"type": "null"}, T.T_NULL),
        ({"type": ["integer", "null"]}, T.T_INTEGER | T.T_NULLABLE),
        ({"type": ["null", "string"]}, T.T_STRING | T.T_NULLABLE),
        ({"anyOf": [{"type": "null"}, {"type": "object"}]}, T.T_OBJECT | T.T_NULLABLE),
        ({"oneOf": [{"type": "array"}, {"type": "string"}]}, T.T_ARRAY),
        ({"enum": ["a", "b"]}, T.T_STRING),
        ({"enum": [1, 2, None]}, T.T_INTEGER | T.T_NULLABLE),
        ({"const": True}, T.T_BOOLEAN),
        ({"properties": {}}, T.T_OBJECT),
        ({"items": {}}, T.T_ARRAY),
        ({"type": "string", "nullable": True}, T.T_STRING | T.T_NULLABLE),
        # vLLM's aliases for type names outside JSON Schema.
        ({"type": "str"}, T.T_STRING),
        ({"type": "int64"}, T.T_INTEGER),
        ({"type": "float"}, T.T_NUMBER),
        ({"type": "bool"}, T.T_BOOLEAN),
        ({"type": "dict"}, T.T_OBJECT),
        ({"type": "list"}, T.T_ARRAY),
        ({"type": "Integer "}, T.T_INTEGER),
        ({"description": "untyped"}, T.T_ANY),
        ({"$ref": "#/defs/x"}, T.T_ANY),
        ({"type": "weird"}, T.T_ANY),
        ("not a schema", T.T_ANY),
    ],
)
def test_schema_type(schema, code):
    assert schema_type(schema) == code


def test_param_types():
    tools = tools_with({"city": {"type": "string"}, "days": {"type": "integer"}, "note": {}})
    tools.append({"type": "function", "function": {"name": "g"}})  # no parameters
    assert param_types(tools) == {"f": {"city": T.T_STRING, "days": T.T_INTEGER}, "g": {}}
    assert param_types(None) is None
    assert param_types([]) == {}


@pytest.fixture(params=["cython", "python"])
def values(request):
    """values.py and a JsonReader of one twin."""
    if request.param == "python":
        hermes_parse.machine.load("python")
        package = hermes_parse.machine.PURE_PACKAGE
    else:
        if hermes_parse.machine.compiled() is None:
            pytest.skip("the Cython extension is not built")
        package = "hermes_parse.machine"
    module = importlib.import_module(package + ".values")
    reader = importlib.import_module(package + ".reader").JsonReader()
    return lambda text, code: module.json_value(text, code, reader), module.escape_into


@pytest.mark.parametrize(
    "text, code, expected",
    [
        (" 3.0 ", T.T_INTEGER, "3.0"),  # json.dumps of the parsed value, as everywhere
        ("\n42\n", T.T_INTEGER, "42"),
        ("1e5", T.T_NUMBER, "100000.0"),
        ("-0", T.T_NUMBER, "0"),
        ("007", T.T_INTEGER, None),
        ("12 3", T.T_INTEGER, None),
        ("ten", T.T_INTEGER, None),
        ("True", T.T_BOOLEAN, "true"),
        ("FALSE", T.T_BOOLEAN, "false"),
        ("yes", T.T_BOOLEAN, None),
        ("{'a': True, 'b': None}", T.T_OBJECT, '{"a": true, "b": null}'),  # Qwen3.5's str()
        ('{"a":1}', T.T_OBJECT, '{"a": 1}'),
        ("[1,2]", T.T_ARRAY, "[1, 2]"),
        ("['x', 'y']", T.T_ARRAY, '["x", "y"]'),
        ('"{\\"a\\": 1}"', T.T_OBJECT, None),  # a repr in a string does not fit: no double decoding
        ("[1,", T.T_ARRAY, None),
        ("{}", T.T_ARRAY, None),
        ("null", T.T_INTEGER, "null"),  # null for non-string types
        ("None", T.T_OBJECT, "null"),
        ("None", T.T_STRING | T.T_NULLABLE, "null"),
        ("null", T.T_STRING, None),  # a string that does not allow null stays a string
        ("null", T.T_NULL, "null"),
        ("0", T.T_NULL, None),
        ('"s"', T.T_ANY, '"s"'),
        ("12", T.T_ANY, "12"),
        ("Beijing", T.T_ANY, None),
        ("", T.T_ANY, None),
        ("  ", T.T_INTEGER, None),
        ("x", T.T_STRING, None),
    ],
)
def test_json_value(values, text, code, expected):
    json_value, _ = values
    assert json_value(text, code) == expected


@pytest.mark.parametrize("text", ['a"b\\c\nd\x01\x1fé\u2028\t\r\b\f', "", "plain", "\ud800 lone"])
def test_escape_into_is_json_dumps(values, text):
    _, escape_into = values
    out = []
    escape_into(out, "<<" + text + ">>", 2, 2 + len(text))
    assert '"' + "".join(out) + '"' == json.dumps(text, ensure_ascii=False)


def test_dialect_option(backend):
    with pytest.raises(ValueError, match="dialect"):
        backend.StreamParser(dialect="xml")
    with pytest.raises(ValueError, match="dialect"):
        backend.parse("x", dialect=None)
    text = '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'
    for dialect in ("hermes", "auto"):
        message = backend.parse(text, dialect=dialect)
        assert [(c.name, c.arguments) for c in message.tool_calls] == [("f", '{"a": 1}')]


def test_readme_dialect_example_is_true():
    """README's Dialects example runs, and each ``expression  # value`` line holds."""
    import pathlib
    import re

    import hermes_parse

    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Dialects:", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    checked = [re.fullmatch(r"(\S[^#]*?)\s+# (.+)", line) for line in code.splitlines()]
    names = {"hermes_parse": hermes_parse}
    exec("\n".join(line for line, match in zip(code.splitlines(), checked) if not match), names)
    checks = [match.groups() for match in checked if match]
    assert len(checks) == 2
    for expression, value in checks:
        assert eval(expression, names) == eval(value), expression
