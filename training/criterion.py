"""ISBNet's training losses and Hungarian matching (official `criterion.py` / `matcher.py`).

Point-wise losses (backbone heads, per voxel of an instance):
    semantic cross-entropy, centroid-offset L1, corner-offset L1, box GIoU (1 - GIoU) and the
    box-confidence MSE against the (detached) IoU of the predicted box.
Instance losses (queries matched one-to-one to GT instances on superpoints):
    class cross-entropy over n_inst + 1 classes (no-object weight `eos_coef`), mask BCE and
    dice, mask-IoU MSE of the confidence logit, box L1 and 1 - GIoU; the same once more
    against a matching with every GT repeated `dup_gt` times (official "aux" loss, x2).

Weights are the official ones (`LOSS_WEIGHTS`, matching costs in `match_queries`). Batch size
is 1 scene here: the official per-scene sums divided by the batch size are the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from isbnet_trt.training.targets import IGNORE, SuperpointTargets

LOSS_WEIGHTS = MappingProxyType(
    {"dice_loss": 1.0, "bce_loss": 1.0, "cls_loss": 0.5, "iou_loss": 0.5, "box_loss": 0.5, "giou_loss": 0.5}
)
AUX_COEF = 2.0  # official weight of the duplicated-GT ("aux") matching's losses
DUP_GT = 4  # official `forward_dup(..., dup_gt=4)`
EOS_COEF = 0.1  # official no-object class weight
PW_COEF_JOINT = 0.25  # official: point-wise losses x0.25 when trained together with the instance head
_BAD_COST = 100000.0  # official replacement of NaN / inf matching costs


# ------------------------------------------------------------------------------------- boxes
def box_iou_giou(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """IoU and GIoU of corresponding axis-aligned boxes `(..., 6)` (min xyz, max xyz) → `(...)`.

    Official `giou_aabb` / `batch_giou_corres` (with their 1e-6 guards); broadcasting `a[:, None]`
    against `b[None]` gives the official `batch_giou_cross`.
    """
    inter = torch.clamp(torch.minimum(a[..., 3:], b[..., 3:]) - torch.maximum(a[..., :3], b[..., :3]), min=0)
    inter = inter.prod(-1)
    vol_a = torch.clamp(a[..., 3:] - a[..., :3], min=0).prod(-1)
    vol_b = torch.clamp(b[..., 3:] - b[..., :3], min=0).prod(-1)
    union = vol_a + vol_b - inter
    iou = inter / (union + 1e-6)
    hull = torch.clamp(torch.maximum(a[..., 3:], b[..., 3:]) - torch.minimum(a[..., :3], b[..., :3]), min=0)
    hull = hull.prod(-1)
    return iou, iou - (hull - union) / (hull + 1e-6)


# ------------------------------------------------------------------------------ point-wise
@dataclass(frozen=True)
class PointTargets:
    """Voxel targets of the point-wise heads (M voxels): semantic_labels `(M,)` int64 (-100
    ignored), instance_labels `(M,)` int64 (-100 none), centroid_offset `(M, 3)`,
    corners_offset `(M, 6)` float32 (see `targets.instance_info`), coords `(M, 3)` float32."""

    semantic_labels: Tensor
    instance_labels: Tensor
    centroid_offset: Tensor
    corners_offset: Tensor
    coords: Tensor


def point_wise_losses(
    semantic_scores: Tensor,
    centroid_offset: Tensor,
    corners_offset: Tensor,
    box_conf: Tensor,
    t: PointTargets,
    voxel_scale: float = 50.0,
) -> dict[str, Tensor]:
    """Official `cal_point_wise_loss` (no class weights, as in every official config).

    semantic_scores `(M, n_sem)` logits; centroid_offset `(M, 3)`; corners_offset `(M, 6)`;
    box_conf `(M,)`. Returns scalar losses pw_sem_loss, pw_center_loss, pw_corners_loss,
    pw_giou_loss, pw_conf_loss.
    """
    sem = F.cross_entropy(semantic_scores, t.semantic_labels, ignore_index=IGNORE)
    pos = t.instance_labels != IGNORE
    n_pos = int(pos.sum())
    if n_pos == 0:
        zero = 0 * (centroid_offset.sum() + corners_offset.sum() + box_conf.sum())
        return dict(
            pw_sem_loss=sem, pw_center_loss=zero, pw_corners_loss=zero, pw_giou_loss=zero, pw_conf_loss=zero
        )
    scale = voxel_scale / 50.0
    center = F.l1_loss(centroid_offset[pos], t.centroid_offset[pos], reduction="sum") / n_pos
    corners = F.l1_loss(corners_offset[pos], t.corners_offset[pos], reduction="sum") / n_pos
    xyz2 = t.coords[pos].repeat(1, 2)
    iou, giou = box_iou_giou(corners_offset[pos] + xyz2, t.corners_offset[pos] + xyz2)
    return dict(
        pw_sem_loss=sem,
        pw_center_loss=center * scale,
        pw_corners_loss=corners * scale,
        pw_giou_loss=(1 - giou).sum() / n_pos,
        pw_conf_loss=F.mse_loss(box_conf[pos], iou.detach(), reduction="sum") / n_pos,
    )


# -------------------------------------------------------------------------------- matching
@dataclass(frozen=True)
class QueryOutputs:
    """One scene's decoder outputs for q queries over S superpoints: cls_logits `(q, n_inst+1)`,
    mask_logits `(q, S)`, conf_logits `(q,)`, box_preds `(q, 6)`; float32."""

    cls_logits: Tensor
    mask_logits: Tensor
    conf_logits: Tensor
    box_preds: Tensor


def matching_cost(out: QueryOutputs, gt: SuperpointTargets) -> Tensor:
    """Official matching cost `(q, G)`: 0.5 class + 1 dice + 1 BCE + 0.2 conf + 0.2 GIoU terms."""
    logits = out.mask_logits.detach()
    masks = gt.masks
    prob = logits.sigmoid()
    dice = 1 - (2 * prob @ masks.T + 1) / (prob.sum(-1)[:, None] + masks.sum(-1)[None, :] + 1)
    pos = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
    neg = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none")
    bce = (pos @ masks.T + neg @ (1 - masks).T) / logits.shape[1]
    cls = -F.softmax(out.cls_logits.detach(), dim=-1)[:, gt.cls]
    conf = -out.conf_logits.detach()[:, None].expand(-1, len(gt))
    _, giou = box_iou_giou(out.box_preds.detach()[:, None], gt.box[None])
    cost = 0.5 * cls + dice + bce + 0.2 * conf - 0.2 * giou
    return torch.nan_to_num(cost, nan=_BAD_COST, posinf=_BAD_COST, neginf=_BAD_COST)


def match_queries(out: QueryOutputs, gt: SuperpointTargets, dup_gt: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Hungarian matching (scipy `linear_sum_assignment`) of queries to GT instances, each GT
    repeated `dup_gt` times (columns tiled, as the official `final_cost.repeat(1, dup_gt)`).

    Returns (query rows, GT columns) int64 arrays; columns index the tiled GT list, i.e.
    `col % G` is the GT instance.
    """
    cost = matching_cost(out, gt).repeat(1, dup_gt).cpu().numpy()
    rows, cols = linear_sum_assignment(cost)
    return rows.astype(np.int64), cols.astype(np.int64)


