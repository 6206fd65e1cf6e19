#!/usr/bin/env bash
# Create (or reuse) the cached virtualenv with a real SGLang for the SGLang
# tests, and print its python's path on stdout (everything else goes to stderr).
#
#     SPY="$(bash .ci/sglang-env.sh)"   # then: "$SPY" -m pytest tests/test_sglang.py
#
# sglang is installed with --no-deps (a full install pulls GPU kernels and
# their toolchains, many GB), plus what `import sglang`, its function_call
# package and its OpenAI serving code (serving_chat) import: PACKAGES below,
# with the versions the wheel pins where it pins them.  torch cannot be left
# out: sglang/__init__.py imports sglang.srt.utils.common, which imports torch
# and triton at the top; and serving_chat's imports reach torchvision
# (sglang.srt.multimodal.internvl_utils), whose PyPI wheels link torch's CUDA
# libraries, so the CPU torch these machines carry will not do: torch is the
# wheel's own pin from PyPI (CUDA build, never run here: about 5 GB).
#
# Versions: the newest sglang by default; the oldest with the general plugin
# system (entry points `sglang.srt.plugins`) is 0.5.11:
#     HERMES_PARSE_SGLANG_SPEC=sglang==0.5.11 bash .ci/sglang-env.sh
# A stamp file marks a complete venv, so a half-built one is rebuilt.
# hermes-parse itself is (re)installed editable from this checkout every
# time, which is quick.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
SGLANG_SPEC="${HERMES_PARSE_SGLANG_SPEC:-sglang==0.5.23}"
CACHE="${HERMES_PARSE_CACHE:-$HOME/.cache/hermes-parse}"
TAG="$(echo "$SGLANG_SPEC" | tr -c 'A-Za-z0-9.\n' '-')"
VENV="$CACHE/${TAG}-venv"
STAMP="$VENV/.hermes-parse-complete"
PYTHON="${PYTHON:-python3}"
# What the import chain of sglang.srt.entrypoints.openai.serving_chat needs
# (found with python -X importtime; each a top-level import somewhere on it).
PACKAGES="torch torchvision pydantic openai msgspec orjson partial_json_parser regex numpy psutil pybase64
    requests pillow fastapi uvicorn pyzmq ipython aiohttp xgrammar transformers jsonschema
    dill sentencepiece compressed-tensors gguf packaging"
log() { echo "sglang-env: $*" >&2; }

if [ ! -f "$STAMP" ]; then
    log "building $VENV ($SGLANG_SPEC); a few minutes"
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON" -m venv "$VENV"
    PIP=("$VENV/bin/python" -m pip)
    "${PIP[@]}" install --quiet --upgrade pip >&2
    "${PIP[@]}" install --quiet --no-deps "$SGLANG_SPEC" >&2
    # The wheel's own pins for the packages we take (openai, xgrammar, transformers, ...).
    "$VENV/bin/python" - "$SGLANG_SPEC" $PACKAGES > "$VENV/sglang-requirements.txt" <<'PY'
import re, sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
except ImportError:  # a fresh venv: pip carries its own copy
    from pip._vendor.packaging.requirements import Requirement
dist = re.split(r"[<>=!~ ]", sys.argv[1])[0]
wanted = {name.lower().replace("_", "-") for name in sys.argv[2:]}
pinned = {}
for line in metadata.requires(dist) or ():
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    pinned[req.name.lower().replace("_", "-")] = req.name + str(req.specifier)
for name in sorted(wanted):
    print(pinned.get(name, name))
PY
    log "installing $(wc -l < "$VENV/sglang-requirements.txt") packages"
    "${PIP[@]}" install --quiet -r "$VENV/sglang-requirements.txt" >&2
    touch "$STAMP"
fi
# Test tools (tests/conftest.py loads the hypothesis profiles, benches/conftest.py
# pytest-benchmark), and what the editable build of hermes-parse needs (Cython).
"$VENV/bin/python" -m pip install --quiet pytest pytest-benchmark hypothesis "setuptools>=77" wheel "cython>=3.0.10" >&2
"$VENV/bin/python" -m pip install --quiet --no-build-isolation -e "$REPO" >&2 \
    || "$VENV/bin/python" -m pip install --quiet -e "$REPO" >&2
echo "$VENV/bin/python"
