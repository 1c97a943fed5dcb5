"""Sparse 3D convolution layers of the reference model, on the `isbnet::SparseConv3d` op.

The op itself (its reference `sparse_conv`, `KernelPairs`, `LevelPairs`) lives in
`plugins/sparse_conv/reference.py`; the kernel maps carrying the geometry in
`isbnet_trt.plugins.kernel_maps`.

Checkpoints keep spconv's weight layout `[C_out, kx, ky, kz, C_in]` (the modules below store
exactly that); `spconv_weight_to_kcc` converts to the op's `[K, C_in, C_out]` at use, with
`k = (i*ky + j)*kz + l` the flattened spatial index, the order of `kernel_maps.reference`'s
`SUBM_OFFSETS` / `DOWN_OFFSETS`. spconv's `SparseInverseConv3d` uses the same layout and the
same k as its forward conv (see `kernel_maps.reference`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from isbnet_trt.plugins.sparse_conv.reference import KernelPairs, sparse_conv


def spconv_weight_to_kcc(weight: Tensor) -> Tensor:
    """spconv layout `[C_out, kx, ky, kz, C_in]` -> op layout `[K, C_in, C_out]`, K = kx*ky*kz.

    Returns a contiguous copy (differentiable), same dtype and device.
    """
    if weight.dim() != 5:
        raise ValueError(
            f"spconv weight must be 5-D [C_out, kx, ky, kz, C_in], got shape {tuple(weight.shape)}"
        )
    c_out, c_in = weight.shape[0], weight.shape[-1]
    return weight.reshape(c_out, -1, c_in).permute(1, 2, 0).contiguous()


def kcc_to_spconv_weight(weight_kcc: Tensor, kernel_size: int | tuple[int, int, int]) -> Tensor:
    """Inverse of `spconv_weight_to_kcc`: `[K, C_in, C_out]` -> `[C_out, kx, ky, kz, C_in]`."""
    ks = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
    k, c_in, c_out = weight_kcc.shape
    if k != math.prod(ks):
        raise ValueError(f"weight has K={k} offsets, kernel_size {ks} needs {math.prod(ks)}")
    return weight_kcc.permute(2, 0, 1).reshape(c_out, *ks, c_in).contiguous()


class _SparseConvBase(nn.Module):
    """A bias-free sparse conv holding `weight` in spconv's layout `[C_out, k, k, k, C_in]`.

    Parameter names and shapes equal the official checkpoint's, so `load_state_dict` takes the
    official tensors unchanged; the op layout is derived at every call (a tiny copy).
    """

    kernel_size: int

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        k = self.kernel_size
        self.weight = nn.Parameter(torch.empty(out_channels, k, k, k, in_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # spconv's default: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size**3)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, features: Tensor, kernel_map: Tensor | np.ndarray | KernelPairs) -> Tensor:
        """features (N_in, C_in), kernel map (N_out, k**3) or its KernelPairs -> (N_out, C_out)."""
        return sparse_conv(features, kernel_map, spconv_weight_to_kcc(self.weight))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"


class SubMConv3d(_SparseConvBase):
    """`spconv.SubMConv3d(c_in, c_out, kernel_size=3, padding=1, bias=False)`; kernel map `subm_map`."""

    kernel_size = 3


class SparseConv3d(_SparseConvBase):
    """`spconv.SparseConv3d(c_in, c_out, kernel_size=2, stride=2, bias=False)`; map `downsample()[1]`."""

    kernel_size = 2


class SparseInverseConv3d(_SparseConvBase):
    """`spconv.SparseInverseConv3d(c_in, c_out, kernel_size=2, bias=False)`; kernel map `downsample()[2]`."""

    kernel_size = 2


class Conv1x1(_SparseConvBase):
    """The official `Custom1x1Subm3d(c_in, c_out, kernel_size=1, bias=False)`: a plain matmul per voxel."""

    kernel_size = 1

    def forward(self, features: Tensor) -> Tensor:  # type: ignore[override]
        """features (N, C_in) -> (N, C_out)."""
        return features @ self.weight.reshape(self.out_channels, self.in_channels).T
