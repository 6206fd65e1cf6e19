"""Hypothesis strategies that write Hermes-format model outputs.

``hermes_outputs()`` writes well-formed outputs and knows what a parser must
make of them (:class:`HermesOutput`: the text plus the expected content and
calls).  ``damaged()`` breaks such outputs, by hand-made defects in the call
blocks and by character-level mutations.  ``token_soup()`` strings together
the pieces a Hermes output is made of, in any order.  ``cut_points()``,
``token_chunks()`` and ``chunkings()`` split a text the ways a stream may
arrive.  ``exceptional_calls()`` writes arguments where the spec departs from
``json.dumps(json.loads(...))`` (duplicate keys, lone surrogates, overflowing
numbers, huge ints, deep nesting) with what arguments="json" must give.
``parser_options()`` draws keyword arguments for ``StreamParser`` and ``parse``.

JSON values are drawn as trees whose numbers are :class:`Number` leaves (the
number's text as the model wrote it) so that the same value can be written in
many ways: through ``json.dumps`` (compact, spaced, indented; ASCII or not) or
by hand (random whitespace, every kind of string escape).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from hypothesis import strategies as st

__all__ = [
    "CLOSE_TAG",
    "Deep",
    "ExceptionalCall",
    "GeneratedCall",
    "HermesOutput",
    "JSON_WS",
    "Number",
    "OPEN_TAG",
    "Pairs",
    "TOOL_NAMES",
    "any_text",
    "arbitrary_text",
    "args_objects",
    "chunk",
    "chunkings",
    "content_segments",
    "cut_points",
    "damaged",
    "exceptional_calls",
    "expected_content",
    "hermes_outputs",
    "json_mode_text",
    "json_values",
    "names",
    "numbers",
    "parser_options",
    "render_call",
    "strings",
    "to_plain",
    "token_chunks",
    "token_soup",
]

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
JSON_WS = " \t\n\r"
TOOL_NAMES = ("get_weather", "search", "run_python", "send_email", "lookup")


# ---------------------------------------------------------------------------
# JSON values


@dataclass(frozen=True)
class Number:
    """A JSON number as the model wrote it (``-0``, ``1E5``, ``0.50e-3``...)."""

    text: str

    @property
    def value(self) -> Any:
        return json.loads(self.text)


def to_plain(node: Any) -> Any:
    """The Python value of a drawn JSON tree (what ``json.loads`` would give)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, dict):
        return {key: to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [to_plain(value) for value in node]
    return node


def _finite(number: Number) -> bool:
    value = number.value
    return not isinstance(value, float) or math.isfinite(value)


@st.composite
def _written_numbers(draw) -> Number:
    sign = draw(st.sampled_from(["", "", "-"]))
    whole = draw(st.one_of(st.just("0"), st.integers(1, 10**15).map(str)))
    fraction = draw(
        st.one_of(
            st.just(""),
            st.text("0123456789", min_size=1, max_size=25).map(lambda d: "." + d),
        )
    )
    exponent = ""
    if draw(st.booleans()):
        exponent = (
            draw(st.sampled_from("eE"))
            + draw(st.sampled_from(["", "+", "-"]))
            + draw(st.sampled_from(["", "0", "00"]))
            + str(draw(st.integers(0, 330)))
        )
    return Number(sign + whole + fraction + exponent)


def numbers() -> st.SearchStrategy[Number]:
    """Finite JSON numbers: ints (big ones too), ``repr`` floats, hand-written
    forms with fractions and exponents, negative zeros, underflows."""
    return _NUMBERS


_NUMBERS = st.one_of(
        st.integers(-(2**63), 2**63).map(lambda i: Number(str(i))),
        st.integers(-(10**40), 10**40).map(lambda i: Number(str(i))),
        st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Number(repr(f))),
        st.sampled_from(["-0", "-0.0", "-0e0", "0E-0", "1e-400", "5e-324", "1.7976931348623157e308"]).map(
            Number
        ),
        _written_numbers().filter(_finite),
)


