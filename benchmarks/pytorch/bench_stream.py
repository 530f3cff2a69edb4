"""PyTorch doing the best it can for many concurrent streams: one batched LSTMCell step over all
states per call (the caller gathers every stream's x, h, c into one batch), no autograd.

    env -u OPENBLAS_CORETYPE /usr/bin/python3 benchmarks/pytorch/bench_stream.py \
        --torch-threads 1 --blas-threads 2 --streams 1000

Prints one JSON line: median and best time per batched step and stream-steps per second, with the
thread setup and OpenBLAS core from torch_env. Compare with StreamBenchmark.stepBatch at the same
stream count (LSTM, I=128, H=256).
"""
import argparse
import json
import statistics
import time

from torch_env import add_thread_args, describe, fix_blas_threads

parser = argparse.ArgumentParser()
add_thread_args(parser)
parser.add_argument("--streams", type=int, default=1000)
parser.add_argument("--input", type=int, default=128)
parser.add_argument("--hidden", type=int, default=256)
parser.add_argument("--steps", type=int, default=400)
args = parser.parse_args()
blas = fix_blas_threads(args)

import torch  # noqa: E402

torch.set_num_threads(args.torch_threads)
env = describe(torch, args.torch_threads, blas)
torch.manual_seed(3)
cell = torch.nn.LSTMCell(args.input, args.hidden)
x = torch.randn(args.streams, args.input)
h = torch.zeros(args.streams, args.hidden)
c = torch.zeros(args.streams, args.hidden)
times = []
with torch.no_grad():
    for i in range(args.steps + 50):
        t0 = time.perf_counter()
        h, c = cell(x, (h, c))
        t1 = time.perf_counter()
        if i >= 50:
            times.append(t1 - t0)
med = statistics.median(times)
flops = 2.0 * args.streams * 4 * args.hidden * (args.input + args.hidden)
print(json.dumps({"bench": "stream_lstmcell_batched", "streams": args.streams, "I": args.input,
                  "H": args.hidden, "median_us": med * 1e6, "best_us": min(times) * 1e6,
                  "stream_steps_per_s": args.streams / med, "gflops": flops / med / 1e9, **env}))
