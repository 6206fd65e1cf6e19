"""Stream a Hermes-format completion through hermes-parse and print what a
client of an OpenAI-compatible server would receive, then the whole message.

    python examples/stream_demo.py [FILE]     # FILE: a saved completion; default: a built-in one
"""

import json
import sys

import hermes_parse

DEFAULT = (
    "I'll check the weather in both cities.\n\n"
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing", "unit": "celsius"}}\n</tool_call>\n'
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "S\\u00e3o Paulo", "unit": "celsius"}}\n</tool_call>'
)


def main() -> None:
    text = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else DEFAULT
    print(f"# backend: {hermes_parse.BACKEND}")
    parser = hermes_parse.StreamParser(call_id=hermes_parse.sequential_ids())
    deltas = []
    for start in range(0, len(text), 7):  # 7-character deltas, as a server might send them
        for delta in parser.feed(text[start : start + 7]):
            deltas.append(delta)
            print(json.dumps(delta, ensure_ascii=False))
    for delta in parser.close():
        deltas.append(delta)
        print(json.dumps(delta, ensure_ascii=False))
    message = hermes_parse.Message.from_deltas(deltas, parser.problems)
    assert message == hermes_parse.parse(text, call_id=hermes_parse.sequential_ids())
    print("# the whole message, as parse() gives it:")
    print(json.dumps(message.to_openai(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
