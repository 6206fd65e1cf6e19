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


# ---------------------------------------------------------------------------
# The XML dialects: Qwen3-Coder (``<function=NAME>`` / ``<parameter=NAME>``)
# and GLM (``NAME<arg_key>K</arg_key><arg_value>V</arg_value>``), with the
# request's tools: random tools whose parameters have JSON Schema types, so
# that a value is typed by its schema (docs/dialects.md, "Typing the values").

XML_DIALECTS = ("qwen3_coder", "glm")
DIALECTS = ("hermes", "qwen3_coder", "glm", "auto")
QWEN_TAGS = ("<function=", "</function>", "<parameter=", "</parameter>")
GLM_TAGS = ("<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>")

# A parameter's schema and how a fitting value of it is drawn (see _typed_value).
_SCHEMAS = [
    ("string", {"type": "string"}),
    ("string", {"type": "string", "enum": ["a", "b"]}),
    ("nullable_string", {"type": ["string", "null"]}),
    ("nullable_string", {"anyOf": [{"type": "string"}, {"type": "null"}]}),
    ("integer", {"type": "integer"}),
    ("integer", {"type": "int"}),  # vLLM's alias
    ("number", {"type": "number"}),
    ("number", {"type": "float"}),
    ("boolean", {"type": "boolean"}),
    ("object", {"type": "object", "properties": {}}),
    ("object", {"type": "dict"}),
    ("array", {"type": "array", "items": {}}),
    ("null", {"type": "null"}),
    ("nullable_integer", {"type": ["integer", "null"]}),
    ("any", {}),
    ("any", {"description": "no type"}),
]
_PARAM_NAMES = ["path", "content", "city", "n", "limit", "verbose", "options", "items", "query",
                "ratio", "mode", "x", "old_str", "new_str", "timeout"]  # fmt: skip


@dataclass(frozen=True)
class XmlTool:
    """A tool of the request: its name and (parameter, kind, schema) triples."""

    name: str
    params: Tuple[Tuple[str, str, Any], ...]

    def openai(self) -> dict:
        return {"type": "function", "function": {"name": self.name, "parameters": {
            "type": "object", "properties": {p: dict(schema) for p, _, schema in self.params}}}}

    def kind(self, param: str) -> str:
        return next((kind for p, kind, _ in self.params if p == param), "any")


@st.composite
def xml_tools(draw) -> Tuple[XmlTool, ...]:
    """One to three tools with typed parameters (names unique)."""
    names_ = draw(st.lists(st.sampled_from(TOOL_NAMES), min_size=1, max_size=3, unique=True))
    tools = []
    for name in names_:
        params = draw(st.lists(st.sampled_from(_PARAM_NAMES), max_size=4, unique=True))
        tools.append(XmlTool(name, tuple((p, *draw(st.sampled_from(_SCHEMAS))) for p in params)))
    return tuple(tools)


# Text of a string value: prose, code, unicode and the tags themselves where
# they cannot end the value (docs/dialects.md rule 4/5: a </parameter> not
# followed by a tag, a tag in the middle of a line).
_XML_STRING_PIECES = [
    "x", "Zürich", "東京", "🚀", " ", "  ", "\t", "\n", "\r\n", '"', "'", "\\", "\\n", "{", "}",
    "[1, 2]", "null", "None", "True", "42", "<", ">", "a < b", "<b>bold</b>", "def f():\n    return 1\n",
    "</parameter> and more", "see <parameter=x> here", "a </function> b", "x </tool_call> y",
    "</arg_value> not yet", "<arg_key>k</arg_key> inline", "<tool_call", "<think>", "\u2028", "\x00", "\x1f",
]  # fmt: skip
_XML_TEXT = st.lists(st.one_of(st.text(max_size=5), st.sampled_from(_XML_STRING_PIECES)), max_size=6).map("".join)
_PLAIN_WORDS = ["hello", "world", "the", "file", "is", "ready", "ok", "x1", "naïve", "東京"]