_STRING_PIECES = [
    '"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
    "\u2028", "\u2029", "\ufeff", "\u00e9", "\u4e2d", "\U0001f600", "\U0010ffff",
    OPEN_TAG, CLOSE_TAG, "<", ">", "<tool", "{", "}", "[", "]", ",", ":",
    "```", "```json", "\\n", '\\"', "\\u0041", "name", "arguments", " ",
]  # fmt: skip


def strings(max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Text for JSON strings: unicode (astral too, never a lone surrogate),
    quotes, backslashes, control characters and Hermes tags."""
    if max_pieces not in _STRINGS:
        _STRINGS[max_pieces] = _make_strings(max_pieces)
    return _STRINGS[max_pieces]


_STRINGS: dict = {}


def _make_strings(max_pieces: int) -> st.SearchStrategy[str]:
    return st.lists(
        st.one_of(st.text(max_size=6), st.sampled_from(_STRING_PIECES)),
        max_size=max_pieces,
    ).map("".join)


_KEYS = ["city", "unit", "query", "q", "n", "options", "items", "code", "to",
         "body", "name", "arguments", "parameters", "type", CLOSE_TAG, ""]  # fmt: skip


_KEY_STRINGS = st.one_of(st.sampled_from(_KEYS), strings(max_pieces=3))
_LEAVES = st.one_of(st.none(), st.booleans(), numbers(), strings())
_JSON_VALUES: dict = {}


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON value: null, booleans, numbers, strings, nested arrays and objects."""
    if max_leaves not in _JSON_VALUES:
        _JSON_VALUES[max_leaves] = st.recursive(
            _LEAVES,
            lambda children: st.one_of(
                st.lists(children, max_size=4),
                st.dictionaries(_KEY_STRINGS, children, max_size=4),
            ),
            max_leaves=max_leaves,
        )
    return _JSON_VALUES[max_leaves]


_ARGS = st.dictionaries(_KEY_STRINGS, json_values(), max_size=5)


def args_objects() -> st.SearchStrategy[dict]:
    """A call's arguments: an object with unique keys."""
    return _ARGS


# ---------------------------------------------------------------------------
# Writing JSON text


@dataclass(frozen=True)
class _StringStyle:
    """How a hand-written JSON string escapes its characters."""

    escape_non_ascii: bool  # \uXXXX (surrogate pairs for astral characters)
    escape_slash: bool  # \/
    upper_hex: bool  # \u00E9 rather than \u00e9
    u_escapes_only: bool  # \u000a rather than \n, \u0022 rather than \"
    escape_letters: bool  # \u0061 for "a"


_string_styles = st.builds(
    _StringStyle, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()
)

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t", "\b": "\\b", "\f": "\\f"}  # fmt: skip


def _encode_string(text: str, style: _StringStyle) -> str:
    def u(code: int) -> str:
        return ("\\u%04X" if style.upper_hex else "\\u%04x") % code

    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _SHORT_ESCAPES and not style.u_escapes_only:
            out.append(_SHORT_ESCAPES[ch])
        elif ch in '"\\' or code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append(u(code))  # (a lone surrogate can only be written as an escape)
        elif ch == "/" and style.escape_slash:
            out.append("\\/")
        elif code >= 0x7F and style.escape_non_ascii:
            if code > 0xFFFF:
                code -= 0x10000
                out.append(u(0xD800 + (code >> 10)) + u(0xDC00 + (code & 0x3FF)))
            else:
                out.append(u(code))
        elif ch.isascii() and ch.isalpha() and style.escape_letters:
            out.append(u(code))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass(frozen=True)
class _DumpsStyle:
    """Written by ``json.dumps`` with these options."""

    indent: Any
    separators: Optional[Tuple[str, str]]
    ensure_ascii: bool

    def kwargs(self) -> dict:
        return {"indent": self.indent, "separators": self.separators, "ensure_ascii": self.ensure_ascii}

    def unit(self) -> str:
        return " " * self.indent if isinstance(self.indent, int) else self.indent


_dumps_styles = st.builds(
    _DumpsStyle,
    st.sampled_from([None, None, 0, 1, 2, 4, "\t"]),
    st.sampled_from([None, (",", ":"), (", ", ": "), (",", ": ")]),
    st.booleans(),
)
_HAND = "hand"  # the other style: written by hand, random whitespace and escapes
_styles = st.one_of(_dumps_styles, _dumps_styles, st.just(_HAND))
_ws_choices = st.sampled_from(["", "", "", " ", "\n", "\n  ", "\t", "\r\n", "  \n\t"])


def _write(draw, node: Any, style: Any, depth: int) -> str:
    """The JSON text of ``node`` as a value nested ``depth`` levels deep."""
    if style is _HAND:
        return _write_by_hand(draw, node)
    text = json.dumps(to_plain(node), **style.kwargs())
    if style.indent is not None and depth:
        text = text.replace("\n", "\n" + style.unit() * depth)
    return text


def _write_by_hand(draw, node: Any) -> str:
    if node is None:
        return "null"
    if node is True:
        return "true"
    if node is False:
        return "false"
    if isinstance(node, (Number, Deep)):
        return node.text
    if isinstance(node, str):
        return _encode_string(node, draw(_string_styles))
    if isinstance(node, list):
        if not node:
            return "[" + draw(_ws_choices) + "]"
        items = [draw(_ws_choices) + _write_by_hand(draw, item) + draw(_ws_choices) for item in node]
        return "[" + ",".join(items) + "]"
    if isinstance(node, Pairs):
        if not node.items:
            return "{" + draw(_ws_choices) + "}"
        return "{" + ",".join(_write_member(draw, key, value, _HAND, 0) for key, value in node.items) + "}"
    assert isinstance(node, dict)
    if not node:
        return "{" + draw(_ws_choices) + "}"
    return "{" + ",".join(_write_member(draw, key, value, _HAND, 0) for key, value in node.items()) + "}"


def _write_key(draw, key: str, style: Any) -> str:
    if style is _HAND:
        return _encode_string(key, draw(_string_styles))
    return json.dumps(key, ensure_ascii=style.ensure_ascii)


def _write_member(draw, key: str, value: Any, style: Any, depth: int) -> str:
    """``"key": value`` by hand (whitespace around it included)."""
    return (
        draw(_ws_choices)
        + _write_key(draw, key, style)
        + draw(_ws_choices)
        + ":"
        + draw(_ws_choices)
        + (value if isinstance(value, _Text) else _write(draw, value, style, depth))
        + draw(_ws_choices)
    )


class _Text(str):
    """Already written JSON text (not a value to write)."""


def _join_object(draw, members: List[Tuple[str, str]], style: Any) -> str:
    """An object from (key, written value) pairs, in the given order; a key may repeat."""
    if style is _HAND:
        if not members:
            return "{" + draw(_ws_choices) + "}"
        return "{" + ",".join(_write_member(draw, k, _Text(v), style, 1) for k, v in members) + "}"
    if not members:
        return "{}"
    if style.indent is None:
        item_sep, key_sep = style.separators or (", ", ": ")
        return "{" + item_sep.join(_write_key(draw, k, style) + key_sep + v for k, v in members) + "}"
    item_sep, key_sep = style.separators or (",", ": ")
    newline = "\n" + style.unit()
    return (
        "{"
        + newline
        + (item_sep + newline).join(_write_key(draw, k, style) + key_sep + v for k, v in members)
        + "\n}"
    )


# ---------------------------------------------------------------------------
# Tool calls and whole outputs


@dataclass(frozen=True)
class GeneratedCall:
    """One well-formed call and what a parser must make of it."""

    name: str
    args: dict  # the arguments as Python values ({} when missing or null)
    json_arguments: str  # arguments="json": json.dumps(args, ensure_ascii=False)
    raw_arguments: Optional[str]  # arguments="raw": the model's text (None: not pinned by the spec)
    block: str  # the whole block, tags and all


@dataclass(frozen=True)
class HermesOutput:
    """A model output and what a parser must make of it."""

    text: str
    content: Optional[str]
    calls: Tuple[GeneratedCall, ...]


def names() -> st.SearchStrategy[str]:
    return _NAMES


_NAMES = st.one_of(
        st.sampled_from(TOOL_NAMES),
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,24}", fullmatch=True),
        strings(max_pieces=3).filter(bool),
)


