#!/usr/bin/python3
"""PyTorch side of the rnn4j benchmark tables (float32, CPU).

Usage (Debian's python3-torch; use /usr/bin/python3, not a pyenv python). The thread setup is
explicit: --torch-threads T (torch.set_num_threads) and the OpenBLAS thread count, either
--blas-threads B (the script re-executes itself with OPENBLAS_NUM_THREADS=B before torch is
imported) or OPENBLAS_NUM_THREADS in the environment:

    /usr/bin/python3 benchmarks/pytorch/bench_rnn.py --torch-threads 1 --blas-threads 2   # everything
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/pytorch/bench_rnn.py --torch-threads 1
    /usr/bin/python3 benchmarks/pytorch/bench_rnn.py --torch-threads 1 --blas-threads 2 --only A,D --mode infer
    /usr/bin/python3 benchmarks/pytorch/bench_rnn.py --torch-threads 1 --blas-threads 2 \
        --min-time 0.1 --warmup 1 --only A                                              # smoke run

Why both: Debian's torch runs its GEMMs through the pthread OpenBLAS, which has its own pool of
OPENBLAS_NUM_THREADS threads; torch.set_num_threads(N) on top of an N-thread OpenBLAS
oversubscribes the cores and measured 2-3x slower than torch threads 1 with OpenBLAS threads N.
run-rnn-comparison.sh runs several setups and keeps the fastest per row.

Options:
    --torch-threads T  torch.set_num_threads(T) (required; --threads is the old name)
    --blas-threads B   OpenBLAS threads (default: OPENBLAS_NUM_THREADS, which must then be set)
    --only A,B,...     config groups to run (A, B, C, D, P; default all)
    --cells LIST       cell kinds to run (LSTM, GRU, RNN; default all)
    --mode M           infer | train | both (default both)
    --min-time S       minimum timed seconds per config and mode (default 1.0)
    --warmup K         warm-up calls before timing (default 3)
    --json-only        print only the JSON lines

Configs (all float32, seq-first layout (T, N, I), zero initial state):
    A: T=35,  N=32, I=28,  H=256, 1 layer           LSTM, GRU, RNN (tanh)
    B: T=100, N=64, I=256, H=512, 1 layer           LSTM, GRU, RNN (tanh)
    C: T=100, N=64, I=512, H=512, 2 layers, bidir   LSTM, GRU, RNN (tanh)
    D: one step, N=1, I=128, H=256: LSTMCell / GRUCell / RNNCell and the layer with T=1
    P: LSTM, GRU, RNN (tanh) over 64 packed sequences, lengths 10 + (37 i + 11) mod 91 (spread
       over 10..100, as rnn4j's), I=256, H=512, pack_padded_sequence(enforce_sorted=False)
       (packing is inside the timed call; train also unpacks with pad_packed_sequence)

Modes:
    infer: forward under torch.no_grad()
    train: zero_grad + forward + loss = sum(output * g) (g fixed random) + backward
           + SGD(lr=1e-9) step (as rnn4j's RnnConfigs.TRAIN_LR: at 1e-3 this unbounded loss blew
           config C's network up within a few steps, and the subnormal floats that followed made
           a step 3-4x slower on whichever side it happened; at 1e-9 every step does the same
           update work on weights that stay at their initial values)

Output: a markdown table (mean time per call in ms, or us for D; sequences/s = N / time)
then one JSON line per (config, module, mode), which also records the thread setup, the CPU
and the BLAS torch runs on (torch_env.describe):
    {"config": "A", "module": "LSTM", "mode": "infer", "T": 35, "N": 32, "I": 28, "H": 256,
     "layers": 1, "bidirectional": false, "iters": 123, "mean_ms": 1.23, "seqs_per_s": ...,
     "setup": "t1-b2", "torch_threads": 1, "torch_threads_actual": 1, "blas_threads": 2,
     "blas_threads_env": "2", "blas_threads_actual": 2, "cpu": "AMD EPYC", "torch": "1.13.0a0",
     "torch_blas_info": "generic", "blas_libs": [...], "openblas_config": "OpenBLAS 0.3.21 ...",
     "openblas_core": "Cooperlake", "openblas_parallel": "pthreads", ...}
"""

