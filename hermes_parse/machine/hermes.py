"""The Hermes body: one JSON object with ``"name"`` and ``"arguments"``.

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Beijing"}}
    </tool_call>

This grammar walks the block's top-level object itself (``H_*`` states: which
key is which, where the name and the arguments are, an optional markdown
fence around it) and hands each value to a ``JsonReader``: the name and keys
decoded into ``capture``, the arguments written into the sink's ``args`` as
they arrive, other values checked and dropped.  ``"parameters"`` is an alias
of ``"arguments"``; arguments given as a string holding JSON are decoded by
one reader that feeds a second.  See ``body.py`` for the contract with the
envelope.
"""

from .body import Body
from .codes import (
    DONE,
    EV_NAME,
    EV_NONE,
    EV_TAG,
    FAILED,
    M_DECODE,
    M_DISCARD,
    RUNNING,
)
from .reader import JsonReader as new_reader  # (the compiled twin cimports the type)
from .reader import plain_string_end

# Body states.
H_OPEN = 0  # before '{' (whitespace, an opening fence)
H_FENCE = 1  # counting the backticks of an opening fence
H_FENCE_INFO = 2  # the fence's language tag ("json")
H_OPEN_FENCED = 3  # after the fence, before '{'
H_KEY = 4  # a top-level key, or '}' right after '{'
H_KEYSTR = 5  # reading a top-level key
H_COLON = 6
H_VALUE_START = 7  # before a top-level value
H_VALUE = 8  # reading a top-level value
H_AFTER_VALUE = 9  # ',' or '}'
H_AFTER_OBJ = 10  # after the call's object: whitespace, a closing fence, a tag
H_CLOSE_FENCE = 11  # counting the backticks of a closing fence

# What the top-level value being read is.
V_KEY = 0
V_NAME = 1
V_ARGS = 2  # arguments, an object
V_ARGS_STR = 3  # arguments, a string holding JSON
V_ARGS_OTHER = 4  # arguments, any other value (null means {})
V_DUPLICATE = 5  # a second "name" or "arguments"
V_OTHER = 6  # a key we ignore

# A key longer than this is none of ours; a name longer than this is not a name.
KEY_CAPTURE_CAP = 32
NAME_CAPTURE_CAP = 512


