"""The output sink: where the envelope writes content and calls, for both uses.

A stream wants OpenAI ``delta`` dicts, made as late as possible so that one
``feed`` gives one content delta however many runs it read; ``parse()`` wants
the message, and making deltas only to fold them again would double its cost.
So the envelope writes pieces here (``content``, and ``args``, the list the
JSON reader writes the current call's arguments into) and the sink makes
whichever output was asked for: deltas (``take``) or the collected message
(``message``).  ``calls_finished`` counts the calls whose arguments are
final: the event ``CallFold.finish`` hands whole calls out on.
"""

from .._types import Message, ToolCall


class Sink:
    """Content and calls, as deltas or as one message (``collect``)."""

    def __init__(self, collect):
        self.collect = collect
        self.content = []  # content pieces not yet sent
        self.reasoning = []  # reasoning pieces not yet sent (they come before content)
        self.args = []  # pieces of the current call's arguments not yet sent
        self.deltas = []
        # collect: the calls as columns; with ``columns`` set they are the
        # batch's own (parse_many), which the sink appends to and never empties.
        self.columns = False
        self.call_ids = []
        self.call_names = []
        self.call_arguments = []  # a call's arguments, whole, when its block ends
        self.restart()

    def restart(self):
        """Empty, for a new stream.  ``args`` is cleared, not replaced: the
        body writes into it itself.  The others are replaced when they hold
        something (none is handed out: ``take`` hands out ``deltas`` and
        starts a new one; the message and the batch columns copy what they
        read): parse_many restarts the sink for every record, and a new
        empty list costs less than a call of ``clear()``."""
        if self.content:
            self.content = []
        if self.reasoning:
            self.reasoning = []
        if self.args:
            self.args.clear()
        if self.deltas:
            self.deltas = []
        if self.call_ids and not self.columns:
            self.call_ids = []
            self.call_names = []
            self.call_arguments = []
        self.index = -1  # the current call
        self.args_sent = False
        self.calls_finished = 0

    def take(self, in_call):
        """The deltas made since the last ``take`` (``[]``: need more input).

        ``in_call``: a call is open and its arguments may be sent as they are.
        """
        if self.collect:
            return []
        self.flush_text()
        if in_call:
            self.flush_args()
        deltas = self.deltas
        if not deltas:
            return []
        self.deltas = []
        return deltas

    def flush_text(self):
        """Send the reasoning and the content written so far, in that order."""
        if self.reasoning:
            self.deltas.append({"reasoning": "".join(self.reasoning)})
            self.reasoning.clear()
        if self.content:
            self.deltas.append({"content": "".join(self.content)})
            self.content.clear()

    def flush_args(self):
        """Send the arguments written so far (not with ``collect``: they are
        kept in ``args`` until the call ends)."""
        args = self.args
        if args:
            text = args[0] if len(args) == 1 else "".join(args)
            args.clear()
            if text:
                self.args_sent = True
                self.deltas.append(
                    {"tool_calls": [{"index": self.index, "function": {"arguments": text}}]}
                )

    def open_call(self, index, call_id, name):
        """Call ``index`` begins: its id, type and name go out before any argument."""
        self.index = index
        self.args_sent = False
        if self.collect:
            self.call_ids.append(call_id)
            self.call_names.append(name)
            return
        self.flush_text()
        self.deltas.append(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call_id,
                        "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }
                ]
            }
        )

    def close_call(self):
        """The current call's block is over: its arguments are final
        (``{}`` if none were ever written)."""
        self.calls_finished += 1
        args = self.args
        if self.collect:
            if not args:
                self.call_arguments.append("{}")
            else:
                self.call_arguments.append(args[0] if len(args) == 1 else "".join(args))
                args.clear()
            return
        if not self.args_sent and not args:
            args.append("{}")
        self.flush_args()

    def message(self, problems):
        """What ``parse`` returns (with ``collect`` set)."""
        return Message(
            "".join(self.content) or None,
            [
                ToolCall(index, self.call_ids[index], self.call_names[index], arguments)
                for index, arguments in enumerate(self.call_arguments)
            ],
            problems,
            "".join(self.reasoning) or None,
        )
