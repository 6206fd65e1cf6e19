#!/usr/bin/env bash
# Create (or reuse) the cached virtualenv with a real Xinference for the
# Xinference tests, and print its python's path on stdout (everything else
# goes to stderr).
#
#     XINF_PY="$(bash .ci/xinference-env.sh)"   # then: "$XINF_PY" -m pytest tests/test_xinference*.py
#
# xinference 4.1.0 is installed with --no-deps (a full install pulls CUDA
# torch, about 6 GB), plus the few modules its tool-parser package and its
# chat post-processing import (PACKAGES below); the tests load those modules
# without executing the heavy parent packages (see tests/test_xinference.py).
# (Xinference's own tool-parser tests are in neither the wheel nor the sdist:
# see docs/xinference.md, tests/test_xinference_upstream.py.)  A stamp file marks a complete venv,
# so a half-built one is rebuilt.  hermes-parse itself is (re)installed
# editable from this checkout every time, which is quick.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
XINF_SPEC="${HERMES_PARSE_XINFERENCE_SPEC:-xinference==4.1.0}"
CACHE="${HERMES_PARSE_CACHE:-$HOME/.cache/hermes-parse}"
TAG="$(echo "$XINF_SPEC" | tr -c 'A-Za-z0-9.\n' '-')"
VENV="$CACHE/${TAG}-venv"
STAMP="$VENV/.hermes-parse-complete"
PYTHON="${PYTHON:-python3}"
PACKAGES="pillow pydantic openai orjson packaging typing_extensions"
log() { echo "xinference-env: $*" >&2; }

if [ ! -f "$STAMP" ]; then
    log "building $VENV ($XINF_SPEC); under a minute"
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet --no-deps "$XINF_SPEC" >&2
    "$VENV/bin/python" -m pip install --quiet $PACKAGES >&2
    touch "$STAMP"
fi
# Test tools (tests/conftest.py loads the hypothesis profiles), and what the editable build of hermes-parse needs (Cython).
"$VENV/bin/python" -m pip install --quiet pytest hypothesis "setuptools>=77" wheel "cython>=3.0.10" >&2
"$VENV/bin/python" -m pip install --quiet --no-build-isolation -e "$REPO" >&2 \
    || "$VENV/bin/python" -m pip install --quiet -e "$REPO" >&2
echo "$VENV/bin/python"
