"""python_literals=True: Hermes-2-Pro's own call style (NousResearch's prompt), on both twins."""

import ast
import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hermes_parse import sequential_ids

from helpers import stream_in_steps


def check(backend, body, **options):
    """Parse a block whole and in 1- and 3-character chunks; all must agree."""
    options.setdefault("python_literals", True)
    text = "<tool_call>\n" + body + "\n</tool_call>"
    whole = backend.parse(text, call_id=sequential_ids(), **options)
    assert stream_in_steps(backend, text, 1, **options) == whole
    assert stream_in_steps(backend, text, 3, **options) == whole
    return whole


def expected(body):
    """What the spec says: json.dumps(ast.literal_eval(args), ensure_ascii=False)."""
    with warnings.catch_warnings():  # '\q' is deprecated, and still a backslash and a q
        warnings.simplefilter("ignore", DeprecationWarning)
        value = ast.literal_eval(body)
    return value["name"], json.dumps(value.get("arguments", {}), ensure_ascii=False)


HERMES_2_PRO = (
    "{'arguments': {'symbol': 'TSLA', 'period': None, 'adjusted': True}, "
    "'name': 'get_stock_fundamentals'}"
)


def test_hermes_2_pro_shape(backend):
    """NousResearch's prompt shape: single quotes, arguments first, None/True."""
    message = check(backend, HERMES_2_PRO)
    assert [(c.name, c.arguments) for c in message.tool_calls] == [expected(HERMES_2_PRO)]
    assert message.tool_calls[0].arguments == '{"symbol": "TSLA", "period": null, "adjusted": true}'
    assert message.problems == [] and message.content is None


def test_off_by_default(backend):
    """Without the option the default grammar stays strict JSON: the block is content."""
    text = "<tool_call>\n" + HERMES_2_PRO + "\n</tool_call>"
    message = backend.parse(text)
    assert message.tool_calls == [] and message.content == text
    assert [p.kind for p in message.problems] == ["not_a_call"]


@pytest.mark.parametrize(
    "args",
    [
        r"{'s': 'it\'s'}",
        """{'s': "a 'b'"}""",
        r"{'s': '\x41\u00e9\U0001F600\101\0\a\v\N{BULLET}'}",
        r"""{'s': 'a"b', 't': "a\"b"}""",
        "{'tab': 'a\tb', 'ctl': 'a\x01b'}",
        r"{'unknown': '\q\d'}",
        "{'cont': 'a\\\nb'}",
        "{'n': [None, True, False, {'x': None}]}",
        "{'i': [1_000, 0x1F, 0o17, 0b101, -5, +3, 00, 1., .5, 1e3, -0.0, 1_0.5e1_0]}",
        "{'l': [1, 2,], 'd': {'a': [None, False],},}",
        "{}",
    ],
)
def test_literals_become_json(backend, args):
    """Quoting, Python escapes, numbers, None/True/False and trailing commas give json.dumps(literal_eval())."""
    body = "{'name': 'f', 'arguments': " + args + "}"
    message = check(backend, body)
    assert [(c.name, c.arguments) for c in message.tool_calls] == [expected(body)]
    assert message.problems == []


def test_name_key_inside_arguments_written_first(backend):
    """Arguments before the name, with a 'name' key inside them: the outer name is the tool."""
    body = "{'arguments': {'name': 'inner', 'k': {'name': 'deeper'}}, 'name': 'outer'}"
    message = check(backend, body)
    assert [(c.name, c.arguments) for c in message.tool_calls] == [expected(body)]


def test_raw_mode_keeps_the_models_text(backend):
    """arguments="raw" gives the literal exactly as written."""
    args = "{'a': None, 'b': (\"x\"), }".replace(' (\"x\")', ' "x"')
    message = check(backend, "{'name': 'f', 'arguments': " + args + "}", arguments="raw")
    assert message.tool_calls[0].arguments == args


def test_arguments_as_a_string_holding_a_literal(backend):
    """'arguments' given as a string holding a dict literal is decoded, like JSON's."""
    body = "{'name': 'f', 'arguments': \"{'a': None}\"}"
    assert check(backend, body).tool_calls[0].arguments == '{"a": null}'


@pytest.mark.parametrize("number", ["1E-_7", "1_e5", "1._5", "0x_", "1__0", "1.5_"])
def test_numbers_float_refuses_are_invalid(backend, number):
    """Spellings float() and int() refuse are invalid in both twins (Cython's own float
    parser accepted "1E-_7": found by atheris)."""
    message = check(backend, "{'name': 'f', 'arguments': {'a': %s}}" % number)
    assert [p.kind for p in message.problems] == ["invalid_json"], number


@pytest.mark.parametrize("name", ["NOT A NAME", "\ud800", "x" * 200])
def test_unknown_character_names_are_invalid(backend, name):
    """\\N{...} with an unknown, unencodable or overlong name is invalid (found by atheris)."""
    message = check(backend, "{'name': 'f', 'arguments': {'a': '\\N{%s}'}}" % name)
    assert [c.name for c in message.tool_calls] == ["f"]
    assert [p.kind for p in message.problems] == ["invalid_json"]


@pytest.mark.parametrize(
    "value", ["(1, 2)", "{1, 2}", "b'x'", "f(1)", "1 + 2", "1j", "'a' 'b'", "u'x'", "'''x'''", "--1"]
)
def test_not_the_json_like_subset(backend, value):
    """Tuples, sets, bytes, calls, expressions, complex numbers and the like are invalid."""
    before = check(backend, "{'arguments': {'a': %s}, 'name': 'f'}" % value)
    assert before.tool_calls == [] and [p.kind for p in before.problems] == ["not_a_call"]
    after = check(backend, "{'name': 'f', 'arguments': {'a': %s}}" % value)
    # The name was out before the defect: the call stays, the defect is reported (rule 6).
    assert [c.name for c in after.tool_calls] == ["f"]
    assert [p.kind for p in after.problems] == ["invalid_json"]


_KEYS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True),
       args=st.dictionaries(_KEYS, _VALUES, max_size=5),
       order=st.booleans(), step=st.integers(1, 9))
def test_repr_round_trip(backend, name, args, order, step):
    """Calls rendered with repr() parse back to json.dumps of the same dict, in any chunking."""
    pairs = [("name", name), ("arguments", args)]
    if order:
        pairs.reverse()
    body = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in pairs) + "}"
    text = "<tool_call>\n" + body + "\n</tool_call>"
    whole = backend.parse(text, python_literals=True, call_id=sequential_ids())
    assert [(c.name, c.arguments) for c in whole.tool_calls] == [
        (name, json.dumps(args, ensure_ascii=False))
    ]
    assert whole.problems == []
    assert stream_in_steps(backend, text, step, python_literals=True) == whole


def test_json_still_parses_the_same_with_the_option(backend):
    """Strict JSON bodies give the same result with python_literals on."""
    text = '<tool_call>{"name": "f", "arguments": {"a": [1.5e3, "\\u00e9\\/", null, true], "b": {}}}</tool_call>'
    assert backend.parse(text, python_literals=True).tool_calls[0].arguments == (
        '{"a": [1500.0, "é/", null, true], "b": {}}'
    )
    ids = sequential_ids()
    assert backend.parse(text, python_literals=True, call_id=ids) == backend.parse(text, call_id=ids)