_EXTRA_KEYS = ["id", "type", "description", "index", "function", "tool"]
_BREAKAGES = [
    "name_not_string", "no_name", "null_name", "args_array", "args_scalar",
    "args_string_invalid", "args_string_not_object", "duplicate_arg_key",
    "duplicate_name", "trailing_text", "extra_brace", "not_json", "empty",
    "two_objects", "unclosed_object", "unclosed_block", "cut_after_name",
]  # fmt: skip


_FORMS = st.sampled_from(["object"] * 6 + ["string"] * 2 + ["null", "missing", "empty"])
_ARGS_KEYS = st.sampled_from(["arguments", "arguments", "parameters"])
_EXTRAS = st.lists(st.sampled_from(_EXTRA_KEYS), unique=True, max_size=2)
_ONE_IN_FIVE = st.sampled_from([True, False, False, False, False])
_FENCE_OPEN_WS = st.sampled_from(["\n", "\n", " \n", "\r\n", ""])
_FENCE_CLOSE_WS = st.sampled_from(["\n", "", " \n"])
_OPEN_WS = st.sampled_from(["\n", "\n", "", " ", "\n\n", "\r\n", "\t"])
_CLOSE_WS = st.sampled_from(["\n", "\n", "", " ", "\n\n", "\r\n"])


