"""The GLM body: a name, then key and value pairs in tags.

    <tool_call>get_weather
    <arg_key>city</arg_key>
    <arg_value>Beijing</arg_value>
    </tool_call>

GLM-4.5 and GLM-4.6 write this; GLM-4.7 and GLM-5 the same without the
newlines, and ``<tool_call>get_time</tool_call>`` for a call without
arguments (``dialect="glm"``).  Some outputs write the two characters ``\\n``
where the template has a newline: between tags they are skipped as
whitespace is.

The name runs to a newline, a ``\\n`` pair, whitespace or a ``<``; it is sent
(``EV_NAME``) only once the tag after it, ``<arg_key>`` or ``</tool_call>``,
is complete, so that a block of prose is content, never a call.  Each value
is written into the arguments as JSON by the called tool's schema
(``Body.types``, known at ``</arg_key>``): a string streams out escaped as it
arrives; any other value, and a value with no schema, is held until it closes
and read by ``values.json_value`` (JSON, else a Python literal, else the raw
text as a string).  The arguments come out as ``json.dumps`` writes a dict.

Where a value ends: ``</arg_value>`` closes it only when whitespace and then
``<arg_key>`` or ``</tool_call>`` (or the end of the text) follow, so a value
may hold the tags themselves; when ``</arg_value>`` is missing, a
``</tool_call>`` followed by whitespace and then a ``<`` or the end closes
the value and the call (a ``missing_close`` problem).  Only that bounded
stretch is held back: a tag being matched and the whitespace after it.  The
body reads the block's ``</tool_call>`` itself (``EV_END``).  Stray closing
tags that GLM models write where no tag belongs are skipped (``AFTER_NAME``
and the other tables below).  See ``docs/dialects.md``, "GLM body".
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
from .values import TYPE_NAMES, escape_into, json_value

# Body states.
G_START = 0  # before the name: whitespace, "\n" pairs
G_NAME = 1  # the name
G_SEP = 2  # between tags: whitespace, "\n" pairs, then '<'
G_TAG = 3  # a tag between pairs: "<arg_key>", "</tool_call>" (after the name), "<arg_value>"
G_KEY = 4  # a key, up to "</arg_key>"
G_KEY_TAG = 5  # a '<' in a key: "</arg_key>"
G_VALUE = 6  # a value's text
G_CLOSE = 7  # a '<' in a value: "</arg_value>" or "</tool_call>"?
G_CLOSE_WS = 8  # after that tag: whitespace, "\n" pairs
G_NEXT = 9  # after "</arg_value>" and whitespace: "<arg_key>" or "</tool_call>"?
G_END = 10  # "</tool_call>" right after the name: EV_END on the next feed
G_DONE = 11  # the block's closing was read

# How the value being read is written.
W_STRING = 0  # streamed, escaped
W_MAYBE_NULL = 1  # a nullable string: held while it may still be exactly null or None
W_HELD = 2  # held until it closes, then read as JSON (any other type, or no schema)

KEY_OPEN = "<arg_key>"
KEY_CLOSE = "</arg_key>"
VALUE_OPEN = "<arg_value>"
VALUE_CLOSE = "</arg_value>"
CALL_CLOSE = "</tool_call>"

# The tags a '<' may begin, by where it is (the first is tried first; a
# character that differs picks another with the same beginning).  Stray
# closing tags that GLM models write where none belongs (a "</arg_value>"
# right after a name, a second "</arg_key>", vLLM #54971) are skipped, as is
# a second "<arg_key>" at a key's start.
AFTER_NAME = (KEY_OPEN, CALL_CLOSE, VALUE_CLOSE, KEY_CLOSE)
AFTER_KEY = (VALUE_OPEN, KEY_CLOSE)
IN_KEY = (KEY_CLOSE,)
KEY_START = (KEY_CLOSE, KEY_OPEN)
IN_VALUE = (VALUE_CLOSE, CALL_CLOSE)
AFTER_CLOSE = (KEY_OPEN, CALL_CLOSE)

# A name longer than this is not a name (as in the JSON body).
NAME_CAPTURE_CAP = 512


class GlmBody(Body):
    """Reads a GLM body (``dialect="glm"``)."""

    def __init__(self):
        Body.__init__(self)
        self.reader = new_reader()
        self.capture = []
        self.held = []
        self.spaces = []
        self.seen = set()
        GlmBody.begin(self, None, 0, False, False)

    def begin(self, args, args_mode, python, bare):
        # arguments="raw" reads as "json" does: the values are text, not JSON
        # the model wrote, so there is no text of the model's to keep.
        Body.begin(self, args, args_mode, python, bare)
        self.state = G_START
        self.base = 0
        self.backslash = False  # a '\' was read where "\n" may be a separator
        self.name_length = 0
        self.after_name = True  # G_SEP/G_TAG: after the name (else after a key)
        self.tags = AFTER_NAME
        self.tag = KEY_OPEN
        self.tag_pos = 0
        self.tag_at = 0
        self.tool_types = None
        self.capture.clear()
        self.key = ""
        self.key_json = ""
        self.key_at = 0
        self.in_pair = False  # a key begun, its value not yet
        self.opened = False  # "{" written
        self.seen.clear()
        self.code = T_ANY
        self.write = W_STRING
        self.null_text = ""
        self.value_at = 0
        self.held.clear()
        self.closer = VALUE_CLOSE
        self.close_at = 0
        self.next_at = 0
        self.spaces.clear()

    def feed(self, text, i, limit, base):
        self.event = EV_NONE
        self.base = base
        while i < limit and self.event == EV_NONE:
            state = self.state
            if state == G_VALUE:
                j = text.find("<", i, limit)
                if j < 0:
                    self.value_text(text, i, limit)
                    i = limit
                else:
                    if j > i:
                        self.value_text(text, i, j)
                    self.close_at = base + j
                    self.start_tag(IN_VALUE, base + j)
                    self.state = G_CLOSE
                    i = j + 1
            elif state == G_CLOSE or state == G_NEXT or state == G_TAG or state == G_KEY_TAG:
                i = self.match(text, i, limit)
            elif state == G_KEY:
                j = text.find("<", i, limit)
                if j < 0:
                    self.capture.append(text[i:limit])
                    i = limit
                else:
                    if j > i:
                        self.capture.append(text[i:j])
                    self.start_tag(IN_KEY if self.capture else KEY_START, base + j)
                    self.state = G_KEY_TAG
                    i = j + 1
            elif state == G_NAME:
                i = self.read_name(text, i, limit)
            elif state == G_CLOSE_WS:
                i = self.close_spaces(text, i, limit)
            elif state == G_END:
                self.state = G_DONE
                self.event = EV_END
            else:  # G_START, G_SEP
                c = text[i]
                if self.backslash:
                    self.backslash = False
                    if c == "n":
                        i += 1  # a "\n" pair: a separator
                    elif state == G_START:
                        self.start_name(i - 1)
                        self.capture.append("\\")  # the name begins with it
                        self.name_length = 1
                    else:
                        self.sep_defect_at(base + i - 1, i, "")
                elif c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                elif c == "\\":
                    self.backslash = True
                    i += 1
                elif c == "<":
                    if state == G_START:
                        self.defect(base + i, "not_a_call", "no name")
                    else:
                        self.start_tag(AFTER_NAME if self.after_name else AFTER_KEY, base + i)
                        self.state = G_TAG
                        i += 1
                elif state == G_START:
                    self.start_name(i)
                else:
                    self.sep_defect_at(base + i, i, "")
        return i

    def finish(self):
        state = self.state
        if state == G_END or state == G_DONE:
            return False
        if state == G_VALUE or state == G_CLOSE:
            # Cut inside a value (a partial closing tag is not value text).
            self.cut_value()
        elif state == G_CLOSE_WS or state == G_NEXT:
            # A closing tag, then the end: the lookahead was cut, not failed.
            self.end_value(False)
            if self.closer == CALL_CLOSE:
                self.missing_close()
                self.args.append("}")
                return False
        return True

    # -- the name ----------------------------------------------------------

    def start_name(self, i):
        self.value_start = self.base + i  # (the envelope's span for unknown_tool)
        self.capture.clear()
        self.name_length = 0
        self.state = G_NAME

    def read_name(self, text, i, limit):
        """G_NAME: read the name up to what ends it; return the next index."""
        start = i
        if self.backslash:
            self.backslash = False
            if text[i] == "n":  # the "\n" pair ends the name
                return self.end_name(i + 1, False)
            self.capture.append("\\")
        while i < limit:
            c = text[i]
            if c == " " or c == "\n" or c == "\r" or c == "\t" or c == "\\" or c == "<":
                if i > start:
                    self.capture.append(text[start:i])
                if c == "\\":
                    self.backslash = True
                    return i + 1
                return self.end_name(i + 1, c == "<")
            if c == "{" or c == "}" or c == ">" or c == '"' or c == "'":
                self.defect(self.base + i, "not_a_call", "a name has none of { } < > \" '")
                return i
            self.name_length += 1
            if self.name_length > NAME_CAPTURE_CAP:
                self.defect(self.base + i, "not_a_call", "the name is too long")
                return i
            i += 1
        if i > start:
            self.capture.append(text[start:i])
        return i

    def end_name(self, i, tag):
        """The name ended at ``i - 1`` (with ``tag``: at a '<')."""
        self.name = "".join(self.capture)
        self.capture.clear()
        if not self.name:  # (only "\" then "n" gets here)
            self.defect(self.base + i - 1, "not_a_call", "no name")
            return i - 1
        self.after_name = True
        if tag:
            self.start_tag(AFTER_NAME, self.base + i - 1)
            self.state = G_TAG
        else:
            self.state = G_SEP
        return i

    # -- tags --------------------------------------------------------------

    def start_tag(self, tags, at):
        """A '<' at offset ``at`` may begin one of ``tags``."""
        self.tags = tags
        self.tag = tags[0]
        self.tag_pos = 1
        self.tag_at = at

    def match(self, text, i, limit):
        """Match the tag being read (``tag``, ``tag_pos`` of it read, one of
        ``tags``) in states G_TAG, G_KEY_TAG, G_CLOSE and G_NEXT; act when it
        is complete or fails.  Return the next index."""
        tag = self.tag
        pos = self.tag_pos
        size = len(tag)
        while i < limit and pos < size:
            c = text[i]
            if c != tag[pos]:
                tag = other_tag(self.tags, tag, pos, c)
                if tag is None:
                    self.tag_pos = pos
                    return self.tag_failed(text, i)
                self.tag = tag
                size = len(tag)
            pos += 1
            i += 1
        self.tag = tag
        self.tag_pos = pos
        if pos == size:
            return self.tag_done(i)
        return i

    def tag_done(self, i):
        """The tag ``tag`` was read up to ``i``."""
        state = self.state
        tag = self.tag
        if state == G_TAG:
            if tag == VALUE_OPEN:
                self.start_value(i)
            elif tag == KEY_OPEN:
                self.event = EV_NAME
                self.start_key(i)
            elif tag == CALL_CLOSE:
                self.event = EV_NAME
                self.state = G_END  # a call without arguments
            else:  # a stray closing tag
                self.state = G_SEP
        elif state == G_KEY_TAG:
            if tag == KEY_CLOSE:
                self.end_key()
            else:  # a second "<arg_key>"
                self.start_key(i)
        elif state == G_CLOSE:
            self.closer = tag
            self.spaces.clear()
            self.backslash = False
            self.state = G_CLOSE_WS
        else:  # G_NEXT: the "</arg_value>" was structural
            self.end_value(False)
            if tag == KEY_OPEN:
                self.start_key(i)
            else:
                self.args.append("}")
                self.state = G_DONE
                self.event = EV_END
        return i

    def tag_failed(self, text, i):
        """The tag being matched fails at ``text[i]``; return the next index."""
        state = self.state
        if state == G_CLOSE:  # value text after all
            self.value_str(self.tag[: self.tag_pos])
            self.state = G_VALUE
            return i
        if state == G_NEXT:
            # The "</arg_value>" and the whitespace were value text; the tag
            # that failed may begin the value's own closing ("</" "a").
            self.release_close()
            if self.tag == CALL_CLOSE and self.tag_pos == 2 and text[i] == "a":
                self.close_at = self.next_at
                self.tag = VALUE_CLOSE
                self.tag_pos = 3
                self.state = G_CLOSE
                return i + 1
            self.value_str(self.tag[: self.tag_pos])
            self.state = G_VALUE
            return i
        if state == G_KEY_TAG:
            self.sep_defect_at(self.tag_at, i, "a key holds no '<'")
            return i
        self.sep_defect_at(self.tag_at, i, "")
        return i

    def sep_defect_at(self, at, i, detail):
        """A defect where a tag was expected (the span from ``at``; ``detail``
        empty: the tag that was expected).  Before the name the block is not
        a call; after it, the arguments written so far are closed, so they
        stay a JSON object."""
        if not detail:
            detail = "expected <arg_key> or </tool_call>" if self.after_name else "expected <arg_value>"
        if not self.decided:
            self.defect(at, "not_a_call", detail)
            return
        if self.in_pair:  # the key read so far is in the span too
            at = self.key_at
        if self.opened:
            self.args.append("}")
        self.defect(at, "invalid_arguments", detail)

    # -- keys and values ---------------------------------------------------

    def start_key(self, i):
        self.key_at = self.base + i
        self.in_pair = True
        self.capture.clear()
        self.state = G_KEY

    def end_key(self):
        """ "</arg_key>" was read: the key is known, and so is its type."""
        key = "".join(self.capture).strip()
        self.capture.clear()
        if key in self.seen:
            self.problems.append(
                ("duplicate_key", self.key_at, self.tag_at - self.key_at, "a second " + repr(key))
            )
        else:
            self.seen.add(key)
        self.key = key
        quoted = ['"']
        escape_into(quoted, key, 0, len(key))
        quoted.append('": ')
        self.key_json = "".join(quoted)
        code = T_ANY
        types = self.tool_types
        if types is None and self.types is not None:
            types = self.tool_types = self.types.get(self.name)
        if types is not None:
            code = types.get(key, T_ANY)
        self.code = code
        self.after_name = False
        self.state = G_SEP

    def write_key(self):
        """Write the pair's key (and the "{" or ", " before it)."""
        self.args.append(", " if self.opened else "{")
        self.opened = True
        self.args.append(self.key_json)

    def start_value(self, i):
        """ "<arg_value>" was read up to ``i``."""
        self.value_at = self.base + i
        self.in_pair = False
        code = self.code
        if code & 15 == T_STRING:
            if code & T_NULLABLE:
                self.write = W_MAYBE_NULL
                self.null_text = ""
            else:
                self.write = W_STRING
                self.write_key()
                self.args.append('"')
        else:
            self.write = W_HELD
            self.held.clear()
        self.state = G_VALUE

    def value_text(self, text, start, stop):
        """``text[start:stop]`` is value text."""
        write = self.write
        if write == W_STRING:
            escape_into(self.args, text, start, stop)
        elif write == W_HELD:
            self.held.append(text[start:stop])
        else:
            self.maybe_null(text[start:stop])

    def value_str(self, piece):
        if piece:
            self.value_text(piece, 0, len(piece))

    def maybe_null(self, piece):
        """W_MAYBE_NULL: hold the value while it may still be exactly null or
        None (at most four characters); else stream it as a string."""
        if len(self.null_text) + len(piece) <= 4:
            held = self.null_text + piece
            if held == "null"[: len(held)] or held == "None"[: len(held)]:
                self.null_text = held
                return
        self.write = W_STRING
        self.write_key()
        self.args.append('"')
        escape_into(self.args, self.null_text, 0, len(self.null_text))
        self.null_text = ""
        escape_into(self.args, piece, 0, len(piece))

    def end_value(self, cut):
        """The value closed (its closing tag began at ``close_at``), or with
        ``cut`` the text ended inside it: write it."""
        write = self.write
        args = self.args
        if write == W_STRING:
            args.append('"')
        elif write == W_MAYBE_NULL:
            self.write_key()
            held = self.null_text
            if held == "null" or held == "None":
                args.append("null")
            else:
                args.append('"')
                escape_into(args, held, 0, len(held))
                args.append('"')
        else:
            text = "".join(self.held)
            self.held.clear()
            code = self.code
            value = json_value(text, code, self.reader)
            self.write_key()
            if value is None:
                args.append('"')
                escape_into(args, text, 0, len(text))
                args.append('"')
                if code & 15 != T_ANY and not cut:  # (a cut value is in the truncated span)
                    self.problems.append(
                        (
                            "invalid_value",
                            self.value_at,
                            self.close_at - self.value_at,
                            "parameter " + repr(self.key) + " is not of type "
                            + TYPE_NAMES[code & 15],
                        )
                    )
            else:
                args.append(value)
        self.write = W_STRING

    def cut_value(self):
        """The text ended inside a value: write it as far as it went (a
        string stays open, as a JSON string cut by the end does)."""
        write = self.write
        if write == W_HELD:
            self.end_value(True)
        elif write == W_MAYBE_NULL:
            held = self.null_text
            self.write_key()
            if held == "null" or held == "None":
                self.args.append("null")
            else:
                self.args.append('"')
                escape_into(self.args, held, 0, len(held))

    # -- after a closing tag in a value ------------------------------------

    def close_spaces(self, text, i, limit):
        """G_CLOSE_WS: whitespace (and "\\n" pairs) after "</arg_value>" or
        "</tool_call>" in a value; what follows decides.  Return the next index."""
        start = i
        while i < limit:
            c = text[i]
            if self.backslash:
                if c != "n":
                    break
                self.backslash = False
            elif c == "\\":
                self.backslash = True
            elif not (c == " " or c == "\n" or c == "\r" or c == "\t"):
                break
            i += 1
        if i > start:
            self.spaces.append(text[start:i])
        if i == limit:
            return i
        if text[i] == "<" and not self.backslash:
            if self.closer == CALL_CLOSE:
                # "</arg_value>" was missing: the value and the call end at
                # the "</tool_call>"; the envelope reads the tag that follows.
                self.end_value(False)
                self.missing_close()
                self.args.append("}")
                self.state = G_DONE
                self.event = EV_TAG
                return i + 1
            self.next_at = self.base + i
            self.start_tag(AFTER_CLOSE, self.base + i)
            self.state = G_NEXT
            return i + 1
        # Anything else: the closing tag and the whitespace were value text.
        self.backslash = False
        self.release_close()
        self.state = G_VALUE
        return i

    def release_close(self):
        """The closing tag read in a value, and the whitespace after it, were value text."""
        self.value_str(self.closer)
        for piece in self.spaces:
            self.value_text(piece, 0, len(piece))
        self.spaces.clear()

    def missing_close(self):
        self.problems.append(
            (
                "missing_close",
                self.close_at,
                len(CALL_CLOSE),
                "no </arg_value>: the value ends at </tool_call>",
            )
        )


def other_tag(tags, tag, pos, c):
    """The tag of ``tags`` that begins as ``tag[:pos]`` does and has ``c``
    next, or ``None``."""
    for other in tags:
        if len(other) > pos and other[pos] == c:
            k = 1
            while k < pos and other[k] == tag[k]:
                k += 1
            if k == pos:
                return other
    return None
