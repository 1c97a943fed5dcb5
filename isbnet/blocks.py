"""Building blocks of ISBNet with the official module names and parameter layouts.

Every module here registers its parameters under the same names and shapes as the official
code, so an official `state_dict` loads strictly. Only inference-relevant behaviour is
reproduced; BatchNorm layers are plain `torch.nn` modules so that eval-mode arithmetic is the
official one.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from isbnet_trt.isbnet.sparse_conv import Conv1x1, SparseConv3d, SparseInverseConv3d, SubMConv3d
from isbnet_trt.plugins.sparse_conv.reference import LevelPairs

# Backbone norm: the official `functools.partial(nn.BatchNorm1d, eps=1e-4, momentum=0.1)`.
backbone_norm = functools.partial(nn.BatchNorm1d, eps=1e-4, momentum=0.1)


def _run_sparse_seq(seq: nn.Sequential, x: Tensor, kernel_map: Tensor | None) -> Tensor:
    """Run a Sequential of (BN, ReLU, sparse conv) modules; sparse convs get the kernel map."""
    for m in seq:
        x = m(x, kernel_map) if isinstance(m, (SubMConv3d, SparseConv3d, SparseInverseConv3d)) else m(x)
    return x


class ResidualBlock(nn.Module):
    """Pre-activation residual block: `(BN, ReLU, SubM3×3×3) × 2` plus identity or a 1×1 projection."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        if in_channels == out_channels:
            self.i_branch = nn.Sequential(nn.Identity())
        else:
            self.i_branch = nn.Sequential(Conv1x1(in_channels, out_channels))
        self.conv_branch = nn.Sequential(
            backbone_norm(in_channels),
            nn.ReLU(),
            SubMConv3d(in_channels, out_channels),
            backbone_norm(out_channels),
            nn.ReLU(),
            SubMConv3d(out_channels, out_channels),
        )

    def forward(self, x: Tensor, subm_map: Tensor) -> Tensor:
        return _run_sparse_seq(self.conv_branch, x, subm_map) + self.i_branch(x)


class UBlock(nn.Module):
    """The recursive sparse U-Net (official `UBlock`): level `l` works on `maps[l]`."""

    def __init__(self, planes: Sequence[int], block_reps: int = 2) -> None:
        super().__init__()
        self.depth = len(planes)
        c = planes[0]
        self.blocks = _named_blocks([ResidualBlock(c, c) for _ in range(block_reps)])
        if len(planes) > 1:
            self.conv = nn.Sequential(backbone_norm(c), nn.ReLU(), SparseConv3d(c, planes[1]))
            self.u = UBlock(planes[1:], block_reps)
            self.deconv = nn.Sequential(
                backbone_norm(planes[1]), nn.ReLU(), SparseInverseConv3d(planes[1], c)
            )
            self.blocks_tail = _named_blocks([ResidualBlock(c * (2 - i), c) for i in range(block_reps)])

    def forward(self, x: Tensor, maps: Sequence[LevelPairs], level: int = 0) -> Tensor:
        lm = maps[level]
        for block in self.blocks:
            x = block(x, lm.subm)
        if self.depth > 1:
            y = _run_sparse_seq(self.conv, x, lm.down)
            y = self.u(y, maps, level + 1)
            y = _run_sparse_seq(self.deconv, y, lm.up)
            x = torch.cat((x, y), dim=1)
            for block in self.blocks_tail:
                x = block(x, lm.subm)
        return x


def _named_blocks(blocks: list[nn.Module]) -> nn.Sequential:
    """A Sequential whose children are named `block0, block1, ...` (official key names)."""
    return nn.Sequential(OrderedDict((f"block{i}", b) for i, b in enumerate(blocks)))


class MLP(nn.Sequential):
    """Official point-wise head: `(Linear, BN, ReLU) × (num_layers-1)`, then Linear."""

    def __init__(self, in_channels: int, out_channels: int, num_layers: int = 2) -> None:
        layers: list[nn.Module] = []
        for _ in range(num_layers - 1):
            layers += [nn.Linear(in_channels, in_channels), backbone_norm(in_channels), nn.ReLU()]
        layers.append(nn.Linear(in_channels, out_channels))
        super().__init__(*layers)


class GenericMLP(nn.Module):
    """Official `GenericMLP` with `use_conv=True`, `norm_fn_name="bn1d"`, ReLU, on `(B, C, n)`."""

    def __init__(
        self,
        input_dim: int,
        hidden_dims: Sequence[int],
        output_dim: int,
        output_use_norm: bool = False,
        output_use_activation: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = input_dim
        for h in hidden_dims:
            layers += [nn.Conv1d(prev, h, 1, bias=False), nn.BatchNorm1d(h), nn.ReLU()]
            prev = h
        layers.append(nn.Conv1d(prev, output_dim, 1, bias=True))
        if output_use_norm:
            layers.append(nn.BatchNorm1d(output_dim))
        if output_use_activation:
            layers.append(nn.ReLU())
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


def conv_bn_relu_1d(in_channels: int, out_channels: int) -> nn.Sequential:
    """Official `conv_with_kaiming_uniform("BN", activation=True)`: Conv1d(no bias), BN, ReLU."""
    return nn.Sequential(
        nn.Conv1d(in_channels, out_channels, 1, bias=False), nn.BatchNorm1d(out_channels), nn.ReLU()
    )


class _BNWrap(nn.Sequential):
    """Official pointnet2 `_BNBase`: a Sequential holding one BatchNorm named `bn`."""

    def __init__(self, bn: nn.Module) -> None:
        super().__init__()
        self.add_module("bn", bn)


class ConvBNAct(nn.Sequential):
    """Official pointnet2 `Conv1d` / `Conv2d` (kernel 1, no bias, BN, optional ReLU)."""

    def __init__(self, in_size: int, out_size: int, dims: int, activation: bool = True) -> None:
        super().__init__()
        conv = nn.Conv2d if dims == 2 else nn.Conv1d
        bn = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
        self.add_module("conv", conv(in_size, out_size, 1, bias=False))
        self.add_module("bn", _BNWrap(bn(out_size)))
        if activation:
            self.add_module("activation", nn.ReLU())


class SharedMLP(nn.Sequential):
    """Official pointnet2 `SharedMLP` with BN: `layer{i}` = Conv2d 1×1, BN2d, optional ReLU."""

    def __init__(self, spec: Sequence[int], activation: bool = True) -> None:
        super().__init__()
        for i in range(len(spec) - 1):
            self.add_module(f"layer{i}", ConvBNAct(spec[i], spec[i + 1], dims=2, activation=activation))
