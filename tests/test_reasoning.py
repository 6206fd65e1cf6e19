"""The reasoning split (``reasoning=True`` / ``"open"``): ``<think>`` text becomes
``{"reasoning": ...}`` deltas and ``Message.reasoning``, streamed as parsed, on both twins."""

from __future__ import annotations

import pytest

from hermes_parse import Message, Problem, ToolCall

from helpers import check

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing"}}\n</tool_call>'
WEATHER = ToolCall(0, "call_0", "get_weather", '{"city": "Beijing"}')


def test_off_by_default_think_is_content(backend):
    """Without reasoning, <think> is plain content (today's behaviour)."""
    text = "<think>\nhmm\n</think>\n\nHello"
    assert check(backend, text) == Message(text)


def test_think_block_then_call(backend):
    """Qwen3's shape: reasoning, blank lines, a call; the whitespace between is no content."""
    text = "<think>\nThe user wants the weather.\n</think>\n\n" + CALL
    message = check(backend, text, reasoning=True)
    assert message == Message(None, [WEATHER], [], "\nThe user wants the weather.\n")
    assert message.to_openai()["reasoning"] == "\nThe user wants the weather.\n"


def test_think_block_then_content(backend):
    """Whitespace after </think> is held as at the start of the text: content when text follows."""
    message = check(backend, "  <think>plan</think>\n\nIt is sunny.", reasoning=True)
    assert message == Message("\n\nIt is sunny.", [], [], "plan")


def test_unclosed_think_is_reasoning_to_the_end(backend):
    """A <think> never closed (max_tokens) is reasoning to the end, a partial tag included."""
    assert check(backend, "<think>still thinking </thi", reasoning=True) == Message(None, [], [], "still thinking </thi")


def test_text_without_tags_is_content(backend):
    """A reply with thinking off has no tag: all of it is content."""
    assert check(backend, "Just an answer. " + CALL, reasoning=True) == Message("Just an answer. ", [WEATHER])


def test_think_only_opens_the_output(backend):
    """A <think> after content is content; only one reasoning block opens the output."""
    text = "Answer first <think>x</think>"
    assert check(backend, text, reasoning=True) == Message(text)
    after_call = CALL + "<think>x</think>"
    assert check(backend, after_call, reasoning=True) == Message("<think>x</think>", [WEATHER])


def test_lookalike_tags_are_content(backend):
    """<thinking>, <th and a lone < at the start are content."""
    for text in ("<thinking>x", "<th", "<", "<t"):
        assert check(backend, text, reasoning=True) == Message(text), text


def test_open_reasoning_starts_inside(backend):
    """reasoning="open": the prompt opened <think>; the output is reasoning up to the first </think>."""
    text = "The user wants the weather.\n</think>\n\n" + CALL
    assert check(backend, text, reasoning="open") == Message(None, [WEATHER], [], "The user wants the weather.\n")


def test_open_reasoning_skips_a_leading_think_tag(backend):
    """reasoning="open" still accepts a <think> as the output's very first characters."""
    assert check(backend, "<think>r</think>ok", reasoning="open") == Message("ok", [], [], "r")
    # Anywhere else it is reasoning text.
    assert check(backend, " <think>r</think>ok", reasoning="open") == Message("ok", [], [], " <think>r")


def test_open_reasoning_without_close_is_all_reasoning(backend):
    """reasoning="open" and no </think>: all of the output is reasoning (even a call)."""
    message = check(backend, "thinking " + CALL, reasoning="open")
    assert message.content is None and message.tool_calls == []
    assert message.reasoning == "thinking " + CALL
    assert [p.kind for p in message.problems] == ["call_in_reasoning"]


def test_call_inside_reasoning_is_reasoning_with_a_problem(backend):
    """A <tool_call> inside reasoning is reasoning text, never a call; a call_in_reasoning problem points at it."""
    text = "<think>I could call " + CALL + " but no.</think>Done."
    message = check(backend, text, reasoning=True)
    offset = text.index("<tool_call>")
    assert message == Message(
        "Done.",
        [],
        [Problem("call_in_reasoning", offset, 11, None, "a <tool_call> inside reasoning is reasoning text")],
        "I could call " + CALL + " but no.",
    )


def test_reasoning_deltas_come_first(backend):
    """One feed with reasoning, content and a call gives the deltas in text order."""
    parser = backend.StreamParser(reasoning=True, call_id=lambda index, name: "call_x")
    deltas = parser.feed("<think>r</think>Hi " + CALL) + parser.close()
    assert [next(iter(d)) for d in deltas] == ["reasoning", "content", "tool_calls", "tool_calls"]
    assert deltas[0] == {"reasoning": "r"} and deltas[1] == {"content": "Hi "}


def test_reasoning_values_are_checked(backend):
    """reasoning takes False, True or "open"; anything else is a ValueError."""
    for bad in ("yes", 1.5, "OPEN"):
        with pytest.raises(ValueError, match="reasoning"):
            backend.StreamParser(reasoning=bad)
    assert backend.parse("<think>x", reasoning=None) == Message("<think>x")
