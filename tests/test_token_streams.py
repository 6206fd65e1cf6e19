"""Real token streams: outputs encoded with the Qwen3 tokenizer and detokenized as a server
does, fed one token (or 32 tokens) at a time; and tags split the way Llama 3 splits them."""

import json

import pytest

from hermes_parse import Message, sequential_ids

from helpers import shared_dir

tokenizers = pytest.importorskip("tokenizers")

QWEN3 = shared_dir("tokenizers/qwen3")
TOOL_CALL, END_TOOL_CALL = 151657, 151658


@pytest.fixture(scope="module")
def tokenizer():
    if QWEN3 is None:
        pytest.skip("shared/tokenizers/qwen3 not found")
    return tokenizers.Tokenizer.from_file(str(QWEN3 / "tokenizer.json"))


def detokenize(tokenizer, ids, per_delta=1):
    """Text deltas as a server sends them: each group of ``per_delta`` tokens adds the text
    it completes; bytes of a character split across tokens wait for the rest."""
    deltas, pending = [], []
    for start in range(0, len(ids), per_delta):
        pending += ids[start : start + per_delta]
        text = tokenizer.decode(pending, skip_special_tokens=False)
        if text.endswith("\ufffd"):
            continue  # an incomplete UTF-8 sequence: wait for the next token
        deltas.append(text)
        pending = []
    if pending:
        deltas.append(tokenizer.decode(pending, skip_special_tokens=False))
    return deltas


def call(name, arguments, first="name"):
    body = {"name": name, "arguments": arguments}
    if first == "arguments":
        body = {"arguments": arguments, "name": name}
    return "<tool_call>\n" + json.dumps(body, ensure_ascii=False) + "\n</tool_call>"


CODE = "".join(
    f'def f{i}(x):\n    """Return x \\ {i}: “quoted” 😀 中文."""\n    return {{"k": "v{i}", \'q\': x}}\n\n'
    for i in range(120)
)
OUTPUTS = {
    "content then a call": (
        "I'll check the weather in Beijing.\n\n"
        + call("get_weather", {"city": "Beijing", "unit": "celsius"})
    ),
    "parallel calls, Qwen's layout": "\n".join(
        call("get_weather", {"city": city}) for city in ("北京", "São Paulo", "Zürich")
    ),
    "write_file with 10 KB of code": call("write_file", {"path": "src/x.py", "content": CODE}),
    "a closing tag inside an argument": call(
        "echo", {"text": "the tag </tool_call> and <tool_call> are just text"}
    ),
    "arguments before the name": call("search", {"name": "not me", "q": "x"}, first="arguments"),
    "a fenced block": '<tool_call>\n```json\n{"name": "f", "arguments": {"a": [1, 2.5, null]}}\n```\n</tool_call>',
    "a think block first": (
        "<think>\nThe user wants the weather. I should call <tool_call> get_weather.\n</think>\n\n"
        + call("get_weather", {"city": "Paris"})
        + "\n正在查询。"
    ),
    "no call at all": "只是一段中文回答，没有工具调用。<toolbox> <tool_",
}


@pytest.mark.parametrize("label", sorted(OUTPUTS))
@pytest.mark.parametrize("per_delta", [1, 32])
def test_token_streams_equal_parse(backend, tokenizer, label, per_delta):
    """Fed token by token (or 32 tokens a delta), the stream accumulates to parse(text)."""
    text = OUTPUTS[label]
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    deltas = detokenize(tokenizer, ids, per_delta)
    assert "".join(deltas) == text
    parser = backend.StreamParser(call_id=sequential_ids())
    out = []
    for delta in deltas:
        out += parser.feed(delta)
    out += parser.close()
    streamed = Message.from_deltas(out, parser.problems)
    assert streamed == backend.parse(text, call_id=sequential_ids())
    if label == "a think block first":
        # The model wrote "<tool_call>" in its reasoning: that block is content.
        assert [p.kind for p in streamed.problems] == ["not_a_call"]
    else:
        assert streamed.problems == []


def test_tool_call_tags_are_single_tokens(tokenizer):
    """<tool_call> and </tool_call> are one token each in Qwen3's vocabulary."""
    ids = tokenizer.encode(call("f", {}), add_special_tokens=False).ids
    assert ids[0] == TOOL_CALL and ids[-1] == END_TOOL_CALL


def test_expected_results(backend, tokenizer):
    """The token streams give the calls and content the outputs hold."""
    parse = backend.parse
    message = parse(OUTPUTS["write_file with 10 KB of code"])
    assert json.loads(message.tool_calls[0].arguments)["content"] == CODE
    message = parse(OUTPUTS["parallel calls, Qwen's layout"])
    assert [json.loads(c.arguments)["city"] for c in message.tool_calls] == ["北京", "São Paulo", "Zürich"]
    assert message.content is None
    message = parse(OUTPUTS["a think block first"])
    assert message.content.startswith("<think>\nThe user wants") and message.content.endswith("</think>\n\n\n正在查询。")
    assert [c.name for c in message.tool_calls] == ["get_weather"]
    message = parse(OUTPUTS["arguments before the name"])
    assert (message.tool_calls[0].name, json.loads(message.tool_calls[0].arguments)) == (
        "search",
        {"name": "not me", "q": "x"},
    )


def llama3_pieces(text):
    """Cut the text the way Llama 3's BPE cuts the tags: `<`, `tool`, `_call`, `>`."""
    pieces, rest = [], text
    while rest:
        cut = min(
            (rest.find(tag) for tag in ("<tool_call>", "</tool_call>") if rest.find(tag) >= 0),
            default=-1,
        )
        if cut < 0:
            pieces += [rest[i : i + 3] for i in range(0, len(rest), 3)]
            break
        pieces += [rest[i : min(i + 3, cut)] for i in range(0, cut, 3)]
        closing = rest.startswith("</", cut)
        pieces += ["</" if closing else "<", "tool", "_call", ">"]
        rest = rest[cut + (12 if closing else 11) :]
    assert "".join(pieces) == text
    return pieces


@pytest.mark.parametrize("label", sorted(OUTPUTS))
def test_tags_split_across_tokens(backend, label):
    """Tags split into `<`, `tool`, `_call`, `>` (Llama 3) or into characters give the same message."""
    text = OUTPUTS[label]
    expected = backend.parse(text, call_id=sequential_ids())
    for pieces in (llama3_pieces(text), list(text)):
        parser = backend.StreamParser(call_id=sequential_ids())
        out = []
        for piece in pieces:
            out += parser.feed(piece)
        out += parser.close()
        assert Message.from_deltas(out, parser.problems) == expected
