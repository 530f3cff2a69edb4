#!/usr/bin/python3
"""Joins a JMH JSON result (rnn4j) and bench_rnn.py JSON lines (PyTorch) into one markdown table.

    compare_rnn.py [--jmh-log LOG] [--peak GFLOPS | --peak-json JMH_PEAK_JSON]
                   target/jmh-rnn-avx512.json target/torch-rnn-t1-b2.jsonl [more .jsonl ...]

Used by benchmarks/run-rnn-comparison.sh. Every PyTorch file may hold one or more thread setups
(the "setup" field bench_rnn.py writes, e.g. t1-b2 = torch.set_num_threads(1) with
OPENBLAS_NUM_THREADS=2). Each row shows PyTorch's time for every setup tried, and the PyTorch
column is the fastest of them, with the setup it came from: the speed-up is against the best
PyTorch setup found, not against one that oversubscribes the cores.

Header: CPU model, rnn4j's ISA path, rnn4j's thread setting, OpenBLAS's kernel (the
"# rnn4j-env:" lines that BenchEnv prints in the JMH log, and OpenBLAS's own "Core: X" line when
the JMH JVMs ran with OPENBLAS_VERBOSE=2), OPENBLAS_CORETYPE, JDK, and the PyTorch setups with
the BLAS torch runs on.

Columns: config, module, mode, MFLOP (see flops() for what is counted), rnn4j time and GFLOP/s,
PyTorch per setup, PyTorch best (setup) and GFLOP/s, speed-up = PyTorch best / rnn4j. With
--peak (the measured FMA peak of rnn4j's path at rnn4j's thread count, in GFLOP/s; --peak-json
reads it from a FmaPeakBenchmark result: 2-thread value for rnn4j.threads >= 2) also the target
bound of the issue, max(PyTorch best / 2, FLOPs / (0.8 * peak)), and whether rnn4j's mean time
is within it ("no (within error)": the mean misses, mean - error would not). Times in ms, single steps (config D) in µs.
"""
import argparse
import json
import os
import re
import sys

TORCH_NAME = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN-tanh"}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
# The shapes of RnnConfigs.java / bench_rnn.py: (T, N, I, H, layers, bidirectional)
SHAPES = {"A": (35, 32, 28, 256, 1, False), "B": (100, 64, 256, 512, 1, False),
          "C": (100, 64, 512, 512, 2, True), "D": (1, 1, 128, 256, 1, False),
          "P": (100, 64, 256, 512, 1, False)}
PACKED_ROWS = sum(10 + (i * 37 + 11) % 91 for i in range(64))  # RnnConfigs.packedLengths(): 3,500


def cell_of(module):
    """LSTM / GRU / RNN of a row's module name ("GRU packed", "LSTMCell", "RNN-tanh layer T=1")."""
    for k in ("LSTM", "GRU", "RNN"):
        if module.startswith(k):
            return k
    raise ValueError(module)


def flops(config, module, mode):
    """FLOPs of one call: the two GEMMs per layer and direction only.

    Forward, per layer and direction: 2 * G * H * (I_layer + H) * rows, i.e. the input projection
    x (rows x I_layer) . W_ih^T (I_layer x G*H) and the recurrent h (rows x H) . W_hh^T (H x G*H)
    over all steps, a multiply-add counted as 2 FLOPs; G = 4 (LSTM), 3 (GRU), 1 (RNN); I_layer = I
    for layer 0 and H * directions after; rows = T * N, or for the packed config P the sum of the
    lengths (3,500). Training (forward + backward) counts 3x the forward GEMM FLOPs (backward: one
    GEMM for the input/hidden gradients and one for the weight gradients per forward GEMM; layer
    0's dx, which neither side needs, is counted all the same). The pointwise gate math, the
    biases, the loss and the optimizer step are ignored: they are O(G*H*rows), a few percent of
    the GEMMs at these sizes (A, D: more, being small), so GFLOP/s here is slightly understated.
    """
    T, N, I, H, layers, bidir = SHAPES[config]
    g = GATES[cell_of(module)]
    dirs = 2 if bidir else 1
    rows = PACKED_ROWS if config == "P" else T * N
    total = 0
    for layer in range(layers):
        i_layer = I if layer == 0 else H * dirs
        total += dirs * 2 * g * H * (i_layer + H) * rows
    return total * (3 if mode == "train" else 1)


def _err(e):
    """JMH writes the error of a single iteration as the string "NaN": read it as None."""
    try:
        e = float(e)
    except (TypeError, ValueError):
        return None
    return None if e != e else e


