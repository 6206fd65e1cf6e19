"""The aiohttp shell around the translator: it moves bytes and handles time.

Routes: ``POST /v1/chat/completions`` (translated when the request has
tools), ``GET /health`` (``?deep=1`` also asks the upstream), ``GET
/metrics`` (Prometheus), and every other path passed through to the upstream,
streamed both ways.  One client session (a pool of connections) per process;
nothing kept between requests.  The rules of what is rewritten live in
``translate.py``; this module only adds the I/O faults:

* an upstream error before the answer starts: its status and body (an OpenAI
  error body when it sent none); unreachable: 502; no answer in time: 504;
* an upstream that breaks or stalls mid-stream: the client gets every
  complete delta, then an error event and ``[DONE]``;
* a client that goes away: the upstream request is closed (vLLM aborts it);
* a bad request (not UTF-8, not JSON, the wrong shape, too large): 400 / 413
  with an OpenAI error body.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
from aiohttp import web

from .jsonio import dumps, loads
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .translate import (
    PROBLEMS_HEADER,
    ApiError,
    Settings,
    StreamTranslator,
    Upstream,
    check_request,
    error_body,
    prepare,
    translate_completion,
)

__all__ = ["Config", "make_app", "run"]

log = logging.getLogger("hermes_parse.serve")

# Not forwarded either way: hop-by-hop headers, and those the proxy sets itself.
_HOP = frozenset(
    "connection keep-alive proxy-authenticate proxy-authorization te trailer trailers"
    " transfer-encoding upgrade host content-length accept-encoding content-encoding".split()
)
_READ = 64 * 1024
# The access-log entry of a request, filled as it goes.
LOG_ENTRY: Any = web.RequestKey("log", dict) if hasattr(web, "RequestKey") else "log"


@dataclass
class Config:
    """Everything the shell needs (``run`` fills it from the command line)."""

    upstream: str
    settings: Settings = field(default_factory=Settings)
    api_key: Optional[str] = None
    upstream_api_key: Optional[str] = None
    max_body: int = 16 * 1024 * 1024
    connect_timeout: float = 10.0
    first_byte_timeout: float = 600.0
    idle_timeout: float = 300.0
    total_timeout: float = 0.0
    pool_size: int = 256
    cors_origins: List[str] = field(default_factory=list)
    log_bodies: bool = False
    access_log: bool = True

    @property
    def root(self) -> str:
        """The upstream's address without ``/v1`` (paths are added to it as the client sent them)."""
        url = self.upstream.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url


_dumps = dumps


def _error(status: int, message: str, kind: str = "invalid_request_error", param: Optional[str] = None) -> web.Response:
    return web.Response(status=status, body=_dumps(error_body(message, kind, status, param)), content_type="application/json")


