"""hermes-parse in vLLM: tool parsers registered as ``hermes_parse``,
``hermes_parse_python``, ``hermes_parse_qwen3_coder``, ``hermes_parse_glm`` and
``hermes_parse_auto``, and on vLLM 0.32 and later the same names as reasoning
parsers, for one pass over reasoning and calls (docs/vllm.md).

The parser lives in :mod:`hermes_parse.vllm.plugin`, the file that vLLM's
``--tool-parser-plugin`` loads by path (``hermes-parse vllm-plugin-path``
prints it) and whose ``register`` is the ``vllm.general_plugins`` entry point
``hermes_parse = "hermes_parse.vllm.plugin:register"``.  This package module
imports nothing from vLLM: ``import hermes_parse.vllm`` is cheap, and only
importing ``hermes_parse.vllm.plugin`` needs (and loads) vLLM.
"""

from pathlib import Path

__all__ = ["PLUGIN_PATH"]

#: The file for ``vllm serve --tool-parser-plugin``.
PLUGIN_PATH = Path(__file__).resolve().parent / "plugin.py"
