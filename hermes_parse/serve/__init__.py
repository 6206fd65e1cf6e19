"""``hermes-parse serve``: an OpenAI-compatible proxy that gives clients real
``tool_calls`` from an upstream that cannot parse them (a vLLM started without
``--enable-auto-tool-choice``, a server that ignores ``tools``).

The plan of the room (it depends on the core, never the reverse; h11's lesson:
the protocol logic is pure, the shell only moves bytes and handles time):

* ``translate.py``: the translator, sans-I/O.  ``prepare(body, settings,
  upstream)`` turns a client's request into the upstream's (or an
  ``ApiError``); ``translate_completion`` rewrites a ``chat.completion``;
  ``StreamTranslator`` takes the upstream's SSE bytes and returns the
  client's.  One ``Choice`` per choice index does the rewriting for both, so
  a stream and a whole answer give the same message.
* ``inject.py``: the tools written into the system message as Qwen2.5/Qwen3's
  template does, and the history (assistant ``tool_calls``, ``tool``
  messages) turned into ``<tool_call>`` / ``<tool_response>`` text.
* ``forcing.py``: ``tool_choice`` required / named on vLLM (the structured
  outputs JSON schema, and the forced JSON turned back into call blocks).
* ``validate.py``: each call checked against its tool's JSON Schema.
* ``sse.py``: the server-sent-events line decoder; ``jsonio.py``: JSON in and
  out (orjson when installed).
* ``options.py``: the command-line options and ``Settings`` (no aiohttp: the
  ``hermes-parse`` command imports it to list ``serve``'s options).
* ``app.py``: the aiohttp shell (server, client pool, timeouts, faults);
  ``metrics.py``: the Prometheus metrics.

Nothing is kept between requests: scale out with more processes.
"""
