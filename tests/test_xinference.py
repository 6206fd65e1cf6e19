"""hermes_parse.xinference against the real Xinference (4.1.0): its own
streaming and non-streaming chat conversion, compared with its built-in
``qwen`` parser.  Run with the python of ``bash .ci/xinference-env.sh``."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import textwrap
import threading

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import test_xinference_support as xs  # noqa: E402

if not xs.xinference_available():
    pytest.skip(
        "xinference is not installed: run with the python that `bash .ci/xinference-env.sh` prints",
        allow_module_level=True,
    )

import hermes_parse.xinference as hx  # noqa: E402

XINFERENCE_VERSION = "4.1.0"
SIZES = (1, 3, 7, None)  # None: the whole output in one chunk


@pytest.fixture(scope="module")
def xi():
    tool_parsers, utils = xs.load()
    hx.register(tool_parsers)
    return tool_parsers, utils


def test_version():
    from importlib.metadata import version

    assert version("xinference") == XINFERENCE_VERSION


def ours(xi):
    return xi[0].TOOL_PARSERS["hermes"]()


def qwen(xi):
    # The original qwen parser (register() may have replaced the entry).
    from xinference.model.llm.tool_parsers.qwen_tool_parser import QwenToolParser

    return QwenToolParser()


def streamed(xi, parser, text, size, **kw):
    m = xs.model(xi[1], parser)
    return xs.client_stream(m, xs.completion_chunks(xs.pieces(text, size), **kw))


def whole(xi, parser, text):
    return xs.client_whole(xs.model(xi[1], parser), text)


def call(name, **args):
    return {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}


WEATHER = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing"}}\n</tool_call>'
# Outputs on which a client gets the same message from both parsers, streamed
# in chunks of 1, 3, 7 characters or whole, and not streamed.
SAME = {
    "content only": "The capital of Australia is Canberra.",
    "content with a lone <": "x < y, and then <tool",
    "content ending in <": "Compare: a <",
    "one call": WEATHER,
    "unicode arguments": '<tool_call>\n{"name": "f", "arguments": {"city": "東京", "e": "é😀"}}\n</tool_call>',
    "nested arguments": '<tool_call>\n{"name": "f", "arguments": {"a": {"b": [1, 2.5, null, true]}, "c": "}{"}}\n</tool_call>',
    "escaped quote and backslash": '<tool_call>\n{"name": "f", "arguments": {"p": "C:\\\\dir\\\\", "q": "say \\"hi\\""}}\n</tool_call>',
    "empty arguments": '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>',
}
# Outputs where the built-in qwen parser's stream differs from its own
# non-streamed answer, or from ours; what each client receives is asserted.
DIFFERENT = {
    "content then a call": "I'll check.\n\n" + WEATHER,
    "two calls": WEATHER + "\n" + WEATHER.replace("Beijing", "上海"),
    "text after a call": "Text " + WEATHER + " after.",
    "</tool_call> inside a string": '<tool_call>{"name": "f", "arguments": {"a": "</tool_call>"}}</tool_call>',
    "arguments not in json.dumps form": '<tool_call>{"name":"f","arguments":{"a":1,"b":"x"}}</tool_call>',
    "missing </tool_call>": '<tool_call>\n{"name": "f", "arguments": {"a": 1}}',
    "cut inside a call": 'Sure.<tool_call>\n{"name": "f", "arguments": {"a": "Reykjav',
    "bad block then a call": "<tool_call>not json</tool_call>" + WEATHER,
    "no arguments key": '<tool_call>{"name": "f"}</tool_call>',
}


@pytest.mark.parametrize("key", sorted(SAME))
def test_same_as_qwen(xi, key):
    text = SAME[key]
    expected = whole(xi, qwen(xi), text)
    assert whole(xi, ours(xi), text) == expected
    for size in SIZES:
        assert streamed(xi, ours(xi), text, size) == expected, size
        theirs = streamed(xi, qwen(xi), text, size)
        if "<tool_call>" in text and size is not None:
            # qwen's stream leaks the pieces of a <tool_call> split across
            # chunks into the content (docs/xinference.md); the rest is the same.
            theirs["content"] = _LEAK.sub("", theirs["content"] or "") or None
        assert theirs == expected, size


_LEAK = re.compile(r"</?t(?:o(?:o(?:l(?:_(?:c(?:a(?:l(?:l)?)?)?)?)?)?)?)?(?![a-z_>])|<$|<(?=<)")


# What a client receives with ours: the same, streamed in any chunks and not
# streamed.
OURS = {
    "content then a call": ("I'll check.\n\n", [call("get_weather", city="Beijing")]),
    "two calls": (None, [call("get_weather", city="Beijing"), call("get_weather", city="上海")]),
    "text after a call": ("Text  after.", [call("get_weather", city="Beijing")]),
    "</tool_call> inside a string": (None, [call("f", a="</tool_call>")]),
    "arguments not in json.dumps form": (None, [call("f", a=1, b="x")]),
    "missing </tool_call>": (None, [call("f", a=1)]),
    # A cut call cannot be sent (Xinference sends arguments whole): dropped;
    # not streamed, Xinference then makes the whole text the content.
    "cut inside a call": None,
    "bad block then a call": ("<tool_call>not json</tool_call>", [call("get_weather", city="Beijing")]),
    "no arguments key": (None, [call("f")]),
}


@pytest.mark.parametrize("key", sorted(DIFFERENT))
def test_ours_differs_from_qwen(xi, key):
    text = DIFFERENT[key]
    expected = OURS[key]
    got_whole = whole(xi, ours(xi), text)
    if expected is None:  # cut inside a call
        assert got_whole["content"] == text and got_whole["tool_calls"] == []
        for size in SIZES:
            got = streamed(xi, ours(xi), text, size)
            assert got["content"] == "Sure." and got["tool_calls"] == [], size
        return
    content, calls = expected
    assert (got_whole["content"], got_whole["tool_calls"]) == (content, calls)
    assert got_whole["finish_reason"] == "tool_calls"
    for size in SIZES:
        got = streamed(xi, ours(xi), text, size)
        assert got == got_whole, size


def test_qwen_differences_are_real(xi):
    """The differences docs/xinference.md lists, as the built-in qwen parser shows them."""
    q = qwen(xi)
    # Fragments of a split <tool_call> leak into the streamed content.
    assert streamed(xi, q, DIFFERENT["content then a call"], 3)["content"] == "I'll check.\n\n<tool_ca"
    # The newline between two calls is content, not streamed (whole) only.
    assert whole(xi, q, DIFFERENT["two calls"])["content"] == "\n"
    # </tool_call> inside a string: not streamed, no call at all.
    got = whole(xi, q, DIFFERENT["</tool_call> inside a string"])
    assert got["tool_calls"] == [] and got["content"] == DIFFERENT["</tool_call> inside a string"]
    # Streamed: a call with empty arguments and the rest of the string as content.
    got = streamed(xi, q, DIFFERENT["</tool_call> inside a string"], 7)
    assert got["tool_calls"] == [{"name": "f", "arguments": ""}]
    # Missing </tool_call>: the call is found only when not streamed.
    assert whole(xi, q, DIFFERENT["missing </tool_call>"])["tool_calls"] == [call("f", a=1)]
    assert streamed(xi, q, DIFFERENT["missing </tool_call>"], 7)["tool_calls"] == [
        {"name": "f", "arguments": ""}
    ]
    # A bad block: not streamed, the whole output is one content string
    # beside the good call's... (qwen keeps the good call).
    got = whole(xi, q, DIFFERENT["bad block then a call"])
    assert got["tool_calls"] == [call("get_weather", city="Beijing")]
    # No "arguments" key: no call.
    assert whole(xi, q, DIFFERENT["no arguments key"])["tool_calls"] == []


def test_vllm_backend_shape(xi):
    """Xinference's vLLM backend, for an output starting with <tool_call>, sends
    it whole in a chunk that already has the finish_reason, then an empty one."""
    for key, text in {**SAME, **DIFFERENT}.items():
        if key == "cut inside a call":
            continue
        expected = whole(xi, ours(xi), text)
        assert streamed(xi, ours(xi), text, 5, vllm_whole=True) == expected, key


XML = (
    "Let me look.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nBeijing\n</parameter>\n"
    "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>"
)


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            },
        },
    }
]


def test_xml_form_parsed_by_us(xi):
    """Qwen3-Coder / Qwen3.5 XML calls are parsed by our qwen3_coder body (dialect "auto"),
    typed by the request's tools that Xinference hands the parser: the same message as
    Xinference's own qwen parser gives, streamed in any chunks."""
    expected = xs.client_whole(xs.model(xi[1], qwen(xi)), XML, tools=TOOLS)
    assert expected["tool_calls"] == [call("get_weather", city="Beijing", days=3)]
    assert xs.client_whole(xs.model(xi[1], ours(xi)), XML, tools=TOOLS) == expected
    for size in SIZES:
        chunks = xs.completion_chunks(xs.pieces(XML, size))
        got = xs.client_stream(xs.model(xi[1], ours(xi)), chunks, tools=TOOLS)
        assert got["tool_calls"] == expected["tool_calls"], size
        # ours does not leak pieces of a split <tool_call> before the call
        assert got["content"] == "Let me look.\n", size