def jmh_rows(path):
    rows = {}
    for r in json.load(open(path)):
        bench = r["benchmark"].rsplit(".", 2)
        cls, method = bench[-2], bench[-1]
        p = r.get("params", {})
        cell = p.get("cell")
        score = float(r["primaryMetric"]["score"])
        err = _err(r["primaryMetric"]["scoreError"])
        unit = r["primaryMetric"]["scoreUnit"]
        if cls == "RnnInferenceBenchmark":
            key = (p["config"], TORCH_NAME[cell], "infer")
        elif cls == "RnnTrainBenchmark":
            key = (p["config"], TORCH_NAME[cell], "train")
        elif cls == "PackedRnnBenchmark":
            key = ("P", TORCH_NAME[cell] + " packed", method)
        elif cls == "PackedLstmBenchmark":  # results from before the GRU/RNN packed configs
            key = ("P", "LSTM packed", method)
        elif cls == "RnnStepBenchmark":
            key = ("D", cell + "Cell" if method == "cellStep" else TORCH_NAME[cell] + " layer T=1", "infer")
        else:
            continue
        scale = {"us/op": 1e-3, "ms/op": 1.0, "s/op": 1e3, "ns/op": 1e-6}.get(unit)
        if scale is None:
            sys.exit(f"compare_rnn.py: unexpected unit {unit} for {r['benchmark']}")
        rows[key] = (score * scale, None if err is None else err * scale)
    return rows


def torch_rows(paths):
    """{(config, module, mode): {setup: mean_ms}} and {setup: first record of that setup}."""
    rows, setups = {}, {}
    for path in paths:
        for line in open(path):
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            setup = r.get("setup") or f"threads={r.get('threads', '?')}"  # files of the old script
            setups.setdefault(setup, r)
            rows.setdefault((r["config"], r["module"], r["mode"]), {})[setup] = r["mean_ms"]
    return rows, setups


def setup_order(name):
    m = re.fullmatch(r"t(\d+)-b(\d+)", name)
    return (0, int(m.group(1)), -int(m.group(2))) if m else (1, 0, 0)


def read_env(log):
    """(distinct rnn4j-env dicts, distinct OpenBLAS "Core:" names) of a JMH log."""
    envs, cores = [], []
    if not log or not os.path.exists(log):
        return envs, cores
    for line in open(log, errors="replace"):
        m = re.search(r"# rnn4j-env: (.*)$", line)
        if m:
            body = m.group(1).strip()
            cpu = ""
            if " cpu=" in body:
                body, cpu = body.split(" cpu=", 1)
            d = dict(kv.split("=", 1) for kv in body.split() if "=" in kv)
            d["cpu"] = cpu.strip()
            if d not in envs:
                envs.append(d)
        for c in re.findall(r"\bCore: (\S+)", line):
            if c not in cores:
                cores.append(c)
    return envs, cores


def describe_setup(name, r):
    if "torch_threads" in r:
        return (f"{name} = torch.set_num_threads({r['torch_threads']}) + "
                f"OPENBLAS_NUM_THREADS={r.get('blas_threads_env') or r.get('blas_threads')}"
                + (f" (OpenBLAS reports {r['blas_threads_actual']})"
                   if r.get("blas_threads_actual") not in (None, r.get("blas_threads")) else ""))
    return f"{name} = old bench_rnn.py run (torch.set_num_threads only, OpenBLAS threads unrecorded)"


def fmt_time(ms, config):
    return f"{ms * 1000:.1f} µs" if config == "D" else f"{ms:.1f} ms"