@st.composite
def render_call(draw, broken: bool = False) -> GeneratedCall:
    """One call block: name, arguments written as an object or as a string
    holding JSON, or null, or "", or missing; "parameters" for "arguments" sometimes;
    extra keys; keys in any order; json.dumps or hand-written; a markdown fence
    sometimes.  ``broken=True`` gives the call one of many defects (the
    returned expectations then do not hold)."""
    style = draw(_styles)
    name = draw(names())
    args = draw(args_objects())
    form = draw(_FORMS)
    args_key = draw(_ARGS_KEYS)

    if form == "object":
        args_text = _write(draw, args, style, 1)
        raw: Optional[str] = args_text
    elif form == "string":
        inner = _write(draw, args, draw(_styles), 0)
        raw = inner
        args_text = _write(draw, inner, style, 1)
    else:  # missing, null or "": {}
        args = {}
        args_text = '""' if form == "empty" else "null"
        raw = "{}" if form == "missing" else None  # raw mode of null and "" is not pinned down

    members: List[Tuple[str, str]] = [("name", _write(draw, name, style, 1))]
    if form != "missing":
        members.append((args_key, args_text))
    for key in draw(_EXTRAS):
        members.append((key, _write(draw, draw(json_values(max_leaves=4)), style, 1)))
    members = list(draw(st.permutations(members)))

    suffix = ""
    breakage = draw(st.sampled_from(_BREAKAGES)) if broken else None
    if breakage is not None:
        members, suffix = _break(draw, breakage, members, style, args_key)
    body = _join_object(draw, members, style) + suffix
    if breakage == "not_json":
        body = draw(st.sampled_from([f"{name}(city='Paris')", "get_weather", "[1, 2]", '"x"', "null"]))
    elif breakage == "empty":
        body = ""
    elif breakage == "unclosed_object":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif breakage == "cut_after_name":
        cut = body.find(members[0][1]) if members else -1
        body = body[: cut + len(members[0][1])] if cut >= 0 else body

    if draw(_ONE_IN_FIVE):
        body = (
            "```json"
            + draw(_FENCE_OPEN_WS)
            + body
            + draw(_FENCE_CLOSE_WS)
            + "```"
        )
    block = (
        OPEN_TAG
        + draw(_OPEN_WS)
        + body
        + draw(_CLOSE_WS)
        + ("" if breakage == "unclosed_block" else CLOSE_TAG)
    )
    plain_args = to_plain(args)
    return GeneratedCall(
        name=name,
        args=plain_args,
        json_arguments=json.dumps(plain_args, ensure_ascii=False),
        raw_arguments=raw,
        block=block,
    )


_RENDER_CALL = render_call()


