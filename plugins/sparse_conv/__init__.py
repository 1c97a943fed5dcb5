"""`isbnet::SparseConv3d` (docs/ops/SparseConv3d.md): `reference` (PyTorch), `onnx_body` (the ONNX
function), `cpu` (numba), `cuda` (PyTorch CUDA binding), `tensorrt` (AOT plugin), `launch` (the
CUDA launch grid). Import the submodule you need: each pulls in its own dependencies."""
