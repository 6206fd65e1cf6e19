"""The proxy's aiohttp shell (hermes_parse/serve/app.py): HTTP rules and faults.

Most tests need no upstream at all (bad requests, limits, the API key, CORS,
/health, /metrics, an unreachable upstream).  The faults a real server does not
produce on demand (a byte stream that stalls, a broken SSE frame, a stream
cut mid-event, an error answered as HTML, a client that goes away while the
upstream is still writing) are played by a small upstream made here with
aiohttp's own server, and only those: the proxy against a real vLLM is
tests/test_serve_vllm.py.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("prometheus_client")

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from hermes_parse import Message  # noqa: E402
from hermes_parse.serve.app import Config, make_app  # noqa: E402
from hermes_parse.serve.translate import Settings  # noqa: E402

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
REQUEST = {"model": "tiny", "messages": [{"role": "user", "content": "Weather?"}], "tools": TOOLS}
STATE = web.AppKey("state", dict)
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing"}}\n</tool_call>'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sse_chunk(delta: dict, finish=None) -> bytes:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "tiny",
             "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


async def start(app: web.Application) -> tuple:
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


def run(test, upstream_routes=None, **config):
    """Run ``test(session, proxy_url, upstream_state)`` against a proxy (and the fault upstream)."""

    async def main():
        runners = []
        state: dict = {}
        try:
            if upstream_routes is not None:
                upstream = web.Application()
                upstream[STATE] = state
                for method, path, handler in upstream_routes:
                    upstream.router.add_route(method, path, handler)
                runner, upstream_url = await start(upstream)
                runners.append(runner)
            else:
                upstream_url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
            config.setdefault("settings", Settings(mode="template"))
            runner, proxy_url = await start(make_app(Config(upstream=upstream_url + "/v1", **config)))
            runners.insert(0, runner)
            async with aiohttp.ClientSession() as session:
                await test(session, proxy_url, state)
        finally:
            for runner in runners:
                await runner.cleanup()

    asyncio.run(main())


async def read_events(response) -> list:
    text = (await response.read()).decode()
    return [json.loads(e[6:]) if e != "data: [DONE]" else "[DONE]" for e in text.split("\n\n") if e]


# -- no upstream needed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        (b"{not json", 400, "not JSON"),
        (b'{"messages": [], "x": "\xff"}', 400, "not UTF-8"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"messages": "hi"}).encode(), 400, "messages"),
        (json.dumps({"messages": [], "tools": [{"type": "function"}]}).encode(), 400, "tool"),
    ],
)
def test_bad_requests_get_openai_400(body, status, fragment):
    """Not JSON, not UTF-8, the wrong shape: a 400 with an OpenAI error body; the upstream is not asked."""

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", data=body) as response:
            assert response.status == status
            error = (await response.json())["error"]
            assert fragment in error["message"] and error["type"] == "invalid_request_error"

    run(test)


def test_body_limit_413():
    """A body over --max-body: 413 with an OpenAI error body (declared length, and chunked)."""

    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", data=b"x" * 5000) as response:
            assert response.status == 413
            assert (await response.json())["error"]["type"] == "request_too_large"
        async with session.post(url + "/v1/chat/completions", data=chunks()) as response:
            assert response.status == 413

    run(test, max_body=4096)


def test_api_key():
    """--api-key: 401 without it (OpenAI body); /health stays open."""

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", json=REQUEST) as response:
            assert response.status == 401
            assert (await response.json())["error"]["type"] == "authentication_error"
        async with session.get(url + "/metrics", headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401
        async with session.get(url + "/metrics", headers={"Authorization": "Bearer sesame"}) as response:
            assert response.status == 200
        async with session.get(url + "/health") as response:
            assert response.status == 200

    run(test, api_key="sesame")


def test_cors_off_by_default_and_on_by_option():
    """No CORS headers unless --cors-origin; then the origin is allowed and preflights answered."""

    async def without(session, url, state):
        async with session.get(url + "/health", headers={"Origin": "https://app.example"}) as response:
            assert "Access-Control-Allow-Origin" not in response.headers

    async def with_origin(session, url, state):
        async with session.get(url + "/health", headers={"Origin": "https://app.example"}) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
        async with session.options(url + "/v1/chat/completions", headers={"Origin": "https://app.example"}) as response:
            assert response.status == 204 and "Authorization" in response.headers["Access-Control-Allow-Headers"]
        async with session.get(url + "/health", headers={"Origin": "https://evil.example"}) as response:
            assert "Access-Control-Allow-Origin" not in response.headers

    run(without)
    run(with_origin, cors_origins=["https://app.example"])


def test_unreachable_upstream():
    """Nobody at the upstream: 502 with an OpenAI body; /health?deep=1 says 503; /metrics counts it."""

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", json=REQUEST) as response:
            assert response.status == 502
            assert (await response.json())["error"]["type"] == "upstream_error"
        async with session.get(url + "/health?deep=1") as response:
            assert response.status == 503
        async with session.get(url + "/metrics") as response:
            text = await response.text()
        assert 'hermes_parse_serve_upstream_errors_total{kind="connect"} 1.0' in text
        assert 'hermes_parse_serve_requests_total{mode="none",status="502"} 1.0' in text

    run(test)


# -- faults of a fake upstream ----------------------------------------------------------------


async def stalling_stream(request):
    """Sends a content delta, a call's first half, then nothing (a stalled byte stream)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(sse_chunk({"role": "assistant", "content": ""}) + sse_chunk({"content": "Hi. "}))
    await response.write(sse_chunk({"content": CALL[:40]}))
    request.app[STATE]["stalled"] = True
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        request.app[STATE]["cancelled"] = True
        raise
    return response