def _xml_safe(text: str, dialect: str) -> bool:
    """True when ``text`` as a string value is read back exactly: nothing in it
    can end the value (docs/dialects.md, rules 4 and 5; GLM's </arg_value> and
    </tool_call> rules), and no tag prefix is left hanging at its end."""
    if dialect == "qwen3_coder":
        ends = ("<parameter=", "</function>", "</tool_call>")
        for i, line in enumerate(text.split("\n")):
            if line.startswith(ends) or (i == 0 and text.startswith(ends)):
                return False
        if re.search(r"</parameter>\s*(<parameter=|</function>|</tool_call>|$)", text):
            return False
        if re.search(r"</parameter>\s*$|<$", text):
            return False
    else:
        if re.search(r"</arg_value>\s*(<arg_key>|</tool_call>|<|$)", text):
            return False
        if re.search(r"</tool_call>\s*(<|$)", text):
            return False
    # A trailing prefix of a closing tag would join the real closing tag.
    return not any(text.endswith(tag[:k]) for tag in ("</parameter>", "</arg_value>", "</tool_call>")
                   for k in range(1, len(tag)))


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                          st.text(alphabet="abcxyz é東", max_size=5))
_PY_VALUES = st.recursive(_JSON_SCALARS, lambda c: st.one_of(
    st.lists(c, max_size=3), st.dictionaries(st.text(alphabet="abkey", min_size=1, max_size=3), c, max_size=3)),
    max_leaves=6)


@st.composite
def _typed_value(draw, kind: str, dialect: str) -> Tuple[str, Any, bool]:
    """(text as the model writes it, the JSON value it must give, streams as a string)."""
    if kind in ("string", "nullable_string") or (kind == "any" and dialect == "qwen3_coder"):
        text = draw(_XML_TEXT.filter(lambda t: _xml_safe(t, dialect)))
        if kind == "nullable_string" and text in ("null", "None"):
            return text, None, False
        return text, text, True
    if kind == "any":  # GLM, no schema: JSON, else a Python literal, else the raw text
        choice = draw(st.integers(0, 2))
        if choice == 0:
            value = draw(_PY_VALUES.filter(lambda v: not isinstance(v, str)))
            return json.dumps(value, ensure_ascii=False), value, False
        if choice == 1:
            value = draw(_PY_VALUES.filter(lambda v: isinstance(v, (dict, list))))
            return repr(value), value, False
        words = draw(st.lists(st.sampled_from(_PLAIN_WORDS), min_size=2, max_size=4))
        return " ".join(words), " ".join(words), False
    pad = draw(st.sampled_from(["", "", " ", "  "]))
    if kind in ("integer", "nullable_integer"):
        if kind == "nullable_integer" and draw(st.booleans()):
            text = draw(st.sampled_from(["null", "None"]))
            return pad + text + pad, None, False
        value = draw(st.integers(-(2**63), 2**63))
        return pad + str(value) + pad, value, False
    if kind == "number":
        text = draw(st.one_of(st.integers(-10**9, 10**9).map(str),
                              st.floats(allow_nan=False, allow_infinity=False).map(repr)))
        return pad + text + pad, json.loads(text), False
    if kind == "boolean":
        value = draw(st.booleans())
        text = draw(st.sampled_from([str(value).lower(), str(value), str(value).upper()]))
        return pad + text + pad, value, False
    if kind in ("object", "array"):
        value = draw(_PY_VALUES.filter(lambda v: isinstance(v, dict if kind == "object" else list)))
        text = json.dumps(value, ensure_ascii=False) if draw(st.booleans()) else repr(value)
        return pad + text + pad, value, False
    assert kind == "null"
    return pad + draw(st.sampled_from(["null", "None"])) + pad, None, False


# Values that do not fit their parameter's type: an invalid_value problem and
# the raw text as a string (not pinned exactly here: only the generic properties).
_MISFITS = ["forty", "1_000", "3.5.1", "yes", "", "{'a': 1", "[1, 2", "nul", "\"{'a': 1}\"", "0x10", "1e999x"]


@dataclass(frozen=True)
class XmlCall:
    """One well-formed XML call and what a parser must make of it."""

    name: str
    pairs: Tuple[Tuple[str, Any], ...]  # (parameter, JSON value) in order
    block: str

    @property
    def json_arguments(self) -> str:
        return json.dumps(dict(self.pairs), ensure_ascii=False)


@dataclass(frozen=True)
class XmlOutput:
    """A model output in an XML dialect, its tools, and what a parser must make of it."""

    dialect: str
    text: str
    tools: Optional[Tuple[XmlTool, ...]]
    content: Optional[str]
    calls: Tuple[XmlCall, ...]

    def options(self) -> dict:
        options: dict = {"dialect": self.dialect}
        if self.tools is not None:
            options["tools"] = [tool.openai() for tool in self.tools]
        return options