def _break(draw, breakage, members, style, args_key):
    """Give a call's (key, written value) members one defect."""
    members = list(members)
    suffix = ""

    def set_value(key, text):
        for i, (k, _) in enumerate(members):
            if k == key:
                members[i] = (k, text)
                return
        members.append((key, text))

    if breakage == "name_not_string":
        set_value("name", draw(st.sampled_from(["5", "true", '{"name": "f"}', '["f"]', "-0.5e3"])))
    elif breakage == "null_name":
        set_value("name", "null")
    elif breakage == "no_name":
        members = [m for m in members if m[0] != "name"]
    elif breakage == "args_array":
        set_value(args_key, '[1, {"a": 2}]')
    elif breakage == "args_scalar":
        set_value(args_key, draw(st.sampled_from(["1", "true", '"plain text"', '""', "-0"])))
    elif breakage == "args_string_invalid":
        bad = ['"{\\"a\\": "', '"{1: 2}"', '"{\\"a\\": 1}}"', '"{\'a\': 1}"', '"{}x"']
        set_value(args_key, draw(st.sampled_from(bad)))
    elif breakage == "args_string_not_object":
        set_value(args_key, draw(st.sampled_from(['"[1, 2]"', '"3"', '"null"', '"\\"x\\""'])))
    elif breakage == "duplicate_arg_key":
        twice = ['{"a": 1, "a": 2}', '{"a": {"b": 1, "b": [2]}}', '{"x": 1, "y": 2, "x": 3}']
        set_value(args_key, draw(st.sampled_from(twice)))
    elif breakage == "duplicate_name":
        members.append(("name", json.dumps(draw(names()))))
    elif breakage == "trailing_text":
        suffix = draw(st.sampled_from([" trailing", "}", "\n{}", ",", " ```", ' {"name": "x"}']))
    elif breakage == "extra_brace":
        suffix = draw(st.sampled_from(["}", "}}", "]"]))
    elif breakage == "two_objects":
        suffix = draw(st.sampled_from(['\n{"name": "g", "arguments": {}}', '{"name": "g"}']))
    return members, suffix


_CONTENT_PIECES = [
    "<", "<tool", "<tool_call", "<tool_cal", CLOSE_TAG, "</tool", "</tool_call", "tool_call>",
    "<tool_call >", "<TOOL_CALL>", "<tool_calls>", "< tool_call>", "```json", "```", "{", "}",
    '{"name": "get_weather", "arguments": {}}', "\n", "\n\n", " ", "\U0001f600", "\U00010348",
    "\u00e9", "\u4e2d\u6587", "\u200b", "\r\n", "I'll check the weather.", "Done.", "<toolbox>", "<tool_",
]  # fmt: skip


def _clear_content(segment: str) -> bool:
    """Whitespace-only segments use JSON whitespace; any other segment holds a
    character that is whitespace by no definition, so the spec's whitespace
    rule decides it either way."""
    if OPEN_TAG in segment:
        return False
    return all(c in JSON_WS for c in segment) or any(not c.isspace() for c in segment)


def content_segments() -> st.SearchStrategy[str]:
    """Text between blocks: empty, JSON whitespace, or prose (unicode, astral
    characters, ``<``, ``<tool``, ``</tool_call>``... never ``<tool_call>``)."""
    return _CONTENT_SEGMENTS


_CONTENT_SEGMENTS = st.one_of(
        st.just(""),
        st.text(JSON_WS, min_size=1, max_size=4),
        st.lists(st.one_of(st.text(max_size=8), st.sampled_from(_CONTENT_PIECES)), min_size=1, max_size=5)
        .map("".join)
        .filter(_clear_content),
)


def expected_content(segments: List[str]) -> Optional[str]:
    """Content under the spec's whitespace rule, for outputs whose every
    segment is at the start or right after a block: whitespace-only segments
    are dropped, the rest kept whole."""
    return "".join(s for s in segments if not all(c in JSON_WS for c in s)) or None


@st.composite
def hermes_outputs(draw, min_calls: int = 0, max_calls: int = 4) -> HermesOutput:
    """A well-formed Hermes output: prose and whitespace around 0..4 call blocks."""
    calls = tuple(draw(_RENDER_CALL) for _ in range(draw(st.integers(min_calls, max_calls))))
    segments = [draw(content_segments()) for _ in range(len(calls) + 1)]
    text = segments[0] + "".join(call.block + segment for call, segment in zip(calls, segments[1:]))
    return HermesOutput(text=text, content=expected_content(segments), calls=calls)


