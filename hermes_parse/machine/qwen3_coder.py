"""The Qwen3-Coder body: a function and its parameters in XML-like tags.

    <tool_call>
    <function=get_weather>
    <parameter=city>
    Beijing
    </parameter>
    </function>
    </tool_call>

Qwen3-Coder, Qwen3.5 and Qwen3.6 write this (``dialect="qwen3_coder"``).  The
values are untyped text; each is written into the arguments as JSON by the
called tool's schema (``Body.types``, known when ``<parameter=NAME>`` is
read): a string (or a parameter with no schema) streams out escaped as it
arrives, minus one leading and one trailing newline (the template's padding);
other types are held until the value closes and converted by
``values.json_value``.  The arguments come out as ``json.dumps`` writes a
dict: ``{"city": "Beijing"}``.

The only hard part is where a value ends.  A value may hold the tags
themselves (a model writing a file about them), so ``</parameter>`` closes a
value only when whitespace and then ``<parameter=``, ``</function>`` or
``</tool_call>`` (or the end of the text) follow it; and when ``</parameter>``
is missing, a ``<parameter=``, ``</function>`` or ``</tool_call>`` at the
value's start or right after a newline closes it.  So only a bounded stretch
is ever held back: one newline (the padding, maybe), a tag being matched, and
the whitespace after a ``</parameter>``.  See ``docs/dialects.md``.
"""

from .body import Body
from .codes import (
    EV_END,
    EV_NAME,
    EV_NONE,
    EV_TAG,
    T_ANY,
    T_NULLABLE,
    T_STRING,
)
from .reader import JsonReader as new_reader  # (the compiled twin cimports the type)
from .values import TYPE_NAMES, escape_into, json_value, skip_blank

# Body states.
Q_OPEN = 0  # whitespace before "<function="
Q_OPEN_TAG = 1  # matching "<function="
Q_NAME = 2  # the function's name, up to '>'
Q_BETWEEN = 3  # whitespace between parameters
Q_BETWEEN_TAG = 4  # a tag between parameters: "<parameter=", "</function>", "</tool_call>"
Q_PNAME = 5  # a parameter's name, up to '>'
Q_VALUE = 6  # a parameter's value
Q_VALUE_TAG = 7  # a '<' in a value: maybe a tag that closes it
Q_CLOSE_WS = 8  # after a "</parameter>" in a value: whitespace
Q_CLOSE_TAG = 9  # after "</parameter>" and whitespace: the tag that makes it structural?
Q_AFTER = 10  # after "</function>": whitespace, then '<'
Q_DONE = 11  # the block's closing was read (EV_END)
Q_END = 12  # the closing was read with the name: EV_END on the next feed (or finish)

FUNCTION_OPEN = "<function="
PARAM_OPEN = "<parameter="
PARAM_CLOSE = "</parameter>"
FUNCTION_CLOSE = "</function>"
CALL_CLOSE = "</tool_call>"
# The tag being matched before its second (or third) character picks which.
LT = "<"
LT_SLASH = "</"

# Which tags a '<' may begin (Qwen3CoderBody.allow).
A_PARAM_OPEN = 1
A_PARAM_CLOSE = 2
A_FUNCTION_CLOSE = 4
A_CALL_CLOSE = 8
A_ENDS = 13  # "<parameter=", "</function>", "</tool_call>": what ends a value or a gap

# A name longer than this is not a name (as in the JSON body).
NAME_CAPTURE_CAP = 512


