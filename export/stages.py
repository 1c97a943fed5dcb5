"""The exported stages as torch modules with flat tensor inputs and outputs.

Each module wraps a loaded reference `ISBNet` (sharing its weights) and computes what the
model's stage method computes, in a traceable form:

* sparse convs and geometry ops call the export custom ops (`export.custom_ops`), which
  become `isbnet::` nodes;
* the backbone gets its kernel maps as int32 inputs (one per level and kind) instead of the
  reference's precomputed pair lists, and the superpoint count as the shape of an input
  (`spp_voxel_counts`, also the mean's divisor), so no output size depends on values;
* BatchNorms right after a linear map are folded into it (sparse convs, linears, 1x1 convs):
  one pass over the voxels less per BN, and the custom ops are untouched;
* the dynamic convolution is its own stage (`mask_head`), called by the runtime on chunks of
  queries so that its `(q, S, D)` intermediates stay bounded when S is large (no superpoints,
  STPLS3D's voxel masks); its first layer is split into a geometry part and a superpoint-feature
  part, so the `(q, D + 6, S)` input is never built.

The float results equal the reference's up to float32 rounding (folding and summation order);
index outputs are identical. Stage I/O (names, dtypes, symbolic dims): `STAGE_IO` via
`stage_io(cfg)`, the source of the manifest and of the onnxruntime backend's feeds.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from isbnet_trt.export.custom_ops import ExportGeometry
from isbnet_trt.export.manifest import TensorSpec
from isbnet_trt.isbnet.blocks import MLP, ResidualBlock, UBlock
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.model import ISBNet
from isbnet_trt.isbnet.sparse_conv import spconv_weight_to_kcc


def _sparse_conv(x: Tensor, kernel_map: Tensor, weight: Tensor) -> Tensor:
    return torch.ops.isbnet_export.sparse_conv3d(x, kernel_map, weight)


def _bn_affine(bn: nn.modules.batchnorm._BatchNorm) -> tuple[Tensor, Tensor]:
    """Eval-mode BatchNorm as `x * scale + shift` (per channel)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _const(t: Tensor) -> nn.Parameter:
    return nn.Parameter(t.detach().clone().contiguous(), requires_grad=False)


# -------------------------------------------------------------------------------- backbone
class _Residual(nn.Module):
    """`ResidualBlock` with the BN after its first conv folded into that conv."""

    def __init__(self, block: ResidualBlock) -> None:
        super().__init__()
        bn1, _, conv1, bn2, _, conv2 = block.conv_branch
        self.bn1 = bn1
        scale, shift = _bn_affine(bn2)
        self.w1 = _const(spconv_weight_to_kcc(conv1.weight) * scale)
        self.b1 = _const(shift)
        self.w2 = _const(spconv_weight_to_kcc(conv2.weight))
        proj = block.i_branch[0]
        self.wi = (
            None if isinstance(proj, nn.Identity) else _const(proj.weight.reshape(proj.out_channels, -1).t())
        )

    def forward(self, x: Tensor, subm: Tensor) -> Tensor:
        y = F.relu(self.bn1(x))
        y = F.relu(_sparse_conv(y, subm, self.w1) + self.b1)
        y = _sparse_conv(y, subm, self.w2)
        return y + (x if self.wi is None else x @ self.wi)


class _UNet(nn.Module):
    """`UBlock`: level `l` reads `maps[3l]` (subm), `maps[3l+1]` (down), `maps[3l+2]` (up)."""

    def __init__(self, ublock: UBlock, level: int = 0) -> None:
        super().__init__()
        self.level = level
        self.blocks = nn.ModuleList(_Residual(b) for b in ublock.blocks)
        self.inner = None
        if ublock.depth > 1:
            self.down_bn = ublock.conv[0]
            self.w_down = _const(spconv_weight_to_kcc(ublock.conv[2].weight))
            self.inner = _UNet(ublock.u, level + 1)
            self.up_bn = ublock.deconv[0]
            self.w_up = _const(spconv_weight_to_kcc(ublock.deconv[2].weight))
            self.tail = nn.ModuleList(_Residual(b) for b in ublock.blocks_tail)

    def forward(self, x: Tensor, maps: list[Tensor]) -> Tensor:
        subm = maps[3 * self.level]
        for block in self.blocks:
            x = block(x, subm)
        if self.inner is not None:
            y = _sparse_conv(F.relu(self.down_bn(x)), maps[3 * self.level + 1], self.w_down)
            y = self.inner(y, maps)
            y = _sparse_conv(F.relu(self.up_bn(y)), maps[3 * self.level + 2], self.w_up)
            x = torch.cat((x, y), dim=1)
            for block in self.tail:
                x = block(x, subm)
        return x


