"""JSONTestSuite (tests/data/jsontestsuite/, its README says where the files come from) as
argument values: every y_ accepted, every n_ rejected.

Each document is embedded as a value inside a call's arguments,
``<tool_call>{"name": "f", "arguments": {"v": DOC}}</tool_call>``, so the name is
out before the document is read: an accepted document gives clean arguments,
a rejected one a reported problem.  The files are bytes; a server decodes the
model's bytes with replacement characters, so a file that is not UTF-8 is
decoded that way (none of them becomes valid JSON by it).
"""

import json

import pytest

from pathlib import Path

from hermes_parse import sequential_ids

from helpers import stream_in_steps

SUITE = Path(__file__).resolve().parent / "data" / "jsontestsuite"
FILES = sorted(p.name for p in SUITE.glob("*.json"))
HEAD = '<tool_call>{"name": "f", "arguments": {"v": '
TAIL = "}}</tool_call>"


def document(name):
    """The file's text, decoded as a server decodes a model's bytes."""
    return (SUITE / name).read_bytes().decode("utf-8", errors="replace")


def files(prefix):
    return [name for name in FILES if name.startswith(prefix)]


def test_the_suite_is_complete():
    """All 318 files of test_parsing/ are here (95 y_, 188 n_, 35 i_) with their LICENSE
    and provenance README, still raw bytes (none re-encoded to valid UTF-8)."""
    counts = {prefix: len(files(prefix)) for prefix in ("y_", "n_", "i_")}
    assert counts == {"y_": 95, "n_": 188, "i_": 35}, counts
    assert (SUITE / "LICENSE").is_file() and (SUITE / "README.md").is_file()
    assert (SUITE / "n_array_invalid_utf8.json").read_bytes() == b"[\xff]"
    assert (SUITE / "i_string_UTF-16LE_with_BOM.json").read_bytes().startswith(b"\xff\xfe[\x00")


def parse_both_ways(backend, text, **options):
    """Parse whole and in small chunks; they must agree."""
    whole = backend.parse(text, call_id=sequential_ids(), **options)
    assert stream_in_steps(backend, text, 1 if len(text) < 2000 else 997, **options) == whole
    return whole


class Pairs(list):
    """An object's members in order, duplicates included."""


def dumps_keeping_duplicates(value):
    """json.dumps, except that an object's duplicate keys are all kept (as we stream them)."""
    if isinstance(value, Pairs):
        return "{" + ", ".join(
            json.dumps(k, ensure_ascii=False) + ": " + dumps_keeping_duplicates(v) for k, v in value
        ) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dumps_keeping_duplicates(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def expected_json(doc):
    """json.dumps(json.loads(doc)), with docs/grammar.md's documented exception for duplicate keys."""
    return dumps_keeping_duplicates(json.loads(doc, object_pairs_hook=Pairs))


# Documented exceptions to "exactly json.dumps(json.loads(...))" among the y_ files:
# none of them holds a lone surrogate or an overflowing number; the i_ files do,
# and test_i_files pins what we do there.


@pytest.mark.parametrize("name", files("y_"))
def test_y_files_are_accepted(backend, name):
    """A y_ document inside the arguments gives clean arguments equal to json.dumps(json.loads())."""
    doc = document(name)
    message = parse_both_ways(backend, HEAD + doc + TAIL)
    assert message.problems == []
    [call] = message.tool_calls
    assert call.name == "f"
    assert call.arguments == '{"v": ' + expected_json(doc) + "}"
    raw = parse_both_ways(backend, HEAD + doc + TAIL, arguments="raw")
    assert raw.tool_calls[0].arguments == '{"v": ' + doc + "}"


@pytest.mark.parametrize("name", files("y_object"))
def test_y_objects_are_accepted_as_the_arguments(backend, name):
    """A y_ object document is accepted as the whole arguments value, in both modes."""
    doc = document(name)
    text = '<tool_call>{"name": "f", "arguments": ' + doc + "}</tool_call>"
    message = parse_both_ways(backend, text)
    assert message.problems == []
    assert message.tool_calls[0].arguments == expected_json(doc)
    raw = parse_both_ways(backend, text, arguments="raw")
    assert raw.tool_calls[0].arguments == doc.strip(" \t\r\n")


@pytest.mark.parametrize("name", files("n_"))
def test_n_files_are_rejected(backend, name):
    """An n_ document inside the arguments is reported, never taken as clean arguments."""
    doc = document(name)
    message = parse_both_ways(backend, HEAD + doc + TAIL)
    kinds = {problem.kind for problem in message.problems}
    # The name came first, so the call stays; the document is invalid_json, or,
    # for a valid value followed by an extra bracket, trailing_text.
    assert kinds & {"invalid_json", "trailing_text", "truncated"}, (doc, message)
    assert [call.name for call in message.tool_calls] == ["f"]
    if kinds == {"trailing_text"}:
        # `{}}` and the like: the value itself was fine, the extra bracket was not.
        assert doc.rstrip().endswith(("}", "]"))


@pytest.mark.parametrize("name", files("n_"))
def test_n_files_as_the_body_are_not_calls(backend, name):
    """An n_ document as the arguments written before the name makes the block content."""
    doc = document(name)
    text = '<tool_call>{"arguments": {"v": ' + doc + '}, "name": "f"}</tool_call>'
    message = parse_both_ways(backend, text)
    if message.tool_calls:
        # Only a valid value followed by an extra bracket closes the object early:
        # the name is then missing ("no name") or trailing text follows the call.
        pytest.fail(f"{name} was taken as a call: {message!r}")
    assert message.content == text
    assert [p.kind for p in message.problems] == ["not_a_call"]


@pytest.mark.parametrize("name", files("i_"))
def test_i_files_have_a_defined_result(backend, name):
    """An i_ document never raises, and the documented exceptions hold where json.loads differs."""
    doc = document(name)
    message = parse_both_ways(backend, HEAD + doc + TAIL)
    assert [call.name for call in message.tool_calls] == ["f"]
    if message.problems:
        return
    arguments = message.tool_calls[0].arguments
    parsed = json.loads(arguments)  # whatever we accepted, we wrote as valid JSON
    try:
        reference = json.loads(doc)
    except (ValueError, RecursionError):
        # json.loads refuses it (an int over 4,300 digits, deep nesting): we keep it.
        return
    if isinstance(reference, float) and reference in (float("inf"), float("-inf")):
        # An overflowing number is kept as written instead of "Infinity".
        assert arguments == '{"v": ' + doc.strip().strip("[]") + "}" or doc.strip() in arguments
        return
    assert parsed == {"v": reference} or "\\ud" in arguments or "\\udc" in arguments
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in json.dumps(reference, ensure_ascii=False)):
        # A lone surrogate stays an escape: the arguments are always UTF-8 encodable.
        arguments.encode("utf-8")


def test_lone_surrogates_stay_escapes(backend):
    """A lone surrogate escape is written as a lowercase \\u escape, so the output encodes as UTF-8."""
    message = backend.parse(HEAD + '["\\uD800", "\\uDd1e\\uD834", "\\ud800abc"]' + TAIL)
    assert message.tool_calls[0].arguments == '{"v": ["\\ud800", "\\udd1e\\ud834", "\\ud800abc"]}'
    message.tool_calls[0].arguments.encode("utf-8")
    assert message.problems == []
