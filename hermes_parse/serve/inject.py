"""``inject`` mode: the tools and the tool history written as text, for an
upstream that ignores ``tools``.

The conversation is rewritten so that the upstream's chat template, rendering
it *without* tools, writes the prompt that Qwen3's template writes *with*
them (``tests/test_serve_translate.py`` checks it against the real template):

* the system message becomes its text, a blank line, and the ``# Tools``
  block: the tools as JSON lines inside ``<tools></tools>`` and the
  instruction to answer with ``<tool_call>`` blocks (a system message is
  added when there was none);
* an assistant message's ``tool_calls`` become ``<tool_call>`` blocks after
  its content, the arguments written as the JSON text they are (a string is
  never encoded a second time);
* consecutive ``tool`` messages become one ``user`` message of
  ``<tool_response>`` blocks, in order (results are matched by position).

``--inject-template FILE`` replaces the system block by a Jinja2 template
(``jinja2`` is in the ``serve`` extra), rendered with ``system`` (the
client's system text, or ``None``), ``tools`` (the request's list) and the
``tojson`` filter; the history is converted the same way.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

__all__ = ["ToolPrompt", "convert_messages", "text_of", "tojson"]

TOOLS_HEAD = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and"
    " arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


def tojson(value: Any) -> str:
    """JSON as the chat templates' ``tojson`` filter writes it (transformers' form)."""
    return json.dumps(value, ensure_ascii=False)


def text_of(content: Any) -> str:
    """A message's content as text: a string, or the text of its parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return str(content)


class ToolPrompt:
    """Writes the system message that offers the tools."""

    def __init__(self, template_text: Optional[str] = None) -> None:
        self._template = None
        if template_text is not None:
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            environment.filters["tojson"] = tojson
            self._template = environment.from_string(template_text)

    def system(self, system: Optional[str], tools: List[Any], instruction: str = "") -> str:
        """The system text: the client's ``system`` (or ``None``) with the tools.

        ``instruction``: a line added after the block (a forced ``tool_choice``
        on an upstream that cannot force).
        """
        if self._template is not None:
            text = self._template.render(system=system, tools=tools)
        else:
            parts = [] if system is None else [system, "\n\n"]
            parts.append(TOOLS_HEAD)
            for tool in tools:
                parts.append("\n")
                parts.append(tojson(tool))
            parts.append(TOOLS_TAIL)
            text = "".join(parts)
        return text + ("\n\n" + instruction if instruction else "")


def _call_text(call: Any) -> str:
    function = call.get("function", call) if isinstance(call, dict) else {}
    name = function.get("name", "") if isinstance(function, dict) else ""
    arguments = function.get("arguments", {}) if isinstance(function, dict) else {}
    if not isinstance(arguments, str):
        arguments = tojson(arguments)
    return '<tool_call>\n{"name": "' + str(name) + '", "arguments": ' + arguments + "}\n</tool_call>"


def convert_messages(
    messages: List[Dict[str, Any]], prompt: Optional[ToolPrompt], tools: Optional[List[Any]], instruction: str = ""
) -> List[Dict[str, Any]]:
    """The conversation as plain system/user/assistant messages (see the module).

    ``prompt`` and ``tools``: the system block to write (``None``: no tools
    offered, only the history is converted).
    """
    out: List[Dict[str, Any]] = []
    start = 0
    if tools is not None and prompt is not None:
        system = None
        first = dict(messages[0]) if messages and messages[0].get("role") == "system" else None
        if first is not None:
            system = text_of(first.get("content"))
            start = 1
        first = first or {"role": "system"}
        first["content"] = prompt.system(system, tools, instruction)
        out.append(first)
    responses: List[str] = []
    for message in messages[start:]:
        role = message.get("role")
        if role == "tool":
            responses.append("<tool_response>\n" + text_of(message.get("content")) + "\n</tool_response>")
            continue
        if responses:
            out.append({"role": "user", "content": "\n".join(responses)})
            responses = []
        if role == "assistant" and message.get("tool_calls"):
            converted = {key: value for key, value in message.items() if key != "tool_calls"}
            content = text_of(message.get("content"))
            blocks = "\n".join(_call_text(call) for call in message["tool_calls"])
            converted["content"] = content + "\n" + blocks if content else blocks
            out.append(converted)
        else:
            out.append(message)
    if responses:
        out.append({"role": "user", "content": "\n".join(responses)})
    return out