def test_stalled_stream_ends_with_error_and_done():
    """The upstream stalls mid-call: the client gets the complete deltas, an error event, [DONE]."""

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", json=dict(REQUEST, stream=True)) as response:
            found = await read_events(response)
        assert found[-1] == "[DONE]" and found[-2]["error"]["code"] == 504
        message = Message.from_deltas([e["choices"][0]["delta"] for e in found[:-2]])
        assert message.content == "Hi. " and message.tool_calls[0].name == "get_weather"

    run(test, [("POST", "/v1/chat/completions", stalling_stream)], idle_timeout=2)


async def broken_frame(request):
    """A content delta, then an SSE frame that is not JSON."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(sse_chunk({"content": "Hello"}) + b"data: {\"choices\": [\n\n")
    await response.write(sse_chunk({"content": " never sent"}))
    return response


def test_broken_sse_frame():
    """A frame that is not JSON: what came before, then an error event and [DONE], nothing after."""

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", json=dict(REQUEST, stream=True)) as response:
            found = await read_events(response)
        assert [e if e == "[DONE]" else e.get("error", e.get("choices")) for e in found][-2:] == [
            {"message": "the upstream sent an event that is not JSON", "type": "upstream_error", "param": None, "code": 502},
            "[DONE]"]
        assert Message.from_deltas([e["choices"][0]["delta"] for e in found[:-2]]).content == "Hello"

    run(test, [("POST", "/v1/chat/completions", broken_frame)])


async def dies_mid_event(request):
    """Half an event, then the connection is dropped."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(sse_chunk({"content": "Partial"}) + sse_chunk({"content": CALL})[:30])
    request.transport.close()
    return response


def test_upstream_dies_mid_stream():
    """The upstream's connection drops: the complete deltas, an error event, [DONE]."""

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", json=dict(REQUEST, stream=True)) as response:
            assert response.status == 200
            found = await read_events(response)
        assert found[-1] == "[DONE]" and "error" in found[-2]
        assert Message.from_deltas([e["choices"][0]["delta"] for e in found[:-2]]).content == "Partial"

    run(test, [("POST", "/v1/chat/completions", dies_mid_event)])


def test_passthrough_stream_dies_mid_event():
    """A request without tools streams through unchanged; a break ends it with the complete
    events, an error event and [DONE] (the half event is not sent)."""

    async def test(session, url, state):
        body = {"model": "tiny", "messages": REQUEST["messages"], "stream": True}
        async with session.post(url + "/v1/chat/completions", json=body) as response:
            text = (await response.read()).decode()
        assert text.startswith(sse_chunk({"content": "Partial"}).decode())
        found = [e for e in text.split("\n\n") if e]
        assert len(found) == 3 and "error" in json.loads(found[1][6:]) and found[2] == "data: [DONE]"

    run(test, [("POST", "/v1/chat/completions", dies_mid_event)])


async def html_error(request):
    return web.Response(status=503, text="<html>Service Unavailable</html>", content_type="text/html")


def test_upstream_error_without_openai_body():
    """An upstream error before the answer starts keeps its status; a non-OpenAI body is wrapped."""

    async def test(session, url, state):
        async with session.post(url + "/v1/chat/completions", json=REQUEST) as response:
            assert response.status == 503
            error = (await response.json())["error"]
        assert error["type"] == "upstream_error" and "Service Unavailable" in error["message"]

    run(test, [("POST", "/v1/chat/completions", html_error)])


def test_client_disconnect_cancels_the_upstream_request():
    """The client goes away mid-stream: the proxy closes its upstream request (the upstream sees it)."""

    async def test(session, url, state):
        response = await session.post(url + "/v1/chat/completions", json=dict(REQUEST, stream=True))
        await response.content.readline()
        for _ in range(600):
            if state.get("stalled"):
                break
            await asyncio.sleep(0.05)
        response.close()  # the client hangs up
        for _ in range(600):
            if state.get("cancelled"):
                break
            await asyncio.sleep(0.05)
        assert state.get("cancelled")

    run(test, [("POST", "/v1/chat/completions", stalling_stream)])


def test_command_line_prints_where_it_listens(tmp_path):
    """`python -m hermes_parse serve --upstream URL --port 0`: a "listening on http://HOST:PORT"
    line on stderr when ready, /health answers there, SIGTERM stops it."""
    import re
    import subprocess
    import sys
    import time
    import urllib.request

    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hermes_parse", "serve", "--upstream", f"http://127.0.0.1:{free_port()}/v1",
             "--port", "0", "--connect-timeout", "1"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        found = None
        for _ in range(600):
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", log.read_text())
            if found or process.poll() is not None:
                break
            time.sleep(0.1)
        assert found, log.read_text()
        with urllib.request.urlopen(found.group(1) + "/health", timeout=30) as response:
            assert json.loads(response.read()) == {"status": "ok"}
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
