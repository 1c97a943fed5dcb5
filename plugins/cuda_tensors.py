"""What the `isbnet::` ops' PyTorch CUDA bindings (`plugins/<op>/cuda.py`) share: the launch
constants of `plugins/cuda/launch_config.h`, device pointers, the loaded kernels and current stream
of a tensor's device, and the point-set check of the geometry ops.

The kernels come from `plugins/cuda/` (compiled by `cuda_build`, launched by `cuda_driver` on
PyTorch's current stream of the tensors' device). Inputs are checked for shape, dtype, device and
layout; values are not scanned (no NaN check, no device-to-host sync) except where a caller asks.
"""

from __future__ import annotations

import ctypes

import torch
from torch import Tensor

from isbnet_trt.plugins import cuda_build
from isbnet_trt.plugins.cuda_driver import DeviceKernels, device_kernels

__all__ = ["launch_constant", "pointer", "kernels_for", "cuda_points"]


def launch_constant(name: str) -> int:
    """`ISBNET_<name>` of `plugins/cuda/launch_config.h`."""
    return cuda_build.launch_constants()[f"ISBNET_{name}"]


def pointer(t: Tensor | None) -> ctypes.c_void_p:
    """A tensor's device pointer as a kernel argument (None: a null pointer)."""
    return ctypes.c_void_p(0 if t is None else t.data_ptr())


def kernels_for(t: Tensor) -> tuple[DeviceKernels, int]:
    """Loaded kernels and the current stream handle of the tensor's device."""
    if t.device.type != "cuda":
        raise ValueError(f"expected a CUDA tensor, got one on {t.device}")
    index = t.device.index if t.device.index is not None else torch.cuda.current_device()
    return device_kernels(index), torch.cuda.current_stream(t.device).cuda_stream


def cuda_points(x: Tensor, name: str) -> Tensor:
    """`x` checked to be (N, 3) float32, made contiguous."""
    if x.dim() != 2 or x.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {tuple(x.shape)}")
    if x.dtype != torch.float32:
        raise TypeError(f"{name} must be float32 (the kernels' type), got {x.dtype}")
    return x.contiguous()
