"""Benchmarks: the latency harness behind `isbnet-trt benchmark`, the GPU and TensorRT checks and
their reports. The top layer: nothing in the product imports it (only the command line does)."""

from pathlib import Path

#: Where final reports go (`benchmarks/results`; validation runs: `results/validation`).
RESULTS = Path(__file__).resolve().parent / "results"
#: The shared fixture folder beside the checkout (golden checkpoint, official configs).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
