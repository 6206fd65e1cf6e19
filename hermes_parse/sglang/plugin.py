"""Registers hermes-parse's detectors in SGLang: the ``sglang.srt.plugins``
entry point ``hermes_parse = "hermes_parse.sglang.plugin:register"``.

SGLang's ``load_plugins()`` runs every installed general plugin (only those
named in ``SGLANG_PLUGINS`` when it is set) early in ``sglang serve``,
``python -m sglang.launch_server`` and ``sglang.Engine``, before the command
line is parsed.  ``register()`` adds the names of ``detector.DETECTORS`` to
``FunctionCallParser.ToolCallParserEnum``; importing that module first is
what makes the command line accept them (``--tool-call-parser`` takes its
choices from the registry once the module is loaded).  See docs/sglang.md.

``HERMES_PARSE_SGLANG_REPLACE=hermes,qwen25,qwen`` (names, comma-separated)
also puts ``hermes_parse``'s detector under those built-in names, for a
deployment whose command line cannot change.
"""

from __future__ import annotations

import logging
import os

import hermes_parse

logger = logging.getLogger("sglang.hermes_parse")

#: The environment variable naming built-in parsers to replace.
REPLACE_VARIABLE = "HERMES_PARSE_SGLANG_REPLACE"


def register() -> None:
    """Add our detectors to SGLang's registry of tool-call parsers (idempotent)."""
    from sglang.srt.function_call.function_call_parser import FunctionCallParser

    from .detector import DETECTORS, HermesParseDetector

    registry = FunctionCallParser.ToolCallParserEnum
    registry.update(DETECTORS)
    replaced = [name.strip() for name in os.environ.get(REPLACE_VARIABLE, "").split(",") if name.strip()]
    for name in replaced:
        registry[name] = HermesParseDetector
    logger.info(
        "hermes-parse %s (%s) registered SGLang tool-call parsers %s%s",
        hermes_parse.__version__,
        hermes_parse.BACKEND,
        ", ".join(DETECTORS),
        f"; built-in {', '.join(replaced)} replaced by hermes_parse" if replaced else "",
    )
