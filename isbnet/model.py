"""The ISBNet network (official architecture and parameter names), split into inference stages.

Stages (see `isbnet.inference` for the loop that runs them):

* `backbone`  — voxel features + U-Net kernel maps → point-wise heads, foreground mask,
  superpoint pooling and mask tower (everything per voxel and per superpoint);
* `aggregate` — point aggregator 1 (instance-aware FPS + grouping) over the foreground voxels;
* `decoder`   — one iterative-sampling round: point aggregator 2 over the candidates,
  instance heads and box-aware dynamic convolution → mask logits per superpoint.

No stage has an output size that depends on tensor values (only on input sizes and the
config): the foreground selection between stages is the runtime's, which keeps every stage
exportable to engines with static rules for their output shapes.

All methods are inference-only and batch-size-1, as the official `forward_test`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from isbnet_trt.isbnet.aggregator import GeometryOps, LocalAggregator, Queries, ReferenceGeometry
from isbnet_trt.isbnet.blocks import MLP, GenericMLP, UBlock, backbone_norm, conv_bn_relu_1d
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.sparse_conv import SubMConv3d
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.plugins.sparse_conv.reference import LevelPairs

# Dynamic-conv blocking. Rows of up to DYCO_WHOLE_ROWS superpoints (every scene with superpoints
# we have seen: ~1-5k) are computed whole, as the official code does, queries chunked so that
# one chunk's activations stay under DYCO_CHUNK_FLOATS. Longer rows (voxels as superpoints:
# `--superpoints none`, STPLS3D) on the CPU go in tiles of about DYCO_TILE_PAIRS (query,
# superpoint) pairs, all queries at once, which keeps the (q, D + 6, tile) activations in cache:
# 4x faster at 300 queries x 125k voxels on the 2-core machine (best of 256..16k-wide tiles);
# torch's GEMM then rounds some logits differently (~3e-6), onnxruntime's not at all.
DYCO_WHOLE_ROWS = 16_384
DYCO_TILE_PAIRS = 131_072
DYCO_MIN_TILE = 256
DYCO_CHUNK_FLOATS = 64 * 1024 * 1024


def dynamic_conv_blocks(
    n_queries: int, n_superpoints: int, mask_dim: int, on_cpu: bool = True
) -> tuple[int, list[tuple[int, int]]]:
    """(queries per chunk, superpoint tiles `[(start, end), ...]`) of the dynamic convolution
    (see DYCO_WHOLE_ROWS); shared by the reference and the runtimes. Tiles are multiples of 64
    wide with the remainder joined to the last (no tile of a few superpoints: onnxruntime rounds
    those differently; tiles of >= 64 gave its whole-row logits bit for bit)."""
    if n_superpoints == 0:
        return max(1, n_queries), []
    if on_cpu and n_superpoints > DYCO_WHOLE_ROWS:
        chunk = max(1, n_queries)
        tile = max(DYCO_MIN_TILE, DYCO_TILE_PAIRS // chunk) // 64 * 64
    else:
        chunk = max(1, DYCO_CHUNK_FLOATS // ((mask_dim + 6) * n_superpoints))
        tile = n_superpoints
    starts = list(range(0, n_superpoints, tile))
    if len(starts) > 1 and n_superpoints - starts[-1] < tile:
        starts.pop()
    return chunk, list(zip(starts, [*starts[1:], n_superpoints], strict=True))


@dataclass
class BackboneOutputs:
    """Per voxel (M voxels) and per superpoint (S superpoints; S = M without pooling), float32.

    feats `(M, C)`; semantic_scores `(M, n_sem)` logits; corners_offset `(M, 6)`; box_preds
    `(M, 6)` = corners_offset + voxel xyz (min and max corner); object_mask `(M,)` bool
    foreground voxels; spp_coords `(S, 3)`, spp_boxes `(S, 6)` superpoint means; mask_features
    `(S, D)` mask-tower output. centroid_offset `(M, 3)` and box_conf `(M,)` are unused by
    inference (training targets): backends may leave them None.
    """

    feats: Tensor
    semantic_scores: Tensor
    corners_offset: Tensor
    box_preds: Tensor
    object_mask: Tensor
    spp_coords: Tensor
    spp_boxes: Tensor
    mask_features: Tensor
    centroid_offset: Tensor | None = None
    box_conf: Tensor | None = None


@dataclass
class DecoderOutputs:
    """One round over q queries: cand_inds `(q,)` int64 (index the round's candidates),
    cls_logits `(q, n_inst + 1)`, conf_logits `(q,)`, box_preds `(q, 6)`, mask_logits `(q, S)`;
    all float32. `fg` `(q,)` bool marks queries whose arg-max class is not background."""

    cand_inds: Tensor
    cls_logits: Tensor
    conf_logits: Tensor
    box_preds: Tensor
    mask_logits: Tensor
    fg: Tensor


def segment_mean(x: Tensor, index: Tensor) -> Tensor:
    """torch_scatter's `scatter_mean(x, index, dim=0)` (§7): rows `(N, C)` averaged per segment
    id `(N,)` int64 → `(max(index) + 1, C)`, empty segments 0. `index_add_` sums each segment in
    row order on the CPU, bit-identical to `geometry.scatter_mean`; differentiable, any device."""
    n = int(index.max()) + 1 if len(index) else 0
    sums = x.new_zeros((n, *x.shape[1:])).index_add_(0, index, x)
    count = torch.bincount(index, minlength=n).to(x.dtype).clamp(min=1)
    return sums / count.reshape(-1, *([1] * (x.dim() - 1)))


class ISBNet(nn.Module):
    """ISBNet with the official module tree; `state_dict()` keys and shapes are the official ones."""

    def __init__(self, cfg: ModelConfig, geometry_ops: GeometryOps | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.geometry_ops: GeometryOps = geometry_ops or ReferenceGeometry()
        c = cfg.channels
        self.input_conv = nn.Sequential(SubMConv3d(cfg.in_channels, c))
        self.unet = UBlock([c * (i + 1) for i in range(cfg.num_blocks)], block_reps=2)
        self.output_layer = nn.Sequential(backbone_norm(c), nn.ReLU())
        self.semantic_linear = MLP(c, cfg.semantic_classes)
        self.offset_linear = MLP(c, 3)
        self.offset_vertices_linear = MLP(c, 6)
        self.box_conf_linear = MLP(c, 1)
        if cfg.semantic_only:
            return

        head = cfg.instance_head
        self.point_aggregator1 = LocalAggregator(
            c, head.n_sample_pa1, 0.2 * head.radius_scale, head.neighbor, head.neighbor * 2, "isbnet"
        )
        self.point_aggregator2 = LocalAggregator(
            c * 2, head.n_queries, 0.4 * head.radius_scale, head.neighbor, head.neighbor, "pointnet2"
        )
        self.inst_shared_mlp = GenericMLP(
            c * 4, [c * 4], head.dec_dim, output_use_norm=True, output_use_activation=True
        )
        self.inst_sem_head = GenericMLP(head.dec_dim, [head.dec_dim] * 2, cfg.instance_classes + 1)
        self.inst_conf_head = GenericMLP(head.dec_dim, [head.dec_dim] * 2, 1)
        self.inst_box_head = GenericMLP(head.dec_dim, [head.dec_dim] * 2, 6)

        d = cfg.mask_dim_out
        self.mask_tower = nn.Sequential(
            conv_bn_relu_1d(c, c), conv_bn_relu_1d(c, c), conv_bn_relu_1d(c, c), nn.Conv1d(c, d, 1)
        )
        if head.num_dyco_layer == 3:
            self.weight_nums = [(d + 6) * d, d * (d // 2), d // 2]
            self.bias_nums = [d, d // 2, 1]
        else:
            self.weight_nums = [(d + 6) * d, d]
            self.bias_nums = [d, 1]
        n_params = sum(self.weight_nums) + sum(self.bias_nums)
        self.inst_mask_head = nn.Sequential(
            conv_bn_relu_1d(head.dec_dim, head.dec_dim),
            conv_bn_relu_1d(head.dec_dim, head.dec_dim),
            nn.Conv1d(head.dec_dim, n_params, 1),
        )

    # ------------------------------------------------------------------ backbone
    def backbone(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: Sequence[LevelMaps]
    ) -> BackboneOutputs:
        """Everything per voxel and per superpoint: U-Net, point-wise heads, foreground mask,
        superpoint pooling and mask tower.

        voxel_feats `(M, in_channels)` float32 mean `[rgb, xyz]` per voxel; voxel_coords_float
        `(M, 3)` float32 mean xyz; voxel_spps `(M,)` int64 superpoint of each voxel (0..S-1);
        `maps[l]` the kernel maps of U-Net level `l` (level 0 = the input voxels).
        """
        levels = LevelPairs.from_level_maps(maps, device=voxel_feats.device)  # once per scene
        return self.backbone_on_levels(voxel_feats, voxel_coords_float, voxel_spps, levels)

    def backbone_on_levels(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, levels: Sequence[Any]
    ) -> BackboneOutputs:
        """`backbone` on kernel maps already in the form the sparse convs take: `levels[l]` has
        `subm`, `down`, `up` (`LevelPairs` here; device tables for the CUDA kernels)."""
        x = self.input_conv[0](voxel_feats, levels[0].subm)
        x = self.unet(x, levels)
        return self.backbone_heads(x, voxel_coords_float, voxel_spps)

    def backbone_heads(self, x: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor) -> BackboneOutputs:
        """The backbone after the U-Net: `x` `(M, C)` the U-Net's output per voxel (any sparse conv
        implementation, e.g. spconv's) → point-wise heads, foreground mask, superpoint pooling and
        mask tower."""
        feats = self.output_layer(x)
        semantic_scores = self.semantic_linear(feats)
        corners_offset = self.offset_vertices_linear(feats)
        box_preds = corners_offset + voxel_coords_float.repeat(1, 2)
        # Foreground: a superpoint whose mean softmax reaches filter_bg_thresh in some
        # instance class (official `any(spp_mean[:, label_shift:] >= thresh)`).
        spp_probs = self._spp_mean(F.softmax(semantic_scores, dim=1), voxel_spps)
        spp_fg = torch.any(spp_probs[:, self.cfg.label_shift :] >= self.cfg.filter_bg_thresh, dim=-1)
        spp_feats = self._spp_mean(feats, voxel_spps)
        return BackboneOutputs(
            feats=feats,
            semantic_scores=semantic_scores,
            corners_offset=corners_offset,
            box_preds=box_preds,
            object_mask=spp_fg[voxel_spps],
            spp_coords=self._spp_mean(voxel_coords_float, voxel_spps),
            spp_boxes=self._spp_mean(box_preds, voxel_spps),
            mask_features=self.mask_tower(spp_feats.t()[None])[0].t(),
            centroid_offset=self.offset_linear(feats),
            box_conf=self.box_conf_linear(feats).squeeze(-1),
        )

    def _spp_mean(self, x: Tensor, voxel_spps: Tensor) -> Tensor:
        return segment_mean(x, voxel_spps) if self.cfg.use_spp_pool else x

    # ------------------------------------------------------------------ aggregator 1
    def aggregate(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> Queries:
        """Point aggregator 1 over the foreground voxels: locs `(F, 3)`, feats `(F, C)`,
        boxes `(F, 6)` → `n_sample_pa1` queries (`inds` index the F voxels)."""
        return self.point_aggregator1(locs, feats, boxes, self.geometry_ops)

    # ------------------------------------------------------------------ decoder
    def decoder(self, cand: Queries, n_sample: int, bb: BackboneOutputs) -> DecoderOutputs:
        """One round: aggregator 2 samples `n_sample` of the candidate queries `cand`
        (`(1, n, 3)`, `(1, C, n)`, `(1, n, 6)`), then the heads and the dynamic convolution
        over the superpoints of `bb`."""
        q = self.point_aggregator2(
            cand.locs[0], cand.feats[0].t(), cand.boxes[0], self.geometry_ops, n_sample=n_sample
        )
        feats = self.inst_shared_mlp(q.feats)  # (1, dec, q)
        cls_logits = self.inst_sem_head(feats).transpose(1, 2)[0]
        conf_logits = self.inst_conf_head(feats).transpose(1, 2).squeeze(-1)[0]
        box_preds = (self.inst_box_head(feats).transpose(1, 2) + q.locs.repeat(1, 1, 2))[0]
        fg = torch.argmax(cls_logits, dim=-1) < self.cfg.instance_classes

        controllers = self.inst_mask_head(feats.permute(0, 2, 1)[..., None].flatten(0, 1)).squeeze(dim=2)
        mask_logits = self.dynamic_conv(
            controllers, q.locs[0], box_preds, bb.mask_features, bb.spp_coords, bb.spp_boxes
        )
        return DecoderOutputs(q.inds, cls_logits, conf_logits, box_preds, mask_logits, fg)

    def parse_dynamic_params(self, params: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Split generated parameters `(q, n_params)` into per-layer weights `(q, C_in, C_out)`
        and biases `(q, C_out)` (official `parse_dynamic_params`)."""
        n = len(self.weight_nums)
        splits = torch.split_with_sizes(params, self.weight_nums + self.bias_nums, dim=1)
        d = self.cfg.mask_dim_out
        q = params.shape[0]
        widths = [d + 6] + ([d, d // 2, 1] if n == 3 else [d, 1])
        weights = [splits[i].reshape(q, widths[i], widths[i + 1]) for i in range(n)]
        biases = [splits[n + i].reshape(q, widths[i + 1]) for i in range(n)]
        return weights, biases

    def dynamic_conv(
        self,
        controllers: Tensor,
        query_locs: Tensor,
        query_boxes: Tensor,
        mask_features: Tensor,
        spp_coords: Tensor,
        spp_boxes: Tensor,
    ) -> Tensor:
        """Box-aware dynamic convolution → mask logits `(q, S)`.

        Per query, over each superpoint: input `[query_xyz - spp_xyz, |query_dims - spp_dims|,
        mask_features]`, ReLU between layers, no bias in the last layer (official). Computed in
        blocks of queries x superpoints (`dynamic_conv_blocks`: cache-sized on the CPU, bounded
        memory on a GPU); each logit depends on its own query and superpoint only.
        """
        weights, biases = self.parse_dynamic_params(controllers)
        q, s = controllers.shape[0], mask_features.shape[0]
        chunk, tiles = dynamic_conv_blocks(q, s, mask_features.shape[1], mask_features.device.type == "cpu")
        spp_dims = spp_boxes[:, 3:] - spp_boxes[:, :3]
        q_dims = query_boxes[:, 3:] - query_boxes[:, :3]
        # One preallocated output: collecting hundreds of tiles and concatenating them left freed
        # blocks that glibc's heap could not reuse (4.6 GB peak instead of 0.5 at 125k voxels).
        out = mask_features.new_empty((q, s))
        for start in range(0, q, chunk):
            qs = slice(start, start + chunk)
            ws, bs = [w[qs] for w in weights], [b[qs] for b in biases]
            for a, e in tiles:
                out[qs, a:e] = _dynamic_conv_block(
                    ws, bs, query_locs[qs], q_dims[qs], spp_coords[a:e], spp_dims[a:e], mask_features[a:e]
                )
        return out


def _dynamic_conv_block(
    weights: list[Tensor],
    biases: list[Tensor],
    query_locs: Tensor,
    query_dims: Tensor,
    spp_coords: Tensor,
    spp_dims: Tensor,
    mask_features: Tensor,
) -> Tensor:
    """`ISBNet.dynamic_conv` of k queries (their weights `(k, C_in, C_out)`, biases, locations
    and box sizes) over t superpoints → `(k, t)` logits."""
    k = query_locs.shape[0]
    rel_coords = (query_locs.reshape(-1, 1, 3) - spp_coords.reshape(1, -1, 3)).permute(0, 2, 1)
    rel_boxes = torch.abs(query_dims.reshape(-1, 1, 3) - spp_dims.reshape(1, -1, 3)).permute(0, 2, 1)
    x = torch.cat([rel_coords, rel_boxes, mask_features.t()[None].expand(k, -1, -1)], dim=1)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        if i < len(weights) - 1:
            x = F.relu(torch.einsum("qab,qan->qbn", w, x) + b.unsqueeze(-1))
        else:
            x = torch.einsum("qab,qan->qbn", w, x).squeeze(1)
    return x
