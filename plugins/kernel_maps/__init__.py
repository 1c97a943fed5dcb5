"""Kernel maps of the sparse U-Net, the geometry input of `isbnet::SparseConv3d`, in one place.

One type, `LevelMaps` (numpy arrays or torch tensors), and three builders with identical tables:

| module | builder |
| --- | --- |
| `reference` | NumPy, the reference (conventions, checks, spatial shapes) |
| `numba_maps` | numba on the CPU (imports numba: load it only where numba is installed) |
| `torch_maps` | PyTorch ops on the device that holds the coordinates |
"""

from isbnet_trt.plugins.kernel_maps.levels import LevelMaps

__all__ = ["LevelMaps"]
