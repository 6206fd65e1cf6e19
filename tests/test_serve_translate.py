"""The proxy's translator (hermes_parse/serve/translate.py and friends), without sockets.

Requests in, upstream requests out; upstream answers (whole, or SSE bytes in
any chunking) in, client answers out.  A stream and a whole answer must give
the same message; the inject mode's prompt must be what Qwen3's own chat
template writes with the tools.
"""

from __future__ import annotations

import copy
import json
import tracemalloc
from pathlib import Path

import pytest

pytest.importorskip("jinja2")
pytest.importorskip("jsonschema")

import jinja2.ext  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

from hermes_parse import Message, seeded_ids  # noqa: E402
from hermes_parse.serve import forcing  # noqa: E402
from hermes_parse.serve.inject import ToolPrompt, convert_messages  # noqa: E402
from hermes_parse.serve.sse import SSEDecoder  # noqa: E402
from hermes_parse.serve.translate import (  # noqa: E402
    PROBLEMS_FIELD,
    ApiError,
    Settings,
    StreamTranslator,
    Upstream,
    prepare,
    translate_completion,
)

QWEN3_CONFIG = Path(__file__).parent / "vllm_support" / "qwen3" / "tokenizer_config.json"
VLLM = Upstream(vllm=True, version="0.32.0")
OTHER = Upstream(vllm=False)
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}
SEARCH = {"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}
TOOLS = [WEATHER, SEARCH]
USER = [{"role": "user", "content": "Weather in Beijing?"}]


def settings(**options) -> Settings:
    options.setdefault("call_id", seeded_ids(7))
    return Settings(**options)


def call(name: str, arguments: str) -> str:
    return f'<tool_call>\n{{"name": "{name}", "arguments": {arguments}}}\n</tool_call>'


def request(**fields) -> dict:
    body = {"model": "tiny", "messages": copy.deepcopy(USER), "tools": copy.deepcopy(TOOLS)}
    body.update(fields)
    return body


def plan_for(body: dict, upstream: Upstream = VLLM, **options):
    return prepare(body, settings(**options), upstream).plan


# -- streams, as an upstream sends them ------------------------------------------


def chunk(index: int, delta: dict, finish=None, **extra) -> dict:
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
    choice.update(extra)
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "tiny", "choices": [choice]}


def sse(chunks) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def upstream_stream(texts, finish="stop", size=3, usage=False) -> bytes:
    """The SSE bytes of choices ``texts`` (one text per choice), cut into ``size``-character
    deltas, the choices interleaved, as vLLM sends n > 1."""
    chunks = [chunk(i, {"role": "assistant", "content": ""}) for i in range(len(texts))]
    longest = max(len(t) for t in texts)
    for start in range(0, longest, size):
        for i, text in enumerate(texts):
            if start < len(text):
                chunks.append(chunk(i, {"content": text[start : start + size]}))
    for i in range(len(texts)):
        chunks.append(chunk(i, {"content": ""}, finish))
    if usage:
        chunks.append({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "tiny",
                       "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}})
    return sse(chunks)


def run_stream(plan, data: bytes, cut: int = 7, **options) -> bytes:
    translator = StreamTranslator(plan, settings(**options))
    out = [translator.feed(data[i : i + cut]) for i in range(0, len(data), cut)]
    out.append(translator.close())
    return b"".join(out)


def events(data: bytes):
    decoder = SSEDecoder()
    found = decoder.feed(data) + decoder.end()
    return [e if e == "[DONE]" else json.loads(e) for e in found]


def fold(data: bytes):
    """Per choice: the message a client accumulates, the finish_reason, the problems; and the tail events."""
    choices = {}
    tail = []
    for e in events(data):
        if e == "[DONE]" or not e.get("choices"):
            tail.append(e)
            continue
        for entry in e["choices"]:
            state = choices.setdefault(entry["index"], {"deltas": [], "finish": None, "problems": []})
            state["deltas"].append(entry["delta"])
            if entry.get("finish_reason") is not None:
                state["finish"] = entry["finish_reason"]
            if PROBLEMS_FIELD in entry:
                state["problems"] = entry[PROBLEMS_FIELD]["problems"]
    result = {
        index: (Message.from_deltas(state["deltas"]).to_openai(), state["finish"], state["problems"])
        for index, state in choices.items()
    }
    return result, tail


def whole(plan, texts, finish="stop", **options):
    response = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "tiny",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": finish}
            for i, text in enumerate(texts)
        ],
        "usage": {"total_tokens": 14},
    }
    translated, outcome = translate_completion(response, plan, settings(**options))
    result = {}
    for entry in translated["choices"]:
        message = {key: value for key, value in entry["message"].items()}
        problems = entry.get(PROBLEMS_FIELD, {}).get("problems", [])
        result[entry["index"]] = (message, entry["finish_reason"], problems)
    return result, translated, outcome


