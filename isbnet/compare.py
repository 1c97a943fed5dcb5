"""Comparing two instance sets (backends, official outputs) as sets, with a report."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

InstanceSet = tuple[np.ndarray, np.ndarray, np.ndarray]  # label ids (K,), scores (K,), masks (K, N) bool


@dataclass
class MatchReport:
    """matched pairs `(i, j)`; unmatched: instances of either side without a partner;
    min_iou / max_score_diff over the matched pairs."""

    pairs: list[tuple[int, int]] = field(default_factory=list)
    unmatched_a: list[int] = field(default_factory=list)
    unmatched_b: list[int] = field(default_factory=list)
    min_iou: float = 1.0
    max_score_diff: float = 0.0

    @property
    def unmatched(self) -> int:
        return len(self.unmatched_a) + len(self.unmatched_b)

    def same(self, iou: float = 0.99, score_tol: float = 1e-4) -> bool:
        """True when every instance has a partner with mask IoU > `iou` and scores within `score_tol`."""
        return self.unmatched == 0 and self.min_iou > iou and self.max_score_diff <= score_tol


def mask_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix `(Ka, Kb)` of bool masks `(Ka, N)` and `(Kb, N)`."""
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    inter = a32 @ b32.T
    union = a32.sum(1)[:, None] + b32.sum(1)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def match_instances(a: InstanceSet, b: InstanceSet, min_iou: float = 0.5) -> MatchReport:
    """Pair instances of `a` and `b` with the same label: greedily by IoU (ties of identical
    masks, as twin queries give, broken by the closest score). Pairs need IoU >= `min_iou`."""
    la, sa, ma = (np.asarray(x) for x in a)
    lb, sb, mb = (np.asarray(x) for x in b)
    iou = mask_iou(ma, mb) if len(la) and len(lb) else np.zeros((len(la), len(lb)))
    iou = np.where(la[:, None] == lb[None, :], iou, -1.0)
    score_diff = np.abs(sa[:, None].astype(np.float64) - sb[None, :])
    # Sort candidate pairs by IoU descending, then score difference ascending.
    ii, jj = np.nonzero(iou >= min_iou)
    order = np.lexsort((score_diff[ii, jj], -iou[ii, jj]))
    report = MatchReport()
    used_a, used_b = set(), set()
    for i, j in zip(ii[order], jj[order], strict=True):
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        report.pairs.append((int(i), int(j)))
        report.min_iou = min(report.min_iou, float(iou[i, j]))
        report.max_score_diff = max(report.max_score_diff, float(score_diff[i, j]))
    report.unmatched_a = [i for i in range(len(la)) if i not in used_a]
    report.unmatched_b = [j for j in range(len(lb)) if j not in used_b]
    return report