def _render_qwen(name: str, rendered: List[Tuple[str, str]], style: str, bare: bool) -> str:
    """A Qwen3-Coder block: the template's newlines (``template``), none (``compact``)."""
    if style == "template":
        params = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in rendered)
        inner = f"<function={name}>\n{params}</function>"
        return inner if bare else f"<tool_call>\n{inner}\n</tool_call>"
    params = "".join(f"<parameter={k}>{v}</parameter>" for k, v in rendered)
    inner = f"<function={name}>{params}</function>"
    return inner if bare else f"<tool_call>{inner}</tool_call>"


def _render_glm(name: str, rendered: List[Tuple[str, str]], style: str) -> str:
    """A GLM block: GLM-4.5/4.6 (newlines), GLM-4.7/5 (none), or the two characters \\n."""
    sep = {"glm45": "\n", "glm47": "", "escaped": "\\n"}[style]
    pairs = "".join(f"{sep}<arg_key>{k}</arg_key>{sep}<arg_value>{v}</arg_value>" for k, v in rendered)
    return f"<tool_call>{name}{pairs}{sep if rendered and sep == chr(10) else ''}</tool_call>"


@st.composite
def xml_call(draw, dialect: str, tools: Optional[Tuple[XmlTool, ...]], bare_ok: bool = True) -> XmlCall:
    """One well-formed call of a tool (declared or not) in ``dialect``."""
    by_name = {tool.name: tool for tool in tools or ()}
    if by_name and draw(st.integers(0, 4)):
        tool = by_name[draw(st.sampled_from(sorted(by_name)))]
    else:
        tool = XmlTool(draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True)), ())
    declared = [p for p, _, _ in tool.params]
    extra = draw(st.lists(st.sampled_from(_PARAM_NAMES), max_size=2))
    params = list(dict.fromkeys(draw(st.permutations(declared))[: draw(st.integers(0, len(declared)))] + extra))
    rendered, pairs = [], []
    for param in params:
        kind = tool.kind(param) if tools is not None else "any"
        text, value, streamed = draw(_typed_value(kind, dialect))
        if dialect == "qwen3_coder" and not streamed:
            text = text.strip(" ")  # (the template's padding newlines are added around every value)
        rendered.append((param, text))
        pairs.append((param, value))
    if dialect == "qwen3_coder":
        style = draw(st.sampled_from(["template", "template", "compact"]))
        if style == "compact":  # no padding: a value's own leading/trailing newline would be taken for it
            bad = [k for k, v in rendered if v.startswith("\n") or v.endswith("\n")]
            if bad:
                style = "template"
        bare = bare_ok and draw(st.integers(0, 5)) == 0
        block = _render_qwen(tool.name, rendered, style, bare)
    else:
        block = _render_glm(tool.name, rendered, draw(st.sampled_from(["glm45", "glm47", "glm47", "escaped"])))
    return XmlCall(tool.name, tuple(pairs), block)


def _xml_content(dialect: str) -> st.SearchStrategy[str]:
    # No "<function=" in content under qwen3_coder (it opens a bare block), and no
    # '<' right before a block's first character changes anything else.
    return content_segments().filter(lambda s: "<function=" not in s and "<think>" not in s
                                     and "</think>" not in s)


@st.composite
def xml_outputs(draw, dialect: Optional[str] = None, max_calls: int = 3) -> XmlOutput:
    """A well-formed output in an XML dialect (or ``auto``: Qwen3-Coder, GLM and
    hermes blocks mixed), with or without tools, and its exact expectations."""
    dialect = dialect or draw(st.sampled_from(XML_DIALECTS + ("auto",)))
    tools = draw(st.one_of(st.none(), xml_tools())) if draw(st.integers(0, 3)) else None
    calls: List[Any] = []
    for _ in range(draw(st.integers(0, max_calls))):
        which = dialect if dialect != "auto" else draw(st.sampled_from(XML_DIALECTS + ("hermes",)))
        if which == "hermes":
            calls.append(draw(_RENDER_CALL))
        else:
            calls.append(draw(xml_call(which, tools, bare_ok=which == "qwen3_coder")))
    segments = [draw(_xml_content(dialect)) for _ in range(len(calls) + 1)]
    # A bare block needs no blank before it, but content right before "<function="
    # must not end in a tag prefix ("<tool_call" + bare block would become a tag).
    text = segments[0] + "".join(call.block + segment for call, segment in zip(calls, segments[1:]))
    expected_calls = tuple(
        call if isinstance(call, XmlCall)
        else XmlCall(call.name, tuple(call.args.items()), call.block)
        for call in calls
    )
    return XmlOutput(dialect, text, tools, expected_content(segments), expected_calls)