def assert_same(plan, texts, finish="stop", **options):
    """Streamed in several chunkings and whole: one answer."""
    expected, _, _ = whole(plan, texts, finish, **options)
    for size in (1, 2, 5, 64):
        for cut in (1, 13, 4096):
            streamed, _ = fold(run_stream(plan, upstream_stream(texts, finish, size), cut, **options))
            assert streamed == expected, (size, cut)
    return expected


# -- requests ------------------------------------------------------------------------


def test_template_mode_keeps_tools_and_asks_for_none():
    """Template mode: tools forwarded, tool_choice "none", skip_special_tokens false on vLLM, the rest unchanged."""
    body = request(tool_choice="auto", vllm_xargs={"forced_tokens": [1, 2]}, top_k=3, chat_template_kwargs={"x": 1})
    prepared = prepare(copy.deepcopy(body), settings(mode="template"), VLLM)
    out = prepared.body
    assert out["tools"] == TOOLS and out["tool_choice"] == "none" and out["skip_special_tokens"] is False
    for key in ("vllm_xargs", "top_k", "chat_template_kwargs", "messages", "model"):
        assert out[key] == body[key]
    assert prepared.plan.mode == "template" and prepared.plan.forced is None
    other = prepare(copy.deepcopy(body), settings(mode="template"), OTHER).body
    assert "skip_special_tokens" not in other and other["tool_choice"] == "none"


def test_auto_mode_follows_the_upstream():
    """--mode auto: template on vLLM, inject elsewhere."""
    assert plan_for(request()).mode == "template"
    assert plan_for(request(), OTHER).mode == "inject"


def test_requests_without_tools_pass_unchanged():
    """No tools: nothing to do, the client's bytes go as they are."""
    body = {"model": "tiny", "messages": USER, "temperature": 0}
    prepared = prepare(body, settings(), VLLM)
    assert prepared.plan is None and prepared.changed is False and prepared.body is body


def test_tool_choice_none_offers_no_tools():
    """tool_choice none: the tools are not sent, the answer passes through as written."""
    prepared = prepare(request(tool_choice="none", parallel_tool_calls=True), settings(), VLLM)
    assert prepared.plan is None
    assert "tools" not in prepared.body and "tool_choice" not in prepared.body
    assert "parallel_tool_calls" not in prepared.body and "skip_special_tokens" not in prepared.body


