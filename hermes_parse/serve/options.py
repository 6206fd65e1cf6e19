"""``hermes-parse serve``'s command-line options, and the settings they make.

No aiohttp here: the ``hermes-parse`` command imports this module to list the
subcommand's options even where the ``serve`` extra is not installed.
Every option is described in docs/serve.md.
"""

from __future__ import annotations

import argparse
from typing import Optional

__all__ = ["add_arguments"]

MIB = 1024 * 1024


def _positive_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add serve's options to ``parser``."""
    parser.add_argument(
        "--upstream", required=True, metavar="URL",
        help="the OpenAI-compatible server, as a client is given it (http://host:8000/v1; without /v1 works too)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free port)")
    parser.add_argument(
        "--mode", choices=("auto", "template", "inject"), default="auto",
        help="template: the upstream renders the tools (tools kept, tool_choice none); inject: the tools"
        " and tool history are written into the messages; auto (default): template when the upstream is"
        " vLLM (asked once, at start), inject otherwise",
    )
    parser.add_argument(
        "--dialect", choices=("hermes", "qwen3_coder", "glm", "auto"), default="hermes",
        help="what the model writes inside a call block (the core's dialect option; default hermes)",
    )
    parser.add_argument(
        "--reasoning", choices=("off", "on", "open"), default="off",
        help="split <think> reasoning into the 'reasoning' field (on), or the output starts inside it"
        " (open); off by default. An upstream that split it already is left alone",
    )
    parser.add_argument(
        "--invalid-calls", choices=("report", "content", "off"), default="report",
        help="calls whose arguments fail their tool's JSON Schema (or are not JSON): report them"
        " (default), turn them into content (each call then goes out whole when its block ends),"
        " or do not check",
    )
    parser.add_argument(
        "--no-problems-field", action="store_true",
        help='do not add {"hermes_parse": {"problems": [...]}} to choices that had problems',
    )
    parser.add_argument(
        "--force", choices=("auto", "structured-outputs", "prompt"), default="auto",
        help="tool_choice required / named: structured-outputs (vLLM's structured_outputs JSON schema),"
        " prompt (an instruction; a problem is reported when the model did not call); auto (default):"
        " structured-outputs on vLLM, prompt elsewhere",
    )
    parser.add_argument(
        "--inject-template", metavar="FILE",
        help="a Jinja2 template of the system message in inject mode (variables: system, tools;"
        " filter tojson); default: Qwen2.5/Qwen3's # Tools block",
    )
    parser.add_argument(
        "--upstream-api-key", metavar="KEY",
        help="the key sent to the upstream (default: the client's Authorization header, unless --api-key is set)",
    )
    parser.add_argument(
        "--api-key", metavar="KEY", help="clients must send 'Authorization: Bearer KEY' (default: no check)"
    )
    parser.add_argument(
        "--max-body", type=_positive_int, default=16 * MIB, metavar="BYTES",
        help="the largest request body accepted (413 above it; default 16 MiB)",
    )
    parser.add_argument("--connect-timeout", type=_positive_float, default=10.0, metavar="S",
                        help="seconds to connect to the upstream (default 10)")
    parser.add_argument("--first-byte-timeout", type=_positive_float, default=600.0, metavar="S",
                        help="seconds until the upstream's response starts (default 600)")
    parser.add_argument("--idle-timeout", type=_positive_float, default=300.0, metavar="S",
                        help="seconds between two pieces of the upstream's response (default 300)")
    parser.add_argument("--total-timeout", type=_positive_float, default=0.0, metavar="S",
                        help="seconds for a whole request (default 0: no limit)")
    parser.add_argument("--pool-size", type=_positive_int, default=256, metavar="N",
                        help="connections kept to the upstream (default 256)")
    parser.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                        help="allow browsers from ORIGIN (repeatable; '*' for any); CORS is off by default")
    parser.add_argument("--log-bodies", action="store_true",
                        help="put the request and response bodies in the access log (never by default)")
    parser.add_argument("--access-log", choices=("on", "off"), default="on",
                        help="one JSON line per request on stderr (default on)")
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                        help="processes sharing the port (SO_REUSEPORT; default 1)")


def settings_from(args: argparse.Namespace):
    """The translation ``Settings`` of parsed arguments (reads --inject-template)."""
    from .inject import ToolPrompt
    from .translate import Settings

    prompt: Optional[ToolPrompt] = None
    if args.inject_template:
        with open(args.inject_template, encoding="utf-8") as f:
            prompt = ToolPrompt(f.read())
    reasoning = {"off": False, "on": True, "open": "open"}[args.reasoning]
    return Settings(
        mode=args.mode,
        dialect=args.dialect,
        reasoning=reasoning,
        invalid_calls=args.invalid_calls,
        problems_field=not args.no_problems_field,
        force=args.force,
        tool_prompt=prompt,
    )
