#!/usr/bin/env bash
# Build the Cython twin of the state machine for coverage-guided fuzzing.
#
#   fuzz/build_fuzz_extension.sh [--mode asan|cov] [--src DIR] [--out DIR]
#
# Writes, under OUT (default fuzz/build/<mode>/):
#   hermes_parse/_machine_c.<ext-suffix>  the extension, compiled by clang with
#                                         -fsanitize=fuzzer-no-link (coverage
#                                         counters, compare tracing) and, in
#                                         asan mode, -fsanitize=address
#   libfuzzer_rt.so                       libFuzzer merged with the ASan runtime
#                                         (asan mode) or alone (cov mode), to be
#                                         LD_PRELOADed so that the counters go to
#                                         libFuzzer (see fuzz/README.md)
#   env.sh                                LD_PRELOAD / ASAN_OPTIONS / HERMES_FUZZ_EXT
#                                         for a run of fuzz/atheris_harness.py
#
# The normal in-place build (hermes_parse/_machine_c.*.so, which the tests use)
# and the generated hermes_parse/_machine_c.c are never touched: Cython writes
# its C file into OUT.  The Cython directives are read from setup.py so that the
# fuzzed code is the shipped code (boundscheck=False and all).
#
# SRC (default: the repository) is the project root holding hermes_parse/; it
# exists so that a scratch copy can be built the same way (e.g. to check that
# ASan catches a deliberate out-of-bounds read, see fuzz/README.md).
#
# Exit status: 0 built; 2 no usable clang / libFuzzer / ASan runtime (the caller
# may fall back to the normal build), 1 any other failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
MODE=asan
SRC="$ROOT"
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --src) SRC="$(cd "$2" && pwd)"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "build_fuzz_extension.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
case "$MODE" in asan|cov) ;; *) echo "build_fuzz_extension.sh: --mode asan or cov" >&2; exit 1 ;; esac
OUT="${OUT:-$HERE/build/$MODE}"
mkdir -p "$OUT/hermes_parse"
OUT="$(cd "$OUT" && pwd)"
PYTHON="${PYTHON:-python3}"

say() { echo "build_fuzz_extension: $*" >&2; }

# -- the compiler and its runtimes ------------------------------------------
CLANG="${CLANG:-}"
if [ -z "$CLANG" ]; then
  for candidate in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
    if command -v "$candidate" > /dev/null 2>&1; then CLANG="$candidate"; break; fi
  done
fi
if [ -z "$CLANG" ] || ! command -v "$CLANG" > /dev/null 2>&1; then
  say "no clang found${CLANG:+ ($CLANG)} (apt-get install clang libclang-rt-dev)"
  exit 2
fi
ARCH="$(uname -m)"
rt() { "$CLANG" -print-file-name="libclang_rt.$1-$ARCH.$2" 2> /dev/null || true; }
FUZZER_A="$(rt fuzzer_no_main a)"
ASAN_A="$(rt asan a)"
if [ ! -f "$FUZZER_A" ]; then
  say "$CLANG has no libFuzzer runtime ($FUZZER_A); apt-get install libclang-rt-dev"
  exit 2
fi
if [ "$MODE" = asan ] && [ ! -f "$ASAN_A" ]; then
  say "$CLANG has no ASan runtime ($ASAN_A); apt-get install libclang-rt-dev"
  exit 2
fi

# -- Cython: the same source and directives as setup.py -----------------------
if ! "$PYTHON" -c "import Cython" 2> /dev/null; then
  say "Cython is not installed (pip install 'cython>=3.0.10')"
  exit 1
fi
DIRECTIVES="$("$PYTHON" - "$SRC/setup.py" <<'PY'
import ast, sys
# The compiler_directives={...} literal of setup.py's cythonize() call.
tree = ast.parse(open(sys.argv[1]).read())
found = None
for node in ast.walk(tree):
    if isinstance(node, ast.keyword) and node.arg == "compiler_directives":
        found = ast.literal_eval(node.value)
if found is None:
    sys.exit("setup.py: no compiler_directives found")
print(",".join(f"{k}={v}" for k, v in sorted(found.items())))
PY
)"
say "Cython directives from setup.py: $DIRECTIVES"
C_FILE="$OUT/_machine_c.c"
# Run from SRC so that Cython names the module hermes_parse._machine_c (from the
# package's __init__.py) and finds _machine_c.pxd next to the source.
(cd "$SRC" && "$PYTHON" -m cython -3 -X "$DIRECTIVES" -o "$C_FILE" hermes_parse/_machine_c.py)

