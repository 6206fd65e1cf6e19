"""Bad input, each with the defined result of docs/grammar.md's "Behaviour on bad input" table,
in bounded memory, on both twins (the huge inputs are smaller for the pure-Python twin)."""

import json
import tracemalloc

import pytest

from hermes_parse import ClosedError, Message, sequential_ids

HEAD = '<tool_call>{"name": "f", "arguments": '


def size_for(backend, cython_size, python_size):
    """The input size for a twin: the pure-Python one reads a character at a time."""
    return cython_size if backend.__name__.endswith("_c") else python_size


def stream_chunks(backend, chunks, **options):
    """Feed the chunks as they are made (the input is never held whole); return
    (message without content, content length, tracemalloc peak in bytes)."""
    parser = backend.StreamParser(call_id=sequential_ids(), **options)
    content_size = 0
    calls = {}
    tracemalloc.start()
    try:
        for chunk in chunks:
            for delta in parser.feed(chunk) + []:
                content_size += len(delta.get("content", ""))
                for entry in delta.get("tool_calls", ()):
                    call = calls.setdefault(entry["index"], [entry["function"].get("name"), 0])
                    call[1] += len(entry["function"]["arguments"])
        for delta in parser.close():
            content_size += len(delta.get("content", ""))
            for entry in delta.get("tool_calls", ()):
                calls[entry["index"]][1] += len(entry["function"]["arguments"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return calls, content_size, parser.problems, peak


def test_a_100_mb_argument_streams_in_bounded_memory(backend):
    """A 100 MB string argument streams out as it comes; the parser holds none of it."""
    megabytes = size_for(backend, 100, 8)
    piece = "x" * 65536

    def chunks():
        yield HEAD + '{"content": "'
        for _ in range(megabytes * 16):
            yield piece
        yield '"}}</tool_call>'

    calls, content, problems, peak = stream_chunks(backend, chunks())
    assert calls == {0: ["f", megabytes * 2**20 + len('{"content": ""}')]}
    assert content == 0 and problems == []
    assert peak < 4 * 2**20  # a few chunks, never the output


def test_ten_thousand_calls(backend):
    """10,000 calls in one output are 10,000 calls, indexed in order."""
    text = "\n".join(
        '<tool_call>{"name": "f", "arguments": {"i": %d}}</tool_call>' % i for i in range(10_000)
    )
    message = backend.parse(text, call_id=sequential_ids())
    assert [c.index for c in message.tool_calls] == list(range(10_000))
    assert message.tool_calls[-1].arguments == '{"i": 9999}'
    assert message.content is None and message.problems == []


def test_open_tag_then_50_mb_of_non_json(backend):
    """<tool_call> followed by 50 MB of prose: the block is content, streamed as it comes."""
    megabytes = size_for(backend, 50, 8)
    piece = "not json at all. " * 4096

    def chunks():
        yield "<tool_call>"
        for _ in range(megabytes * 2**20 // len(piece)):
            yield piece

    calls, content, problems, peak = stream_chunks(backend, chunks())
    assert calls == {}
    assert content == len("<tool_call>") + megabytes * 2**20 // len(piece) * len(piece)
    assert [p.kind for p in problems] == ["not_a_call"]
    assert peak < 4 * 2**20


@pytest.mark.parametrize("max_buffer", [1000, None])
def test_arguments_before_the_name_that_never_end(backend, max_buffer):
    """Arguments first and never a name: held up to max_buffer, then content; memory stays bounded."""
    options = {} if max_buffer is None else {"max_buffer": max_buffer}
    limit = max_buffer or 8 * 2**20
    piece = "y" * 65536
    total = size_for(backend, 3 * limit, 2 * limit) if max_buffer is None else 200_000

    def chunks():
        yield '<tool_call>{"arguments": {"a": "'
        for _ in range(total // len(piece) + 1):
            yield piece

    calls, content, problems, peak = stream_chunks(backend, chunks(), **options)
    assert calls == {}
    assert content == len('<tool_call>{"arguments": {"a": "') + (total // len(piece) + 1) * len(piece)
    assert [p.kind for p in problems] == ["not_a_call"]
    assert problems[0].detail == "more than max_buffer characters before the name"
    # The held text and its re-encoding, at most: never the whole output.
    assert peak < 4 * limit + 4 * 2**20


def test_nesting_100000_deep_streams(backend):
    """100,000 levels of nesting stream without recursion; unclosed, the call is truncated."""
    depth = 100_000
    args = '{"a": ' + "[" * depth + "]" * depth + "}"
    text = HEAD + args + "}</tool_call>"
    parser = backend.StreamParser(call_id=sequential_ids())
    deltas = []
    for start in range(0, len(text), 4096):
        deltas += parser.feed(text[start : start + 4096])
    deltas += parser.close()
    assert Message.from_deltas(deltas, parser.problems).tool_calls[0].arguments == args
    message = backend.parse(HEAD + '{"a": ' + "[" * depth)
    assert message.tool_calls[0].arguments == '{"a": ' + "[" * depth
    assert [p.kind for p in message.problems] == ["truncated"]


def test_open_tag_repeated_100000_times(backend):
    """<tool_call> 100,000 times: each is a block that is not a call; all of it is content."""
    text = "<tool_call>" * 100_000
    message = backend.parse(text)
    assert message.content == text and message.tool_calls == []
    assert len(message.problems) == 100_000
    assert {p.kind for p in message.problems} == {"not_a_call"}
    assert message.problems[-1].offset == len(text) - len("<tool_call>")


@pytest.mark.parametrize(
    "text, content, arguments",
    [
        # Lone surrogates: raw ones pass through as the input had them; escaped ones stay escapes.
        ("\ud800 <tool_call>" + '{"name": "f", "arguments": {"a": "\ud800"}}', "\ud800 ", '{"a": "\ud800"}'),
        (HEAD + '{"a": "\\udc00"}}', None, '{"a": "\\udc00"}'),
        # NUL and other control characters: content as they are; escaped inside arguments.
        ("a\x00b\x07<tool_call>" + HEAD[11:] + '{"a": "\\u0000\\u0007"}}', "a\x00b\x07", '{"a": "\\u0000\\u0007"}'),
        # CRLF line ends are whitespace like LF.
        ("<tool_call>\r\n" + HEAD[11:] + '{"a":\r\n1}}\r\n</tool_call>\r\n', None, '{"a": 1}'),
        # A BOM is a character, not whitespace: it stays in the content.
        ("\ufeff" + HEAD + "{}}</tool_call>", "\ufeff", "{}"),
        # Numbers json.loads would turn into Infinity stay as written.
        (HEAD + '{"a": 1e999, "b": -1E400}}', None, '{"a": 1e999, "b": -1E400}'),
    ],
)
def test_odd_characters_and_numbers(backend, text, content, arguments):
    """Lone surrogates, NUL and control characters, CRLF, a BOM, overflowing numbers."""
    message = backend.parse(text, call_id=sequential_ids())
    assert message.content == content
    assert [c.arguments for c in message.tool_calls] == [arguments]
    assert message.problems == []


@pytest.mark.parametrize(
    "value",
    ['"a\x00b"', '"tab\there"', '"\\x41"', '"\\u12"', '"\\u12g4"', "-", "01", "NaN", "-Infinity", "1.", ".5", "+1", "0x1F", "'single'", "[1,]", "tru"],
)
def test_invalid_json_after_the_name(backend, value):
    """Invalid JSON inside the arguments: the call stays, the rest of the block is reported."""
    text = HEAD + '{"a": ' + value + ', "b": 2}}</tool_call>after'
    message = backend.parse(text, call_id=sequential_ids())
    assert [c.name for c in message.tool_calls] == ["f"]
    assert message.content == "after"
    [problem] = message.problems
    assert problem.kind == "invalid_json"
    assert text[problem.offset + problem.length :] == "</tool_call>after"


@pytest.mark.parametrize("value", ['"\\x41"', "-", "01", "NaN"])
def test_invalid_json_before_the_name(backend, value):
    """Invalid JSON before the name: the block is content, tags and all."""
    text = '<tool_call>{"arguments": {"a": ' + value + '}, "name": "f"}</tool_call>after'
    message = backend.parse(text)
    assert message.tool_calls == [] and message.content == text
    assert [p.kind for p in message.problems] == ["not_a_call"]


def test_misuse_has_documented_errors(backend):
    """feed after close is ClosedError; anything but str is TypeError; close twice is []."""
    parser = backend.StreamParser()
    for value in (b"<tool_call>", None, 5, ["x"], bytearray(b"x")):
        with pytest.raises(TypeError):
            parser.feed(value)
    assert parser.close() == [] and parser.close() == []
    with pytest.raises(ClosedError):
        parser.feed("x")
    with pytest.raises(TypeError):
        backend.parse(b"<tool_call>")


def test_problems_account_for_every_character(backend):
    """Content, calls and problem spans together account for the input (nothing lost)."""
    text = 'A<tool_call>{"name": "f", "arguments": {"a": [1,]}}</tool_call>B<tool_call>nope</tool_call>'
    message = backend.parse(text, call_id=sequential_ids())
    assert message.content == "AB<tool_call>nope</tool_call>"
    assert json.loads(message.tool_calls[0].arguments + "]}") == {"a": [1]}
    spans = [(p.kind, text[p.offset : p.offset + p.length]) for p in message.problems]
    assert spans == [("invalid_json", "]}}"), ("not_a_call", "<tool_call>nope</tool_call>")]
