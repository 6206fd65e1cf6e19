"""Shared test helpers: feed a text to a parser in chunks, check every delta's
shape, and compare the accumulated stream with a one-shot ``parse``.

The invariant every helper here leans on (the spec's first line of semantics):
``parse(text) == Message.from_deltas(all deltas of feeding text in ANY chunking
+ close())``, problems included.
"""

from __future__ import annotations

import json
import random
from typing import Dict, Iterable, List, Sequence

from openai.types.chat import ChatCompletionChunk, ChatCompletionMessage

from hermes_parse._types import Message, sequential_ids


def run_stream(backend, chunks: Iterable[str], **options):
    """Feed ``chunks`` one by one then close; return (deltas, problems, per-chunk outputs)."""
    parser = backend.StreamParser(**options)
    deltas: list = []
    outputs: list = []
    for chunk in chunks:
        out = parser.feed(chunk)
        assert isinstance(out, list), f"feed() returned {type(out).__name__}, not a list"
        outputs.append(out)
        deltas.extend(out)
    out = parser.close()
    assert isinstance(out, list), f"close() returned {type(out).__name__}, not a list"
    outputs.append(out)
    deltas.extend(out)
    assert parser.close() == [], "a second close() must return []"
    return deltas, list(parser.problems), outputs


def feed_pieces(backend, pieces: Iterable[str], **options) -> Message:
    """Feed ``pieces`` one by one then close (deterministic ids unless ``call_id`` is
    given); return what a client accumulates, problems included."""
    parser = backend.StreamParser(**with_ids(options))
    deltas: list = []
    for piece in pieces:
        deltas += parser.feed(piece)
    deltas += parser.close()
    return Message.from_deltas(deltas, parser.problems)


def stream_in_steps(backend, text: str, step: int, **options) -> Message:
    """Feed ``text`` ``step`` characters at a time (deterministic ids); return what a
    client accumulates, problems included."""
    return feed_pieces(backend, [text[i : i + step] for i in range(0, len(text), step)], **options)


def check_deltas(deltas: Sequence[dict], validate_openai: bool = False) -> Dict[int, list]:
    """Assert every delta has the documented OpenAI ``choices[0].delta`` shape; return
    ``{index: [id, name, [argument fragments]]}``.

    A delta is ``{"content": non-empty str}``, ``{"reasoning": non-empty str}`` or
    ``{"tool_calls": [one entry]}``,
    JSON-ready.  A call's first entry carries index/id/type/function{name, arguments: ""};
    its later entries carry only index and a non-empty arguments fragment.  Call
    indices start at 0, rise by one, and only the newest call streams.
    """
    calls: Dict[int, list] = {}
    for delta in deltas:
        assert type(delta) is dict, delta
        assert len(delta) == 1, f"a delta mixes keys: {delta!r}"
        json.dumps(delta)  # JSON-ready
        if "content" in delta:
            assert type(delta["content"]) is str and delta["content"], delta
        elif "reasoning" in delta:  # reasoning=True/"open": vLLM's field
            assert type(delta["reasoning"]) is str and delta["reasoning"], delta
            assert not calls, f"reasoning after a call: {delta!r}"
        else:
            entries = delta["tool_calls"]
            assert type(entries) is list and len(entries) == 1, delta
            entry = entries[0]
            index = entry["index"]
            assert type(index) is int, delta
            function = entry["function"]
            if index not in calls:
                assert index == len(calls), f"call index {index} skips ahead: {delta!r}"
                assert set(entry) == {"index", "id", "type", "function"}, delta
                assert type(entry["id"]) is str and entry["id"], delta
                assert entry["type"] == "function", delta
                assert set(function) == {"name", "arguments"}, delta
                assert type(function["name"]) is str and function["name"], delta
                assert function["arguments"] == "", delta
                calls[index] = [entry["id"], function["name"], []]
            else:
                assert index == len(calls) - 1, f"an older call streams again: {delta!r}"
                assert set(entry) == {"index", "function"}, delta
                assert set(function) == {"arguments"}, delta
                assert type(function["arguments"]) is str and function["arguments"], delta
                calls[index][2].append(function["arguments"])
        if validate_openai:
            validate_chunk(delta)
    return calls


def validate_chunk(delta: dict) -> None:
    """Build a ChatCompletionChunk around ``delta`` with the openai package; no unknown fields."""
    chunk = ChatCompletionChunk.model_validate(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "test",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
    )
    model = chunk.choices[0].delta
    # "reasoning" is vLLM's field for reasoning deltas, not one of OpenAI's.
    assert not set(model.model_extra or {}) - {"reasoning"}, model.model_extra
    for call in model.tool_calls or ():
        assert not call.model_extra, call.model_extra
        assert not call.function.model_extra, call.function.model_extra
    assert model.model_dump(exclude_unset=True) == delta


def check_message(data: dict) -> None:
    """``data`` is an OpenAI assistant message, exactly (the openai package's
    ChatCompletionMessage: no unknown field, nothing lost)."""
    model = ChatCompletionMessage.model_validate(data)
    # "reasoning" is vLLM's field for the <think> text, not one of OpenAI's.
    assert not set(model.model_extra or {}) - {"reasoning"}, model.model_extra
    assert model.model_dump(exclude_unset=True) == data


def validate_message(message: Message) -> None:
    """Validate ``message.to_openai()`` with the openai package's ChatCompletionMessage."""
    check_message(message.to_openai())


def cuts_to_chunks(text: str, cuts: Iterable[int]) -> List[str]:
    """Cut ``text`` at the given positions (0 < cut < len) into chunks."""
    chunks, start = [], 0
    for cut in sorted(set(cuts)):
        if 0 < cut < len(text):
            chunks.append(text[start:cut])
            start = cut
    chunks.append(text[start:])
    return chunks


def chunkings(text: str, every_cut: bool = True, seed: int = 0) -> List[List[str]]:
    """Return the chunkings a test checks: one piece, one char at a time, every
    two-piece cut (when ``every_cut``), fixed sizes and a few random cuttings."""
    result = [[text], list(text) or [""]]
    if every_cut:
        result.extend([text[:cut], text[cut:]] for cut in range(1, len(text)))
    for size in (2, 3, 7, 32):
        result.append([text[i : i + size] for i in range(0, len(text), size)] or [""])
    result.append(cuts_to_chunks(text, range(3, len(text), 4)))  # 3, then 4 at a time
    rng = random.Random(seed)
    for _ in range(4):
        count = rng.randint(1, max(1, len(text) // 3))
        result.append(cuts_to_chunks(text, rng.sample(range(len(text) + 1), min(count, len(text) + 1))))
    return result


def with_ids(options: dict) -> dict:
    """Return ``options`` with deterministic call ids unless the test chose its own."""
    options = dict(options)
    options.setdefault("call_id", sequential_ids())
    return options


def check(backend, text: str, every_cut: bool = True, **options) -> Message:
    """Parse ``text`` once, then stream it in many chunkings; each stream must
    accumulate to the very same Message (problems included).  Returns the parse."""
    options = with_ids(options)
    expected = backend.parse(text, **options)
    assert type(expected) is Message
    validate_message(expected)
    for number, chunks in enumerate(chunkings(text, every_cut)):
        deltas, problems, _ = run_stream(backend, chunks, **options)
        check_deltas(deltas, validate_openai=number < 2)
        got = Message.from_deltas(deltas, problems)
        assert got == expected, f"stream in chunks {chunks!r} differs from parse"
    return expected
