"""How well superpoints fit ground-truth labels: boundary recall and the best achievable instance IoU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isbnet_trt.runtime.superpoints.graph import relabel
from isbnet_trt.runtime.superpoints.neighbours import knn


@dataclass(frozen=True)
class SuperpointQuality:
    """How well superpoints fit ground-truth labels (see `superpoint_quality`)."""

    purity: float
    boundary_recall: float
    iou_upper_bound: float
    n_superpoints: int


def superpoint_quality(
    xyz: np.ndarray,
    superpoints: np.ndarray,
    instance_labels: np.ndarray,
    semantic_labels: np.ndarray,
    neighbours: int = 8,
    radius: float = 0.1,
) -> SuperpointQuality:
    """Score superpoints (N,) int against labels (N,) int: instance id >= 0 for objects, otherwise the
    point is background of its semantic class (< 0 for both = unlabelled, left out).

    purity: fraction of labelled points whose label is the majority label of their superpoint.
    boundary_recall: over the edges of the `neighbours`-nearest-neighbour graph of the points (within
        `radius` m) whose ends have different labels, the fraction whose ends are in different superpoints.
    iou_upper_bound: mean over instances of the IoU of the best union of superpoints, the superpoints with
        more than half of their points inside the instance (what superpoint-level masks can reach).
    xyz: (N, 3) float positions in metres.
    """
    sp = relabel(np.asarray(superpoints))
    inst = np.asarray(instance_labels, dtype=np.int64)
    sem = np.asarray(semantic_labels, dtype=np.int64)
    label = np.where(inst >= 0, inst, np.where(sem >= 0, -1 - sem, np.iinfo(np.int64).min))
    valid = label != np.iinfo(np.int64).min
    n_sp = int(sp.max(initial=-1)) + 1
    purity = 1.0
    if valid.any():
        _, lab = np.unique(label[valid], return_inverse=True)
        n_lab = int(lab.max()) + 1
        pair, count = np.unique(sp[valid] * n_lab + lab.reshape(-1), return_counts=True)
        by_sp = np.lexsort((-count, pair // n_lab))  # per superpoint, its most frequent label first
        first = np.r_[True, np.diff(pair[by_sp] // n_lab) != 0]
        purity = float(count[by_sp][first].sum()) / int(valid.sum())

    pts = np.asarray(xyz, dtype=np.float64)
    nbr = knn(pts, neighbours, radius) if len(pts) else np.zeros((0, neighbours), dtype=np.int64)
    i, j = np.nonzero(nbr >= 0)
    j = nbr[i, j]
    cut = valid[i] & valid[j] & (label[i] != label[j])
    recall = float(np.mean(sp[i[cut]] != sp[j[cut]])) if cut.any() else 1.0

    sp_size = np.bincount(sp, minlength=n_sp)
    ious = []
    for k in np.unique(inst[inst >= 0]):
        inside = np.bincount(sp[inst == k], minlength=n_sp)
        chosen = 2 * inside > sp_size
        inter = inside[chosen].sum()
        ious.append(inter / (int((inst == k).sum()) + sp_size[chosen].sum() - inter))
    iou = float(np.mean(ious)) if ious else 1.0
    return SuperpointQuality(purity, recall, iou, n_sp)
