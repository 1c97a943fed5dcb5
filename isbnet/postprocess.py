"""Official `get_instance` post-processing: scores, top-k, NMS, devoxelisation, superpoint refinement.

Works on superpoint-level mask logits: with superpoint pooling every voxel of a superpoint has
the same logit, so voxel masks are superpoint masks and every count the official code takes
over voxels (proposal sizes, mask intersections) is an exact integer weighted by the voxels per
superpoint. The float arithmetic on those integers and on the scores is the official one
(torch ops in the official order), so the results are the official ones, without ever building
the `(queries, voxels)` logit matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from isbnet_trt.isbnet.config import ModelConfig

TOPK_PROPOSALS = 300  # official: topk(min(300, n_queries * n_classes)) before NMS
MATRIX_NMS_SIGMA = 2.0
MATRIX_NMS_SCORE_THRESH = 0.1  # only used when test_cfg.topk == -1


@dataclass
class Instances:
    """Instances of one scene (K instances, N input points).

    semantic_classes `(K,)` int64 semantic class index (instance class + `label_shift`; names in
    `ModelConfig.semantic_class_names`); label_ids `(K,)` int64 official `label_id` (instance
    class + 1; + 3 for S3DIS, whose floor/ceiling come from the semantic head); scores `(K,)`
    float32; masks `(K, N)` bool over the input points; boxes `(K, 6)` float32 min/max corner
    in the model's frame (centred and rotated like the model input; NaN for S3DIS's
    semantic-only floor/ceiling instances).
    The order is the official one (matrix NMS ends in an unsorted top-k): compare as sets.
    """

    semantic_classes: np.ndarray
    label_ids: np.ndarray
    scores: np.ndarray
    masks: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    @staticmethod
    def empty(n_points: int) -> Instances:
        return Instances(
            semantic_classes=np.zeros(0, np.int64),
            label_ids=np.zeros(0, np.int64),
            scores=np.zeros(0, np.float32),
            masks=np.zeros((0, n_points), bool),
            boxes=np.zeros((0, 6), np.float32),
        )


def topk_first_seen(values: Tensor, k: int, sorted: bool = True) -> Tensor:
    """Indices of the `k` largest `values` (1-D) with torch's CUDA tie rule, which the official
    GPU run follows: of the values equal to the k-th largest, the lowest indices ("the first
    seen set", `TensorTopK.cu`); torch's CPU `topk` keeps others. `sorted`: by value descending
    (ties by index); else CUDA's unsorted order: the values above the k-th, then those equal to
    it, each in index order."""
    order = torch.sort(values, descending=True, stable=True).indices[:k]
    if sorted or k == 0:
        return order
    above = values[order] > values[order[-1]]
    return torch.cat([torch.sort(order[above]).values, torch.sort(order[~above]).values])


def _exact_dtype(counts: Tensor) -> torch.dtype:
    """A float dtype in which every partial sum of `counts` (non-negative integers) is exact:
    float32 below 2**24, float64 above. Integer products run as float GEMMs in it (an int64
    matmul has no BLAS and took seconds for masks over every voxel); the results are exact
    whatever the summation order."""
    return torch.float32 if int(counts.sum()) < 2**24 else torch.float64


def mask_sizes(masks: Tensor, counts: Tensor) -> Tensor:
    """`(masks * counts).sum(1)` as exact int64: masks `(K, S)` bool, counts `(S,)` int64."""
    dtype = _exact_dtype(counts)
    return (masks.to(dtype) @ counts.to(dtype)).to(torch.int64)


def _intersections(masks: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """Count-weighted mask intersections `(K, K)` and sizes `(K,)`, as exact integers.
    masks `(K, S)` bool, counts `(S,)` int64."""
    dtype = _exact_dtype(counts)
    m, c = masks.to(dtype), counts.to(dtype)
    return ((m * c) @ m.t()).to(torch.int64), (m @ c).to(torch.int64)


def merge_equal_columns(masks: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """`(masks', counts')` with one column per distinct column of `masks` `(K, S)` bool, its
    count the sum of the merged columns' `counts` `(S,)` int64. Every count-weighted product of
    rows (`mask_sizes`, `_intersections`), of any subset of the rows, is the same exact integer
    over the merged columns; without superpoints (S = voxels, ~125k at 150k points) a few
    thousand distinct columns remain, which makes NMS ~100x cheaper. On a GPU the products are
    cheap and the host round trip is not: returned unchanged there."""
    if masks.shape[1] == 0 or masks.device.type != "cpu":
        return masks, counts
    packed = np.ascontiguousarray(np.packbits(masks.numpy(), axis=0).T)  # (S, ceil(K / 8))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.reshape(-1), weights=counts.numpy(), minlength=len(first))
    return masks[:, torch.from_numpy(first)], torch.from_numpy(merged.round().astype(np.int64))


def matrix_nms(
    masks: Tensor, counts: Tensor, classes: Tensor, scores: Tensor, topk: int
) -> tuple[Tensor, Tensor]:
    """Official `matrix_nms` on superpoint masks weighted by voxel counts.

    masks `(K, S)` bool, counts `(S,)` int64 voxels per superpoint, classes `(K,)` int64,
    scores `(K,)` float32. Returns (order, new_scores): indices into the inputs of the kept
    proposals and their decayed scores, in the official (unsorted top-k) order.
    """
    n = len(classes)
    ixs = torch.argsort(scores, descending=True)
    classes_sorted, masks_sorted, scores_sorted = classes[ixs], masks[ixs], scores[ixs]
    intersection, pointnum = _intersections(masks_sorted, counts)
    # Cast to float32 like the official float32 einsum (exact below 2**24 voxels).
    intersection = intersection.to(scores.dtype)
    ious = intersection / (pointnum[None, :] + pointnum[:, None] - intersection)
    cx = classes_sorted[None, :].expand(n, n)
    label_matrix = (cx == cx.transpose(1, 0)).float().triu(diagonal=1)
    compensate_iou, _ = (ious * label_matrix).max(0)
    compensate_iou = compensate_iou.expand(n, n).transpose(1, 0)
    decay_iou = ious * label_matrix
    decay_matrix = torch.exp(-1 * MATRIX_NMS_SIGMA * (decay_iou**2))
    compensate_matrix = torch.exp(-1 * MATRIX_NMS_SIGMA * (compensate_iou**2))
    decay_coefficient, _ = (decay_matrix / compensate_matrix).min(0)
    new_scores = scores_sorted * decay_coefficient
    if topk != -1:
        keep = topk_first_seen(new_scores, min(topk, n), sorted=False)
    else:
        keep = torch.nonzero(new_scores >= MATRIX_NMS_SCORE_THRESH).view(-1)
    return ixs[keep], new_scores[keep]


def standard_nms(masks: Tensor, counts: Tensor, classes: Tensor, scores: Tensor, threshold: float) -> Tensor:
    """Official greedy `standard_nms` (S3DIS): same-class proposals with IoU > threshold are
    suppressed by the higher-scoring one. Returns kept indices in pick order."""
    ixs = torch.argsort(scores, descending=True)
    intersection, pointnum = _intersections(masks, counts)
    intersection = intersection.to(scores.dtype)
    ious = intersection / (pointnum[None, :] + pointnum[:, None] - intersection)
    pick = []
    while len(ixs) > 0:
        i = ixs[0]
        pick.append(int(i))
        remove = torch.nonzero((ious[i, ixs[1:]] > threshold) & (classes[ixs[1:]] == classes[i])).view(-1) + 1
        keep = torch.ones_like(ixs, dtype=torch.bool)
        keep[remove] = False
        keep[0] = False
        ixs = ixs[keep]
    return torch.tensor(pick, dtype=torch.long)


def superpoint_refine(masks: Tensor, spps: Tensor, n_spps: int) -> Tensor:
    """Official refinement: a point is in the mask iff the mean of the mask over its
    superpoint is >= 0.5. masks `(K, N)` bool, spps `(N,)` int64 in 0..n_spps-1."""
    sums = torch.zeros((masks.shape[0], n_spps), device=masks.device).index_add_(1, spps, masks.float())
    count = torch.bincount(spps, minlength=n_spps).float().clamp(min=1)
    return (sums / count >= 0.5)[:, spps]


def superpoint_vote(masks: Tensor, per_point_spp: Tensor, point_spps: Tensor, n_spps: int) -> Tensor:
    """`superpoint_refine(masks[:, per_point_spp], point_spps, n_spps)` before its final gather,
    without building the `(K, N)` point masks: `(K, n_spps)` bool, whether each point superpoint
    is in each mask.

    masks `(K, S)` bool over voxel superpoints; per_point_spp `(N,)` voxel superpoint of each
    point; point_spps `(N,)` point superpoint of each point. Exact: the per-superpoint sums are
    counts of points (integers, exact in float32 below 2^24 points) accumulated per distinct
    (voxel superpoint, point superpoint) pair instead of per point.
    """
    pairs, points = torch.unique(per_point_spp * n_spps + point_spps, return_counts=True)
    src, dst = torch.div(pairs, n_spps, rounding_mode="floor"), pairs % n_spps
    sums = torch.zeros((masks.shape[0], n_spps), device=masks.device)
    sums.index_add_(1, dst, masks[:, src].float() * points.float())
    count = torch.bincount(point_spps, minlength=n_spps).float().clamp(min=1)
    return sums / count >= 0.5


def get_instances(
    cfg: ModelConfig,
    cls_logits: Tensor,
    conf_logits: Tensor,
    box_preds: Tensor,
    spp_mask_logits: Tensor,
    voxel_spps: Tensor,
    v2p: Tensor,
    point_spps: Tensor | None,
    semantic_pred: Tensor | None = None,
) -> Instances:
    """The official `get_instance` for one scene.

    cls_logits `(Q, n_inst+1)`, conf_logits `(Q,)`, box_preds `(Q, 6)`: fg queries of all rounds;
    spp_mask_logits `(Q, S)`: mask logits per superpoint; voxel_spps `(M,)` int64 superpoint of
    each voxel; v2p `(N,)` int64 voxel of each point; point_spps `(N,)` int64 superpoint of each
    point (0..S_p-1) for the refinement, or None to skip it (no superpoint pooling);
    semantic_pred `(M,)` int64 arg-max semantic class per voxel (for `sem2ins_classes`).
    """
    test = cfg.test
    n_points = len(v2p)
    n_cls = cfg.instance_classes
    per_point_spp = voxel_spps[v2p]  # (N,) superpoint (of the voxel) of each point
    out: list[tuple[int, int, float, Tensor, Tensor]] = []  # semantic class, label_id, score, mask, box

    for i in cfg.sem2ins_classes:
        mask = (semantic_pred == i)[v2p]
        if point_spps is not None:
            mask = superpoint_refine(mask[None], point_spps, int(point_spps.max()) + 1)[0]
        out.append((i, i + 1, 1.0, mask, torch.full((6,), float("nan"))))

    cls_scores = torch.sqrt(
        F.softmax(cls_logits, dim=-1)[:, :-1] * torch.clamp(conf_logits, 0.0, 1.0)[:, None]
    )
    flat = cls_scores.reshape(-1)
    idx = topk_first_seen(flat, min(TOPK_PROPOSALS, len(flat)))
    query = torch.div(idx, n_cls, rounding_mode="floor")
    classes, scores, boxes = idx % n_cls, flat[idx], box_preds[query]
    masks = spp_mask_logits[query] >= test.logit_thresh  # (K, S)

    counts = torch.bincount(voxel_spps, minlength=spp_mask_logits.shape[1])
    distinct, distinct_counts = merge_equal_columns(masks, counts)  # exact: see its docstring
    big = mask_sizes(distinct, distinct_counts) >= test.npoint_thresh
    classes, scores, boxes, masks, distinct = classes[big], scores[big], boxes[big], masks[big], distinct[big]

    if len(classes) > 0:
        if test.type_nms == "matrix":
            keep, scores = matrix_nms(distinct, distinct_counts, classes, scores, test.topk)
        elif test.type_nms == "standard":
            keep = standard_nms(distinct, distinct_counts, classes, scores, test.nms_threshold)
            scores = scores[keep]
        else:
            raise ValueError(f"unknown type_nms {test.type_nms!r}")
        classes, boxes, masks = classes[keep], boxes[keep], masks[keep]

        # Devoxelise (and refine) at the superpoint level; only the kept masks become (K, N).
        if point_spps is not None and cfg.use_spp_pool:
            n_spps = int(point_spps.max()) + 1
            masks = superpoint_vote(masks, per_point_spp, point_spps, n_spps)
            point_index = point_spps
        else:
            point_index = per_point_spp
        sizes = mask_sizes(masks, torch.bincount(point_index, minlength=masks.shape[1]))
        big = sizes >= test.npoint_thresh  # points per mask
        point_masks = masks[big][:, point_index]
        for c, s, m, b in zip(classes[big], scores[big], point_masks, boxes[big], strict=True):
            out.append((int(c) + cfg.label_shift, int(c) + cfg.label_id_offset, float(s), m, b))

    if not out:
        return Instances.empty(n_points)
    return Instances(
        semantic_classes=np.array([o[0] for o in out], np.int64),
        label_ids=np.array([o[1] for o in out], np.int64),
        scores=np.array([o[2] for o in out], np.float32),
        masks=torch.stack([o[3] for o in out]).numpy(),
        boxes=torch.stack([o[4] for o in out]).float().numpy(),
    )
