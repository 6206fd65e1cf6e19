"""What a body grammar is: the reader of one block's body, between the tags.

The envelope (``envelope.py``) splits content from ``<tool_call>`` blocks and
decides each block's fate; the body grammar reads what is inside.  Each
grammar is a ``Body`` subclass, registered by name in ``envelope.BODIES`` (as
h11 picks its readers from a table), so a new dialect adds a module and a
table entry, not states in the envelope.

The contract, sans-I/O like the rest of the machine: ``feed(text, i, limit,
base)`` reads ``text[i:limit]`` (``base`` is the offset of ``text[0]`` in the
whole output, for problem spans) and returns where it stopped, with ``event``
saying why (``codes.EV_*``): ``EV_NONE`` (it read up to ``limit``: need more
input), ``EV_NAME`` (the call's name is complete, in ``name``: the envelope
sends the call's first delta, or turns the block into content), ``EV_DEFECT``
(``kind``/``detail``, the span starting at ``defect_at``) or ``EV_TAG`` (the
body is over and a ``<`` was read: a tag may follow).  The arguments are
written into ``args`` (the sink's list) as they are read; problems that do not
stop the body (``duplicate_key``, ``invalid_arguments``) are queued in
``problems`` as ``(kind, offset, length, detail)`` for the envelope, which
knows the call's index.  ``decided`` is set by the envelope once the call's
name has been sent: from then on nothing may be taken back.

A body may also read its block's closing tag itself and return ``EV_END``
just after it (the XML dialects, whose bodies have tags of their own to tell
from ``</tool_call>``); ``bare`` in ``begin`` says the envelope has read a
``<function=`` in content (a Qwen3-Coder call written without
``<tool_call>``), so the body starts at the function's name and ends at its
``</function>``.  ``types`` is set once by the envelope: ``{tool: {parameter:
type code}}`` from the request's tools (``_tools.param_types``), or ``None``;
the bodies that read values as text type them by it (``values.py``).
"""

from .codes import EV_DEFECT, EV_NONE


class Body:
    """The base of the body grammars: the fields the envelope reads."""

    def __init__(self):
        self.problems = []
        self.types = None
        Body.begin(self, None, 0, False, False)

    def begin(self, args, args_mode, python, bare):
        """A new block: write the arguments into ``args`` in ``args_mode``;
        ``bare``: its ``<function=`` has been read (no ``<tool_call>``)."""
        self.event = EV_NONE
        self.name = ""
        self.kind = ""
        self.detail = ""
        self.defect_at = 0
        self.value_start = 0
        self.decided = False
        self.args = args
        if self.problems:
            self.problems.clear()

    def feed(self, text, i, limit, base):
        """Read ``text[i:limit]``; return where reading stopped (see ``event``)."""
        raise NotImplementedError

    def finish(self):
        """The text ended inside the body: write what is complete as far as it
        went; return whether the call was cut (its body had not ended)."""
        raise NotImplementedError

    def defect(self, at, kind, detail):
        """Stop with ``EV_DEFECT``: ``kind`` and ``detail`` from offset ``at``."""
        self.event = EV_DEFECT
        self.defect_at = at
        self.kind = kind
        self.detail = detail