@pytest.mark.parametrize(
    "body, param",
    [
        ([1, 2], None),
        ({"messages": "hi"}, "messages"),
        ({"messages": [1]}, "messages"),
        ({"messages": USER, "tools": {"a": 1}}, "tools"),
        ({"messages": USER, "tools": [{"type": "function"}]}, "tools"),
        ({"messages": USER, "tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]}, "tools"),
        ({"messages": USER, "tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
        ({"messages": USER, "tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"messages": USER, "stream": "yes"}, "stream"),
        ({"messages": USER, "n": "2"}, "n"),
    ],
)
def test_bad_shapes_are_400(body, param):
    """A request of the wrong shape is an ApiError 400 naming the field, never a crash."""
    with pytest.raises(ApiError) as caught:
        prepare(body, settings(), VLLM)
    assert caught.value.status == 400 and caught.value.param == param
    assert caught.value.body()["error"]["type"] == "invalid_request_error"


def test_named_choice_is_forced_with_structured_outputs_on_vllm():
    """A named tool_choice on vLLM: structured_outputs with the tool's parameters (as vLLM's own)."""
    body = request(tool_choice={"type": "function", "function": {"name": "get_weather"}})
    prepared = prepare(body, settings(), VLLM)
    assert prepared.body["structured_outputs"] == {"json": WEATHER["function"]["parameters"]}
    assert prepared.body["tool_choice"] == "none"
    assert prepared.plan.forced == "named" and prepared.plan.forced_by_schema


def test_required_choice_is_an_array_schema():
    """required: an array of {name, parameters}, at most one item with parallel_tool_calls false."""
    schema = prepare(request(tool_choice="required"), settings(), VLLM).body["structured_outputs"]["json"]
    assert schema["type"] == "array" and schema["minItems"] == 1 and "maxItems" not in schema
    names = [item["properties"]["name"]["enum"] for item in schema["items"]["anyOf"]]
    assert names == [["get_weather"], ["search"]]
    single = prepare(request(tool_choice="required", parallel_tool_calls=False), settings(), VLLM)
    assert single.body["structured_outputs"]["json"]["maxItems"] == 1


def test_forcing_refused_when_the_request_has_its_own_constraint():
    """required + the client's own response_format: a clear 400, not a silent choice."""
    body = request(tool_choice="required", response_format={"type": "json_object"})
    with pytest.raises(ApiError) as caught:
        prepare(body, settings(), VLLM)
    assert caught.value.status == 400 and caught.value.param == "tool_choice"


def test_forcing_elsewhere_is_an_instruction():
    """Not vLLM: required is asked for in words (inject: in the system block)."""
    prepared = prepare(request(tool_choice="required"), settings(), OTHER)
    assert "structured_outputs" not in prepared.body
    assert prepared.body["messages"][0]["content"].endswith("You must call one or more of the functions now.")
    assert not prepared.plan.forced_by_schema


# -- inject mode against the real Qwen3 template ----------------------------------------


def render_qwen3(messages, tools=None) -> str:
    """Qwen3's chat template, rendered the way transformers renders it."""
    config = json.loads(QWEN3_CONFIG.read_text(encoding="utf-8"))
    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    environment.filters["tojson"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent)
    template = environment.from_string(config["chat_template"])
    return template.render(messages=messages, tools=tools, add_generation_prompt=True)


HISTORY = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Beijing and Tokyo, then search?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Beijing"}'}},
        {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "東京", "unit": "c"}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 3}'},
    {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "sunny"}]},
    {"role": "assistant", "content": "Let me search.", "tool_calls": [
        {"id": "call_3", "type": "function", "function": {"name": "search", "arguments": '{"q": "a \\"b\\""}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_3", "content": "nothing"},
    {"role": "user", "content": "Thanks."},
]


@pytest.mark.parametrize("with_system", [True, False])
def test_inject_prompt_is_qwen3_template_with_tools(with_system):
    """The converted conversation, rendered without tools, is Qwen3's prompt with them."""
    messages = copy.deepcopy(HISTORY if with_system else HISTORY[1:])
    prepared = prepare({"model": "tiny", "messages": copy.deepcopy(messages), "tools": TOOLS}, settings(mode="inject"), VLLM)
    assert "tools" not in prepared.body and "tool_choice" not in prepared.body
    # The template reads contents as text: give it the text of the parts.
    original = copy.deepcopy(messages)
    for message in original:
        if isinstance(message.get("content"), list):
            message["content"] = "".join(part["text"] for part in message["content"])
        elif message.get("content") is None:
            message["content"] = ""  # transformers' template would fail on None
    assert render_qwen3(prepared.body["messages"]) == render_qwen3(original, TOOLS)


def test_inject_arguments_never_double_encoded():
    """Arguments given as a JSON string are written as that JSON, an object as its JSON."""
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": '{"a": 1}'}},
                                             {"function": {"name": "g", "arguments": {"b": "é"}}}]},
    ]
    converted = convert_messages(messages, None, None)
    assert converted[1]["content"] == call("f", '{"a": 1}') + "\n" + call("g", '{"b": "é"}')
    assert "tool_calls" not in converted[1]


def test_inject_history_without_tools_is_converted():
    """Inject mode, a request without tools but with tool history: the history still becomes text."""
    body = {"model": "tiny", "messages": copy.deepcopy(HISTORY)}
    prepared = prepare(body, settings(mode="inject"), OTHER)
    assert prepared.plan is None
    roles = [m["role"] for m in prepared.body["messages"]]
    assert "tool" not in roles and prepared.body["messages"][0]["content"] == "You are terse."


def test_inject_template_file():
    """--inject-template: a Jinja2 system block with system, tools and tojson."""
    prompt = ToolPrompt("{{ system or 'Hi' }}|{% for t in tools %}{{ t.function.name }}={{ t | tojson }};{% endfor %}")
    prepared = prepare(request(), settings(mode="inject", tool_prompt=prompt), OTHER)
    system = prepared.body["messages"][0]
    assert system["role"] == "system"
    assert system["content"] == "Hi|get_weather=" + json.dumps(WEATHER, ensure_ascii=False) + ";search=" + json.dumps(SEARCH) + ";"


# -- answers ------------------------------------------------------------------------------


TEXTS = [
    "Just words, no call.",
    "I'll check." + call("get_weather", '{"city": "Beijing"}'),
    call("get_weather", '{"city": "Beijing"}') + "\n" + call("search", '{"q": "x"}'),
    call("get_weather", '{"city": "São Paulo 東京 \\"q\\" </tool_call>"}') + " after",
    "a < b and <tool_call> is not a call: <tool_call>not json</tool_call>",
]


@pytest.mark.parametrize("text", TEXTS)
def test_stream_equals_whole(text):
    """Streamed in any chunking (SSE bytes cut anywhere) or whole: one message, one finish_reason."""
    plan = plan_for(request(stream=True))
    assert_same(plan, [text])


def test_finish_reason_rules():
    """tool_calls only when a call was sent; stop otherwise; length kept on a cut call."""
    plan = plan_for(request())
    result, _, _ = whole(plan, TEXTS[:2])
    assert result[0][1] == "stop" and result[1][1] == "tool_calls"
    cut = call("get_weather", '{"city": "Bei')[:-15]
    result = assert_same(plan, [cut], finish="length")
    message, finish, problems = result[0]
    assert finish == "length" and message["tool_calls"][0]["function"]["name"] == "get_weather"
    assert [p["kind"] for p in problems] == ["truncated"]


def test_whole_answer_message():
    """A chat.completion gets content, tool_calls and finish_reason; other fields stay."""
    plan = plan_for(request())
    result, translated, outcome = whole(plan, [TEXTS[1]])
    message, finish, problems = result[0]
    assert message["content"] == "I'll check." and finish == "tool_calls" and problems == []
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"city": "Beijing"}
    assert message["tool_calls"][0]["id"].startswith("call_")
    assert translated["usage"] == {"total_tokens": 14} and translated["id"] == "chatcmpl-1"
    assert outcome.tool_calls == {"sent": 1} and outcome.header() is None


def test_n_choices_each_their_own_parser():
    """n > 1: interleaved choices, each parsed by itself; stream == whole."""
    plan = plan_for(request(n=3, stream=True))
    result = assert_same(plan, [TEXTS[1], TEXTS[0], TEXTS[2]])
    assert [result[i][1] for i in range(3)] == ["tool_calls", "stop", "tool_calls"]
    assert len(result[2][0]["tool_calls"]) == 2


def test_usage_chunk_after_the_finish_and_done_last():
    """The usage chunk (choices: []) goes out as it came, after every finish_reason, then [DONE]."""
    plan = plan_for(request(stream=True, stream_options={"include_usage": True}))
    out = run_stream(plan, upstream_stream([TEXTS[1], TEXTS[0]], usage=True))
    found = events(out)
    assert found[-1] == "[DONE]"
    assert found[-2]["choices"] == [] and found[-2]["usage"]["total_tokens"] == 14
    finishes = [i for i, e in enumerate(found[:-1]) if e["choices"] and e["choices"][0]["finish_reason"]]
    assert len(finishes) == 2 and max(finishes) < len(found) - 2


def test_first_chunk_keeps_the_role_and_ids_come_once():
    """The role goes out first; a call's id, type and name come once, before its arguments."""
    plan = plan_for(request(stream=True))
    found = events(run_stream(plan, upstream_stream([TEXTS[2]])))
    assert found[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    heads = [e["choices"][0]["delta"]["tool_calls"][0] for e in found[1:-1]
             if "tool_calls" in e["choices"][0]["delta"] and "id" in e["choices"][0]["delta"]["tool_calls"][0]]
    assert [(h["index"], h["type"], h["function"]) for h in heads] == [
        (0, "function", {"name": "get_weather", "arguments": ""}), (1, "function", {"name": "search", "arguments": ""})]


def test_upstream_tool_calls_pass_through_untouched():
    """An upstream that parsed the calls itself: its message and its deltas are left alone."""
    plan = plan_for(request())
    message = {"role": "assistant", "content": "<tool_call>x", "tool_calls": [
        {"id": "chatcmpl-tool-1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}
    response = {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    translated, _ = translate_completion(copy.deepcopy(response), plan, settings())
    assert translated == response
    upstream = [
        chunk(0, {"role": "assistant", "content": ""}),
        chunk(0, {"tool_calls": [{"index": 0, "id": "chatcmpl-tool-1", "type": "function",
                                  "function": {"name": "get_weather", "arguments": ""}}]}),
        chunk(0, {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
        chunk(0, {"content": "<tool_call>"}),
        chunk(0, {}, "tool_calls"),
    ]
    found = events(run_stream(plan, sse(upstream)))
    assert found[1:-1] == upstream[1:] and found[-1] == "[DONE]"


def test_parallel_false_keeps_the_first_call():
    """parallel_tool_calls false: at most one call, the others reported as parallel_call_dropped."""
    plan = plan_for(request(parallel_tool_calls=False, stream=True))
    message, finish, problems = assert_same(plan, [TEXTS[2]])[0]
    assert [c["function"]["name"] for c in message["tool_calls"]] == ["get_weather"] and finish == "tool_calls"
    assert [p["kind"] for p in problems] == ["parallel_call_dropped"]


BAD_CALL = call("get_weather", '{"city": 3}')


def test_validation_reports_by_default():
    """Arguments that fail the tool's schema: the call stays, a schema_mismatch problem is reported."""
    plan = plan_for(request(stream=True))
    message, finish, problems = assert_same(plan, [BAD_CALL])[0]
    assert finish == "tool_calls" and len(message["tool_calls"]) == 1
    assert [(p["kind"], p["pointer"]) for p in problems] == [("schema_mismatch", "/city")]
    _, _, outcome = whole(plan, [BAD_CALL])
    assert outcome.header() == "schema_mismatch=1" and outcome.tool_calls == {"sent": 1, "invalid": 1}


def test_validation_content_policy():
    """--invalid-calls content: an invalid call becomes text, the next call takes its index."""
    plan = plan_for(request(stream=True))
    text = "A" + BAD_CALL + "B" + call("search", '{"q": "ok"}') + call("nope", "{}")
    message, finish, problems = assert_same(plan, [text], invalid_calls="content")[0]
    assert [c["function"]["name"] for c in message["tool_calls"]] == ["search"]
    assert message["content"] == "A" + call("get_weather", '{"city": 3}') + "B" + call("nope", "{}")
    assert finish == "tool_calls"
    assert sorted(p["kind"] for p in problems) == ["schema_mismatch", "unknown_tool"]


def test_validation_off():
    """--invalid-calls off: nothing checked."""
    plan = plan_for(request())
    result, _, _ = whole(plan, [BAD_CALL], invalid_calls="off")
    assert result[0][2] == []


def test_forced_named_call_from_structured_output():
    """vLLM forced the named tool's arguments: they come out as that call, streamed like any
    (finish_reason "stop", OpenAI's rule for a named function)."""
    plan = plan_for(request(stream=True, tool_choice={"type": "function", "function": {"name": "get_weather"}}))
    message, finish, problems = assert_same(plan, ['{"city": "Beijing", "unit": "c"}'])[0]
    # A named function finishes with "stop", as OpenAI and vLLM say.
    assert message["content"] is None and finish == "stop" and problems == []
    assert message["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Beijing", "unit": "c"}'}


def test_forced_call_cut_by_max_tokens():
    """A forced call cut by max_tokens stays open: truncated, finish_reason length."""
    plan = plan_for(request(stream=True, tool_choice={"type": "function", "function": {"name": "get_weather"}}))
    message, finish, problems = assert_same(plan, ['{"city": "Bei'], finish="length")[0]
    assert finish == "length" and message["tool_calls"][0]["function"]["arguments"] == '{"city": "Bei'
    assert [p["kind"] for p in problems] == ["truncated"]


def test_forced_required_calls_from_structured_output():
    """vLLM forced an array of {name, parameters}: one call per item."""
    plan = plan_for(request(stream=True, tool_choice="required"))
    text = '[{"name": "get_weather", "parameters": {"city": "B]}\\""}}, {"name": "search", "parameters": {"q": "x"}}]'
    message, finish, _ = assert_same(plan, [text])[0]
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message["tool_calls"]] == [
        ("get_weather", {"city": 'B]}"'}), ("search", {"q": "x"})]
    assert finish == "tool_calls"


def test_forced_by_prompt_reports_when_not_obeyed():
    """Forced in words (not vLLM): no call, or another tool, is a tool_choice_not_forced problem."""
    plan = plan_for(request(tool_choice="required"), OTHER)
    result, _, _ = whole(plan, ["No."])
    assert [p["kind"] for p in result[0][2]] == ["tool_choice_not_forced"] and result[0][1] == "stop"
    named = plan_for(request(tool_choice={"type": "function", "function": {"name": "search"}}), OTHER)
    result, _, _ = whole(named, [TEXTS[1]])
    assert [p["kind"] for p in result[0][2]] == ["tool_choice_not_forced"]


def test_reasoning_split_and_upstream_reasoning_kept():
    """--reasoning on splits <think>; a choice whose upstream split it already is not split again."""
    plan = plan_for(request(stream=True))
    text = "<think>hmm</think>" + TEXTS[1]
    message, finish, _ = assert_same(plan, [text], reasoning=True)[0]
    assert message["reasoning"] == "hmm" and message["content"] == "I'll check." and finish == "tool_calls"
    response = {"choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "reasoning": "r", "content": "<think>x</think>y"}}]}
    translated, _ = translate_completion(response, plan, settings(reasoning=True))
    assert translated["choices"][0]["message"]["content"] == "<think>x</think>y"


def test_logprobs_pass_through_on_their_chunk():
    """A chunk's logprobs go out on the first chunk made from it, or alone when its text is held back."""
    plan = plan_for(request(stream=True))
    logprobs = {"content": [{"token": "<tool_call>", "logprob": -0.1}]}
    upstream = [chunk(0, {"role": "assistant", "content": ""}), chunk(0, {"content": "<tool_call>"}, logprobs=logprobs),
                chunk(0, {"content": "hi"}, logprobs={"content": []}), chunk(0, {"content": ""}, "stop")]
    found = events(run_stream(plan, sse(upstream)))
    assert found[1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": logprobs, "finish_reason": None}
    assert found[2]["choices"][0]["delta"] == {"content": "<tool_call>hi"}


def test_broken_upstream_stream():
    """The upstream dies mid-stream: every complete delta, then an error event and [DONE]."""
    plan = plan_for(request(stream=True))
    data = upstream_stream(["Hello there." + call("get_weather", '{"city": "Beijing"}')], size=4)
    cut = data[: len(data) // 2]
    cut = cut[: cut.rfind(b"\n\n") + 2] + b'data: {"id": "chatcmpl-1", "choi'
    found = events(run_stream(plan, cut))
    assert found[-1] == "[DONE]" and found[-2]["error"]["type"] == "upstream_error"
    deltas = [e["choices"][0]["delta"] for e in found[:-2]]
    assert Message.from_deltas(deltas).content == "Hello there."
    translator = StreamTranslator(plan, settings())
    out = translator.feed(upstream_stream(["Hi"])[:-len(b"data: [DONE]\n\n")]) + translator.fail("gone")
    assert events(out)[-2]["error"]["message"] == "gone" and translator.done


def test_event_that_is_not_json_ends_the_stream():
    """A broken SSE frame: an error event and [DONE], nothing after."""
    plan = plan_for(request(stream=True))
    translator = StreamTranslator(plan, settings())
    out = translator.feed(b"data: {not json}\n\n")
    assert [e if e == "[DONE]" else e["error"]["type"] for e in events(out)] == ["upstream_error", "[DONE]"]
    assert translator.feed(upstream_stream(["more"])) == b""


def test_upstream_error_event_passes_through():
    """An error event from the upstream goes to the client as it came."""
    plan = plan_for(request(stream=True))
    data = b'data: {"error": {"message": "boom", "type": "x", "code": 500}}\n\ndata: [DONE]\n\n'
    assert events(run_stream(plan, data))[0] == {"error": {"message": "boom", "type": "x", "code": 500}}


def test_memory_flat_over_a_long_stream():
    """A 4 MB content stream: the translator holds nothing of what it has sent."""
    plan = plan_for(request(stream=True))
    translator = StreamTranslator(plan, settings())
    piece = sse([chunk(0, {"content": "word " * 200})])[: -len(b"data: [DONE]\n\n")]
    translator.feed(piece)
    tracemalloc.start()
    try:
        for _ in range(4000):
            translator.feed(piece)
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < 256 * 1024


def test_sse_decoder_line_endings_and_comments():
    """CRLF, CR, comments and multi-line data, cut anywhere."""
    data = b": keep-alive\r\ndata: a\r\ndata: b\r\n\r\nevent: x\rdata: c\r\r"
    for size in (1, 2, 3, len(data)):
        decoder = SSEDecoder()
        found = []
        for i in range(0, len(data), size):
            found += decoder.feed(data[i : i + size])
        assert found + decoder.end() == ["a\nb", "c"]


def test_call_array_splitter_any_chunking():
    """The required-call array becomes blocks, strings with brackets and escapes kept whole."""
    text = '[{"name": "a", "parameters": {"s": "}]\\\\\\"{"}} , {"name": "b", "parameters": {}}]'
    expected = '<tool_call>{"name": "a", "parameters": {"s": "}]\\\\\\"{"}}</tool_call><tool_call>{"name": "b", "parameters": {}}</tool_call>'
    for size in (1, 2, 7, len(text)):
        splitter = forcing.CallArray()
        assert "".join(splitter.feed(text[i : i + size]) for i in range(0, len(text), size)) == expected


def test_dialect_passed_to_the_core():
    """--dialect auto reads a Qwen3-Coder block; the default (hermes) leaves it as content."""
    plan = plan_for(request(stream=True))
    block = "<tool_call>\n<function=get_weather>\n<parameter=city>\nBeijing\n</parameter>\n</function>\n</tool_call>"
    message, finish, _ = assert_same(plan, [block], dialect="auto")[0]
    assert message["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Beijing"}'}
    assert finish == "tool_calls"
    message, finish, problems = assert_same(plan, [block])[0]
    assert message["content"] == block and finish == "stop" and problems[0]["kind"] == "not_a_call"
