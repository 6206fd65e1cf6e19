#!/usr/bin/env bash
# Create (or reuse) the cached virtualenv with LiteLLM's proxy for benches/serve.py
# (LiteLLM as a plain pass-through to the same vLLM, the figure ours is compared
# with), and print its python's path on stdout (everything else goes to stderr).
#
#     LITELLM_PY="$(bash .ci/litellm-env.sh)"   # then: python benches/serve.py --litellm-python "$LITELLM_PY"
#
# LiteLLM is pinned to 1.82.6: 1.82.7 and 1.82.8 (March 2026) and 1.107.0 were
# compromised releases (a credential stealer in a .pth file); 1.82.6 is the
# release the advisories name as the last one before.  The venv is kept under
# ${HERMES_PARSE_CACHE:-$HOME/.cache/hermes-parse}; a stamp file marks it complete.
set -euo pipefail
LITELLM_SPEC="${HERMES_PARSE_LITELLM_SPEC:-litellm[proxy]==1.82.6}"
CACHE="${HERMES_PARSE_CACHE:-$HOME/.cache/hermes-parse}"
TAG="$(echo "$LITELLM_SPEC" | tr -c 'A-Za-z0-9.\n' '-')"
VENV="$CACHE/${TAG}-venv"
STAMP="$VENV/.hermes-parse-complete"
PYTHON="${PYTHON:-python3}"
log() { echo "litellm-env: $*" >&2; }

if [ ! -f "$STAMP" ]; then
    log "building $VENV ($LITELLM_SPEC)"
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet "$LITELLM_SPEC" >&2
    # The compromised releases planted a .pth that runs at every start: refuse one.
    if ls "$VENV"/lib/python*/site-packages/*litellm*.pth >/dev/null 2>&1; then
        log "a litellm .pth file is in the venv: refusing it"; rm -rf "$VENV"; exit 1
    fi
    touch "$STAMP"
fi
echo "$VENV/bin/python"
