"""`isbnet::BallQuery` on CUDA PyTorch tensors with our kernel (no TensorRT):
`plugins/cuda/ball_query_kernel.cuh`, spec `docs/ops/BallQuery.md`. The launch grid is
`launch.py`'s, shared with the TensorRT plugin.
"""

from __future__ import annotations

import ctypes

import torch
from torch import Tensor

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.ball_query.launch import launch_grid
from isbnet_trt.plugins.cuda_driver import float32_bits
from isbnet_trt.plugins.cuda_tensors import cuda_points, kernels_for, pointer

__all__ = ["ball_query"]


def ball_query(xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
    """`isbnet::BallQuery`: xyz (N, 3), centres (M, 3) float32 CUDA -> (M, n_sample) int32."""
    radius, n_sample = spec.check_ball_query(radius, n_sample)
    xyz, centres = cuda_points(xyz, "xyz"), cuda_points(centres, "centres")
    if xyz.device != centres.device:
        raise ValueError(f"xyz on {xyz.device}, centres on {centres.device}")
    m = centres.shape[0]
    idx = torch.empty((m, n_sample), dtype=torch.int32, device=xyz.device)
    if m == 0 or n_sample == 0:
        return idx
    kern, stream = kernels_for(xyz)
    grid, threads = launch_grid(m)
    args = [
        pointer(xyz),
        pointer(centres),
        ctypes.c_int(xyz.shape[0]),
        ctypes.c_int(m),
        ctypes.c_int(n_sample),
        ctypes.c_int(float32_bits(radius)),
        pointer(idx),
    ]
    kern.launch("isbnet_ball_query", grid, threads, args, stream)
    return idx
