"""The official `ISBNet.forward_train` path, built on the modules of `isbnet.model.ISBNet`.

Stages (official recipe: `--only_backbone` pre-training, then the full model with the backbone
frozen; `--trainall` trains everything jointly):

* "backbone" — U-Net and point-wise heads only, point-wise losses (official `semantic_only`).
* "instance" — backbone frozen (no gradient, BatchNorm in eval mode: the official
  `fixed_modules`), instance losses only.
* "joint"    — everything trained, point-wise losses x0.25 plus the instance losses.

The instance path is the official training one: foreground voxels from the predicted semantics,
aggregator 1 (FPS over the foreground), aggregator 2 on the *first* `n_queries` aggregator-1
queries (`sampled_before=True`: no second FPS, no iterative sampling), superpoint-pooled dynamic
convolution over all superpoints, Hungarian matching against the superpoint GT.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from isbnet_trt.isbnet.aggregator import ReferenceGeometry
from isbnet_trt.isbnet.model import ISBNet, segment_mean
from isbnet_trt.training.criterion import (
    PW_COEF_JOINT,
    PointTargets,
    QueryOutputs,
    point_wise_losses,
    query_losses,
)
from isbnet_trt.training.train_backbone import backbone_features
from isbnet_trt.training.train_data import TrainScene

Stage = Literal["backbone", "instance", "joint"]
STAGES: tuple[Stage, ...] = ("backbone", "instance", "joint")
# Official `fixed_modules` of the full-model configs: the backbone and its point-wise heads.
BACKBONE_MODULES = (
    "input_conv",
    "unet",
    "output_layer",
    "semantic_linear",
    "offset_linear",
    "offset_vertices_linear",
    "box_conf_linear",
)
MIN_FOREGROUND = 100  # official: no instance loss when at most 100 voxels are foreground


class FirstQueries(ReferenceGeometry):
    """Geometry ops for aggregator 2 at training time: "sampling" keeps the first `n_sample`
    candidates (official `sampled_before=True`); ball queries are the reference ones."""

    def farthest_point_sample(self, xyz: Tensor, n_sample: int, variant: str) -> Tensor:
        return torch.arange(n_sample, device=xyz.device)


def trainable_parameters(model: ISBNet, stage: Stage) -> list[torch.nn.Parameter]:
    """Parameters a stage trains (official: those with `requires_grad` after `fixed_modules`)."""
    frozen = {id(p) for name in BACKBONE_MODULES for p in getattr(model, name).parameters()}
    if stage == "backbone":
        return [p for p in model.parameters() if id(p) in frozen]
    if stage == "instance":
        return [p for p in model.parameters() if id(p) not in frozen]
    return list(model.parameters())


def set_train_mode(model: ISBNet, stage: Stage) -> None:
    """`model.train()`, with the frozen backbone's BatchNorms in eval mode for "instance"."""
    model.train()
    if stage == "instance":
        for name in BACKBONE_MODULES:
            getattr(model, name).eval()


def forward_train(model: ISBNet, scene: TrainScene, stage: Stage) -> tuple[Tensor, dict[str, float]]:
    """Losses of one scene: (total loss, scalar loss terms by official name, plus "loss")."""
    cfg = model.cfg
    with torch.set_grad_enabled(stage != "instance" and torch.is_grad_enabled()):
        if torch.is_grad_enabled():
            feats = backbone_features(model, scene.voxel_feats, scene.levels)
        else:  # frozen backbone: the inference convs
            x = model.input_conv[0](scene.voxel_feats, scene.pairs[0].subm)
            feats = model.output_layer(model.unet(x, scene.pairs))
        semantic_scores = model.semantic_linear(feats)
        corners_offset = model.offset_vertices_linear(feats)
        box_preds = corners_offset + scene.voxel_coords_float.repeat(1, 2)
    losses: dict[str, Tensor] = {}
    if stage != "instance":
        targets = PointTargets(
            scene.semantic_labels,
            scene.instance_labels,
            scene.info.centroid_offset,
            scene.info.corners_offset,
            scene.voxel_coords_float,
        )
        pw = point_wise_losses(
            semantic_scores,
            model.offset_linear(feats),
            corners_offset,
            model.box_conf_linear(feats).squeeze(-1),
            targets,
            voxel_scale=cfg.data_scale,
        )
        coef = 1.0 if stage == "backbone" else PW_COEF_JOINT
        losses.update({k: v * coef for k, v in pw.items()})
    if stage != "backbone" and scene.spp_gt is not None:
        out = _instance_forward(model, scene, feats, semantic_scores, box_preds)
        if out is not None:
            losses.update(query_losses(out, scene.spp_gt, voxel_scale=cfg.data_scale))
    if not losses:  # official placeholder: nothing to learn from this scene
        zero = sum(p.sum() for p in model.parameters() if p.requires_grad) * 0.0
        return zero, {"loss": 0.0}
    total = torch.stack(list(losses.values())).sum()
    terms = {k: float(v.detach()) for k, v in losses.items()}
    terms["loss"] = float(total.detach())
    return total, terms


def _instance_forward(
    model: ISBNet, scene: TrainScene, feats: Tensor, semantic_scores: Tensor, box_preds: Tensor
) -> QueryOutputs | None:
    """Aggregators, instance heads and dynamic convolution (official `forward_train`), or None
    when too few voxels are foreground."""
    cfg = model.cfg
    spps = scene.voxel_spps
    spp_probs = segment_mean(F.softmax(semantic_scores.detach(), dim=1), spps)
    spp_fg = torch.any(spp_probs[:, cfg.label_shift :] >= cfg.filter_bg_thresh, dim=-1)
    object_idxs = torch.nonzero(spp_fg[spps]).view(-1)
    if len(object_idxs) <= MIN_FOREGROUND:
        return None
    coords = scene.voxel_coords_float
    pa1 = model.point_aggregator1(
        coords[object_idxs], feats[object_idxs], box_preds[object_idxs], ReferenceGeometry()
    )
    q = model.point_aggregator2(
        pa1.locs[0], pa1.feats[0].t(), pa1.boxes[0], FirstQueries(), n_sample=cfg.instance_head.n_queries
    )
    spp_coords = segment_mean(coords, spps)
    spp_boxes = segment_mean(box_preds, spps)
    mask_features = model.mask_tower(segment_mean(feats, spps).t()[None])[0].t()

    dec = model.inst_shared_mlp(q.feats)  # (1, dec_dim, q)
    cls_logits = model.inst_sem_head(dec).transpose(1, 2)[0]
    conf_logits = model.inst_conf_head(dec).transpose(1, 2)[0, :, 0]
    query_boxes = model.inst_box_head(dec).transpose(1, 2)[0] + q.locs[0].repeat(1, 2)
    controllers = model.inst_mask_head(dec.permute(0, 2, 1)[..., None].flatten(0, 1)).squeeze(dim=2)
    mask_logits = model.dynamic_conv(
        controllers, q.locs[0], query_boxes, mask_features, spp_coords, spp_boxes
    )
    return QueryOutputs(cls_logits, mask_logits, conf_logits, query_boxes)
