"""A raw HTTP/SSE client for the fault tests: it reads a stream event by event
and can hang up at any point (the ``openai`` client hides both)."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Iterator, Optional
from urllib.parse import urlsplit


class Stream:
    """``POST`` a chat completion with ``"stream": true``; iterate over the
    ``data:`` payloads (dicts, or the string ``"[DONE]"``) as they arrive."""

    def __init__(self, base_url: str, body: dict, timeout: float = 120.0) -> None:
        url = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        payload = json.dumps(dict(body, stream=True)).encode()
        self.connection.request("POST", url.path.rstrip("/") + "/chat/completions", body=payload,
                                headers={"Content-Type": "application/json", "Authorization": "Bearer unused"})
        self.response = self.connection.getresponse()
        self.status = self.response.status

    def events(self) -> Iterator:
        data: list = []
        while True:
            line = self.response.readline()
            if not line:  # the server closed the stream
                return
            line = line.rstrip(b"\r\n")
            if not line:
                if data:
                    text = "\n".join(data)
                    data = []
                    yield text if text == "[DONE]" else json.loads(text)
                continue
            if line.startswith(b"data:"):
                data.append(line[5:].strip().decode())

    def hang_up(self) -> None:
        """Close the socket at once, as a client that goes away does."""
        sock: Optional[socket.socket] = getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connection.close()


def fold(events: list) -> dict:
    """What an OpenAI client accumulates from chunk events: content, calls, finish_reason."""
    content, calls, finish = [], {}, None
    for event in events:
        if not isinstance(event, dict):
            continue
        for choice in event.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            for tc in delta.get("tool_calls") or ():
                entry = calls.setdefault(tc["index"], {"id": None, "name": "", "arguments": ""})
                entry["id"] = tc.get("id") or entry["id"]
                function = tc.get("function") or {}
                entry["name"] += function.get("name") or ""
                entry["arguments"] += function.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    return {"content": "".join(content) or None,
            "calls": [(c["name"], c["arguments"]) for _, c in sorted(calls.items())],
            "finish_reason": finish}
