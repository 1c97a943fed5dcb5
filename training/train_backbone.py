"""The model's sparse U-Net for training: same modules and weights, a cheaper backward.

Autograd through `sparse_conv` records one slice per kernel offset and block, and each slice's
backward zero-fills a buffer as large as the whole gathered input: about 80% of a training
step on the CPU. Here each sparse conv is one autograd node whose backward is

* input gradient: the same gather-GEMM-scatter op over the *transposed* kernel map: the
  submanifold map itself with offsets mirrored (`k -> K-1-k`), the inverse conv's map for a
  stride-2 conv and the stride-2 map for the inverse conv (`plugins.kernel_maps.reference` conventions);
* weight gradient: per offset, `features[in]^T @ grad_out[out]` over its active pairs.

`backbone_features` walks the model's `input_conv`, `unet` (official `UBlock` recursion) and
`output_layer` with these convs; its values equal the model's forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from isbnet_trt.isbnet.blocks import ResidualBlock, UBlock
from isbnet_trt.isbnet.model import ISBNet
from isbnet_trt.isbnet.sparse_conv import SparseConv3d, SparseInverseConv3d, SubMConv3d, spconv_weight_to_kcc
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.plugins.sparse_conv.reference import KernelPairs, LevelPairs, sparse_conv


@dataclass(frozen=True)
class ConvPairs:
    """One conv's geometry for training: forward pairs, transposed pairs, per-offset pairs.

    forward / transposed: `KernelPairs` of the map and of its transpose; mirror: the transpose
    uses offset K-1-k for k (submanifold maps); offsets: (k, out_rows `(P_k,)`, in_rows
    `(P_k,)` int64) for every offset with pairs, identity offset excluded; identity: the
    identity offset or None; n_in: input rows.
    """

    forward: KernelPairs
    transposed: KernelPairs
    mirror: bool
    offsets: tuple[tuple[int, Tensor, Tensor], ...]
    identity: int | None
    n_in: int


@dataclass(frozen=True)
class TrainLevel:
    """`ConvPairs` of one U-Net level: submanifold, stride-2 down and inverse up (None last)."""

    subm: ConvPairs
    down: ConvPairs | None
    up: ConvPairs | None


def _offset_pairs(table: np.ndarray, identity: int | None) -> tuple[tuple[int, Tensor, Tensor], ...]:
    out = []
    for k in range(table.shape[1]):
        if k == identity:
            continue
        rows = np.flatnonzero(table[:, k] >= 0)
        if len(rows):
            out.append((k, torch.from_numpy(rows), torch.from_numpy(table[rows, k].astype(np.int64))))
    return tuple(out)


def build_train_levels(maps: Sequence[LevelMaps], pairs: Sequence[LevelPairs]) -> list[TrainLevel]:
    """Training geometry of every U-Net level from its kernel maps and their `LevelPairs`."""
    levels = []
    for i, (lm, lp) in enumerate(zip(maps, pairs, strict=True)):
        subm = ConvPairs(
            lp.subm, lp.subm, True, _offset_pairs(lm.subm, lp.subm.identity), lp.subm.identity, len(lm.subm)
        )
        down = up = None
        if lm.down is not None and lp.down is not None and lp.up is not None and lm.up is not None:
            n_next = len(maps[i + 1].subm)
            down = ConvPairs(lp.down, lp.up, False, _offset_pairs(lm.down, None), None, len(lm.subm))
            up = ConvPairs(lp.up, lp.down, False, _offset_pairs(lm.up, None), None, n_next)
        levels.append(TrainLevel(subm, down, up))
    return levels


class _SparseConvFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features: Tensor, weight_kcc: Tensor, conv: ConvPairs) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(features, weight_kcc)
        ctx.conv = conv
        return sparse_conv(features, conv.forward, weight_kcc)

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> tuple[Tensor | None, Tensor | None, None]:  # type: ignore[override]
        features, weight = ctx.saved_tensors
        conv: ConvPairs = ctx.conv
        grad_out = grad_out.contiguous()
        grad_features = grad_weight = None
        if ctx.needs_input_grad[0]:
            w_t = weight.flip(0) if conv.mirror else weight
            grad_features = sparse_conv(grad_out, conv.transposed, w_t.transpose(1, 2).contiguous())
        if ctx.needs_input_grad[1]:
            grad_weight = torch.zeros_like(weight)
            if conv.identity is not None:
                grad_weight[conv.identity] = features[: len(grad_out)].T @ grad_out
            for k, out_rows, in_rows in conv.offsets:
                grad_weight[k] = features.index_select(0, in_rows).T @ grad_out.index_select(0, out_rows)
        return grad_features, grad_weight, None


def train_sparse_conv(features: Tensor, conv: ConvPairs, module: nn.Module) -> Tensor:
    """A sparse conv module's output on `features` `(N_in, C_in)` → `(N_out, C_out)`."""
    return _SparseConvFn.apply(features, spconv_weight_to_kcc(module.weight), conv)


def _run_seq(seq: nn.Sequential, x: Tensor, conv: ConvPairs | None) -> Tensor:
    for m in seq:
        if isinstance(m, (SubMConv3d, SparseConv3d, SparseInverseConv3d)):
            assert conv is not None
            x = train_sparse_conv(x, conv, m)
        else:
            x = m(x)
    return x


def _residual(block: ResidualBlock, x: Tensor, subm: ConvPairs) -> Tensor:
    return _run_seq(block.conv_branch, x, subm) + block.i_branch(x)


def _unet(u: UBlock, x: Tensor, levels: Sequence[TrainLevel], level: int = 0) -> Tensor:
    """Official `UBlock.forward` recursion (see `blocks.UBlock`)."""
    lv = levels[level]
    for block in u.blocks:
        x = _residual(block, x, lv.subm)
    if u.depth > 1:
        y = _run_seq(u.conv, x, lv.down)
        y = _unet(u.u, y, levels, level + 1)
        y = _run_seq(u.deconv, y, lv.up)
        x = torch.cat((x, y), dim=1)
        for block in u.blocks_tail:
            x = _residual(block, x, lv.subm)
    return x


def backbone_features(model: ISBNet, voxel_feats: Tensor, levels: Sequence[TrainLevel]) -> Tensor:
    """`output_layer(unet(input_conv(voxel_feats)))` `(M, channels)`, with training convs."""
    x = train_sparse_conv(voxel_feats, levels[0].subm, model.input_conv[0])
    return model.output_layer(_unet(model.unet, x, levels))
