"""The start-up hook of hermes-parse's Xinference adapter.

``python -m hermes_parse.xinference install`` copies this file into
site-packages as ``_hermes_parse_xinference.py`` and writes the one-line
``hermes_parse_xinference.pth`` that imports it in every Python of that
environment::

    import _hermes_parse_xinference; _hermes_parse_xinference.start(False)

So it must cost nothing: it imports only ``os`` and ``sys`` (both loaded
before any ``.pth`` file is read), not ``hermes_parse``.  ``start`` puts one
finder at the head of ``sys.meta_path``; the finder answers ``None`` to every
import (one string comparison) except Xinference's tool-parser package, whose
execution it wraps: right after that package has run, it imports
``hermes_parse.xinference`` and registers the parsers in ``TOOL_PARSERS``.

The package uses this same file as ``hermes_parse.xinference._hook`` (one
source for both).  It must not import anything from ``hermes_parse`` at module
level, and what it calls in the package (``register(module, replace_qwen=)``)
is public API that later versions keep.
"""

import os
import sys

TOOL_PARSERS_MODULE = "xinference.model.llm.tool_parsers"
ENV = "HERMES_PARSE_XINFERENCE"


def _register(module, replace_qwen):
    try:
        from hermes_parse.xinference import register

        register(module, replace_qwen=replace_qwen)
    except Exception:  # never break Xinference's import (hermes-parse uninstalled, ...)
        import logging

        logging.getLogger("hermes_parse.xinference").exception(
            "hermes-parse: registering the Xinference tool parsers failed"
            " (python -m hermes_parse.xinference uninstall removes this hook)"
        )


class HermesParseXinferenceFinder:
    """Registers the parsers right after Xinference's tool-parser package has
    been executed; finds nothing itself (the other finders do)."""

    hermes_parse_xinference_finder = True  # recognised across copies of this file

    def __init__(self, replace_qwen):
        self.replace_qwen = replace_qwen

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TOOL_PARSERS_MODULE:
            return None
        for finder in sys.meta_path:  # the spec the other finders give
            if finder is self or getattr(finder, "hermes_parse_xinference_finder", False):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module
        finder = self

        def exec_and_register(module):
            exec_module(module)
            _register(module, finder.replace_qwen)

        loader.exec_module = exec_and_register
        return spec


def install(replace_qwen=False):
    """Register now if Xinference's tool-parser package is loaded, else as soon as it is."""
    module = sys.modules.get(TOOL_PARSERS_MODULE)
    if module is not None and hasattr(module, "TOOL_PARSERS"):
        _register(module, replace_qwen)
        return
    for finder in sys.meta_path:
        if getattr(finder, "hermes_parse_xinference_finder", False):
            finder.replace_qwen = replace_qwen
            return
    sys.meta_path.insert(0, HermesParseXinferenceFinder(replace_qwen))


def start(replace_qwen=False):
    """What the ``.pth`` line runs at start-up: ``install`` unless the
    environment says otherwise (``HERMES_PARSE_XINFERENCE=0`` off, ``qwen``
    take over ``qwen``, ``hermes`` do not)."""
    setting = os.environ.get(ENV, "")
    if setting == "0":
        return
    if setting == "qwen":
        replace_qwen = True
    elif setting == "hermes":
        replace_qwen = False
    install(replace_qwen)