# ---------------------------------------------------------------------------
# The documented exceptions to json.dumps(json.loads(...))


@dataclass(frozen=True)
class Deep:
    """Arrays and objects nested deeper than Python's recursion limit."""

    text: str  # as written
    expected: str  # what arguments="json" gives


def _deep(depth: int, as_object: bool) -> Deep:
    if as_object:
        return Deep('{"a":' * depth + "1" + "}" * depth, '{"a": ' * depth + "1" + "}" * depth)
    return Deep("[" * depth + "1" + "]" * depth, "[" * depth + "1" + "]" * depth)


@dataclass(frozen=True)
class Pairs:
    """A JSON object as written: its (key, value) members in order, keys may repeat."""

    items: Tuple[Tuple[str, Any], ...]


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_mode_string(text: str) -> str:
    """json.dumps(text, ensure_ascii=False), but a lone surrogate as its lowercase escape."""
    return _LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), json.dumps(text, ensure_ascii=False))


def json_mode_text(node: Any) -> str:
    """What arguments="json" must give for a tree with the documented exceptions:
    json.dumps(..., ensure_ascii=False) except that every duplicate key is kept,
    a lone surrogate stays a (lowercase) escape, and a number that overflows a
    double or is an int of more than 4300 digits stays as written."""
    if isinstance(node, Pairs):
        return "{" + ", ".join(_json_mode_string(k) + ": " + json_mode_text(v) for k, v in node.items) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(json_mode_text(v) for v in node) + "]"
    if isinstance(node, Number):
        try:
            value = node.value
        except ValueError:  # int longer than Python's 4300-digit limit
            return node.text
        if isinstance(value, float) and math.isinf(value):
            return node.text
        return json.dumps(value)
    if isinstance(node, str):
        return _json_mode_string(node)
    if isinstance(node, Deep):
        return node.expected
    return json.dumps(node)


def _no_surrogate_pair(text: str) -> bool:
    """True when no high surrogate is right before a low one (escaped, they would pair up)."""
    return not any(
        0xD800 <= ord(a) <= 0xDBFF and 0xDC00 <= ord(b) <= 0xDFFF for a, b in zip(text, text[1:])
    )


_ODD_NUMBERS = st.sampled_from(
    ["1e999", "-1e400", "1.5E+309", "1e309", "-0.1e999", "1" * 400 + ".5", "9" * 4301, "-" + "1" * 4400]
).map(Number)
_ODD_STRINGS = (
    st.lists(st.one_of(strings(max_pieces=2), st.characters(categories=["Cs"])), max_size=4)
    .map("".join)
    .filter(_no_surrogate_pair)
)
_ODD_KEYS = st.one_of(st.sampled_from(["a", "b", "a", "\ud800"]), _ODD_STRINGS)
_DEEP = st.builds(_deep, st.integers(1000, 5000), st.booleans())
_ODD_LEAVES = st.one_of(st.none(), st.booleans(), numbers(), _ODD_NUMBERS, _ODD_STRINGS, _DEEP)
_ODD_VALUES = st.recursive(
    _ODD_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(st.tuples(_ODD_KEYS, children), max_size=4).map(lambda items: Pairs(tuple(items))),
    ),
    max_leaves=8,
)
_ODD_ARGS = st.lists(st.tuples(_ODD_KEYS, _ODD_VALUES), max_size=4).map(lambda items: Pairs(tuple(items)))


@dataclass(frozen=True)
class ExceptionalCall:
    """One call whose arguments use the documented exceptions."""

    text: str  # the whole output: one block
    name: str
    json_arguments: str  # what arguments="json" must give
    raw_arguments: str  # what arguments="raw" must give


@st.composite
def exceptional_calls(draw) -> ExceptionalCall:
    """A block whose arguments hold duplicate keys, lone surrogate escapes,
    numbers that overflow a double, ints of more than 4300 digits, nesting
    deeper than Python's recursion limit (as an object, or as a string holding it)."""
    args = draw(_ODD_ARGS)
    args_text = _write_by_hand(draw, args)
    name = draw(names())
    if draw(st.booleans()):
        written = args_text
    else:
        written = _encode_string(args_text, draw(_string_styles))
    members = [("name", _write(draw, name, _HAND, 1)), (draw(_ARGS_KEYS), written)]
    members = list(draw(st.permutations(members)))
    text = OPEN_TAG + "\n" + _join_object(draw, members, _HAND) + "\n" + CLOSE_TAG
    return ExceptionalCall(text, name, json_mode_text(args), args_text)