class _Linear(nn.Module):
    """`x @ w + b` on channel-last rows, with an optional ReLU."""

    def __init__(self, w: Tensor, b: Tensor | None, relu: bool) -> None:
        super().__init__()
        self.w, self.b, self.relu = _const(w), None if b is None else _const(b), relu

    def forward(self, x: Tensor) -> Tensor:
        y = x @ self.w if self.b is None else torch.addmm(self.b, x, self.w)
        return F.relu(y) if self.relu else y


def _fold_mlp(mlp: MLP) -> nn.Sequential:
    """Official point-wise head `(Linear, BN, ReLU) x n, Linear` with the BNs folded."""
    layers, mods = [], list(mlp)
    i = 0
    while i < len(mods):
        lin = mods[i]
        if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm1d):
            scale, shift = _bn_affine(mods[i + 1])
            layers.append(_Linear(lin.weight.t() * scale, lin.bias * scale + shift, relu=True))
            i += 3
        else:
            layers.append(_Linear(lin.weight.t(), lin.bias, relu=False))
            i += 1
    return nn.Sequential(*layers)


def _fold_conv_bn_relu(seq: nn.Sequential) -> list[_Linear]:
    """Official `(Conv1d no bias, BN, ReLU)` blocks and a final Conv1d as channel-last linears."""
    out = []
    for m in seq:
        if isinstance(m, nn.Conv1d):  # the last, plain conv
            out.append(_Linear(m.weight[:, :, 0].t(), m.bias, relu=False))
        else:
            conv, bn, _ = m
            scale, shift = _bn_affine(bn)
            out.append(_Linear(conv.weight[:, :, 0].t() * scale, shift, relu=True))
    return out


class BackboneStage(nn.Module):
    """`ISBNet.backbone`: U-Net, point-wise heads, foreground mask, superpoint pooling, mask tower.

    Inputs: voxel_feats `(M, in_channels)` float32, voxel_coords_float `(M, 3)` float32, then with
    superpoint pooling voxel_spps `(M,)` int64, spp_order `(M,)` int64 (a stable argsort of
    voxel_spps) and spp_voxel_counts `(S,)` float32 (voxels per superpoint,
    `bincount(voxel_spps, minlength=S)`), then the kernel maps, int32, per level l:
    `subm_map_l (M_l, 27)`, and below the last level `down_map_l (M_{l+1}, 8)`, `up_map_l (M_l, 8)`.
    Outputs: see `stage_io`. centroid_offset and box_conf (training targets) are not computed.
    """

    def __init__(self, model: ISBNet) -> None:
        super().__init__()
        cfg = model.cfg
        self.use_spp = cfg.use_spp_pool
        self.label_shift = cfg.label_shift
        self.thresh = cfg.filter_bg_thresh
        self.w_in = _const(spconv_weight_to_kcc(model.input_conv[0].weight))
        self.unet = _UNet(model.unet)
        self.out_bn = model.output_layer[0]
        self.semantic = _fold_mlp(model.semantic_linear)
        self.corners = _fold_mlp(model.offset_vertices_linear)
        self.mask_tower = nn.Sequential(*_fold_conv_bn_relu(model.mask_tower))

    @staticmethod
    def _spp_means(values: list[Tensor], spps: Tensor, order: Tensor, counts: Tensor) -> list[Tensor]:
        """Per-superpoint means of `(M, C_i)` tensors (official scatter_mean; empty -> 0).

        spps `(M,)` int64 superpoint of each voxel; order `(M,)`: the voxels sorted by
        superpoint (input `spp_order`); counts `(S,)` float32. In float32 throughout (TensorRT
        runs DOUBLE as float32, so a float64 formulation would silently lose its precision
        there): the sorted rows' prefix sums, differences at the segment ends, of values
        *centred per superpoint*, twice. Pass 1 centres on the segment's first row, pass 2 on
        pass 1's means; the prefix sums then return to ~0 at every segment end instead of
        growing with the room (float32 prefix sums of raw coordinates over 1M voxels lose ~1e-2
        relative), so each mean is within a few float32 ulps of its segment's values' spread.
        Made of ops TensorRT parses (Gather, CumSum, Sub, Div, Where). Not `index_add`
        (ScatterND(add)): onnxruntime splits its rows over threads, and with two threads the
        sums changed from run to run and even lost updates (wrong means, flipped foreground
        masks); TensorRT parses no ScatterND reduction either. `scatter_add`
        (ScatterElements(add)) is correct in onnxruntime but ~4x slower, and TensorRT rejects
        it with more rows than superpoints.
        """
        widths = [v.shape[1] for v in values]
        rows = torch.index_select(torch.cat(values, dim=1), 0, order)  # (M, C) sorted by superpoint
        seg = torch.index_select(spps, 0, order)  # superpoint of each sorted row
        # Segment bounds as float32 prefix sums of integer counts: exact below 2^24 voxels.
        ends = torch.cumsum(counts, dim=0).long()
        starts = ends - counts.long()
        n = counts.clamp(min=1).unsqueeze(1)
        empty = (counts == 0).unsqueeze(1)
        # Pass 1 centre: the segment's first row (any row of an empty segment: masked below).
        last = rows.shape[0] - 1
        centre = torch.index_select(rows, 0, starts.clamp(max=last).clamp(min=0))
        for _ in range(2):
            dev = rows - torch.index_select(centre, 0, seg)
            prefix = torch.cat([dev.new_zeros(1, dev.shape[1]), torch.cumsum(dev, dim=0)])
            sums = torch.index_select(prefix, 0, ends) - torch.index_select(prefix, 0, starts)
            centre = centre + sums / n
        means = torch.where(empty, torch.zeros_like(centre), centre)
        return list(torch.split(means, widths, dim=1))

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        """Inputs in `backbone_io` order (their number depends on the config)."""
        if self.use_spp:
            voxel_feats, voxel_coords_float, voxel_spps, spp_order, spp_voxel_counts, *maps = inputs
        else:
            (voxel_feats, voxel_coords_float, *maps), voxel_spps = inputs, None
        x = _sparse_conv(voxel_feats, maps[0], self.w_in)
        feats = F.relu(self.out_bn(self.unet(x, maps)))
        semantic_scores = self.semantic(feats)
        corners_offset = self.corners(feats)
        box_preds = corners_offset + voxel_coords_float.repeat(1, 2)

        probs = F.softmax(semantic_scores, dim=1)
        pooled = [probs, voxel_coords_float, box_preds, feats]
        if voxel_spps is not None:  # official scatter_mean over superpoints, all four at once
            pooled = self._spp_means(pooled, voxel_spps, spp_order, spp_voxel_counts)
        spp_probs, spp_coords, spp_boxes, spp_feats = pooled
        spp_fg = spp_probs[:, self.label_shift :].amax(dim=1) >= self.thresh  # == any(p >= thresh)
        object_mask = spp_fg if voxel_spps is None else spp_fg[voxel_spps]
        mask_features = self.mask_tower(spp_feats)
        return (
            feats,
            semantic_scores,
            corners_offset,
            box_preds,
            object_mask,
            spp_coords,
            spp_boxes,
            mask_features,
        )


