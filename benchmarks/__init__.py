"""Benchmarks: the latency harness behind `isbnet-trt benchmark`, the GPU and TensorRT checks and
their reports. The top layer: nothing in the product imports it (only the command line does)."""
