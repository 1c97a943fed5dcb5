"""`isbnet::SparseConv3d` on CUDA PyTorch tensors with our kernels (no TensorRT):
`plugins/cuda/sparse_conv_kernel.cuh` ("tile" and "splitk"), spec `docs/ops/SparseConv3d.md`.
The launch grid is `launch.py`'s, shared with the TensorRT plugin.
"""

from __future__ import annotations

import ctypes
import functools

import torch
from torch import Tensor

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.cuda_tensors import kernels_for, pointer
from isbnet_trt.plugins.sparse_conv.launch import ALGORITHMS as SPARSE_CONV_ALGORITHMS
from isbnet_trt.plugins.sparse_conv.launch import launch_grid, tiles

__all__ = [
    "SPARSE_CONV_ALGORITHMS",
    "check_sparse_conv_algorithm",
    "pick_sparse_conv_algorithm",
    "sparse_conv",
]


def check_sparse_conv_algorithm(algorithm: str, name: str = "algorithm") -> str:
    """`algorithm` if `sparse_conv` takes it ("tile", "splitk" or "auto"), else a ValueError
    naming the argument `name`."""
    if algorithm not in (*SPARSE_CONV_ALGORITHMS, "auto"):
        raise ValueError(f"{name} must be one of {(*SPARSE_CONV_ALGORITHMS, 'auto')}, got {algorithm!r}")
    return algorithm


@functools.cache
def _sm_count(device_index: int) -> int:
    return torch.cuda.get_device_properties(device_index).multi_processor_count


def pick_sparse_conv_algorithm(n_out: int, c_out: int, device: torch.device) -> str:
    """ "splitk" where the one-warp kernel would launch fewer warps (64-row x 32-channel tiles)
    than the GPU has SMs, else "tile". The choice of `sparse_conv(algorithm="auto")`."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    return "splitk" if tiles(n_out, c_out) < _sm_count(index) else "tile"


def sparse_conv(
    features: Tensor,
    kernel_map: Tensor,
    weight: Tensor,
    min_inputs: int | None = None,
    algorithm: str = "tile",
) -> Tensor:
    """`isbnet::SparseConv3d`: features (N_in, C_in), kernel_map (N_out, K) int32, weight
    (K, C_in, C_out) -> (N_out, C_out), all on one CUDA device.

    float32 and float16 run natively (float16 accumulates in float32); bfloat16 is computed in
    float32 and cast back. min_inputs: 1 + the largest row the map references, when the caller
    knows it (e.g. computed on the CPU when the map was built); None computes it on the device
    (one host sync) to refuse maps that reach past `features`. algorithm: "tile" (one warp per
    64-row tile: the kernel the TensorRT plugin embeds), "splitk" (a block per tile, its warps
    splitting the offsets: meant for coarse levels with few tiles; not yet run on a GPU) or
    "auto" (`pick_sparse_conv_algorithm`).
    """
    check_sparse_conv_algorithm(algorithm)
    spec.check_sparse_conv3d(features.shape, kernel_map.shape, weight.shape)
    k_vol, c_in, c_out = weight.shape
    if kernel_map.dtype != torch.int32:
        raise TypeError(f"kernel_map must be int32, got {kernel_map.dtype}")
    if features.dtype != weight.dtype:
        raise TypeError(f"features dtype {features.dtype} != weight dtype {weight.dtype}")
    if not (features.device == kernel_map.device == weight.device):
        raise ValueError("features, kernel_map and weight must be on one device")
    if features.dtype == torch.bfloat16:
        return sparse_conv(features.float(), kernel_map, weight.float(), min_inputs, algorithm).to(
            torch.bfloat16
        )
    if features.dtype not in (torch.float32, torch.float16):
        raise TypeError(f"features must be float32, float16 or bfloat16, got {features.dtype}")
    n_out = kernel_map.shape[0]
    if min_inputs is None:
        min_inputs = int(kernel_map.max()) + 1 if kernel_map.numel() else 0
    if min_inputs > features.shape[0]:
        raise ValueError(
            f"kernel map references input row {min_inputs - 1}, features have {features.shape[0]} rows"
        )
    out = torch.empty((n_out, c_out), dtype=features.dtype, device=features.device)
    if n_out == 0 or c_out == 0:
        return out
    if c_in == 0:
        return out.zero_()
    features, kernel_map, weight = features.contiguous(), kernel_map.contiguous(), weight.contiguous()
    kern, stream = kernels_for(features)
    if algorithm == "auto":
        algorithm = pick_sparse_conv_algorithm(n_out, c_out, features.device)
    grid, threads = launch_grid(n_out, c_out, algorithm)
    dtype = "f32" if features.dtype == torch.float32 else "f16"
    name = f"isbnet_sparse_conv_splitk_{dtype}" if algorithm == "splitk" else f"isbnet_sparse_conv_{dtype}"
    args = [
        pointer(features),
        pointer(kernel_map),
        pointer(weight),
        ctypes.c_int(features.shape[0]),
        ctypes.c_int(n_out),
        ctypes.c_int(k_vol),
        ctypes.c_int(c_in),
        ctypes.c_int(c_out),
        pointer(out),
    ]
    kern.launch(name, grid, threads, args, stream)
    return out
