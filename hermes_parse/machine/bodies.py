"""The body grammars, by dialect name: the table the envelope picks from.

A plain module (not compiled, as h11 keeps its reader table apart from the
readers): a new dialect is a ``Body`` subclass in a module of its own and
one line here.  The classes are imported relatively, so each twin's table
holds that twin's bodies.
"""

from .glm import GlmBody
from .hermes import HermesBody
from .qwen3_coder import Qwen3CoderBody

BODIES = {
    "hermes": HermesBody,
    "glm": GlmBody,
    "qwen3_coder": Qwen3CoderBody,
}