def test_xml_without_tools_values_are_strings(xi):
    """Without the request's tools there is no schema: a Qwen3-Coder value is its text."""
    got = xs.client_whole(xs.model(xi[1], ours(xi)), XML)
    assert got["tool_calls"] == [call("get_weather", city="Beijing", days="3")]


def test_registration(xi):
    tool_parsers = xi[0]
    assert issubclass(tool_parsers.TOOL_PARSERS["hermes"], hx.HermesToolParser)
    assert issubclass(tool_parsers.TOOL_PARSERS["hermes_python"], hx.HermesPythonToolParser)
    original = tool_parsers.TOOL_PARSERS["qwen"]
    try:
        hx.register(tool_parsers, replace_qwen=True)
        replaced = tool_parsers.TOOL_PARSERS["qwen"]
        assert issubclass(replaced, hx.HermesToolParser)
        hx.register(tool_parsers, replace_qwen=True)  # idempotent
        assert issubclass(tool_parsers.TOOL_PARSERS["qwen"], hx.HermesToolParser)
        assert xs.client_whole(xs.model(xi[1], replaced()), XML, tools=TOOLS)["tool_calls"] == [
            call("get_weather", city="Beijing", days=3)
        ]
    finally:
        tool_parsers.TOOL_PARSERS["qwen"] = original