# ---------------------------------------------------------------------------
# Damaged outputs


_INSERTIONS = ["{", "}", "[", "]", '"', "\\", ",", ":", " ", "\n", OPEN_TAG, CLOSE_TAG,
               "<tool_call", "</tool_call", "```", "```json\n", "null", "x", "\\u", "\ud800"]  # fmt: skip


_MUTATIONS = st.sampled_from(
    ["truncate", "truncate_in_token", "delete", "duplicate", "swap", "insert", "cut_tag", "brace"]
)
_TOKEN_ENDS = frozenset('0123456789.eE+-"\\ulnrtsa')


@st.composite
def _mutate(draw, text: str) -> str:
    kind = draw(_MUTATIONS)
    if not text:
        kind = "insert"
    at = draw(st.integers(0, len(text)))
    if kind == "truncate":
        return text[:at]
    if kind == "truncate_in_token":  # right after a digit, letter, quote, escape: where tokens end
        spots = [i for i in range(1, len(text) + 1) if text[i - 1] in _TOKEN_ENDS]
        return text[: draw(st.sampled_from(spots))] if spots else text[:at]
    if kind == "delete":
        return text[:at] + text[at + draw(st.integers(1, 4)) :]
    if kind == "duplicate":
        n = draw(st.integers(1, 12))
        return text[: at + n] + text[at : at + n] + text[at + n :]
    if kind == "swap":
        at = min(at, len(text) - 2)
        if at < 0:
            return text[::-1]
        return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    if kind == "insert":
        return text[:at] + draw(st.sampled_from(_INSERTIONS)) + text[at:]
    if kind == "cut_tag":
        spots = [i for tag in (OPEN_TAG, CLOSE_TAG) for i in _find_all(text, tag)]
        if not spots:
            return text[:at]
        start = draw(st.sampled_from(spots))
        tag = OPEN_TAG if text.startswith(OPEN_TAG, start) else CLOSE_TAG
        lo = draw(st.integers(0, len(tag) - 1))
        hi = draw(st.integers(lo + 1, len(tag)))
        return text[: start + lo] + text[start + hi :]
    # unbalance braces: drop one brace or bracket, or add one
    spots = [i for i, c in enumerate(text) if c in "{}[]"]
    if spots and draw(st.booleans()):
        i = draw(st.sampled_from(spots))
        return text[:i] + text[i + 1 :]
    return text[:at] + draw(st.sampled_from("{}[]")) + text[at:]


def _find_all(text: str, needle: str) -> List[int]:
    found, i = [], text.find(needle)
    while i >= 0:
        found.append(i)
        i = text.find(needle, i + 1)
    return found


@st.composite
def damaged(draw) -> str:
    """A Hermes output with defects: blocks with broken bodies (no name, name
    not a string, arguments not an object, duplicate keys, trailing text, not
    JSON, unclosed...) and/or character mutations (truncate anywhere or where
    a token ends, delete, duplicate, swap, insert, cut tags, unbalance braces)."""
    n = draw(st.integers(1, 4))
    blocks = [draw(render_call(broken=draw(st.booleans()))).block for _ in range(n)]
    segments = [draw(content_segments()) for _ in range(n + 1)]
    text = segments[0] + "".join(b + s for b, s in zip(blocks, segments[1:]))
    for _ in range(draw(st.integers(0, 3))):
        text = draw(_mutate(text))
    return text


_SOUP = [OPEN_TAG, CLOSE_TAG, OPEN_TAG[:5], CLOSE_TAG[:7], "{", "}", "[", "]", '"name"', '"arguments"',
         '"parameters"', ":", ",", '"get_weather"', '"x"', '"', "\\", "\\n", "\\ud83d", "\\ude00",
         "\\u00e9", " ", "\n", "```json", "```", "1", "-0", "1e999", "true", "null", "hi",
         "\U0001f600"]  # fmt: skip


