#!/usr/bin/env bash
# Fuzz the state machine and the command's fast lane (hermes_parse/cli/lines.py)
# with atheris for a while; report exec/s, executions and how many inputs took
# the lane.
#
#   fuzz/run_fuzz.sh [--minutes N | --seconds S] [--jobs J] [--mode asan|cov|normal]
#                    [--twin-every N] [--ignore-known] [-- LIBFUZZER_ARGS...]
#
# --minutes/--seconds  how long (default 10 minutes)
# --jobs J             J fuzzing processes sharing one working corpus (default 1)
# --mode asan          (default) the Cython twin built by build_fuzz_extension.sh
#                      with coverage counters and AddressSanitizer
#        cov           the same without ASan (about twice as fast)
#        normal        the normal build, guided by Python-level coverage of the
#                      pure-Python twin (no clang needed).  asan and cov fall back
#                      to it, and say so, when clang or its runtimes are missing.
# --twin-every N       check the pure-Python twin on one input in N (default 4)
# --ignore-known       pass over inputs that hit a reported, unfixed finding
#                      (KNOWN in atheris_harness.py) and keep looking for others
#
# The seeds are fuzz/corpus/ and fuzz/findings/ (the reproducers of reported
# findings: each run checks them first; never written to); what libFuzzer adds goes to
# fuzz/build/corpus-<mode>/ and is kept for the next run.  Crashes, failed
# invariants, timeouts (over 60 s) and ASan reports are written to
# fuzz/crashes/ (crash-*, timeout-*, oom-*); logs to fuzz/build/logs/.  Exit status: 0 nothing found,
# 1 a finding (or a worker that failed), 2 usage or setup error.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SECONDS_TOTAL=600
JOBS=1
MODE=asan
TWIN_EVERY=4
EXTRA_HARNESS=()
LIBFUZZER_EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) SECONDS_TOTAL=$(( $2 * 60 )); shift 2 ;;
    --seconds) SECONDS_TOTAL="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --twin-every) TWIN_EVERY="$2"; shift 2 ;;
    --ignore-known) EXTRA_HARNESS+=(--ignore-known); shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    --) shift; LIBFUZZER_EXTRA=("$@"); break ;;
    *) echo "run_fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$MODE" in asan|cov|normal) ;; *) echo "run_fuzz.sh: --mode asan, cov or normal" >&2; exit 2 ;; esac
PYTHON="${PYTHON:-python3}"
say() { echo "run_fuzz: $*" >&2; }

cd "$ROOT"
if ! "$PYTHON" -c "import atheris" 2> /dev/null; then
  say "atheris is not installed: pip install atheris (or pip install -e '.[fuzz]')"
  exit 2
fi

