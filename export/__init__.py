"""Splitting the reference model into stages, ONNX export, graph checks, TensorRT engine building."""
