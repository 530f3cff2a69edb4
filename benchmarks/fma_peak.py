#!/usr/bin/python3
"""GFLOP/s per ISA path from a FmaPeakBenchmark JMH JSON result.

    java -jar benchmarks/target/benchmarks.jar FmaPeak -rf json -rff benchmarks/target/jmh-peak.json
    /usr/bin/python3 benchmarks/fma_peak.py benchmarks/target/jmh-peak.json

Prints one row per path: GFLOP/s on one thread and on two (summed over the threads), with the
99.9% interval JMH gives. The two-thread value of a path is what compare_rnn.py --peak takes
(compare_rnn.py --peak-json FILE reads it from this file itself).

The rate is the benchmark's `gflops` secondary metric (FLOPs per ns); results without it are
converted from the primary score (loop iterations per ns) with the FLOPs per iteration of
rnn4j/peak.h (2 x accumulators x lanes).
"""
import json
import sys

ISA_NAMES = {0: "baseline", 1: "avx2", 2: "avx512"}
ISA_CODES = {v: k for k, v in ISA_NAMES.items()}
# rnn4j/peak.h: PeakShape<ISA>: 16 x 16 lanes (avx512), 12 x 8 (avx2), 12 x 4 (baseline)
FLOPS_PER_ITER = {2: 2 * 16 * 16, 1: 2 * 12 * 8, 0: 2 * 12 * 4}


def _err(e):
    """JMH writes the error of a single iteration as the string "NaN": read it as 0."""
    try:
        e = float(e)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if e != e else e


def peaks(path):
    """{(isa code, threads): (GFLOP/s, error)} of a FmaPeakBenchmark JSON result."""
    out = {}
    for r in json.load(open(path)):
        if not r["benchmark"].endswith((".oneThread", ".twoThreads")) or "FmaPeakBenchmark" not in r["benchmark"]:
            continue
        isa = int(r["params"]["isa"])
        sec = r.get("secondaryMetrics", {}).get("gflops")
        if sec and sec.get("scoreUnit", "").endswith("/ns"):
            g, e = sec["score"], sec["scoreError"]
        else:
            pm = r["primaryMetric"]
            scale = {"ops/ns": 1.0, "ops/us": 1e-3, "ops/ms": 1e-6, "ops/s": 1e-9}[pm["scoreUnit"]]
            g = pm["score"] * scale * FLOPS_PER_ITER[isa]
            e = _err(pm["scoreError"]) * scale * FLOPS_PER_ITER[isa]
        out[(isa, int(r["threads"]))] = (float(g), _err(e))
    return out


def peak_for(path, isa_name, threads):
    """GFLOP/s of a path at a thread count (2 for threads >= 2), or None."""
    p = peaks(path)
    v = p.get((ISA_CODES[isa_name], 2 if threads >= 2 else 1))
    return v[0] if v else None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    p = peaks(sys.argv[1])
    if not p:
        sys.exit(f"fma_peak.py: no FmaPeakBenchmark results in {sys.argv[1]}")
    print("| path | 1 thread GFLOP/s | 2 threads GFLOP/s | FLOPs per iteration |")
    print("| --- | --- | --- | --- |")
    for isa in sorted({k[0] for k in p}, reverse=True):
        cells = []
        for t in (1, 2):
            v = p.get((isa, t))
            cells.append(f"{v[0]:.1f} ± {v[1]:.1f}" if v else "n/a")
        print(f"| {ISA_NAMES.get(isa, isa)} | {cells[0]} | {cells[1]} | {FLOPS_PER_ITER[isa]} |")


if __name__ == "__main__":
    main()
