#!/usr/bin/env bash
# Build the Cython twin of the state machine for coverage-guided fuzzing.
#
#   fuzz/build_fuzz_extension.sh [--mode asan|cov] [--src DIR] [--out DIR]
#
# The Cython twin is an extension module hermes_parse.machine.<name> for each
# name of setup.py's COMPILED_MODULES (every hermes_parse/machine/*.py but its
# PLAIN_MODULES: codes.py and bodies.py are plain Python, never compiled); the
# other sources setup.py's cythonize() call names as literals (today the
# command's fast lane, hermes_parse/cli/lines.py) are compiled the same way.
# Writes, under OUT (default fuzz/build/<mode>/):
#   hermes_parse/machine/<name>.<ext-suffix>
#   hermes_parse/cli/lines.<ext-suffix>
#                     each module, compiled by clang with -fsanitize=fuzzer-no-link
#                     (coverage counters, compare tracing) and, in asan mode,
#                     -fsanitize=address
#   c/<name>.c        what Cython wrote (c/cli.lines.c for the lane; the
#                     in-place hermes_parse/**/*.c are never touched)
#   libfuzzer_rt.so   libFuzzer merged with the ASan runtime (asan mode) or alone
#                     (cov mode), to be LD_PRELOADed so that the counters go to
#                     libFuzzer (see fuzz/README.md)
#   env.sh            LD_PRELOAD / ASAN_OPTIONS / HERMES_FUZZ_BUILD / HERMES_FUZZ_SRC
#                     for a run of fuzz/atheris_harness.py
#
# How the modules are loaded under their own names.  A compiled module imports
# the modules it cimports at run time by their full names (hermes_parse.machine
# .reader ...), so the instrumented files must be what those names import.
# OUT/hermes_parse/machine/ holds only the .so files, not a copy of the
# package: the harness (atheris_harness.install_fuzz_build) puts a meta path
# finder first in sys.meta_path that answers exactly hermes_parse.machine.<name>
# with the .so of that name in this directory, and nothing else.  Everything
# else (hermes_parse, hermes_parse.machine, codes.py, the pure twin) is the
# source tree SRC itself, so no copy can go stale, and the in-place build
# (hermes_parse/machine/*.so, which the tests use) is never imported: the
# harness checks that every extension module of hermes_parse in the process
# comes from OUT and that OUT has one for every .pxd of the source tree.
#
# The Cython directives are read from setup.py so that the fuzzed code is the
# shipped code (boundscheck=False and all).
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
    -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
    *) echo "build_fuzz_extension.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
case "$MODE" in asan|cov) ;; *) echo "build_fuzz_extension.sh: --mode asan or cov" >&2; exit 1 ;; esac
OUT="${OUT:-$HERE/build/$MODE}"
mkdir -p "$OUT/hermes_parse/machine" "$OUT/c"
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
SETUP_INFO="$("$PYTHON" - "$SRC/setup.py" <<'PY'
import ast, os, sys
# setup.py's compiled modules and the compiler_directives={...} literal of its
# cythonize() call.  The modules: COMPILED_MODULES when it is a literal, else
# setup.py's rule: every hermes_parse/machine/*.py but its PLAIN_MODULES.
tree = ast.parse(open(sys.argv[1]).read())
directives = modules = plain = None
for node in ast.walk(tree):
    if isinstance(node, ast.keyword) and node.arg == "compiler_directives":
        directives = ast.literal_eval(node.value)
    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COMPILED_MODULES" for t in node.targets):
        try:
            modules = ast.literal_eval(node.value)
        except ValueError:  # computed by the rule below
            modules = None
    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PLAIN_MODULES" for t in node.targets):
        plain = ast.literal_eval(node.value)
if modules is None and plain is not None:
    machine = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "hermes_parse", "machine")
    modules = sorted(n[:-3] for n in os.listdir(machine) if n.endswith(".py") and n[:-3] not in plain)
# The other sources of the cythonize() call: its plain string literals naming
# a hermes_parse/**/*.py outside the machine (the machine's are an f-string).
extra = []
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "cythonize" and node.args:
        for item in ast.walk(node.args[0]):
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                path = item.value
                if path.startswith("hermes_parse/") and path.endswith(".py") and not path.startswith("hermes_parse/machine/"):
                    extra.append(path)
if directives is None:
    sys.exit("setup.py: no compiler_directives found")
if not modules:
    sys.exit("setup.py: no COMPILED_MODULES found")
print(",".join(f"{k}={v}" for k, v in sorted(directives.items())))
print(" ".join(modules))
print(" ".join(extra))
PY
)"
DIRECTIVES="$(echo "$SETUP_INFO" | sed -n 1p)"
MODULES="$(echo "$SETUP_INFO" | sed -n 2p)"
EXTRA_SOURCES="$(echo "$SETUP_INFO" | sed -n 3p)"
say "Cython directives from setup.py: $DIRECTIVES"
say "modules from setup.py: $MODULES"
say "other sources from setup.py: ${EXTRA_SOURCES:-(none)}"