@st.composite
def xml_damaged(draw, dialect: Optional[str] = None) -> Tuple[str, dict]:
    """(text, options): an XML-dialect output with defects: values that do not
    fit their type, tags inside values where they do count, missing
    ``</parameter>``/``</function>``/``</arg_value>``/``</tool_call>``, bare
    ``<function=>``, bad names, duplicate parameters, cut tags, then the
    character mutations of ``damaged()``."""
    output = draw(xml_outputs(dialect))
    text = output.text
    defects = [
        "<function=>", "<function=a b>", "<parameter=>", "</parameter>\n<parameter=", "<parameter=x>\n1\n",
        "</function>", "</tool_call>", "<tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
        "<arg_key>k</arg_key><arg_value>", "\n<parameter=dup>\nv\n</parameter>\n", "\\n", "<function=f>",
        "<tool_call>\n<function=f>\n<parameter=a>\n1", "<tool_call>f<arg_key>a</arg_key><arg_value>1",
        *_MISFITS, *QWEN_TAGS, *GLM_TAGS,
    ]  # fmt: skip
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete_tag", "mutate", "truncate", "misfit"]))
        if kind == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(defects)) + text[at:]
        elif kind == "delete_tag":
            spots = [(i, tag) for tag in (*QWEN_TAGS, *GLM_TAGS, OPEN_TAG, CLOSE_TAG) for i in _find_all(text, tag)]
            if spots:
                i, tag = draw(st.sampled_from(spots))
                text = text[:i] + text[i + len(tag):]
        elif kind == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif kind == "misfit":  # replace a value's text by one that does not fit
            spots = [m.end() for m in re.finditer(r"<parameter=[^>]*>\n?|<arg_value>", text)]
            if spots:
                at = draw(st.sampled_from(spots))
                end = min([j for j in (text.find("</parameter>", at), text.find("</arg_value>", at)) if j >= 0],
                          default=len(text))
                text = text[:at] + draw(st.sampled_from(_MISFITS)) + text[end:]
        else:
            text = draw(_mutate(text))
    return text, output.options()


_XML_SOUP = [*QWEN_TAGS, *GLM_TAGS, OPEN_TAG, CLOSE_TAG, "<think>", "</think>", ">", "<", "</", "f", "get_weather",
             "city", "x", "1", "null", "None", "True", "{'a': 1}", '{"a": 1}', "[1]", "\n", " ", "\\n", "Zürich",
             "<function=get_weather>", "<parameter=city>", "<arg_key>city</arg_key>", "```", "{"]  # fmt: skip


def xml_soup() -> st.SearchStrategy[str]:
    """The pieces XML-dialect outputs are made of, strung together in any order."""
    return st.lists(st.sampled_from(_XML_SOUP), max_size=40).map("".join)


@st.composite
def dialect_texts(draw, dialect: str) -> Tuple[str, dict]:
    """(text, options) for ``dialect``: well-formed or damaged outputs of every
    dialect (the others' too: a parser of one dialect meets the others'
    texts), XML soup, reasoning before them, arbitrary text; with or without
    the XML tools."""
    source = draw(st.integers(0, 6))
    options: dict = {}
    if source <= 1:
        output = draw(xml_outputs(None if dialect in ("hermes", "auto") else dialect))
        text, options = output.text, output.options()
    elif source == 2:
        text, options = draw(xml_damaged(None if dialect in ("hermes", "auto") else dialect))
    elif source == 3:
        text = draw(xml_soup())
    elif source == 4:
        text = draw(any_text())
    elif source == 5:
        text = draw(st.one_of(hermes_outputs().map(lambda o: o.text), damaged()))
    else:
        before = "".join(draw(st.lists(st.sampled_from(_THINKING), max_size=6)))
        inner, options = draw(xml_damaged(None if dialect in ("hermes", "auto") else dialect))
        text = before + inner
    options["dialect"] = dialect
    if "tools" not in options and draw(st.integers(0, 3)) == 0:
        options["tools"] = [tool.openai() for tool in draw(xml_tools())]
    return text, options


@st.composite
def dialect_options(draw, base: dict, call_id=None, max_buffer: bool = True) -> dict:
    """``base`` (dialect, tools) plus the other options drawn as ``parser_options`` draws them."""
    options = draw(parser_options(call_id=call_id, max_buffer=max_buffer))
    options.pop("tools", None)
    options.update(base)
    if "tools" in options:
        options["unknown_tool"] = draw(st.sampled_from(["call", "call", "content"]))
    else:
        options.pop("unknown_tool", None)
    return options
