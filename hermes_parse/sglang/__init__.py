"""hermes-parse in SGLang: function-call detectors backed by our StreamParser
(docs/sglang.md).

The room:

* ``detector.py``: the ``BaseFormatDetector`` subclasses, one per registered
  name (``DETECTORS``): ``hermes_parse`` (Hermes JSON), ``hermes_parse_python``
  (Python dict literals too), ``hermes_parse_qwen3_coder``,
  ``hermes_parse_glm`` and ``hermes_parse_auto`` (the dialects).  Imports SGLang.
* ``plugin.py``: ``register()``, the ``sglang.srt.plugins`` entry point
  ``hermes_parse``, which SGLang's ``load_plugins()`` runs before it parses
  its command line, so ``--tool-call-parser hermes_parse`` is accepted.

This package module imports nothing from SGLang: ``import hermes_parse.sglang``
is cheap; only ``detector`` (and ``plugin.register()``) need SGLang.
Tests: tests/test_sglang.py, benches/test_bench_sglang.py, in the venv that
``.ci/sglang-env.sh`` builds.
"""
