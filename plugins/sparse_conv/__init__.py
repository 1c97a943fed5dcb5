"""`isbnet::SparseConv3d` (docs/ops/SparseConv3d.md), one module per implementation:
`reference` (PyTorch / numpy, the judge), `onnx_function` (ONNX function body; imports onnx),
`cpu` (numba kernel), `cuda` (PyTorch binding of the CUDA kernel), `tensorrt` (TensorRT plugin
definition), and `launch` (the CUDA launch grid shared by the binding and the plugin). Import the
submodule you need: each pulls in its own dependencies."""