# -- the build under test ------------------------------------------------------
unset HERMES_FUZZ_BUILD HERMES_FUZZ_SRC HERMES_FUZZ_MODE
if [ "$MODE" != normal ]; then
  BUILD="$HERE/build/$MODE"
  # Rebuilt when any module is missing or older than any source of the machine
  # (hermes_parse/machine/*.py and *.pxd), of the lane (hermes_parse/cli/lines.py
  # and .pxd), setup.py or the build script.
  stale=0
  sos=("$BUILD"/hermes_parse/machine/*.so)
  pxds=(hermes_parse/machine/*.pxd)
  lane_sos=("$BUILD"/hermes_parse/cli/lines.*so)
  if [ ! -f "$BUILD/env.sh" ] || [ ! -e "${sos[0]}" ] || [ "${#sos[@]}" != "${#pxds[@]}" ] || [ ! -e "${lane_sos[0]}" ]; then
    stale=1
  else
    for so in "${sos[@]}" "${lane_sos[@]}"; do
      for source in hermes_parse/machine/*.py hermes_parse/machine/*.pxd hermes_parse/cli/lines.py hermes_parse/cli/lines.pxd \
                    setup.py fuzz/build_fuzz_extension.sh; do
        if [ "$source" -nt "$so" ]; then stale=1; fi
      done
    done
  fi
  if [ "$stale" = 1 ]; then
    say "building the $MODE extension (fuzz/build_fuzz_extension.sh --mode $MODE)"
    PYTHON="$PYTHON" "$HERE/build_fuzz_extension.sh" --mode "$MODE"
    status=$?
    if [ $status = 2 ]; then
      say "FALLBACK: no clang with libFuzzer/ASan runtimes; fuzzing the normal build"
      say "FALLBACK: guided by Python-level coverage of the pure-Python twin: no ASan, no C coverage"
      MODE=normal
    elif [ $status != 0 ]; then
      say "the fuzz build failed"
      exit 2
    fi
  fi
  if [ "$MODE" != normal ]; then
    # shellcheck disable=SC1091
    . "$BUILD/env.sh"
  fi
fi
if [ "$MODE" = normal ]; then
  unset LD_PRELOAD
  say "mode normal: the in-place build, Python-level coverage (the Python twin runs on every input)"
fi

WORK="$HERE/build/corpus-$MODE"
LOGS="$HERE/build/logs"
CRASHES="$HERE/crashes"
mkdir -p "$WORK" "$LOGS" "$CRASHES"
STAMP="$(date +%Y%m%d-%H%M%S)"
# What counts as a finding; slow-unit-* (over 30 s, e.g. a stall of a busy
# machine) are kept and listed but do not fail the run.
findings() { ls "$CRASHES" | grep -E '^(crash|timeout|oom|leak)-' | sort; }
before="$(findings)"

say "mode $MODE, $JOBS job(s), $SECONDS_TOTAL s, seeds fuzz/corpus ($(ls fuzz/corpus | wc -l) files), working corpus ${WORK#"$ROOT"/}"
touch "$LOGS/$STAMP.start"
pids=()
logs=()
for job in $(seq 1 "$JOBS"); do
  log="$LOGS/$STAMP-$MODE-$job.log"
  timeout --kill-after=30 $(( SECONDS_TOTAL + 300 )) \
    "$PYTHON" "$HERE/atheris_harness.py" --twin-every="$TWIN_EVERY" "${EXTRA_HARNESS[@]}" \
      -max_total_time="$SECONDS_TOTAL" -max_len=4096 -timeout=60 -report_slow_units=30 -rss_limit_mb=3072 \
      -dict="$HERE/hermes.dict" -print_final_stats=1 -artifact_prefix="$CRASHES/" \
      "${LIBFUZZER_EXTRA[@]}" "$WORK" "$HERE/corpus" "$HERE/findings" > "$log" 2>&1 &
  pids+=($!)
  logs+=("$log")
done

failed=0
for k in "${!pids[@]}"; do
  if ! wait "${pids[$k]}"; then failed=1; fi
done

# -- the figures ---------------------------------------------------------------
total=0
rate=0
lane_total=0
for log in "${logs[@]}"; do
  units="$(grep -a 'stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')"
  speed="$(grep -a 'stat::average_exec_per_sec' "$log" | tail -n 1 | awk '{print $2}')"
  if [ -z "$units" ]; then  # died before the final stats: the last status line
    units="$(grep -aoE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
    speed="$(grep -aoE 'exec/s: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')"
  fi
  total=$(( total + ${units:-0} ))
  rate=$(( rate + ${speed:-0} ))
  cov="$(grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)"
  say "$(basename "$log"): ${units:-0} executions, ${speed:-0} exec/s, $cov"
  # The harness's last lane status (printed every 5 s: the last seconds are not in it).
  lane="$(grep -a '^atheris_harness: lane: [0-9]' "$log" | tail -n 1 | sed 's/^atheris_harness: //')"
  what="$(grep -a '^atheris_harness: lane' "$log" | grep -a -v '^atheris_harness: lane: [0-9]' | head -n 1 | sed 's/^atheris_harness: //')"
  say "$(basename "$log"): ${what:-lane: not reported}"
  say "$(basename "$log"): ${lane:-lane: no status line yet (printed every 5 s)}"
  lane_total=$(( lane_total + $(echo "$lane" | awk '/inputs took the lane/ {print $2; exit}' | grep -E '^[0-9]+$' || echo 0) ))
done
REVISION="$(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo unknown)"
echo "$STAMP rev=$REVISION mode=$MODE jobs=$JOBS seconds=$SECONDS_TOTAL executions=$total exec_per_sec=$rate lane_inputs=$lane_total" >> "$HERE/build/history.txt"
say "total: $total executions in $SECONDS_TOTAL s, $rate exec/s ($JOBS job(s), mode $MODE); $lane_total inputs took the lane (at the last status lines)"

new="$(comm -13 <(echo "$before") <(findings) | sed '/^$/d')"
slow="$(find "$CRASHES" -name 'slow-unit-*' -newer "$LOGS/$STAMP.start" 2> /dev/null)"
if [ -n "$slow" ]; then
  say "slow inputs (over 30 s; not counted as findings, check them with --explain):"
  echo "$slow" | sed 's/^/  /' >&2
fi
if [ "$failed" != 0 ] || [ -n "$new" ]; then
  say "FINDING: see the logs and the new files in ${CRASHES#"$ROOT"/}:"
  echo "${new:-(none written: see the logs)}" | sed 's/^/  /' >&2
  for log in "${logs[@]}"; do
    if grep -aq -E 'ERROR: (libFuzzer|AddressSanitizer)|Uncaught Python exception' "$log"; then
      say "from $(basename "$log"):"
      # The traceback or the sanitizer's report, without libFuzzer's own stack.
      awk '/Uncaught Python exception|ERROR: AddressSanitizer|ALARM: working on/ {show = 1}
           show && /^    #[0-9]+ .*(libfuzzer_rt|pybind11|python-build|libc_start)/ {next}
           show {print}
           /^SUMMARY:/ {show = 0}' "$log" | head -n 80 >&2
    fi
  done
  if [ "$MODE" = normal ]; then
    say "reproduce: python fuzz/atheris_harness.py --explain fuzz/crashes/<file>"
  else
    say "reproduce: . fuzz/build/$MODE/env.sh; python fuzz/atheris_harness.py --explain fuzz/crashes/<file>"
  fi
  exit 1
fi
say "no finding"