# -- compile and link, one extension module per source ---------------------------
SANITIZE="fuzzer-no-link"
if [ "$MODE" = asan ]; then SANITIZE="fuzzer-no-link,address"; fi
PY_INCLUDE="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
EXT_SUFFIX="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
OPT="${FUZZ_OPT:--O1}"
rm -f "$OUT"/hermes_parse/machine/*.so "$OUT"/hermes_parse/cli/*.so
say "compiling with $CLANG -fsanitize=$SANITIZE $OPT"
# compile SOURCE STEM: hermes_parse/<package>/<module>.py (relative to SRC)
# into OUT/hermes_parse/<package>/<module><EXT_SUFFIX>, C in OUT/c/STEM.c.
compile_module() {
  local source="$1" stem="$2"
  local C_FILE="$OUT/c/$stem.c"
  local TARGET="$OUT/${source%.py}$EXT_SUFFIX"
  mkdir -p "$(dirname "$TARGET")"
  # From SRC, so that Cython names the module by its full name
  # (hermes_parse.machine.<name>, hermes_parse.cli.lines: the packages'
  # __init__.py files), reads the .pxd beside the source and finds the .pxd
  # files it cimports (from hermes_parse.machine.X cimport ...).
  (cd "$SRC" && "$PYTHON" -m cython -3 -X "$DIRECTIVES" -o "$C_FILE" "$source")
  "$CLANG" -fPIC -g "$OPT" -fno-omit-frame-pointer -fsanitize="$SANITIZE" \
    -Wno-unused-function -Wno-unreachable-code-fallthrough -Wno-unknown-warning-option \
    -I "$PY_INCLUDE" -c "$C_FILE" -o "$OUT/c/$stem.o"
  # No ASan runtime is linked into the extension: the preloaded library below
  # brings it (a Python extension cannot carry its own).
  "$CLANG" -shared -fsanitize="$SANITIZE" "$OUT/c/$stem.o" -o "$TARGET"
  BUILT+=("$TARGET")
}
BUILT=()
for name in $MODULES; do
  compile_module "hermes_parse/machine/$name.py" "$name"
done
for source in $EXTRA_SOURCES; do
  stem="${source#hermes_parse/}"
  stem="${stem%.py}"
  compile_module "$source" "${stem//\//.}"
done

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
for SO in "${BUILT[@]}"; do
  name="$(basename "$SO" "$EXT_SUFFIX")"
  nm "$SO" > "$OUT/c/$name.symbols.txt"
  if ! grep -q "__sancov_gen_\|__sanitizer_cov" "$OUT/c/$name.symbols.txt"; then
    say "$SO has no coverage instrumentation"
    exit 1
  fi
  if [ "$MODE" = asan ] && ! grep -q "__asan_" "$OUT/c/$name.symbols.txt"; then
    say "$SO has no ASan instrumentation"
    exit 1
  fi
done
PYMALLOC="${FUZZ_PYTHONMALLOC:-pymalloc}"
if [ "$MODE" = asan ]; then PYMALLOC="${FUZZ_PYTHONMALLOC:-malloc}"; fi
SYMBOLIZER="$(command -v llvm-symbolizer || true)"
if [ -z "$SYMBOLIZER" ]; then
  VERSION="$("$CLANG" -dumpversion | cut -d. -f1)"
  SYMBOLIZER="$(command -v "llvm-symbolizer-$VERSION" || true)"
fi
cat > "$OUT/env.sh" <<EOF
# Source this before running fuzz/atheris_harness.py on the $MODE build.
# The instrumented modules (OUT/hermes_parse/machine/*.so) and the source tree
# that goes with them (see the header of fuzz/build_fuzz_extension.sh).
export HERMES_FUZZ_BUILD="$OUT"
export HERMES_FUZZ_SRC="$SRC"
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
  "$PYTHON" - "$HERE" <<'PY'
import sys
import atheris  # noqa: F401  (libFuzzer is the preloaded one)
sys.path.insert(0, sys.argv[1])
import atheris_harness
cython_twin, python_twin, description = atheris_harness.load_twins()
print("build_fuzz_extension:", description, file=sys.stderr)
for twin in (cython_twin, python_twin):
    message = twin.parse('<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>')
    assert message.tool_calls[0].arguments == '{"x": 1}', message
lines_twins = atheris_harness.load_lines(instrument=False)
print("build_fuzz_extension:", lines_twins.description, file=sys.stderr)
if lines_twins.pure is not None:  # (None: no orjson, the lane check is skipped)
    if lines_twins.compiled is None:
        sys.exit("build_fuzz_extension: hermes_parse.cli.lines did not load from the fuzz build")
    harness = atheris_harness.Harness(cython_twin, python_twin, 1, lines=lines_twins)
    harness.check_lane(b"\0\0\0" + b'{"id": "r1", "completion": "Hi <tool_call>{\\"name\\": \\"f\\", \\"arguments\\": {}}</tool_call>"}\n')
    assert harness.lane_lines == 1, harness.lane_lines
PY
) || { say "the built extension does not load with $RT preloaded"; exit 1; }
say "built $OUT/hermes_parse/machine/{${MODULES// /,}}$EXT_SUFFIX${EXTRA_SOURCES:+ and ${EXTRA_SOURCES//.py/$EXT_SUFFIX}}"
say "runtime $RT; environment: . $OUT/env.sh"
