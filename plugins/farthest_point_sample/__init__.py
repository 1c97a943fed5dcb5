"""`isbnet::FarthestPointSample` (docs/ops/FarthestPointSample.md), one module per implementation:
`reference` (PyTorch / numpy, the judge), `onnx_function` (ONNX function body; imports onnx),
`cpu` (numba kernel), `cuda` (PyTorch binding of the CUDA kernel), `tensorrt` (TensorRT plugin
definition). Import the submodule you need: each pulls in its own dependencies."""
