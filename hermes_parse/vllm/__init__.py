"""hermes-parse in vLLM: a tool parser registered as ``hermes_parse`` and
``hermes_parse_python`` (docs/vllm.md).

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