class Qwen3CoderBody(Body):
    """Reads a Qwen3-Coder XML body (``dialect="qwen3_coder"``)."""

    def __init__(self):
        Body.__init__(self)
        self.reader = new_reader()
        self.capture = []
        self.parts = []
        self.spaces = []
        self.seen = set()
        Qwen3CoderBody.begin(self, None, 0, False, False)

    def begin(self, args, args_mode, python, bare):
        Body.begin(self, args, args_mode, python, bare)
        self.bare = bare
        self.state = Q_NAME if bare else Q_OPEN
        self.base = 0
        self.name_at = -1  # (a bare block's name starts where the first feed does)
        self.unsent = False
        self.tag = LT
        self.tag_pos = 0
        self.tag_at = 0
        self.failed = False
        self.allow = 0
        self.name_length = 0
        self.capture.clear()
        self.param = ""
        self.opened = False
        self.seen.clear()
        self.code = T_ANY
        self.streams = True
        self.maybe_null = False
        self.null_text = ""
        self.at_start = True
        self.line_start = True
        self.held_newline = False
        self.close_at = 0
        self.read_to = 0
        self.parts.clear()
        self.spaces.clear()

    def feed(self, text, i, limit, base):
        self.event = EV_NONE
        self.base = base
        while i < limit and self.event == EV_NONE:
            state = self.state
            if state == Q_VALUE:
                j = text.find("<", i, limit)
                if j < 0:
                    self.value_text(text, i, limit)
                    i = limit
                else:
                    if j > i:
                        self.value_text(text, i, j)
                    allow = A_PARAM_CLOSE
                    if self.line_start:
                        allow = A_PARAM_CLOSE | A_ENDS
                    self.start_tag(base + j, allow)
                    self.state = Q_VALUE_TAG
                    i = j + 1
            elif state == Q_VALUE_TAG or state == Q_CLOSE_TAG or state == Q_BETWEEN_TAG:
                i = self.match(text, i, limit)
                if self.failed:
                    self.tag_failed(i)
                elif self.tag_pos == len(self.tag) and self.tag_pos > 2:
                    self.tag_done(i)
            elif state == Q_NAME or state == Q_PNAME:
                i = self.read_name(text, i, limit)
            elif state == Q_CLOSE_WS:
                j = skip_blank(text, i, limit)
                if j > i:
                    self.spaces.append(text[i:j])
                i = j
                if i < limit:
                    if text[i] == "<":
                        self.start_tag(base + i, A_PARAM_CLOSE | A_ENDS)
                        self.state = Q_CLOSE_TAG
                        i += 1
                    else:  # not structural: the "</parameter>" was value text
                        self.release_close(False)
            elif state == Q_OPEN_TAG:
                i = self.open_tag(text, i, limit)
            elif state == Q_END:
                self.state = Q_DONE
                self.event = EV_END
            else:
                c = text[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1  # whitespace around the tags
                elif c != "<":
                    if state == Q_AFTER:
                        self.defect(base + i, "trailing_text", "text after </function>")
                    elif self.unsent:
                        self.defect(base + i, "not_a_call", "no tag after <function=NAME>")
                    elif state == Q_BETWEEN:
                        self.end_object()
                        self.defect(
                            base + i, "invalid_arguments", "expected <parameter= or </function>"
                        )
                    else:
                        self.defect(base + i, "not_a_call", "expected <function=")
                elif state == Q_AFTER:
                    self.state = Q_DONE
                    self.event = EV_TAG
                    i += 1
                elif state == Q_BETWEEN:
                    self.start_tag(base + i, A_ENDS)
                    self.state = Q_BETWEEN_TAG
                    i += 1
                else:  # Q_OPEN
                    self.tag_at = base + i
                    self.tag_pos = 1
                    self.state = Q_OPEN_TAG
                    i += 1
        self.read_to = base + i
        return i

    def finish(self):
        state = self.state
        if state == Q_AFTER or state == Q_DONE or state == Q_END:
            return False
        # The arguments as far as they went, as in the JSON dialect: a string
        # value cut by the end stays open, and so does the object.
        if state == Q_VALUE:
            self.cut_value(self.read_to)
        elif state == Q_VALUE_TAG:
            # A tag cut by the end of the text is not value text.
            self.cut_value(self.tag_at)
        elif state == Q_CLOSE_WS or state == Q_CLOSE_TAG:
            self.end_value(self.close_at)  # "</parameter>" and the end of the text
        return True

    def open_tag(self, text, i, limit):
        """Go on matching "<function="; return the next index."""
        pos = self.tag_pos
        while i < limit and pos < 10:
            if text[i] != FUNCTION_OPEN[pos]:
                self.defect(self.tag_at, "not_a_call", "expected <function=")
                return i
            pos += 1
            i += 1
        self.tag_pos = pos
        if pos == 10:
            self.start_name(self.base + i)
            self.state = Q_NAME
        return i

    # -- names -------------------------------------------------------------

    def start_name(self, at):
        self.name_at = at
        self.name_length = 0
        self.capture.clear()

    def read_name(self, text, i, limit):
        """A function's or a parameter's name, up to '>'; return the next index."""
        start = i
        if self.name_at < 0:
            self.name_at = self.base + i
        room = NAME_CAPTURE_CAP - self.name_length
        while i < limit:
            c = text[i]
            if c == ">":
                break
            if (
                c.isspace()
                or c == "<"
                or c == "{"
                or c == "}"
                or c == '"'
                or c == "'"
                or i - start >= room
            ):
                self.bad_name(i, "a name holds whitespace, one of {}<\"' or is too long")
                return i
            i += 1
        if i == limit:
            if i > start:
                self.capture.append(text[start:i])
                self.name_length += i - start
            return i
        if i == start and not self.name_length:
            self.bad_name(i, "an empty name")
            return i
        name = text[start:i]
        if self.capture:
            self.capture.append(name)
            name = "".join(self.capture)
            self.capture.clear()
        if self.state == Q_NAME:
            self.name = name
            self.value_start = self.name_at
            self.state = Q_BETWEEN
            if self.bare:
                # A bare block is a call only once a tag of ours follows the
                # name: prose that mentions "<function=NAME>" stays content.
                self.unsent = True
            else:
                self.event = EV_NAME
        else:
            self.start_value(name, i)
        return i + 1

    def bad_name(self, i, detail):
        if self.state == Q_NAME:
            self.defect(self.base + i, "not_a_call", detail)
        else:  # the problem spans the parameter's tag from its '<': nothing read is lost
            self.end_object()
            self.defect(self.name_at, "invalid_arguments", detail)

    # -- tags --------------------------------------------------------------

    def start_tag(self, at, allow):
        """A '<' at offset ``at`` may begin one of the tags ``allow`` lets in."""
        self.tag = LT
        self.tag_pos = 1
        self.tag_at = at
        self.allow = allow
        self.failed = False

    def match(self, text, i, limit):
        """Go on matching the tag; return the next index.  It is complete when
        ``tag_pos == len(tag)``; ``failed`` when a character did not fit (at
        the returned index, not read)."""
        tag = self.tag
        pos = self.tag_pos
        allow = self.allow
        while i < limit:
            c = text[i]
            if pos == 1:
                if c == "p" and allow & A_PARAM_OPEN:
                    tag = PARAM_OPEN
                elif c == "/":
                    tag = LT_SLASH
                else:
                    self.failed = True
                    break
            elif pos == 2 and len(tag) == 2:  # "</": the third character picks the tag
                if c == "p" and allow & A_PARAM_CLOSE:
                    tag = PARAM_CLOSE
                elif c == "f" and allow & A_FUNCTION_CLOSE:
                    tag = FUNCTION_CLOSE
                elif c == "t" and allow & A_CALL_CLOSE:
                    tag = CALL_CLOSE
                else:
                    self.failed = True
                    break
            elif c != tag[pos]:
                self.failed = True
                break
            pos += 1
            i += 1
            if pos > 2 and pos == len(tag):
                break
        self.tag = tag
        self.tag_pos = pos
        return i

    def tag_failed(self, i):
        """The tag being matched is not one: what it matched is value text
        (or, between parameters, a defect)."""
        state = self.state
        prefix = self.tag[: self.tag_pos]
        if state == Q_VALUE_TAG:
            self.value_text(prefix, 0, len(prefix))
            self.state = Q_VALUE
        elif state == Q_CLOSE_TAG:
            self.release_close(True)
        elif self.unsent:
            self.defect(self.tag_at, "not_a_call", "no tag of ours after <function=NAME>")
        elif self.tag_pos == 1:
            # "<" and not a tag of ours between parameters: the body is over
            # without its "</function>"; the envelope matches the tag.
            self.end_object()
            self.missing("</function>")
            self.state = Q_DONE
            self.event = EV_TAG
        else:
            self.end_object()
            self.defect(self.tag_at, "invalid_arguments", "expected <parameter= or </function>")

    def release_close(self, with_tag):
        """The "</parameter>" being held was not structural: it, the whitespace
        after it (and the tag begun after that) are value text."""
        self.value_text(PARAM_CLOSE, 0, 12)
        for piece in self.spaces:
            self.value_text(piece, 0, len(piece))
        self.spaces.clear()
        if with_tag:
            prefix = self.tag[: self.tag_pos]
            self.value_text(prefix, 0, len(prefix))
        self.state = Q_VALUE

    def tag_done(self, i):
        """A tag was matched up to ``i``: act on it."""
        tag = self.tag
        state = self.state
        if state == Q_VALUE_TAG:
            if tag == PARAM_CLOSE:
                self.close_at = self.tag_at
                self.spaces.clear()
                self.state = Q_CLOSE_WS
                return
            self.missing("</parameter>")
            self.end_value(self.tag_at)
        elif state == Q_CLOSE_TAG:
            if tag == PARAM_CLOSE:  # the first one was value text; this one may not be
                self.release_close(False)
                self.close_at = self.tag_at
                self.state = Q_CLOSE_WS
                return
            self.spaces.clear()
            self.end_value(self.close_at)
        elif self.unsent:  # the tag after a bare block's name: it is a call
            self.unsent = False
            self.event = EV_NAME
        # A tag that ends a value or stands between parameters.
        if tag == PARAM_OPEN:
            self.start_name(self.tag_at)
            self.state = Q_PNAME
        elif tag == FUNCTION_CLOSE:
            self.end_object()
            if self.bare:
                self.end_block()
            else:
                self.state = Q_AFTER
        else:  # "</tool_call>" where "</function>" belonged
            self.end_object()
            self.missing("</function>")
            self.end_block()

    def end_block(self):
        """The block's closing tag was read: EV_END, after the name if it goes now."""
        if self.event == EV_NAME:
            self.state = Q_END
        else:
            self.state = Q_DONE
            self.event = EV_END

    def missing(self, tag):
        self.problems.append(("missing_close", self.tag_at, 0, "no " + tag))

    # -- values ------------------------------------------------------------

    def start_value(self, param, i):
        """``<parameter=param>`` ends at ``i``: write its key, type its value."""
        at = self.base + i + 1
        if param in self.seen:
            # Both are written (the first was streamed): json.loads keeps the last.
            self.problems.append(
                ("duplicate_key", self.name_at, at - self.name_at, "a second " + repr(param))
            )
        else:
            self.seen.add(param)
        code = T_ANY
        types = self.types
        if types is not None:
            params = types.get(self.name)
            if params is not None:
                code = params.get(param, T_ANY)
        self.param = param
        self.code = code
        kind = code & 15
        self.streams = kind == T_STRING or kind == T_ANY
        self.maybe_null = self.streams and (code & T_NULLABLE) != 0
        self.null_text = ""
        args = self.args
        args.append(', "' if self.opened else '{"')
        self.opened = True
        escape_into(args, param, 0, len(param))
        args.append('": "' if self.streams and not self.maybe_null else '": ')
        self.value_start = at
        self.at_start = True
        self.line_start = True
        self.held_newline = False
        self.parts.clear()
        self.state = Q_VALUE

    def value_text(self, text, start, stop):
        """``text[start:stop]`` is text of the value: write it, but for the
        padding (one leading newline; a last newline is held, maybe trailing)."""
        if start == stop:
            return
        if self.at_start:
            self.at_start = False
            if text[start] == "\n":
                start += 1
                self.line_start = True
                if start == stop:
                    return
        last = stop - 1
        self.line_start = text[last] == "\n"
        if self.held_newline:
            self.held_newline = False
            self.put("\n", 0, 1)
        if self.line_start:
            self.held_newline = True
            stop = last
        if stop > start:
            self.put(text, start, stop)

    def put(self, text, start, stop):
        """Write ``text[start:stop]`` of the value (its padding removed)."""
        if not self.streams:
            self.parts.append(text[start:stop])
            return
        if self.maybe_null:
            # A nullable string: "null" and "None" are null; held until it
            # cannot be either.
            if len(self.null_text) + stop - start <= 4:
                held = self.null_text + text[start:stop]
                if "null".startswith(held) or "None".startswith(held):
                    self.null_text = held
                    return
            self.maybe_null = False
            self.args.append('"')
            held = self.null_text
            if held:
                self.null_text = ""
                escape_into(self.args, held, 0, len(held))
        escape_into(self.args, text, start, stop)

    def end_value(self, end):
        """The value ends at offset ``end`` (the newline before it, held, is padding)."""
        args = self.args
        self.held_newline = False
        if self.streams:
            if not self.maybe_null:
                args.append('"')
            elif self.null_text == "null" or self.null_text == "None":
                args.append("null")
            else:
                held = self.null_text
                args.append('"')
                escape_into(args, held, 0, len(held))
                args.append('"')
            self.null_text = ""
            self.maybe_null = False
            return
        text = "".join(self.parts)
        self.parts.clear()
        value = json_value(text, self.code, self.reader)
        if value is None:
            args.append('"')
            escape_into(args, text, 0, len(text))
            args.append('"')
            self.problems.append(
                (
                    "invalid_value",
                    self.value_start,
                    end - self.value_start,
                    "parameter " + repr(self.param) + " is not of type "
                    + TYPE_NAMES[self.code & 15],
                )
            )
        else:
            args.append(value)

    def cut_value(self, end):
        """The text ended inside the value at offset ``end``: write it as far as
        it went (a held last newline may be padding and is not written); a
        string stays open, a held value is read as it is."""
        self.held_newline = False
        if not self.streams:
            self.end_value(end)
        elif self.maybe_null:
            held = self.null_text
            self.null_text = ""
            self.maybe_null = False
            if held == "null" or held == "None":
                self.args.append("null")
            else:
                self.args.append('"')
                escape_into(self.args, held, 0, len(held))

    def end_object(self):
        """Close the arguments' object (the sink writes "{}" when none was opened)."""
        if self.opened:
            self.args.append("}")
            self.opened = False