class HermesBody(Body):
    """Reads a Hermes JSON body (``dialect="hermes"``)."""

    def __init__(self):
        Body.__init__(self)
        self.reader = new_reader()
        self.inner = None  # made when arguments come as a string
        self.capture = []
        self.base = 0
        HermesBody.begin(self, None, 0, False, False)

    def begin(self, args, args_mode, python, bare):
        Body.begin(self, args, args_mode, python, bare)
        self.args_mode = args_mode
        self.python = python
        self.state = H_OPEN
        self.fence = 0
        self.fenced = False
        self.fence_start = 0
        self.first_key = True
        self.have_name = False
        self.have_args = False
        self.role = V_KEY
        self.value_char = " "

    def feed(self, text, i, limit, base):
        self.event = EV_NONE
        self.base = base
        while i < limit:
            state = self.state
            if state == H_VALUE or state == H_KEYSTR:
                reader = self.reader
                i = reader.feed(text, i, limit)
                if reader.status == DONE:
                    if state == H_KEYSTR:
                        key = "" if reader.overflow else "".join(self.capture)
                        self.key_done(key, 0, len(key))
                    else:
                        self.value_done(i)
                elif reader.status == FAILED:
                    self.defect(base + i, "invalid_json", reader.error)
            else:
                c = text[i]
                if (
                    (c == " " or c == "\n" or c == "\r" or c == "\t")
                    and state != H_FENCE
                    and state != H_FENCE_INFO
                    and state != H_CLOSE_FENCE
                ):
                    i += 1  # whitespace between the body's syntax
                    continue
                i = self.structure(text, i, limit, c, state)
            if self.event != EV_NONE:
                break
        return i

    def finish(self):
        if self.state == H_AFTER_OBJ or self.state == H_CLOSE_FENCE:
            return False
        self.reader.finish()
        return True

    def structure(self, text, i, limit, c, state):
        """One character of the body's syntax outside JSON values (a plain
        key read whole); return the next index."""
        if state == H_OPEN or state == H_OPEN_FENCED:
            if c == "{":
                self.state = H_KEY
                self.first_key = True
                return i + 1
            if c == "`" and state == H_OPEN:
                self.fence = 1
                self.state = H_FENCE
                return i + 1
            self.defect(self.base + i, "not_a_call", "expected '{'")
            return i
        if state == H_KEY:
            if c == '"':
                # The usual key ("name", "arguments"), whole and plain: taken
                # as it stands, no reader set up for it.
                end = plain_string_end(text, i, limit, KEY_CAPTURE_CAP)
                if end >= 0:
                    self.key_done(text, i + 1, end)
                    return end + 1
            if c == '"' or (c == "'" and self.python):
                self.capture.clear()
                self.reader.reset(
                    M_DECODE, self.capture, None, False, KEY_CAPTURE_CAP, self.python
                )
                self.state = H_KEYSTR
                return i
            if c == "}" and (self.first_key or self.python):
                return self.end_object(i)
            self.defect(self.base + i, "invalid_json", "expected a key")
            return i
        if state == H_COLON:
            if c == ":":
                self.state = H_VALUE_START
                return i + 1
            self.defect(self.base + i, "invalid_json", "expected ':'")
            return i
        if state == H_VALUE_START:
            return self.start_value(text, i, limit, c)
        if state == H_AFTER_VALUE:
            if c == ",":
                self.first_key = False
                self.state = H_KEY
                return i + 1
            if c == "}":
                return self.end_object(i)
            self.defect(self.base + i, "invalid_json", "expected ',' or '}'")
            return i
        if state == H_FENCE:
            if c == "`" and self.fence < 3:
                self.fence += 1
                return i + 1
            if self.fence == 3:
                self.state = H_FENCE_INFO
                return i
            self.defect(self.base + i, "not_a_call", "expected '{'")
            return i
        if state == H_FENCE_INFO:
            if (
                ("a" <= c and c <= "z")
                or ("A" <= c and c <= "Z")
                or ("0" <= c and c <= "9")
                or c == "_"
                or c == "-"
            ):
                return i + 1
            self.fenced = True
            self.state = H_OPEN_FENCED
            return i
        if state == H_AFTER_OBJ:
            if c == "<":
                self.event = EV_TAG
                return i + 1
            if c == "`" and self.fenced:
                self.fenced = False
                self.fence = 1
                self.fence_start = self.base + i
                self.state = H_CLOSE_FENCE
                return i + 1
            self.defect(self.base + i, "trailing_text", "text after the call's object")
            return i
        # H_CLOSE_FENCE
        if c == "`" and self.fence < 3:
            self.fence += 1
            return i + 1
        if self.fence == 3:
            self.state = H_AFTER_OBJ
            return i
        # Not a closing fence after all: text after the object, from the backticks on.
        self.defect(self.fence_start, "trailing_text", "text after the call's object")
        return i

    def end_object(self, i):
        """The body's object closes at ``i``."""
        if not self.decided:
            self.defect(self.base + i, "not_a_call", "no name")
            return i
        self.state = H_AFTER_OBJ
        return i + 1

    def key_done(self, text, start, stop):
        """A top-level key was read: ``text[start:stop]`` (empty: longer than
        any of ours), told from ours where it stands, not copied out."""
        size = stop - start
        if size == 4 and text.startswith("name", start):
            self.role = V_DUPLICATE if self.have_name else V_NAME
            self.have_name = True
        elif (size == 9 and text.startswith("arguments", start)) or (
            size == 10 and text.startswith("parameters", start)
        ):
            self.role = V_DUPLICATE if self.have_args else V_ARGS
            self.have_args = True
        else:
            self.role = V_OTHER
        self.state = H_COLON

    def start_value(self, text, i, limit, c):
        """Set the reader up for the top-level value that starts with ``c``
        at ``i`` (or read a plain name whole); return the next index."""
        self.value_start = self.base + i
        self.value_char = c
        role = self.role
        reader = self.reader
        python = self.python
        quote = c == '"' or (c == "'" and python)
        if role == V_NAME:
            if not quote:
                self.defect(self.base + i, "invalid_json", "the name is not a string")
                return i
            if c == '"':
                # The usual name, whole and plain: taken as it stands.
                end = plain_string_end(text, i, limit, NAME_CAPTURE_CAP)
                if end >= 0:
                    self.name = text[i + 1 : end]
                    self.state = H_AFTER_VALUE
                    self.event = EV_NAME
                    return end + 1
            self.capture.clear()
            reader.reset(M_DECODE, self.capture, None, False, NAME_CAPTURE_CAP, python)
        elif role == V_ARGS:
            if c == "{":
                reader.reset(self.args_mode, self.args, None, True, 0, python)
            elif quote:
                self.role = V_ARGS_STR
                if self.inner is None:
                    self.inner = new_reader()
                self.inner.reset(self.args_mode, self.args, None, True, 0, python)
                reader.reset(M_DECODE, None, self.inner, False, 0, python)
            else:
                self.role = V_ARGS_OTHER
                reader.reset(M_DISCARD, None, None, False, 0, python)
        else:
            reader.reset(M_DISCARD, None, None, False, 0, python)
        self.state = H_VALUE
        return i

    def value_done(self, i):
        """A top-level value ended at ``i``."""
        self.state = H_AFTER_VALUE
        role = self.role
        start = self.value_start
        length = self.base + i - start
        if role == V_NAME:
            name = "".join(self.capture)
            self.name = "" if self.reader.overflow else name
            self.event = EV_NAME
        elif role == V_ARGS_STR:
            inner = self.inner
            if inner.status == FAILED or (inner.status == RUNNING and inner.started):
                detail = inner.error or "the arguments string holds incomplete JSON"
                self.problems.append(("invalid_arguments", start, length, detail))
                if not self.decided:
                    self.args.clear()
        elif role == V_ARGS_OTHER:
            if self.value_char != "n" and self.value_char != "N":  # null, None
                self.problems.append(
                    ("invalid_arguments", start, length, "the arguments are not an object")
                )
        elif role == V_DUPLICATE:
            self.problems.append(("duplicate_key", start, length, "a second name or arguments key"))

