#!/usr/bin/env bash
# rnn4j (JMH) and PyTorch (bench_rnn.py) on the same configs, one after the other in the same
# run; prints the joined markdown table (compare_rnn.py) and keeps it in
# benchmarks/target/rnn-comparison-<isa>.md. Needs the benchmarks jar
# (mvn -q -pl benchmarks -am package -DskipTests) and, for the PyTorch columns, Debian's
# python3-torch.
#
# Usage: benchmarks/run-rnn-comparison.sh [threads] [--isa avx512|avx2|baseline] [--only REGEX]
#            [--torch-min-time S] [--torch-warmup K] [--torch-setups LIST|none] [--torch-reuse]
#            [--peak GFLOPS|auto] [JMH args...]
#
#   threads            rnn4j.threads for the JMH JVMs and N of the PyTorch setups (default: nproc)
#   --isa NAME         -Drnn4j.isa=NAME for the JMH JVMs; output files are named by the path the
#                      JVMs actually run (default: the best path the CPU has)
#   --only REGEX       JMH benchmark regex (default '(Rnn(Inference|Train|Step)|PackedRnn)Benchmark');
#                      bare regexes among the JMH args are added to it
#   --torch-min-time S bench_rnn.py --min-time (default 2)
#   --torch-warmup K   bench_rnn.py --warmup (default 3)
#   --torch-setups L   comma-separated tT-bB (torch.set_num_threads(T), OPENBLAS_NUM_THREADS=B);
#                      default t1-bN,tN-bN,tN-b1; 'none' skips PyTorch
#   --torch-reuse      keep existing target/torch-rnn-<setup>.jsonl files instead of re-running them
#                      (PyTorch does not depend on rnn4j's ISA path: run it once, reuse for the others)
#   --peak G|auto      FMA peak for the bound column: a number (GFLOP/s), or auto = run
#                      FmaPeakBenchmark for the path at the thread count first
#   --dry-run          print the JMH command line and the PyTorch setups, run nothing
#   JMH args           replace the defaults option by option (-f 1 -wi 3 -i 5 -w 1 -r 2); -p may
#                      repeat; -jvmArgsAppend is appended to the script's; -rf/-rff/-o are the script's
#
# PyTorch only runs the configs, modes and cells that the JMH run produced.
# Old form still works: run-rnn-comparison.sh 2 -wi 1 -i 2
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=benchmarks/target
JAR="$OUT/benchmarks.jar"
PY=/usr/bin/python3

die() { echo "run-rnn-comparison.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

THREADS=""
ISA=""
ONLY=""
TORCH_MIN_TIME=2
TORCH_WARMUP=3
TORCH_SETUPS=""
TORCH_REUSE=0
PEAK=""
DRY_RUN=0
USER_ARGS=()

if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  THREADS=$1
  shift
fi
need() { [[ $# -ge 2 ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --isa) need "$@"; ISA=$2; shift 2 ;;
    --isa=*) ISA=${1#*=}; shift ;;
    --only) need "$@"; ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --threads) need "$@"; THREADS=$2; shift 2 ;;
    --torch-min-time) need "$@"; TORCH_MIN_TIME=$2; shift 2 ;;
    --torch-warmup) need "$@"; TORCH_WARMUP=$2; shift 2 ;;
    --torch-setups) need "$@"; TORCH_SETUPS=$2; shift 2 ;;
    --torch-reuse) TORCH_REUSE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --peak) need "$@"; PEAK=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    --) shift; USER_ARGS+=("$@"); break ;;
    *) USER_ARGS+=("$1"); shift ;;
  esac
done

THREADS=${THREADS:-$(nproc)}
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "threads must be a positive integer, got '$THREADS'"
case ${ISA} in
  "" | avx512 | avx2 | baseline) ;;
  *) die "--isa must be avx512, avx2 or baseline, got '$ISA'" ;;
esac
[[ -f $JAR ]] || die "$JAR not found: mvn -q -pl benchmarks -am package -DskipTests"

# ---- JMH options: the user's replace the defaults of the same name ------------------------------
# options of JMH 1.37 that take a value (java -jar benchmarks.jar -h)
VALUE_OPTS=" -i -bs -r -wi -wbs -w -to -t -bm -si -gc -foe -v -f -wf -o -rff -prof -tg -jvm -jvmArgs
 -jvmArgsAppend -jvmArgsPrepend -tu -opi -rf -wm -e -p -wmb "