# -- compile and link ---------------------------------------------------------
SANITIZE="fuzzer-no-link"
if [ "$MODE" = asan ]; then SANITIZE="fuzzer-no-link,address"; fi
PY_INCLUDE="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
EXT_SUFFIX="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
SO="$OUT/hermes_parse/_machine_c$EXT_SUFFIX"
OPT="${FUZZ_OPT:--O1}"
say "compiling with $CLANG -fsanitize=$SANITIZE $OPT"
"$CLANG" -fPIC -g "$OPT" -fno-omit-frame-pointer -fsanitize="$SANITIZE" \
  -Wno-unused-function -Wno-unreachable-code-fallthrough -Wno-unknown-warning-option \
  -I "$PY_INCLUDE" -c "$C_FILE" -o "$OUT/_machine_c.o"
# No ASan runtime is linked into the extension: the preloaded library below
# brings it (a Python extension cannot carry its own).
"$CLANG" -shared -fsanitize="$SANITIZE" "$OUT/_machine_c.o" -o "$SO"

# -- the preloaded runtime: libFuzzer (+ ASan) ----------------------------------
# libFuzzer must own the coverage callbacks before the extension is loaded.
# ASan also defines them (weakly); merging both into one library lets the
# dynamic linker pick libFuzzer's strong definitions.  The ASan archive's
# preinit object is dropped: .preinit_array is not allowed in a shared object.
RT="$OUT/libfuzzer_rt.so"
CXX_FOR_RT="${CLANG/clang/clang++}"
command -v "$CXX_FOR_RT" > /dev/null 2>&1 || CXX_FOR_RT="$CLANG"
if [ "$MODE" = asan ]; then
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  cp "$ASAN_A" "$TMP/asan.a"
  for member in $(ar t "$TMP/asan.a" | grep -i preinit || true); do
    ar d "$TMP/asan.a" "$member"
  done
  "$CXX_FOR_RT" -shared -o "$RT" -Wl,--whole-archive "$FUZZER_A" "$TMP/asan.a" \
    -Wl,--no-whole-archive -lstdc++ -lpthread -ldl -lrt -lm
else
  "$CXX_FOR_RT" -shared -o "$RT" -Wl,--whole-archive "$FUZZER_A" \
    -Wl,--no-whole-archive -lstdc++ -lpthread -ldl -lrt -lm
fi

# -- check: instrumented, and loadable with the runtime preloaded ------------
nm "$SO" > "$OUT/symbols.txt"
if ! grep -q "__sancov_gen_\|__sanitizer_cov" "$OUT/symbols.txt"; then
  say "the extension has no coverage instrumentation"
  exit 1
fi
if [ "$MODE" = asan ] && ! grep -q "__asan_" "$OUT/symbols.txt"; then
  say "the extension has no ASan instrumentation"
  exit 1
fi
PYMALLOC="${FUZZ_PYTHONMALLOC:-pymalloc}"
if [ "$MODE" = asan ]; then PYMALLOC="${FUZZ_PYTHONMALLOC:-malloc}"; fi
SYMBOLIZER="$(command -v llvm-symbolizer || true)"
if [ -z "$SYMBOLIZER" ]; then
  VERSION="$("$CLANG" -dumpversion | cut -d. -f1)"
  SYMBOLIZER="$(command -v "llvm-symbolizer-$VERSION" || true)"
fi
cat > "$OUT/env.sh" <<EOF
# Source this before running fuzz/atheris_harness.py on the $MODE build.
export HERMES_FUZZ_EXT="$SO"
export HERMES_FUZZ_MODE="$MODE"
# Only this runtime: a second sanitizer runtime in the process cannot work.
export LD_PRELOAD="$RT"
# CPython's own allocations are never freed at exit: no leak reports.  In asan
# mode every Python object goes through malloc (PYTHONMALLOC=malloc) so that
# ASan sees the bounds of each str the C code reads.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=0:symbolize=1\${ASAN_OPTIONS:+:\$ASAN_OPTIONS}"
export PYTHONMALLOC="$PYMALLOC"
${SYMBOLIZER:+export ASAN_SYMBOLIZER_PATH="$SYMBOLIZER"}
EOF
(
  . "$OUT/env.sh"
  export PYTHONPATH="$SRC${PYTHONPATH:+:$PYTHONPATH}"
  "$PYTHON" - <<'PY'
import atheris  # noqa: F401  (libFuzzer is the preloaded one)
import importlib.util, os, sys
os.environ["HERMES_PARSE_NO_EXTENSIONS"] = "1"
import hermes_parse
spec = importlib.util.spec_from_file_location("hermes_parse._machine_c", os.environ["HERMES_FUZZ_EXT"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
message = module.parse('<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>')
assert message.tool_calls[0].arguments == '{"x": 1}', message
PY
) || { say "the built extension does not load with $RT preloaded"; exit 1; }
say "built $SO"
say "runtime $RT; environment: . $OUT/env.sh"