# -------------------------------------------------------------------------------- aggregator
class AggregatorStage(nn.Module):
    """`ISBNet.aggregate` (point aggregator 1): locs `(F, 3)`, feats `(F, C)`, boxes `(F, 6)` of the
    foreground voxels -> n_sample_pa1 queries: locs, feats `(m, 2C)` (channel-last), boxes,
    inds `(m,)` int64 into the F voxels."""

    def __init__(self, model: ISBNet) -> None:
        super().__init__()
        self.pa1 = model.point_aggregator1
        self.geo = ExportGeometry()

    def forward(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> tuple[Tensor, ...]:
        q = self.pa1(locs, feats, boxes, self.geo)
        return q.locs[0], q.feats[0].t(), q.boxes[0], q.inds


# -------------------------------------------------------------------------------- decoder
class DecoderStage(nn.Module):
    """`ISBNet.decoder` for one `n_sample` up to the mask head: aggregator 2 over the candidates
    and the instance heads.

    Inputs: cand_locs `(n, 3)`, cand_feats `(n, 2C)`, cand_boxes `(n, 6)`. Outputs for
    q = min(n_sample, n) queries: cand_inds int64, cls_logits, conf_logits, box_preds, fg bool,
    controllers `(q, P)` (the dynamic-conv parameters for `MaskHeadStage`).
    """

    def __init__(self, model: ISBNet, n_sample: int) -> None:
        super().__init__()
        self.n_sample = n_sample
        self.n_classes = model.cfg.instance_classes
        self.pa2 = model.point_aggregator2
        self.shared = model.inst_shared_mlp
        self.sem_head, self.conf_head, self.box_head = (
            model.inst_sem_head,
            model.inst_conf_head,
            model.inst_box_head,
        )
        self.mask_head = model.inst_mask_head
        self.geo = ExportGeometry()

    def forward(self, cand_locs: Tensor, cand_feats: Tensor, cand_boxes: Tensor) -> tuple[Tensor, ...]:
        q = self.pa2(cand_locs, cand_feats, cand_boxes, self.geo, n_sample=self.n_sample)
        feats = self.shared(q.feats)  # (1, dec, q)
        cls_logits = self.sem_head(feats)[0].t()
        conf_logits = self.conf_head(feats)[0, 0]
        box_preds = self.box_head(feats)[0].t() + q.locs[0].repeat(1, 2)
        fg = torch.argmax(cls_logits, dim=1) < self.n_classes
        controllers = self.mask_head(feats)[0].t()  # (q, n_params)
        return q.inds, cls_logits, conf_logits, box_preds, fg, controllers


class MaskHeadStage(nn.Module):
    """`ISBNet.dynamic_conv` for k queries over all superpoints (voxels without pooling).

    Inputs: controllers `(k, P)`, query_locs `(k, 3)` (the queries' candidate locations),
    query_boxes `(k, 6)` (their box_preds), mask_features `(S, D)`, spp_coords `(S, 3)`,
    spp_boxes `(S, 6)`. Output: mask_logits `(k, S)`. Each query's row depends on that query
    only, so the runtime may call it on any split of the queries.
    """

    def __init__(self, model: ISBNet) -> None:
        super().__init__()
        self.weight_nums, self.bias_nums = list(model.weight_nums), list(model.bias_nums)
        self.widths = dynamic_conv_widths(model.cfg)

    def forward(
        self,
        controllers: Tensor,
        query_locs: Tensor,
        query_boxes: Tensor,
        mask_features: Tensor,
        spp_coords: Tensor,
        spp_boxes: Tensor,
    ) -> Tensor:
        """Layer 1 is `geometry @ W[:6] + mask_features @ W[6:]` (the same sum as the official
        `(q, D + 6, S)` input, split); ReLU between layers, no bias in the last (official)."""
        n = len(self.weight_nums)
        parts = torch.split(controllers, self.weight_nums + self.bias_nums, dim=1)
        ws = [parts[i].reshape(-1, self.widths[i], self.widths[i + 1]) for i in range(n)]
        bs = [parts[n + i].unsqueeze(1) for i in range(n)]  # (k, 1, C_out)
        rel_coords = query_locs.unsqueeze(1) - spp_coords.unsqueeze(0)  # (k, S, 3)
        q_dims = query_boxes[:, 3:] - query_boxes[:, :3]
        spp_dims = spp_boxes[:, 3:] - spp_boxes[:, :3]
        rel_boxes = torch.abs(q_dims.unsqueeze(1) - spp_dims.unsqueeze(0))
        geometry = torch.cat([rel_coords, rel_boxes], dim=2)  # (k, S, 6)
        x = F.relu(geometry @ ws[0][:, :6] + mask_features @ ws[0][:, 6:] + bs[0])
        for i in range(1, n - 1):
            x = F.relu(x @ ws[i] + bs[i])
        return (x @ ws[n - 1]).squeeze(2)


# -------------------------------------------------------------------------------- I/O specs
def level_dim(level: int) -> str:
    """Symbolic voxel count of U-Net level `level` (level 0: the input voxels)."""
    return "n_voxels" if level == 0 else f"n_voxels_{level}"


def decoder_name(n_sample: int) -> str:
    return f"decoder_{n_sample}"


def backbone_io(cfg: ModelConfig) -> tuple[list[TensorSpec], list[TensorSpec]]:
    m, s = "n_voxels", ("n_superpoints" if cfg.use_spp_pool else "n_voxels")
    c, d = cfg.channels, cfg.mask_dim_out
    inputs = [
        TensorSpec("voxel_feats", "float32", (m, cfg.in_channels)),
        TensorSpec("voxel_coords_float", "float32", (m, 3)),
    ]
    if cfg.use_spp_pool:
        inputs += [
            TensorSpec("voxel_spps", "int64", (m,)),
            TensorSpec("spp_order", "int64", (m,)),
            TensorSpec("spp_voxel_counts", "float32", (s,)),
        ]
    for lvl in range(cfg.num_blocks):
        inputs.append(TensorSpec(f"subm_map_{lvl}", "int32", (level_dim(lvl), 27)))
        if lvl < cfg.num_blocks - 1:
            inputs.append(TensorSpec(f"down_map_{lvl}", "int32", (level_dim(lvl + 1), 8)))
            inputs.append(TensorSpec(f"up_map_{lvl}", "int32", (level_dim(lvl), 8)))
    outputs = [
        TensorSpec("feats", "float32", (m, c)),
        TensorSpec("semantic_scores", "float32", (m, cfg.semantic_classes)),
        TensorSpec("corners_offset", "float32", (m, 6)),
        TensorSpec("box_preds", "float32", (m, 6)),
        TensorSpec("object_mask", "bool", (m,)),
        TensorSpec("spp_coords", "float32", (s, 3)),
        TensorSpec("spp_boxes", "float32", (s, 6)),
        TensorSpec("mask_features", "float32", (s, d)),
    ]
    return inputs, outputs


def aggregator_io(cfg: ModelConfig) -> tuple[list[TensorSpec], list[TensorSpec]]:
    f, m, c = "n_fg", cfg.instance_head.n_sample_pa1, cfg.channels
    inputs = [
        TensorSpec("locs", "float32", (f, 3)),
        TensorSpec("feats", "float32", (f, c)),
        TensorSpec("boxes", "float32", (f, 6)),
    ]
    outputs = [
        TensorSpec("query_locs", "float32", (m, 3)),
        TensorSpec("query_feats", "float32", (m, 2 * c)),
        TensorSpec("query_boxes", "float32", (m, 6)),
        TensorSpec("query_inds", "int64", (m,)),
    ]
    return inputs, outputs


def decoder_io(cfg: ModelConfig, n_sample: int) -> tuple[list[TensorSpec], list[TensorSpec]]:
    n, c = "n_cand", cfg.channels
    q = f"min({n_sample}, n_cand)"
    inputs = [
        TensorSpec("cand_locs", "float32", (n, 3)),
        TensorSpec("cand_feats", "float32", (n, 2 * c)),
        TensorSpec("cand_boxes", "float32", (n, 6)),
    ]
    outputs = [
        TensorSpec("cand_inds", "int64", (q,)),
        TensorSpec("cls_logits", "float32", (q, cfg.instance_classes + 1)),
        TensorSpec("conf_logits", "float32", (q,)),
        TensorSpec("box_preds", "float32", (q, 6)),
        TensorSpec("fg", "bool", (q,)),
        TensorSpec("controllers", "float32", (q, dynamic_conv_params(cfg))),
    ]
    return inputs, outputs


def mask_head_io(cfg: ModelConfig) -> tuple[list[TensorSpec], list[TensorSpec]]:
    k, s, d = "n_queries", ("n_superpoints" if cfg.use_spp_pool else "n_voxels"), cfg.mask_dim_out
    inputs = [
        TensorSpec("controllers", "float32", (k, dynamic_conv_params(cfg))),
        TensorSpec("query_locs", "float32", (k, 3)),
        TensorSpec("query_boxes", "float32", (k, 6)),
        TensorSpec("mask_features", "float32", (s, d)),
        TensorSpec("spp_coords", "float32", (s, 3)),
        TensorSpec("spp_boxes", "float32", (s, 6)),
    ]
    return inputs, [TensorSpec("mask_logits", "float32", (k, s))]


def dynamic_conv_widths(cfg: ModelConfig) -> list[int]:
    """Channel widths of the box-aware dynamic convolution's layers, input first."""
    d = cfg.mask_dim_out
    return [d + 6] + ([d, d // 2, 1] if cfg.instance_head.num_dyco_layer == 3 else [d, 1])


def dynamic_conv_params(cfg: ModelConfig) -> int:
    """Parameters per query of the box-aware dynamic convolution (the mask head's output width)."""
    widths = dynamic_conv_widths(cfg)
    # weights and biases of every layer (the last layer's bias is predicted but unused, official)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def stage_io(cfg: ModelConfig) -> dict[str, tuple[list[TensorSpec], list[TensorSpec]]]:
    """Stage name -> (inputs, outputs), in graph order: backbone, aggregator, decoder_<n>...,
    mask_head."""
    io = {"backbone": backbone_io(cfg), "aggregator": aggregator_io(cfg)}
    for n in sorted(set(cfg.n_sample_rounds), reverse=True):
        io[decoder_name(n)] = decoder_io(cfg, n)
    io["mask_head"] = mask_head_io(cfg)
    return io


def stage_module(model: ISBNet, name: str) -> nn.Module:
    """The torch module of stage `name` (see `stage_io`)."""
    if name == "backbone":
        return BackboneStage(model).eval()
    if name == "aggregator":
        return AggregatorStage(model).eval()
    if name.startswith("decoder_"):
        return DecoderStage(model, int(name.removeprefix("decoder_"))).eval()
    if name == "mask_head":
        return MaskHeadStage(model).eval()
    raise ValueError(f"unknown stage {name!r}")