def fmt_mflop(f):
    m = f / 1e6
    return f"{m:,.0f}" if m >= 100 else f"{m:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jmh_json")
    ap.add_argument("torch_jsonl", nargs="*")
    ap.add_argument("--jmh-log", help="the JMH log with BenchEnv's '# rnn4j-env:' lines "
                                      "(default: the .json path with .log)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--peak", type=float, help="FMA peak of rnn4j's path at its thread count, GFLOP/s")
    g.add_argument("--peak-json", help="a FmaPeakBenchmark JMH JSON result to take the peak from")
    a = ap.parse_args()

    mine = jmh_rows(a.jmh_json)
    theirs, setups = torch_rows(a.torch_jsonl)
    setup_names = sorted(setups, key=setup_order)
    log = a.jmh_log or (a.jmh_json[:-5] + ".log" if a.jmh_json.endswith(".json") else None)
    envs, cores = read_env(log)

    # ---- header
    env = envs[0] if envs else {}
    cpus = []
    for c in [e.get("cpu") for e in envs] + [r.get("cpu") for r in setups.values()]:
        if c and c not in cpus:
            cpus.append(c)
    print(f"- CPU: {' / '.join(cpus) if cpus else 'unknown'}")
    if envs:
        for e in envs:
            core = e.get("openblas_core", "n/a")
            if core == "n/a" and cores:
                core = "/".join(cores) + " (OpenBLAS's 'Core:' line)"
            print(f"- rnn4j: ISA path {e.get('isa')} (detected {e.get('detected')}, requested {e.get('requested')}), "
                  f"backend {e.get('backend')}, rnn4j.threads={e.get('rnn4j.threads')} "
                  f"(OpenBLAS threads {e.get('blas_threads')}), bytedeco OpenBLAS core {core}, "
                  + (f"OpenBLAS pool spin {e['openblas_pool_spin']} ticks, " if "openblas_pool_spin" in e else "") +
                  f"OPENBLAS_CORETYPE={e.get('OPENBLAS_CORETYPE')}, JDK {e.get('jdk')}")
        if len(envs) > 1:
            print("- WARNING: the JMH JVMs did not all run the same setup (lines above)")
    else:
        print(f"- rnn4j: environment unknown (no '# rnn4j-env:' line in {log})")
    if setups:
        r0 = setups[setup_names[0]]
        blas = r0.get("openblas_config") or r0.get("torch_blas_info") or "BLAS unrecorded"
        core = r0.get("openblas_core")
        print(f"- PyTorch {r0.get('torch', '?')} over {blas}" + (f", core {core}" if core else "")
              + (f" ({r0['openblas_lib']})" if r0.get("openblas_lib") else "")
              + f", OPENBLAS_CORETYPE={r0.get('openblas_coretype_env') or 'unset'}")
        print("- PyTorch setups: " + "; ".join(describe_setup(n, setups[n]) for n in setup_names)
              + ". The PyTorch column is the fastest setup of each row.")
    else:
        print("- PyTorch: no results")

    peak = a.peak
    if a.peak_json:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import fma_peak
        isa = env.get("isa")
        t = env.get("rnn4j.threads", "")
        threads = int(t) if t.isdigit() else (os.cpu_count() or 1)
        if isa not in fma_peak.ISA_CODES:
            sys.exit("compare_rnn.py: --peak-json needs the ISA path from the JMH log (--jmh-log)")
        peak = fma_peak.peak_for(a.peak_json, isa, threads)
        if peak is None:
            sys.exit(f"compare_rnn.py: no FmaPeakBenchmark result for {isa}, {min(threads, 2)} thread(s) in {a.peak_json}")
    print("- FLOPs: the two GEMMs per layer and direction (2 * G * H * (I_layer + H) * rows; training 3x), "
          "pointwise math ignored")
    if peak:
        print(f"- Peak: {peak:.1f} GFLOP/s (FMA peak of the path at rnn4j's thread count); "
              "bound = max(PyTorch best / 2, FLOPs / (0.8 * peak)); met if rnn4j's mean time <= bound")
    print()

    # ---- table
    head = ["config", "module", "mode", "MFLOP", "rnn4j", "rnn4j GFLOP/s"]
    if len(setup_names) > 1:
        head += [f"PyTorch {n}" for n in setup_names]
    head += ["PyTorch best", "PyTorch GFLOP/s", "speed-up"]
    if peak:
        head += ["bound", "meets"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for key in sorted(mine, key=lambda k: ("ABCDP".index(k[0]), k[2], k[1])):
        cfg, module, mode = key
        ms, err = mine[key]
        f = flops(*key)
        cells = [cfg, module, mode, fmt_mflop(f)]
        unit_scale = 1000.0 if cfg == "D" else 1.0
        u = "µs" if cfg == "D" else "ms"
        cells.append(f"{ms * unit_scale:.1f} {u}" if err is None else f"{ms * unit_scale:.1f} ± {err * unit_scale:.1f} {u}")
        cells.append(f"{f / (ms * 1e6):.1f}")
        per = theirs.get(key, {})
        if len(setup_names) > 1:
            cells += [fmt_time(per[n], cfg) if n in per else "n/a" for n in setup_names]
        best = min(per.items(), key=lambda kv: kv[1]) if per else None
        if best:
            cells.append(f"{fmt_time(best[1], cfg)} ({best[0]})")
            cells.append(f"{f / (best[1] * 1e6):.1f}")
            cells.append(f"{best[1] / ms:.2f}x")
        else:
            cells += ["n/a", "n/a", "n/a"]
        if peak:
            if best:
                bound = max(best[1] / 2, f / (0.8 * peak * 1e9) * 1e3)  # ms
                cells.append(fmt_time(bound, cfg))
                cells.append("yes" if ms <= bound else ("no (within error)" if err and ms - err <= bound else "no"))
            else:
                cells += ["n/a", "n/a"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