def test_python_literals(xi):
    text = "<tool_call>\n{'arguments': {'symbol': 'TSLA', 'adjusted': True}, 'name': 'f'}\n</tool_call>"
    parser = xi[0].TOOL_PARSERS["hermes_python"]()
    expected = {"content": None, "tool_calls": [call("f", symbol="TSLA", adjusted=True)], "finish_reason": "tool_calls"}
    assert whole(xi, parser, text) == expected
    for size in SIZES:
        assert streamed(xi, xi[0].TOOL_PARSERS["hermes_python"](), text, size) == expected


# -- one shared instance, many requests --------------------------------------------
OUTPUTS = [
    "Plain answer number %d, no tools." % i if i % 3 == 0 else
    ("Checking %d.\n\n" % i + WEATHER.replace("Beijing", "city%d" % i) + ("\n" + WEATHER if i % 3 == 2 else ""))
    for i in range(12)
]


def test_interleaved_requests_on_one_instance(xi):
    """Requests advanced in turns, one delta each, through one parser object."""
    shared = ours(xi)
    expected = [whole(xi, ours(xi), text) for text in OUTPUTS]
    m = xs.model(xi[1], shared)
    streams = [
        m._to_tool_completion_chunks(iter(list(xs.completion_chunks(xs.pieces(t, 3)))))
        for t in OUTPUTS
    ]
    results = [[] for _ in OUTPUTS]
    live = set(range(len(OUTPUTS)))
    while live:
        for i in sorted(live):
            try:
                results[i].append(next(streams[i]))
            except StopIteration:
                live.discard(i)
    for i, chunks in enumerate(results):
        assert xs.client_stream(_Replay(chunks), ()) == expected[i]
    del streams, results
    gc.collect()
    shared.extract_tool_calls_streaming([""], "x", "x")  # a new request sweeps the table
    assert shared.active_requests() == 1


