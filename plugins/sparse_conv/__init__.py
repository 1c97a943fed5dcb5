"""`isbnet::SparseConv3d` (docs/ops/SparseConv3d.md): `cpu` (numba kernel), `launch` (the CUDA
launch grid shared by the PyTorch binding and the TensorRT plugin). Import the submodule you need:
each pulls in its own dependencies."""