class _Deadline:
    """The connect / first byte / idle / total timeouts of one request."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._end = time.monotonic() + config.total_timeout if config.total_timeout else None

    def _cap(self, seconds: float) -> Optional[float]:
        limit = seconds or None
        if self._end is not None:
            left = max(self._end - time.monotonic(), 0.0)
            limit = left if limit is None else min(limit, left)
        return limit

    def first_byte(self) -> Optional[float]:
        return self._cap(self._config.first_byte_timeout)

    def idle(self) -> Optional[float]:
        return self._cap(self._config.idle_timeout)


class Proxy:
    """The handlers, the client session and what is known of the upstream."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = Metrics()
        self.session: Optional[aiohttp.ClientSession] = None
        self.upstream: Optional[Upstream] = None
        self._probe_lock = asyncio.Lock()

    # -- life cycle --------------------------------------------------------------

    async def start(self, app: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=self.config.pool_size, limit_per_host=self.config.pool_size)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.connect_timeout or None)
        # auto_decompress off: bytes pass through as the upstream sent them.
        self.session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)
        try:
            await self.probe()
        except aiohttp.ClientError as exc:
            _log({"event": "upstream_probe", "upstream": self.config.upstream, "error": str(exc) or type(exc).__name__,
                  "note": "asked again at the first request"})

    async def stop(self, app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()

    async def probe(self) -> Upstream:
        """Ask the upstream once who it is (vLLM: ``/version`` and ``owned_by: vllm`` in
        ``/v1/models``); the decision is logged.  Raises ``aiohttp.ClientError``."""
        if self.upstream is not None:
            return self.upstream
        async with self._probe_lock:
            if self.upstream is not None:
                return self.upstream
            assert self.session is not None
            timeout = aiohttp.ClientTimeout(total=(self.config.connect_timeout or 10) + 10)
            headers = self._auth_headers(None)
            version = None
            vllm = False
            try:
                async with self.session.get(self.config.root + "/version", timeout=timeout, headers=headers) as resp:
                    if resp.status == 200:
                        data = loads(await resp.read())
                        if isinstance(data, dict) and isinstance(data.get("version"), str):
                            version = data["version"]
            except (ValueError, asyncio.TimeoutError):
                pass
            how = "owned_by in /v1/models"
            try:
                async with self.session.get(self.config.root + "/v1/models", timeout=timeout, headers=headers) as resp:
                    if resp.status == 200:
                        data = loads(await resp.read())
                        models = data.get("data") if isinstance(data, dict) else None
                        vllm = any(isinstance(m, dict) and m.get("owned_by") == "vllm" for m in models or ())
                    elif resp.status in (401, 403) and version is not None:
                        # vLLM's --api-key guards /v1 only: its /version answered, so it is vLLM.
                        vllm, how = True, "/version (/v1/models needs a key)"
            except (ValueError, asyncio.TimeoutError):
                pass
            self.upstream = Upstream(vllm=vllm, version=version if vllm else None)
            mode = self.upstream.mode(self.config.settings)
            _log({"event": "upstream", "upstream": self.config.upstream, "vllm": vllm, "version": version,
                  "mode": mode, "decided_by": "--mode" if self.config.settings.mode != "auto" else "probe: " + how})
            return self.upstream

    # -- helpers -------------------------------------------------------------------

    def _auth_headers(self, request: Optional[web.Request]) -> Dict[str, str]:
        if self.config.upstream_api_key:
            return {"Authorization": "Bearer " + self.config.upstream_api_key}
        if request is not None and not self.config.api_key and "Authorization" in request.headers:
            return {"Authorization": request.headers["Authorization"]}
        return {}

    def _upstream_headers(self, request: web.Request, translated: bool = False) -> Dict[str, str]:
        """The client's headers for the upstream: hop-by-hop ones out, the key as configured.

        An answer the proxy translates must come uncompressed; one it passes through
        keeps the client's ``Accept-Encoding`` (aiohttp would add its own otherwise).
        """
        headers = {
            key: value for key, value in request.headers.items()
            if key.lower() not in _HOP and key.lower() != "authorization"
        }
        headers.update(self._auth_headers(request))
        headers["Accept-Encoding"] = "identity" if translated else request.headers.get("Accept-Encoding", "identity")
        return headers

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.config.max_body
        if request.content_length is not None and request.content_length > limit:
            raise ApiError(413, f"the request body is larger than {limit} bytes", kind="request_too_large")
        parts: List[bytes] = []
        size = 0
        while True:
            chunk = await request.content.read(_READ)
            if not chunk:
                return b"".join(parts)
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"the request body is larger than {limit} bytes", kind="request_too_large")
            parts.append(chunk)

    async def _open(self, method: str, url: str, data: Any, headers: Dict[str, str], deadline: _Deadline):
        """The upstream's response, its headers read; raises ApiError 502 / 504."""
        assert self.session is not None
        try:
            return await asyncio.wait_for(
                self.session.request(method, url, data=data, headers=headers, allow_redirects=False),
                deadline.first_byte(),
            )
        except asyncio.TimeoutError:
            self.metrics.upstream_errors.labels("timeout").inc()
            raise ApiError(504, "the upstream did not answer in time", kind="upstream_timeout") from None
        except aiohttp.ClientError as exc:
            self.metrics.upstream_errors.labels("connect").inc()
            raise ApiError(502, f"the upstream is unreachable: {exc}", kind="upstream_error") from None

    async def _read_all(self, resp: aiohttp.ClientResponse, deadline: _Deadline) -> bytes:
        parts: List[bytes] = []
        while True:
            chunk = await asyncio.wait_for(resp.content.readany(), deadline.idle())
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    async def _upstream_error(self, resp: aiohttp.ClientResponse, deadline: _Deadline) -> web.Response:
        """The upstream refused: its status and body, as an OpenAI error body when it sent none."""
        self.metrics.upstream_errors.labels("status").inc()
        try:
            raw = await self._read_all(resp, deadline)
        except (asyncio.TimeoutError, aiohttp.ClientError):
            raw = b""
        try:
            body = loads(raw)
            if isinstance(body, dict) and ("error" in body or body.get("object") == "error"):
                return web.Response(status=resp.status, body=raw, content_type="application/json")
        except ValueError:
            pass
        text = raw.decode("utf-8", "replace")[:2000] or resp.reason or "upstream error"
        return web.Response(status=resp.status, body=_dumps(error_body(text, "upstream_error", resp.status)),
                            content_type="application/json")

    # -- handlers ------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        if request.query.get("deep") not in ("1", "true", "yes"):
            return web.json_response({"status": "ok"})
        assert self.session is not None
        try:
            timeout = aiohttp.ClientTimeout(total=(self.config.connect_timeout or 10) + 5)
            async with self.session.get(self.config.root + "/v1/models", timeout=timeout,
                                        headers=self._auth_headers(None)) as resp:
                await resp.read()
                ok = resp.status == 200
                detail: Any = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            ok, detail = False, str(exc) or type(exc).__name__
        body = {"status": "ok" if ok else "upstream_unavailable", "upstream": {"url": self.config.upstream, "status": detail}}
        return web.json_response(body, status=200 if ok else 503)

    async def metrics_page(self, request: web.Request) -> web.Response:
        response = web.Response(body=self.metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def passthrough(self, request: web.Request) -> web.StreamResponse:
        """Any other path: to the upstream and back, streamed, unchanged."""
        request[LOG_ENTRY]["mode"] = "passthrough"
        data = request.content if request.body_exists else None
        return await self._forward(request, request.path_qs, data, self._upstream_headers(request))

    async def _forward(self, request: web.Request, path: str, data: Any, headers: Dict[str, str]) -> web.StreamResponse:
        deadline = _Deadline(self.config)
        resp = await self._open(request.method, self.config.root + path, data, headers, deadline)
        request[LOG_ENTRY]["upstream_status"] = resp.status
        sse = resp.content_type == "text/event-stream"
        out = web.StreamResponse(status=resp.status, reason=resp.reason)
        for key, value in resp.headers.items():
            if key.lower() not in _HOP or key.lower() == "content-encoding":
                out.headers.add(key, value)
        try:
            await out.prepare(request)
            tail = b""  # an SSE stream: the unfinished event, kept until it ends
            while True:
                try:
                    chunk = await asyncio.wait_for(resp.content.readany(), deadline.idle())
                except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
                    kind = "timeout" if isinstance(exc, asyncio.TimeoutError) else "broken_stream"
                    self.metrics.upstream_errors.labels(kind).inc()
                    if sse:  # the complete events, then an error event and [DONE]
                        complete, _ = _complete_events(tail + _left_over(resp))
                        message = "the upstream stalled" if kind == "timeout" else f"the upstream broke off: {exc}"
                        error = b"data: " + _dumps(error_body(message, "upstream_error", 502)) + b"\n\ndata: [DONE]\n\n"
                        await out.write(complete + error)
                        await out.write_eof()
                    elif request.transport is not None:
                        request.transport.close()  # not SSE: the client sees the body cut, as it was
                    return out
                if not chunk:
                    break
                if sse:
                    chunk, tail = _complete_events(tail + chunk)
                    if not chunk:
                        continue
                await out.write(chunk)
            if tail:
                await out.write(tail)
            await out.write_eof()
            return out
        except ConnectionResetError:  # the client went away: the finally cuts the upstream request
            request[LOG_ENTRY]["client_gone"] = True
            return out
        finally:
            resp.close()  # a no-op when it was read to the end; else the upstream request is cut

    async def chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/chat/completions``."""
        entry = request[LOG_ENTRY]
        started = time.monotonic()
        raw = await self._read_body(request)
        try:
            body = loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ApiError(400, "the request body is not UTF-8") from None
        except ValueError as exc:
            raise ApiError(400, f"the request body is not JSON: {exc}") from None
        if self.config.log_bodies:
            entry["request_body"] = body
        check_request(body)
        try:
            upstream = await self.probe()
        except aiohttp.ClientError as exc:
            self.metrics.upstream_errors.labels("connect").inc()
            raise ApiError(502, f"the upstream is unreachable: {exc}", kind="upstream_error") from None
        prepared = prepare(body, self.config.settings, upstream)
        headers = self._upstream_headers(request, translated=prepared.plan is not None)
        if prepared.plan is None:
            entry["mode"] = "passthrough"
            data = raw if not prepared.changed else _dumps(prepared.body)
            headers["Content-Type"] = "application/json"
            return await self._forward(request, request.path_qs, data, headers)
        plan = prepared.plan
        entry["mode"] = plan.mode
        entry["stream"] = plan.stream
        if self.config.log_bodies:
            entry["upstream_request_body"] = prepared.body  # what the upstream was asked (inject: the prompt)
        headers["Content-Type"] = "application/json"
        deadline = _Deadline(self.config)
        resp = await self._open("POST", self.config.root + request.path_qs, _dumps(prepared.body), headers, deadline)
        entry["upstream_status"] = resp.status
        try:
            if resp.status != 200:
                return await self._upstream_error(resp, deadline)
            if resp.content_type == "text/event-stream":
                return await self._stream(request, resp, plan, deadline, started)
            try:
                raw_answer = await self._read_all(resp, deadline)
            except asyncio.TimeoutError:
                self.metrics.upstream_errors.labels("timeout").inc()
                raise ApiError(504, "the upstream stalled", kind="upstream_timeout") from None
            except aiohttp.ClientError as exc:
                self.metrics.upstream_errors.labels("broken_stream").inc()
                raise ApiError(502, f"the upstream broke off: {exc}", kind="upstream_error") from None
            try:
                answer = loads(raw_answer)
            except ValueError:
                self.metrics.upstream_errors.labels("bad_response").inc()
                raise ApiError(502, "the upstream's answer is not JSON", kind="upstream_error") from None
            translated, outcome = translate_completion(answer, plan, self.config.settings)
            self._count(entry, outcome)
            response = web.Response(body=_dumps(translated), content_type="application/json")
            summary = outcome.header()
            if summary:
                response.headers[PROBLEMS_HEADER] = summary
            if self.config.log_bodies:
                entry["response_body"] = translated
            return response
        finally:
            resp.close()

    async def _stream(self, request: web.Request, resp: aiohttp.ClientResponse, plan, deadline: _Deadline,
                      started: float) -> web.StreamResponse:
        out = web.StreamResponse(status=200)
        out.headers["Content-Type"] = "text/event-stream"
        out.headers["Cache-Control"] = "no-cache"
        try:
            await self._pump(request, out, resp, plan, deadline, started)
        except ConnectionResetError:  # the client went away: chat() cuts the upstream request
            request[LOG_ENTRY]["client_gone"] = True
        return out

    async def _pump(self, request: web.Request, out: web.StreamResponse, resp: aiohttp.ClientResponse, plan,
                    deadline: _Deadline, started: float) -> None:
        """Upstream SSE through the translator to the client, until [DONE] or a fault."""
        await out.prepare(request)
        translator = StreamTranslator(plan, self.config.settings)
        metrics = self.metrics
        first_delta = first_call = False
        while not translator.done:
            try:
                chunk = await asyncio.wait_for(resp.content.readany(), deadline.idle())
            except asyncio.TimeoutError:
                metrics.upstream_errors.labels("timeout").inc()
                await out.write(translator.fail("the upstream stalled (no data within the idle timeout)", code=504))
                break
            except aiohttp.ClientError as exc:
                metrics.upstream_errors.labels("broken_stream").inc()
                # What arrived with the break is still complete deltas: send them first.
                data = translator.feed(_left_over(resp))
                await out.write(data + translator.fail(f"the upstream broke off: {exc}"))
                break
            if not chunk:
                data = translator.close()
                if translator.failed:  # closed before [DONE]
                    metrics.upstream_errors.labels("broken_stream").inc()
            else:
                clock = time.perf_counter()
                data = translator.feed(chunk)
                metrics.chunk_time.observe(time.perf_counter() - clock)
            if translator.first_delta and not first_delta:
                first_delta = True
                metrics.first_delta.observe(time.monotonic() - started)
            if translator.first_call and not first_call:
                first_call = True
                metrics.first_call.observe(time.monotonic() - started)
            if data:
                await out.write(data)
            if not chunk:
                break
        self._count(request[LOG_ENTRY], translator.outcome)
        await out.write_eof()

    def _count(self, entry: Dict[str, Any], outcome) -> None:
        self.metrics.count_outcome(outcome)
        entry["tool_calls"] = outcome.tool_calls
        if outcome.problems:
            kinds: Dict[str, int] = {}
            for problem in outcome.problems:
                kinds[problem["kind"]] = kinds.get(problem["kind"], 0) + 1
            entry["problems"] = kinds


def _complete_events(data: bytes) -> Tuple[bytes, bytes]:
    """``data`` split after its last complete SSE event: (events, the unfinished rest)."""
    ends = [data.rfind(separator) + len(separator) for separator in (b"\n\n", b"\r\n\r\n") if separator in data]
    end = max(ends) if ends else 0
    return data[:end], data[end:]


def _left_over(resp: aiohttp.ClientResponse) -> bytes:
    """The bytes that arrived just before the connection broke.

    aiohttp's reader raises the error before it hands out what it holds; its
    private ``_read_nowait`` does not (guarded: another version may lack it).
    """
    read = getattr(resp.content, "_read_nowait", None)
    try:
        return read(-1) if read is not None else b""
    except Exception:
        return b""


def _log(entry: Dict[str, Any]) -> None:
    log.info(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))


def make_app(config: Config) -> web.Application:
    """The application: routes, middlewares, the client session on start-up."""
    proxy = Proxy(config)

    @web.middleware
    async def guard(request: web.Request, handler):
        """Errors as OpenAI bodies, the API key, the access log."""
        started = time.monotonic()
        entry: Dict[str, Any] = {"method": request.method, "path": request.path}
        request[LOG_ENTRY] = entry
        status = 500
        try:
            if config.api_key and request.path not in ("/health",) and request.method != "OPTIONS":
                given = request.headers.get("Authorization", "")
                if not hmac.compare_digest(given.encode(), ("Bearer " + config.api_key).encode()):
                    response: web.StreamResponse = _error(401, "a valid API key is needed (Authorization: Bearer KEY)",
                                                          "authentication_error")
                    status = 401
                    return response
            try:
                response = await handler(request)
            except ApiError as exc:
                response = web.Response(status=exc.status, body=_dumps(exc.body()), content_type="application/json")
            except web.HTTPException as exc:
                response = _error(exc.status, exc.reason)
            status = response.status
            return response
        except (ConnectionResetError, asyncio.CancelledError):
            status = 499  # the client went away
            entry["client_gone"] = True
            raise
        except Exception as exc:  # a bug: the client gets a 500 body, the worker lives on
            log.exception("internal error")
            status = 500
            return _error(500, f"internal error: {type(exc).__name__}", "internal_error")
        finally:
            entry["status"] = status
            entry["duration_ms"] = round((time.monotonic() - started) * 1000, 2)
            proxy.metrics.requests.labels(entry.get("mode", "none"), str(status)).inc()
            if config.access_log:
                _log(entry)

    app = web.Application(middlewares=[guard], client_max_size=config.max_body + 1)
    app.on_startup.append(proxy.start)
    app.on_cleanup.append(proxy.stop)
    if config.cors_origins:
        origins = set(config.cors_origins)

        async def cors(request: web.Request, response: web.StreamResponse) -> None:
            origin = request.headers.get("Origin")
            if origin and ("*" in origins or origin in origins):
                response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
                response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                response.headers["Vary"] = "Origin"

        async def preflight(request: web.Request) -> web.Response:
            return web.Response(status=204)

        app.on_response_prepare.append(cors)
        app.router.add_route("OPTIONS", "/{tail:.*}", preflight)
    app.router.add_get("/health", proxy.health)
    app.router.add_get("/metrics", proxy.metrics_page)
    app.router.add_post("/v1/chat/completions", proxy.chat)
    app.router.add_route("*", "/{tail:.*}", proxy.passthrough)
    return app


def config_from(args) -> Config:
    """The ``Config`` of ``hermes-parse serve``'s parsed arguments."""
    from .options import settings_from

    return Config(
        upstream=args.upstream,
        settings=settings_from(args),
        api_key=args.api_key,
        upstream_api_key=args.upstream_api_key,
        max_body=args.max_body,
        connect_timeout=args.connect_timeout,
        first_byte_timeout=args.first_byte_timeout,
        idle_timeout=args.idle_timeout,
        total_timeout=args.total_timeout,
        pool_size=args.pool_size,
        cors_origins=args.cors_origin or [],
        log_bodies=args.log_bodies,
        access_log=args.access_log == "on",
    )


async def _serve(config: Config, host: str, port: int, reuse_port: bool) -> None:
    runner = web.AppRunner(make_app(config), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = server.sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"hermes-parse serve: listening on http://{shown}:{port} (upstream {config.upstream}, pid {os.getpid()})",
          file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(args) -> int:
    """``hermes-parse serve``: serve until SIGINT / SIGTERM; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    config = config_from(args)
    if args.workers == 1:
        asyncio.run(_serve(config, args.host, args.port, reuse_port=False))
        return 0
    if args.port == 0:
        print("hermes-parse serve: --workers needs a fixed --port", file=sys.stderr)
        return 2
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:  # a worker: its own event loop, session and metrics
            try:
                asyncio.run(_serve(config, args.host, args.port, reuse_port=True))
            finally:
                os._exit(0)
        children.append(pid)

    def forward(signum, frame):
        for child in children:
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for child in children:
        while True:
            try:
                os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    return 0