def token_soup() -> st.SearchStrategy[str]:
    """The pieces Hermes outputs are made of, strung together in any order."""
    return st.lists(st.sampled_from(_SOUP), max_size=40).map("".join)


def arbitrary_text() -> st.SearchStrategy[str]:
    """Any str, lone surrogates included."""
    return st.one_of(
        st.text(),
        st.text(st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from("<>{}\"\\"))),
    )


_THINKING = ["<think>", "</think>", "<think>\n", "\n</think>\n\n", "<thi", "</thin", "<", "</",
             "<tool_call>", "Let me think.", " ", "\n"]  # fmt: skip


@st.composite
def thinking(draw) -> str:
    """A reasoning model's output: reasoning (with or without its tags, tags
    cut or inside it) before an output of any other kind."""
    before = "".join(draw(st.lists(st.sampled_from(_THINKING), max_size=8)))
    after = draw(st.one_of(hermes_outputs().map(lambda output: output.text), damaged(), token_soup()))
    return before + after


def any_text() -> st.SearchStrategy[str]:
    """Well-formed, damaged, soup, reasoning or arbitrary text."""
    return st.one_of(
        hermes_outputs().map(lambda output: output.text),
        exceptional_calls().map(lambda call: call.text),
        damaged(),
        token_soup(),
        thinking(),
        arbitrary_text(),
    )


# ---------------------------------------------------------------------------
# Chunkings


def cut_points(length: int, max_cuts: int = 40) -> st.SearchStrategy[List[int]]:
    """Sorted cut positions in 0..length; repeats give empty chunks."""
    return st.lists(st.integers(0, length), max_size=max_cuts).map(sorted)


def chunk(text: str, cuts: List[int]) -> List[str]:
    """Split ``text`` at the sorted ``cuts``; the chunks join back to ``text``."""
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


@st.composite
def token_chunks(draw, text: str) -> List[str]:
    """Chunks the way an LLM server streams them: a few characters each, the
    tags often whole (Hermes tokenizers make them special tokens)."""
    lengths = draw(st.lists(st.integers(1, 8), min_size=1, max_size=16))
    whole_tags = draw(st.booleans())
    chunks: List[str] = []
    i = k = 0
    while i < len(text):
        tag = next((t for t in (OPEN_TAG, CLOSE_TAG) if text.startswith(t, i)), None)
        if whole_tags and tag is not None:
            n = len(tag)
        else:
            n = lengths[k % len(lengths)]
            k += 1
        chunks.append(text[i : i + n])
        i += n
    assert "".join(chunks) == text
    return chunks


def chunkings(text: str) -> st.SearchStrategy[List[str]]:
    """Any way to split ``text``: random cuts, token-like, one character at a time, whole."""
    return st.one_of(
        cut_points(len(text)).map(lambda cuts: chunk(text, cuts)),
        token_chunks(text),
        st.just(list(text)),
        st.just([text]),
    )


# ---------------------------------------------------------------------------
# Options


@st.composite
def parser_options(draw, modes=("json", "raw"), call_id=None, max_buffer: bool = True) -> dict:
    """Keyword arguments for ``StreamParser``/``parse``: arguments mode, tools
    and unknown_tool, a small max_buffer sometimes.  ``call_id`` is a factory
    (such as ``sequential_ids``) so that every draw gets deterministic ids."""
    options: dict = {"arguments": draw(st.sampled_from(modes))}
    if call_id is not None:
        options["call_id"] = call_id()
    if draw(st.integers(0, 2)) == 0:
        tool_names = draw(st.lists(st.sampled_from(TOOL_NAMES), unique=True, max_size=3))
        options["tools"] = [
            {"type": "function", "function": {"name": n, "parameters": {"type": "object", "properties": {}}}}
            for n in tool_names
        ]
        options["unknown_tool"] = draw(st.sampled_from(["call", "content"]))
    if max_buffer and draw(st.integers(0, 4)) == 0:
        options["max_buffer"] = draw(st.integers(1, 200))
    reasoning = draw(st.sampled_from([False, False, True, "open"]))
    if reasoning is not False:
        options["reasoning"] = reasoning
    return options
