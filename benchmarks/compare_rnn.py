#!/usr/bin/python3
"""Joins a JMH JSON result (rnn4j) and bench_rnn.py JSON lines (PyTorch) into one markdown table.

    compare_rnn.py target/jmh-rnn.json target/torch-rnn.jsonl

Rows: config, module, mode, rnn4j time, PyTorch time, speed-up (PyTorch time / rnn4j time).
Times in ms, single steps (config D) in µs. Used by benchmarks/run-rnn-comparison.sh.
"""
import json
import sys

TORCH_NAME = {  # (config, rnn4j benchmark, cell) -> PyTorch module name
    "LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN-tanh",
}


def jmh_rows(path):
    rows = {}
    for r in json.load(open(path)):
        bench = r["benchmark"].rsplit(".", 2)
        cls, method = bench[-2], bench[-1]
        p = r.get("params", {})
        cell = p.get("cell")
        score = r["primaryMetric"]["score"]
        err = r["primaryMetric"]["scoreError"]
        unit = r["primaryMetric"]["scoreUnit"]
        if cls == "RnnInferenceBenchmark":
            key = (p["config"], TORCH_NAME[cell], "infer")
        elif cls == "RnnTrainBenchmark":
            key = (p["config"], TORCH_NAME[cell], "train")
        elif cls == "PackedLstmBenchmark":
            key = ("P", "LSTM packed", method)
        elif cls == "RnnStepBenchmark":
            name = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN"}[cell]
            key = ("D", name + "Cell" if method == "cellStep" else TORCH_NAME[cell] + " layer T=1", "infer")
        else:
            continue
        ms = score / 1000.0 if unit.startswith("us") else score
        rows[key] = (ms, err / 1000.0 if unit.startswith("us") else err)
    return rows


def torch_rows(path):
    rows = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            rows[(r["config"], r["module"], r["mode"])] = r["mean_ms"]
    return rows


def main():
    mine = jmh_rows(sys.argv[1])
    theirs = torch_rows(sys.argv[2])
    print("| config | module | mode | rnn4j | PyTorch | speed-up |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key in sorted(mine, key=lambda k: ("ABCDP".index(k[0]), k[2], k[1])):
        ms, err = mine[key]
        unit, scale = ("µs", 1000.0) if key[0] == "D" else ("ms", 1.0)
        t = theirs.get(key)
        torch_s = f"{t * scale:.1f} {unit}" if t else "n/a"
        speed = f"{t / ms:.2f}x" if t else "n/a"
        print(f"| {key[0]} | {key[1]} | {key[2]} | {ms * scale:.1f} ± {err * scale:.1f} {unit} | {torch_s} | {speed} |")


if __name__ == "__main__":
    main()