# ------------------------------------------------------------------------------ instance
def dice_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Official `compute_dice_loss`, summed over rows and divided by the row count."""
    prob = logits.sigmoid()
    loss = 1 - (2 * (prob * targets).sum(-1) + 1) / (prob.sum(-1) + targets.sum(-1) + 1)
    return loss.sum() / (len(logits) + 1e-6)


@torch.no_grad()
def mask_iou(logits: Tensor, targets: Tensor) -> Tensor:
    """Official `get_iou`: IoU of `sigmoid(logits) >= 0.5` with the 0/1 targets, per row."""
    pred = (logits.detach().sigmoid() >= 0.5).float()
    inter = (pred * targets).sum(-1)
    return inter / (pred.sum(-1) + targets.sum(-1) - inter + 1e-6)


def instance_losses(
    out: QueryOutputs,
    gt: SuperpointTargets,
    rows: np.ndarray,
    cols: np.ndarray,
    eos_coef: float = EOS_COEF,
    voxel_scale: float = 50.0,
) -> dict[str, Tensor]:
    """Official `single_layer_loss` for one scene, unweighted: dice_loss, bce_loss, iou_loss,
    cls_loss, box_loss, giou_loss. `cols` index GT instances modulo G (see `match_queries`)."""
    n_q, n_cls = out.cls_logits.shape
    g = torch.as_tensor(cols % len(gt), dtype=torch.int64)
    r = torch.as_tensor(rows, dtype=torch.int64)
    n = len(r)
    masks, labels, boxes = gt.masks[g], gt.cls[g], gt.box[g]
    logits = out.mask_logits[r]
    class_weight = torch.ones(n_cls)
    class_weight[-1] = eos_coef
    target_classes = torch.full((n_q,), n_cls - 1, dtype=torch.int64)
    target_classes[r] = labels
    box = out.box_preds[r]
    _, giou = box_iou_giou(box, boxes)
    bce = F.binary_cross_entropy_with_logits(logits, masks, reduction="none").mean(1).sum() / (n + 1e-6)
    return dict(
        dice_loss=dice_loss(logits, masks),
        bce_loss=bce,
        iou_loss=F.mse_loss(out.conf_logits[r], mask_iou(logits, masks), reduction="sum") / n,
        cls_loss=F.cross_entropy(out.cls_logits, target_classes, class_weight),
        box_loss=(voxel_scale / 50.0) * F.l1_loss(box, boxes, reduction="sum") / n,
        giou_loss=(1 - giou).sum() / n,
    )


def query_losses(out: QueryOutputs, gt: SuperpointTargets, voxel_scale: float = 50.0) -> dict[str, Tensor]:
    """The official instance-head loss terms, weighted: `k` (main matching, `LOSS_WEIGHTS`) and
    `aux_k` (every GT repeated `DUP_GT` times, weights x `AUX_COEF`)."""
    losses: dict[str, Tensor] = {}
    for prefix, dup, coef in (("", 1, 1.0), ("aux_", DUP_GT, AUX_COEF)):
        rows, cols = match_queries(out, gt, dup)
        terms = instance_losses(out, gt, rows, cols, voxel_scale=voxel_scale)
        losses.update({prefix + k: terms[k] * w * coef for k, w in LOSS_WEIGHTS.items()})
    return losses