class _Replay:
    """Stands in for a model in client_stream: replays chunks already converted."""

    def __init__(self, chunks):
        self.chunks = chunks

    def _to_tool_completion_chunks(self, _chunks, tools=None):
        return iter(self.chunks)


def test_threads_on_one_instance(xi):
    shared = ours(xi)
    expected = [whole(xi, ours(xi), text) for text in OUTPUTS]
    errors = []

    def run(i):
        try:
            for size in (1, 3, 7):
                got = streamed(xi, shared, OUTPUTS[i], size)
                if got != expected[i]:
                    errors.append((i, size, got))
        except Exception as exc:  # pragma: no cover
            errors.append((i, exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(OUTPUTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# -- memory ------------------------------------------------------------------------
def test_state_freed_when_requests_end(xi):
    shared = ours(xi)
    for i in range(200):
        streamed(xi, shared, OUTPUTS[i % len(OUTPUTS)], 7)
    # Each finished request leaves at most a tombstone, swept when its
    # previous_texts list is gone and a new request starts.
    assert shared.active_requests() <= 1


def test_abandoned_requests_are_swept(xi):
    """A stream closed early (client gone) never sees a finish_reason."""
    shared = ours(xi)
    m = xs.model(xi[1], shared)
    for _ in range(50):
        text = "word " * 20 + WEATHER
        gen = m._to_tool_completion_chunks(iter(list(xs.completion_chunks(xs.pieces(text, 3)))))
        for _ in range(5):
            next(gen)
        gen.close()
        del gen
    gc.collect()
    shared.extract_tool_calls_streaming([""], "x", "x")
    assert shared.active_requests() == 1


def test_table_is_bounded():
    """Callers that keep their lists alive and never finish: the LRU cap holds."""
    shared = hx.HermesToolParser(max_requests=8)
    lists = []
    for i in range(100):
        texts = [""]
        lists.append(texts)
        shared.extract_tool_calls_streaming(texts, "Hello", "Hello")
        texts[-1] = "Hello"
    assert shared.active_requests() == 8
    # The most recent requests are the ones kept, and they go on correctly.
    texts = lists[-1]
    assert shared.extract_tool_calls_streaming(texts, "Hello there", " there") == (" there", None, None)


def test_fresh_list_each_call_is_replayed():
    """A caller that builds a new previous_texts list for every delta (as
    Xinference's own unit tests do) still gets the right events."""
    parser = hx.HermesToolParser()
    text = "Hi " + WEATHER
    events = []
    for end in range(1, len(text) + 1):
        current = text[:end]
        result = parser.extract_tool_calls_streaming([current[:-1]], current, current[-1])
        if result is not None:
            events.extend(result if isinstance(result, list) else [result])
    assert events[-1] == (None, "get_weather", {"city": "Beijing"}, 0)
    assert "".join(e[0] for e in events if e[0]) == "Hi "


# -- activation in spawned worker processes ---------------------------------------
SPAWN_CHILD = textwrap.dedent(
    """
    import json, multiprocessing, os, sys

    def worker(queue):
        # A fresh interpreter (spawn): only the .pth file can have set things up.
        sys.path.insert(0, os.environ["HP_TESTS"])
        import test_xinference_support as xs
        tool_parsers, utils = xs.load()
        names = {n: tool_parsers.TOOL_PARSERS[n].__module__ for n in ("qwen", "hermes")
                 if n in tool_parsers.TOOL_PARSERS}
        result = None
        if "hermes" in tool_parsers.TOOL_PARSERS:
            # What LLM.prepare_parse_tool_calls does for a model whose JSON says "qwen".
            parser = tool_parsers.TOOL_PARSERS["qwen"]()
            m = xs.model(utils, parser)
            text = "a <tool_call>" + '{"name": "f", "arguments": {"x": 1}}</tool_call>'
            result = xs.client_stream(m, xs.completion_chunks(xs.pieces(text, 3)))
        queue.put(json.dumps({"names": names, "result": result, "pid": os.getpid()}))

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=worker, args=(queue,))
        proc.start()
        print(queue.get(timeout=120))
        proc.join(60)
        print(json.dumps({"parent": os.getpid()}))
    """
)


def _site():
    import sysconfig

    return sysconfig.get_paths()["purelib"]


@pytest.fixture
def pth():
    """Installs the .pth file in this environment's site-packages for the test."""
    path = os.path.join(_site(), hx.PTH_NAME)
    existed = os.path.exists(path)
    yield path
    if not existed and os.path.exists(path):
        os.remove(path)


def _spawn(tmp_path, env_extra=None):
    script = tmp_path / "spawn_child.py"
    script.write_text(SPAWN_CHILD)
    env = {k: v for k, v in os.environ.items() if k != hx.ENV}
    env["HP_TESTS"] = os.path.dirname(__file__)
    env.update(env_extra or {})
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300, cwd=str(tmp_path)
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    child, parent = json.loads(lines[0]), json.loads(lines[1])
    assert child["pid"] != parent["parent"]
    return child


def test_pth_activates_in_spawned_processes(tmp_path, pth):
    assert hx.main(["install", "--replace-qwen"]) == 0
    assert os.path.exists(pth)
    child = _spawn(tmp_path)
    assert child["names"] == {"qwen": "hermes_parse.xinference", "hermes": "hermes_parse.xinference"}
    assert child["result"] == {
        "content": "a ",
        "tool_calls": [{"name": "f", "arguments": '{"x": 1}'}],
        "finish_reason": "tool_calls",
    }
    # The environment variable turns it off without uninstalling, or keeps qwen.
    off = _spawn(tmp_path, {hx.ENV: "0"})
    assert "hermes" not in off["names"] and off["names"]["qwen"].endswith("qwen_tool_parser")
    keep = _spawn(tmp_path, {hx.ENV: "hermes"})
    assert keep["names"]["hermes"] == "hermes_parse.xinference"
    assert keep["names"]["qwen"].endswith("qwen_tool_parser")
    assert hx.main(["uninstall"]) == 0
    gone = _spawn(tmp_path)
    assert "hermes" not in gone["names"]


def test_pth_without_replace_registers_hermes_only(tmp_path, pth):
    assert hx.main(["install"]) == 0
    child = _spawn(tmp_path)
    assert child["names"]["hermes"] == "hermes_parse.xinference"
    assert child["names"]["qwen"].endswith("qwen_tool_parser")
    hx.main(["uninstall"])


def _hook_path():
    return os.path.join(_site(), hx.HOOK_NAME + ".py")


def test_install_says_what_it_writes(capsys, pth):
    hook = _hook_path()
    try:
        assert hx.main(["install", "--replace-qwen"]) == 0
        out = capsys.readouterr().out
        line = "import _hermes_parse_xinference; _hermes_parse_xinference.start(True)"
        with open(pth, encoding="utf-8") as handle:
            assert handle.read() == line + "\n"
        with open(hook, encoding="utf-8") as handle, open(os.path.join(os.path.dirname(hx.__file__), "_hook.py"), encoding="utf-8") as source:
            assert handle.read() == source.read()
        assert f"wrote {pth}" in out and line in out and f"wrote {hook}" in out
        assert "'hermes' and 'hermes_python', and takes over 'qwen'" in out
        assert hx.main(["uninstall"]) == 0
        assert not os.path.exists(pth) and not os.path.exists(hook)
    finally:
        if os.path.exists(hook):
            os.remove(hook)


def test_install_refuses_without_xinference(tmp_path, capsys):
    site = str(tmp_path)
    assert hx.main(["install", "--site", site]) == 1
    err = capsys.readouterr().err
    assert "Xinference is not installed in " + site in err and "--force" in err
    assert os.listdir(site) == []
    # An Xinference without the tool-parser package (older than 4.x) is refused too.
    (tmp_path / "xinference").mkdir()
    assert hx.main(["install", "--site", site]) == 1
    assert "has no tool-parser package" in capsys.readouterr().err
    assert os.listdir(site) == ["xinference"]
    assert hx.main(["install", "--site", site, "--force"]) == 0
    assert sorted(os.listdir(site)) == sorted([hx.PTH_NAME, hx.HOOK_NAME + ".py", "xinference"])


def test_status_and_uninstall_without_runpy_warning(tmp_path, pth):
    """python -m hermes_parse.xinference with the package already imported at
    start-up (an older install's .pth line does that) must not warn."""
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-W", "error", "-m", "hermes_parse.xinference", *args],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
    )
    with open(pth, "w", encoding="utf-8") as handle:  # the line hermes-parse 0.1.0 wrote
        handle.write("import hermes_parse.xinference as _hermes_parse_xinference; _hermes_parse_xinference._pth_startup(False)\n")
    status = run("status")
    assert status.returncode == 0 and status.stderr == "", status.stderr
    assert "written by an older hermes-parse" in status.stdout
    install = run("install")
    assert install.returncode == 0 and install.stderr == "", install.stderr
    status = run("status")
    assert status.returncode == 0 and status.stderr == "" and "(up to date)" in status.stdout
    uninstall = run("uninstall")
    assert uninstall.returncode == 0 and uninstall.stderr == "", uninstall.stderr
    assert not os.path.exists(pth) and not os.path.exists(_hook_path())
    status = run("status")
    assert status.returncode == 1 and status.stderr == "" and "not installed" in status.stdout


def test_older_pth_line_keeps_working(tmp_path, pth):
    with open(pth, "w", encoding="utf-8") as handle:
        handle.write("import hermes_parse.xinference as _hermes_parse_xinference; _hermes_parse_xinference._pth_startup(True)\n")
    child = _spawn(tmp_path)
    assert child["names"] == {"qwen": "hermes_parse.xinference", "hermes": "hermes_parse.xinference"}
    assert child["result"]["tool_calls"] == [{"name": "f", "arguments": '{"x": 1}'}]


def test_pth_imports_nothing_at_start_up(tmp_path, pth):
    """The .pth line loads only the hook: not hermes_parse (nor json, re, logging...)."""

    def started():
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True, timeout=60, cwd=str(tmp_path)
        )
        return {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}

    hx.main(["uninstall"])
    before = started()
    assert hx.main(["install"]) == 0
    try:
        assert started() - before == {"_hermes_parse_xinference"}
    finally:
        hx.main(["uninstall"])


def test_finish_reason_closes_the_request():
    """The end of a request (here passed explicitly) lets out what the parser
    held: a call whose </tool_call> never came, a cut tag at the very end."""
    parser = hx.HermesToolParser()
    texts = [""]
    events = []
    text = 'a <tool_call>{"name": "f", "arguments": {"x": 1}}'
    for i, piece in enumerate((text[:5], text[5:], "")):
        current = texts[-1] + piece
        result = parser.extract_tool_calls_streaming(texts, current, piece, finish_reason="stop" if i == 2 else None)
        texts[-1] = current
        if result is not None:
            events.extend(result if isinstance(result, list) else [result])
    assert events == [("a ", None, None), (None, "f", {"x": 1}, 0)]
    assert parser.active_requests() == 1  # a tombstone until the list is gone
    texts2 = [""]
    assert parser.extract_tool_calls_streaming(texts2, "b <tool", "b <tool") in (("b ", None, None), None)
    last = parser.extract_tool_calls_streaming(texts2, "b <tool", "", finish_reason="length")
    assert last == ("<tool", None, None)


def test_xinference_still_has_the_finish_reason_local(xi):
    """_caller_finish_reason reads this local of this function (its docstring says why)."""
    function = xi[1].ChatModelMixin._post_process_completion_chunk
    assert "finish_reason" in function.__code__.co_varnames
    assert "extract_tool_calls_streaming" in function.__code__.co_names


def test_events_in_output_order():
    """A call comes out when its block ends (</tool_call>), before the content
    and the calls that follow it in the same delta."""
    parser = hx.HermesToolParser()
    before = '<tool_call>{"name": "f", "arguments": {"q": 1}}'
    delta = '</tool_call> then <tool_call>{"name": "g", "arguments": {}}</tool_call> end'
    assert parser.extract_tool_calls_streaming([before], before + delta, delta) == [
        (None, "f", {"q": 1}, 0),
        (" then ", None, None),
        (None, "g", {}, 1),
        (" end", None, None),
    ]
    # Not before its </tool_call>: the block could still go wrong.
    parser = hx.HermesToolParser()
    assert parser.extract_tool_calls_streaming([""], before, before) is None