import argparse
import json
import sys
import time

import torch_env

# imported by import_torch(), after the OpenBLAS thread count is fixed
torch = nn = pack_padded_sequence = pad_packed_sequence = None


def import_torch():
    global torch, nn, pack_padded_sequence, pad_packed_sequence
    try:
        import torch as _torch
        import torch.nn as _nn
        from torch.nn.utils.rnn import pack_padded_sequence as _pack, pad_packed_sequence as _pad
    except ImportError:
        print("bench_rnn.py: torch is not importable (apt-get install python3-torch; "
              "run with /usr/bin/python3)", file=sys.stderr)
        sys.exit(2)
    torch, nn, pack_padded_sequence, pad_packed_sequence = _torch, _nn, _pack, _pad


def make_layer(kind, I, H, layers=1, bidir=False):
    if kind == "LSTM":
        return nn.LSTM(I, H, num_layers=layers, bidirectional=bidir)
    if kind == "GRU":
        return nn.GRU(I, H, num_layers=layers, bidirectional=bidir)
    return nn.RNN(I, H, num_layers=layers, bidirectional=bidir, nonlinearity="tanh")


def make_cell(kind, I, H):
    return {"LSTM": nn.LSTMCell, "GRU": nn.GRUCell, "RNN": nn.RNNCell}[kind](I, H)


def time_it(fn, min_time, warmup):
    for _ in range(warmup):
        fn()
    # calibrate: run until min_time has elapsed, at least 3 calls
    iters = 0
    t0 = time.perf_counter()
    while True:
        fn()
        iters += 1
        el = time.perf_counter() - t0
        if el >= min_time and iters >= 3:
            return el / iters, iters


def output_of(y):
    """first tensor of a module result (output of a layer, h' of a cell, (h', c') -> h')."""
    if isinstance(y, tuple):
        y = y[0]
    return y


def bench_module(mod, make_input, mode, min_time, warmup, post=None):
    """make_input() -> args tuple for mod; post(y) -> tensor to put the loss on."""
    post = post or output_of
    results = {}
    if mode in ("infer", "both"):
        mod.eval()

        def f_inf():
            with torch.no_grad():
                mod(*make_input())
        results["infer"] = time_it(f_inf, min_time, warmup)
    if mode in ("train", "both"):
        mod.train()
        opt = torch.optim.SGD(mod.parameters(), lr=1e-9)
        with torch.no_grad():
            g = torch.randn_like(post(mod(*make_input())))

        def f_train():
            opt.zero_grad()
            out = post(mod(*make_input()))
            (out * g).sum().backward()
            opt.step()
        results["train"] = time_it(f_train, min_time, warmup)
    return results