declare -A GIVEN=()
USER_OPTS=()
INCLUDES=()
USER_JVM_APPEND=""
i=0
while [[ $i -lt ${#USER_ARGS[@]} ]]; do
  a=${USER_ARGS[$i]}
  case $a in
    -rf | -rff | -o) die "$a is set by the script (results go to $OUT/jmh-rnn-<isa>.json and .log)" ;;
    -l | -lp | -lrf | -lprof | -h) die "$a: run java -jar $JAR $a directly" ;;
    -jvmArgsAppend)
      [[ $((i + 1)) -lt ${#USER_ARGS[@]} ]] || die "$a needs a value"
      USER_JVM_APPEND+=" ${USER_ARGS[$((i + 1))]}"
      i=$((i + 2)) ;;
    -*)
      [[ $VALUE_OPTS == *" $a "* ]] || die "unknown JMH option '$a' (see java -jar $JAR -h)"
      [[ $((i + 1)) -lt ${#USER_ARGS[@]} ]] || die "$a needs a value"
      GIVEN[$a]=1
      USER_OPTS+=("$a" "${USER_ARGS[$((i + 1))]}")
      i=$((i + 2)) ;;
    *) INCLUDES+=("$a"); i=$((i + 1)) ;;
  esac
done
[[ -n $ONLY ]] && INCLUDES=("$ONLY" "${INCLUDES[@]}")
[[ ${#INCLUDES[@]} -gt 0 ]] || INCLUDES=('(Rnn(Inference|Train|Step)|PackedRnn)Benchmark')

# with_defaults NAME opt val opt val ...: NAME=(defaults not given by the user) + the user's timing options
with_defaults() {
  local -n arr=$1
  shift
  arr=()
  while [[ $# -gt 0 ]]; do
    [[ -n ${GIVEN[$1]:-} ]] || arr+=("$1" "$2")
    shift 2
  done
}
with_defaults JMH_ARGS -f 1 -wi 3 -i 5 -w 1 -r 2
JMH_ARGS+=("${USER_OPTS[@]}")

if [[ -z $TORCH_SETUPS ]]; then
  # (a) torch 1 over an N-thread OpenBLAS, (b) torch N over N (oversubscribed), (c) torch N over 1
  TORCH_SETUPS="t1-b$THREADS"
  [[ $THREADS == 1 ]] || TORCH_SETUPS+=",t$THREADS-b$THREADS,t$THREADS-b1"
fi

JVM_FLAGS="-Drnn4j.threads=$THREADS${ISA:+ -Drnn4j.isa=$ISA}"
# OpenBLAS prints "Core: <kernel>" when it loads (bytedeco's presets do not bind openblas_get_corename)
export OPENBLAS_VERBOSE=${OPENBLAS_VERBOSE:-2}

# ---- the path the JVMs will run, for the file names -----------------------------------------------
# shellcheck disable=SC2086
PROBE=$(java $JVM_FLAGS --enable-native-access=ALL-UNNAMED -cp "$JAR" org.rnn4j.benchmarks.BenchEnv 2>/dev/null | grep '# rnn4j-env:' || true)
TAG=$(sed -n 's/.*# rnn4j-env: isa=\([a-z0-9]*\).*/\1/p' <<<"$PROBE")
[[ -n $TAG ]] || die "could not load the native backend: java -cp $JAR org.rnn4j.benchmarks.BenchEnv"
if [[ -n $ISA && $TAG != "$ISA" ]]; then
  echo "run-rnn-comparison.sh: WARNING: asked for $ISA, the JVMs run $TAG on this CPU; files are named $TAG" >&2
fi
JSON="$OUT/jmh-rnn-$TAG.json"
LOG="$OUT/jmh-rnn-$TAG.log"
echo "# rnn4j: ${INCLUDES[*]} ${JMH_ARGS[*]} with $JVM_FLAGS -> $JSON" >&2
JMH_CMD=(java -Drnn4j.threads="$THREADS" -jar "$JAR" "${INCLUDES[@]}"
  -jvmArgsAppend "$JVM_FLAGS --enable-native-access=ALL-UNNAMED$USER_JVM_APPEND" "${JMH_ARGS[@]}"
  -rf json -rff "$JSON")
if [[ $DRY_RUN == 1 ]]; then
  echo "OPENBLAS_VERBOSE=$OPENBLAS_VERBOSE $(printf '%q ' "${JMH_CMD[@]}")> $LOG"
  echo "PyTorch setups: $TORCH_SETUPS (configs, modes, cells from $JSON)${PEAK:+; peak: $PEAK}"
  exit 0
fi
"${JMH_CMD[@]}" > "$LOG" 2>&1 || { tail -40 "$LOG"; exit 1; }
grep -q '"benchmark"' "$JSON" 2>/dev/null || { tail -40 "$LOG"; die "no JMH results in $JSON"; }

# ---- FMA peak of the path ---------------------------------------------------------------------------
PEAK_ARGS=()
if [[ $PEAK == auto ]]; then
  code=$(case $TAG in avx512) echo 2 ;; avx2) echo 1 ;; *) echo 0 ;; esac)
  method=$([[ $THREADS -ge 2 ]] && echo twoThreads || echo oneThread)
  PEAK_JSON="$OUT/jmh-peak-$TAG.json"
  with_defaults PEAK_JMH -f 1 -wi 2 -i 3 -w 1 -r 1
  for o in -f -wi -i -w -r; do
    for ((k = 0; k < ${#USER_OPTS[@]}; k += 2)); do
      [[ ${USER_OPTS[$k]} == "$o" ]] && PEAK_JMH+=("$o" "${USER_OPTS[$((k + 1))]}")
    done
  done
  echo "# peak: FmaPeakBenchmark.$method isa=$code ${PEAK_JMH[*]} -> $PEAK_JSON" >&2
  java -jar "$JAR" "FmaPeakBenchmark\.$method\$" -p isa="$code" \
    -jvmArgsAppend "$JVM_FLAGS --enable-native-access=ALL-UNNAMED" "${PEAK_JMH[@]}" \
    -rf json -rff "$PEAK_JSON" > "$OUT/jmh-peak-$TAG.log" 2>&1 || { tail -20 "$OUT/jmh-peak-$TAG.log"; exit 1; }
  PEAK_ARGS=(--peak-json "$PEAK_JSON")
elif [[ -n $PEAK ]]; then
  [[ $PEAK =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--peak takes GFLOP/s or 'auto', got '$PEAK'"
  PEAK_ARGS=(--peak "$PEAK")
fi

# ---- PyTorch: the same configs, modes and cells, in each thread setup -----------------------------
TORCH_FILES=()
if [[ $TORCH_SETUPS != none ]]; then
  if ! $PY -c 'import torch' 2>/dev/null; then
    echo "PyTorch not installed: the PyTorch columns will read n/a" >&2
  else
    # what the JMH run produced: --only CONFIGS --mode MODE --cells CELLS
    read -r -a SELECT < <($PY - "$JSON" <<'EOF'
import sys
sys.path.insert(0, "benchmarks")
from compare_rnn import jmh_rows, cell_of
keys = jmh_rows(sys.argv[1])
configs = sorted({k[0] for k in keys})
modes = {k[2] for k in keys}
cells = sorted({cell_of(k[1]) for k in keys})
print("--only", ",".join(configs) or "none", "--mode", modes.pop() if len(modes) == 1 else "both",
      "--cells", ",".join(cells) or "none")
EOF
)
    declare -A DONE=()
    IFS=, read -r -a SETUPS <<<"$TORCH_SETUPS"
    for s in "${SETUPS[@]}"; do
      [[ $s =~ ^t([1-9][0-9]*)-b([1-9][0-9]*)$ ]] || die "--torch-setups: '$s' is not tT-bB (e.g. t1-b2)"
      [[ -z ${DONE[$s]:-} ]] || continue
      DONE[$s]=1
      f="$OUT/torch-rnn-$s.jsonl"
      TORCH_FILES+=("$f")
      if [[ $TORCH_REUSE == 1 && -s $f ]]; then
        echo "# PyTorch $s: reusing $f" >&2
        continue
      fi
      echo "# PyTorch $s: ${SELECT[*]} --min-time $TORCH_MIN_TIME --warmup $TORCH_WARMUP -> $f" >&2
      env -u OPENBLAS_VERBOSE $PY benchmarks/pytorch/bench_rnn.py --torch-threads "${BASH_REMATCH[1]}" \
        --blas-threads "${BASH_REMATCH[2]}" "${SELECT[@]}" --min-time "$TORCH_MIN_TIME" \
        --warmup "$TORCH_WARMUP" --json-only > "$f.tmp" && mv "$f.tmp" "$f"
    done
  fi
fi

{
  echo "run-rnn-comparison.sh: threads $THREADS; rnn4j ${INCLUDES[*]} ${JMH_ARGS[*]}; PyTorch --min-time $TORCH_MIN_TIME --warmup $TORCH_WARMUP"
  echo
  $PY benchmarks/compare_rnn.py --jmh-log "$LOG" "${PEAK_ARGS[@]}" "$JSON" "${TORCH_FILES[@]}"
} | tee "$OUT/rnn-comparison-$TAG.md"
