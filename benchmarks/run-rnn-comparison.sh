#!/usr/bin/env bash
# rnn4j (JMH) and PyTorch (bench_rnn.py) on the same configs, same thread count, one after the
# other in the same run; prints the joined markdown table. Needs the benchmarks jar
# (mvn -q -pl benchmarks -am package -DskipTests) and, for the PyTorch column, Debian's
# python3-torch. Usage: benchmarks/run-rnn-comparison.sh [threads] [extra JMH args...]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-$(nproc)}
shift || true
OUT=benchmarks/target
mkdir -p "$OUT"
JMH_ARGS=(-f 1 -wi 3 -i 5 -w 1 -r 2 "$@")

java -Drnn4j.threads="$THREADS" -jar "$OUT/benchmarks.jar" '(Rnn(Inference|Train|Step)|PackedLstm)Benchmark' \
  -jvmArgsAppend "-Drnn4j.threads=$THREADS --enable-native-access=ALL-UNNAMED" "${JMH_ARGS[@]}" \
  -rf json -rff "$OUT/jmh-rnn.json" > "$OUT/jmh-rnn.log" 2>&1 || { tail -40 "$OUT/jmh-rnn.log"; exit 1; }

if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 benchmarks/pytorch/bench_rnn.py --threads "$THREADS" --min-time 2 --json-only > "$OUT/torch-rnn.jsonl"
else
  echo "PyTorch not installed: the PyTorch column will read n/a" >&2
  : > "$OUT/torch-rnn.jsonl"
fi
echo "threads: $THREADS, $(java -version 2>&1 | head -1), $(lscpu | grep 'Model name' | sed 's/  */ /g')"
/usr/bin/python3 benchmarks/compare_rnn.py "$OUT/jmh-rnn.json" "$OUT/torch-rnn.jsonl"
