"""`isbnet::FarthestPointSample` on CUDA PyTorch tensors with our kernel (no TensorRT):
`plugins/cuda/farthest_point_sample_kernel.cuh`, spec `docs/ops/FarthestPointSample.md`.
"""

from __future__ import annotations

import ctypes

import torch
from torch import Tensor

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.cuda_tensors import cuda_points, kernels_for, launch_constant, pointer
from isbnet_trt.plugins.farthest_point_sample.launch import variant_code

__all__ = ["farthest_point_sample"]


def farthest_point_sample(
    xyz: Tensor, n_sample: int, variant: str = "isbnet", algorithm: str = "auto"
) -> Tensor:
    """`isbnet::FarthestPointSample`: xyz (N, 3) float32 CUDA -> (n_out,) int32 indices.

    n_out = n_sample (variant "isbnet") or min(n_sample, N) ("pointnet2"). Point sets above
    `ISBNET_FPS_GRID_MIN_POINTS` run on many blocks (cooperative launch) when the device allows
    it, smaller ones on one block; both give the same indices (the arg-max key is layout-free).
    algorithm: "auto", or "block" / "grid" to force one kernel (for checks and benchmarks).
    """
    n_sample, variant = spec.check_farthest_point_sample(n_sample, variant)
    xyz = cuda_points(xyz, "xyz")
    n = xyz.shape[0]
    if n > launch_constant("FPS_MAX_POINTS"):
        raise ValueError(f"FPS supports at most {launch_constant('FPS_MAX_POINTS')} points, got {n}")
    n_out = spec.fps_output_size(n, n_sample, variant)
    idx = torch.zeros(n_out, dtype=torch.int32, device=xyz.device)
    if n == 0 or n_out <= 1:
        return idx  # spec rules 1 and 6: slot 0 is 0, an empty set gives zeros
    kern, stream = kernels_for(xyz)
    code = ctypes.c_int(variant_code(variant))
    threads, reg = launch_constant("FPS_GRID_THREADS"), launch_constant("FPS_REG_POINTS")
    if algorithm not in ("auto", "block", "grid"):
        raise ValueError(f"algorithm must be 'auto', 'block' or 'grid', got {algorithm!r}")
    grid = 0
    if algorithm == "grid" or (algorithm == "auto" and n > launch_constant("FPS_GRID_MIN_POINTS")):
        if kern.cooperative:
            resident = kern.max_active_blocks("isbnet_fps_grid", threads) * kern.sm_count
            grid = max(1, min(resident, -(-n // threads)))
        elif algorithm == "grid":
            raise ValueError(
                f"device {kern.device} cannot launch the multi-block FPS (no cooperative launch)"
            )
    if grid >= 1 and (algorithm == "grid" or grid > 1):
        keys = torch.zeros(n_out, dtype=torch.int64, device=xyz.device)
        barrier = torch.zeros(1, dtype=torch.int32, device=xyz.device)
        tmp = torch.empty(n, dtype=torch.float32, device=xyz.device) if n > grid * threads * reg else None
        args = [
            pointer(xyz),
            ctypes.c_int(n),
            ctypes.c_int(n_out),
            code,
            pointer(idx),
            pointer(tmp),
            pointer(keys),
            pointer(barrier),
        ]
        kern.launch("isbnet_fps_grid", grid, threads, args, stream, cooperative=True)
    else:
        block = launch_constant("FPS_THREADS")
        tmp = torch.empty(n, dtype=torch.float32, device=xyz.device) if n > block * reg else None
        args = [pointer(xyz), ctypes.c_int(n), ctypes.c_int(n_out), code, pointer(idx), pointer(tmp)]
        kern.launch("isbnet_fps_block", 1, block, args, stream)
    return idx