def configs(selected, kinds=("LSTM", "GRU", "RNN")):
    """yield (config, label, builder) where builder() -> (mod, make_input, post, dims)."""
    kinds = [k for k in ("LSTM", "GRU", "RNN") if k in kinds]
    for cfg, (T, N, I, H, L, bi) in [("A", (35, 32, 28, 256, 1, False)),
                                     ("B", (100, 64, 256, 512, 1, False)),
                                     ("C", (100, 64, 512, 512, 2, True))]:
        if cfg not in selected:
            continue
        for k in kinds:
            def build(k=k, T=T, N=N, I=I, H=H, L=L, bi=bi):
                mod = make_layer(k, I, H, L, bi)
                x = torch.randn(T, N, I)
                return mod, (lambda: (x,)), None, dict(T=T, N=N, I=I, H=H, layers=L,
                                                      bidirectional=bi)
            yield cfg, k if k != "RNN" else "RNN-tanh", build
    if "D" in selected:
        I, H = 128, 256
        for k in kinds:
            def build_cell(k=k):
                mod = make_cell(k, I, H)
                x = torch.randn(1, I)
                return mod, (lambda: (x,)), None, dict(T=1, N=1, I=I, H=H, layers=1,
                                                      bidirectional=False)
            yield "D", ("RNN" if k == "RNN" else k) + "Cell", build_cell

            def build_step(k=k):
                mod = make_layer(k, I, H)
                x = torch.randn(1, 1, I)
                return mod, (lambda: (x,)), None, dict(T=1, N=1, I=I, H=H, layers=1,
                                                      bidirectional=False)
            yield "D", (k if k != "RNN" else "RNN-tanh") + " layer T=1", build_step
    if "P" in selected:
        for k in kinds:
            def build_packed(k=k):
                N, I, H = 64, 256, 512
                gen = torch.Generator().manual_seed(0)
                # the same lengths as rnn4j's RnnConfigs.packedLengths(): 10..100, unsorted
                lengths = torch.tensor([10 + (i * 37 + 11) % 91 for i in range(N)])
                T = int(lengths.max())
                x = torch.randn(T, N, I, generator=gen)
                mod = make_layer(k, I, H)

                def make_input():
                    return (pack_padded_sequence(x, lengths, enforce_sorted=False),)

                def post(y):
                    return pad_packed_sequence(y[0])[0]
                return mod, make_input, post, dict(T=T, N=N, I=I, H=H, layers=1,
                                                   bidirectional=False,
                                                   total_steps=int(lengths.sum()))
            yield "P", (k if k != "RNN" else "RNN-tanh") + " packed", build_packed


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    torch_env.add_thread_args(ap)
    ap.add_argument("--only", default="A,B,C,D,P")
    ap.add_argument("--cells", default="LSTM,GRU,RNN")
    ap.add_argument("--mode", choices=["infer", "train", "both"], default="both")
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json-only", action="store_true")
    args = ap.parse_args()
    blas_threads = torch_env.fix_blas_threads(args, "bench_rnn.py")  # before torch is imported
    import_torch()

    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(0)
    env = torch_env.describe(torch, args.torch_threads, blas_threads)
    selected = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    kinds = {s.strip().upper() for s in args.cells.split(",") if s.strip()}
    kinds = {"RNN" if k in ("RNN-TANH", "TANH") else k for k in kinds}
    if not args.json_only:
        print("# " + torch_env.summary(env), file=sys.stderr, flush=True)
    rows, lines = [], []
    for cfg, label, build in configs(selected, kinds):
        mod, make_input, post, dims = build()
        res = bench_module(mod, make_input, args.mode, args.min_time, args.warmup, post)
        for mode, (sec, iters) in res.items():
            rec = {"config": cfg, "module": label, "mode": mode, **dims,
                   "iters": iters, "mean_ms": sec * 1e3,
                   "seqs_per_s": dims["N"] / sec,
                   "min_time": args.min_time, "warmup": args.warmup, **env}
            lines.append(json.dumps(rec))
            rows.append(rec)
            if args.json_only:
                print(lines[-1], flush=True)
            else:
                print(f"# {cfg} {label} {mode}: {sec * 1e3:.4f} ms ({iters} iters)",
                      file=sys.stderr, flush=True)
    if args.json_only:
        return
    print(f"{torch_env.summary(env)}; float32 CPU, min-time={args.min_time}s\n")
    print("| config | module | mode | T | N | I | H | layers | bidir | time/call | seq/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        t = (f"{r['mean_ms'] * 1e3:.1f} µs" if r["config"] == "D"
             else f"{r['mean_ms']:.3f} ms")
        print(f"| {r['config']} | {r['module']} | {r['mode']} | {r['T']} | {r['N']} | "
              f"{r['I']} | {r['H']} | {r['layers']} | {'yes' if r['bidirectional'] else 'no'} "
              f"| {t} | {r['seqs_per_s']:.1f} |")
    print()
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
