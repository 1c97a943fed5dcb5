"""Instance-segmentation AP in the ScanNet benchmark style (AP, AP50, AP25, per class).

A vectorised re-implementation of the official ISBNet evaluator (`isbnet/evaluation/instance_eval.py`,
itself adapted from ScanNet's `evaluate_semantic_instance.py`) that gives the same numbers on the same
inputs. The rules it reproduces:

* IoU thresholds are ``np.append(np.arange(0.5, 0.95, 0.05), 0.25)``: nine values 0.5 .. 0.9 (0.95 is
  *not* included) plus 0.25. AP averages the nine, AP50 and AP25 are single thresholds. The values are
  the float64 ``arange`` ones (0.6000000000000001, ...), so an IoU of exactly 0.6 does not pass 0.6.
* A prediction matches a ground-truth (GT) instance of its own class when ``iou > threshold``
  (strictly greater: IoU exactly 0.5 is no match at AP50).
* Predictions with fewer than `min_region_size` points, or with a label outside the evaluated classes,
  are dropped entirely (neither TP nor FP). GT instances with fewer points are not evaluated, and a
  prediction covering them is not punished (see below).
* Greedy matching, per class and scene, GT instances in ascending (class, instance id) order, each
  looking at its not-yet-consumed candidates (``iou > threshold``) in prediction input order: the GT
  becomes a TP scored with the *highest* candidate confidence, every other candidate is an FP. Only the
  first candidate (in input order) is consumed; the other candidates (duplicates) stay available to
  later GT instances -- possible only below IoU 0.5, where one prediction can pass two GT instances.
  A GT instance without candidate is a false negative.
* A prediction that passes the threshold with no GT instance at all (of its class, small ones
  included) is an FP unless it is mostly "ignored": ``(void points + points of small GT instances of
  its class) / its size > threshold`` discounts it. Void points are those that belong to no evaluated
  GT instance: unlabelled semantic class (-100), non-instance classes (wall, floor), instance label < 0.
* Precision-recall: entries sorted by confidence, one PR point per distinct confidence (ties form one
  step), hard false negatives added to the recall denominator, an artificial point (recall 0,
  precision 1) appended, and the area taken with the script's centred step widths
  ``(recall[i-1] - recall[i+1]) / 2``.
* AP of a class is 0 if it has GT but no prediction, NaN if it has no (large enough) GT; NaN classes
  are left out of the means.

GT instances are keyed by (class, instance label), so one instance label over two classes is two GT
instances, as in the official ``class * 1000 + label + 1`` encoding. That encoding differs only on
inputs ISBNet data never has: instance labels >= 999 (they overflow into the next class) and -1
(official: an instance; here, like -100, no instance).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS: tuple[float, ...] = tuple(np.append(np.arange(0.5, 0.95, 0.05), 0.25).tolist())
"""The official thresholds, as float64 values (``arange`` rounding included)."""


@dataclass(frozen=True)
class InstancePrediction:
    """Predicted instances of one scene.

    labels: (K,) int, class index 0..C-1 in the evaluator's class order (the model's instance classes).
    scores: (K,) float, confidence.
    masks: (K, N) bool (or 0/1), point membership.
    """

    labels: np.ndarray
    scores: np.ndarray
    masks: np.ndarray


@dataclass(frozen=True)
class InstanceGroundTruth:
    """Ground truth of one scene, in the dataset's semantic order.

    semantic_labels: (N,) int, semantic class; class index = semantic - label_shift (-100: unlabelled).
    instance_labels: (N,) int, instance id >= 0, or negative (-100) for no instance.
    """

    semantic_labels: np.ndarray
    instance_labels: np.ndarray


@dataclass(frozen=True)
class _SceneMatches:
    """What the AP needs from one scene (masks reduced to overlaps; G GT instances, K predictions).

    pred_labels: (K,) int64 class index.          pred_scores: (K,) float64.
    pred_ignored: (K,) float64 fraction of the prediction on void points or small GT of its class.
    gt_labels: (G,) int64 class index, ascending (class, instance id) order.
    gt_large: (G,) bool, at least `min_region_size` points (evaluated).
    iou: (K, G) float64, zero across classes.
    """

    pred_labels: np.ndarray
    pred_scores: np.ndarray
    pred_ignored: np.ndarray
    gt_labels: np.ndarray
    gt_large: np.ndarray
    iou: np.ndarray


def _gt_instances(
    gt: InstanceGroundTruth, num_classes: int, label_shift: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group points into GT instances.

    Returns gt_index (N,) int64 (-1 on void points), gt_labels (G,) int64, gt_sizes (G,) int64,
    instances ordered by (class, instance id) like the official ``class * 1000 + id`` ids.
    """
    cls = np.asarray(gt.semantic_labels).astype(np.int64) - label_shift
    inst = np.asarray(gt.instance_labels).astype(np.int64)
    if cls.shape != inst.shape or cls.ndim != 1:
        raise ValueError(f"semantic_labels {cls.shape} and instance_labels {inst.shape} must be equal (N,)")
    valid = (cls >= 0) & (cls < num_classes) & (inst >= 0)
    stride = int(inst.max(initial=0)) + 1
    keys = cls[valid] * stride + inst[valid]
    keys, inverse, sizes = np.unique(keys, return_inverse=True, return_counts=True)
    gt_index = np.full(cls.shape, -1, np.int64)
    gt_index[valid] = inverse.reshape(-1)
    return gt_index, keys // stride, sizes


def _overlaps(masks: np.ndarray, gt_index: np.ndarray, num_gt: int) -> np.ndarray:
    """Points each prediction shares with each GT instance, and with void.

    masks: (K, N), nonzero = member; gt_index: (N,) int64, -1 on void points.
    Returns (K, G + 1) int64, column G = void points; row sums are the prediction sizes.
    """
    num_points = masks.shape[1]
    # Predictions are sparse: one pass over the members beats dense (K, N) gathers or reductions.
    rows, cols = np.divmod(np.flatnonzero(masks), num_points)
    column = gt_index[cols]
    column[column < 0] = num_gt
    counts = np.bincount(rows * (num_gt + 1) + column, minlength=len(masks) * (num_gt + 1))
    return counts.reshape(len(masks), num_gt + 1)


def _match_scene(
    pred: InstancePrediction,
    gt: InstanceGroundTruth,
    num_classes: int,
    label_shift: int,
    min_region_size: int,
) -> _SceneMatches:
    """Reduce one scene to per-prediction / per-GT overlap statistics (see `_SceneMatches`)."""
    labels = np.asarray(pred.labels).astype(np.int64).reshape(-1)
    scores = np.asarray(pred.scores).astype(np.float64).reshape(-1)
    masks = np.asarray(pred.masks)
    gt_index, gt_labels, gt_sizes = _gt_instances(gt, num_classes, label_shift)
    if masks.ndim != 2 or masks.shape[0] != len(labels) or len(scores) != len(labels):
        raise ValueError(f"labels {labels.shape}, scores {scores.shape}, masks {masks.shape} disagree on K")
    if masks.shape[1] != len(gt_index):
        raise ValueError(f"masks cover {masks.shape[1]} points, the ground truth {len(gt_index)}")

    overlaps = _overlaps(masks, gt_index, len(gt_labels))
    sizes = overlaps.sum(axis=1)
    keep = (labels >= 0) & (labels < num_classes) & (sizes >= max(min_region_size, 1))
    labels, scores, overlaps, sizes = labels[keep], scores[keep], overlaps[keep], sizes[keep]

    inter, void = overlaps[:, :-1], overlaps[:, -1]
    inter[labels[:, None] != gt_labels[None, :]] = 0  # a prediction only competes within its class
    iou = inter / (sizes[:, None] + gt_sizes[None, :] - inter)
    gt_large = gt_sizes >= min_region_size
    ignored = (void + inter[:, ~gt_large].sum(axis=1)) / sizes
    return _SceneMatches(labels, scores, ignored, gt_labels, gt_large, iou)


def _greedy_match(candidates: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Official greedy assignment of predictions to GT instances.

    candidates: (K, G) bool, prediction k passes the threshold with (evaluated) GT g.
    scores: (K,) float64.
    Returns rows (E,) int64, the prediction behind each PR entry (one may appear twice, see module doc);
    is_tp (E,) bool; gt_matched (G,) bool.
    """
    gt_matched = candidates.any(axis=0)
    if (candidates.sum(axis=1) <= 1).all():
        # No prediction is claimed by two GT instances (always so for IoU > 0.5): the GTs are
        # independent, each keeps its best candidate as TP and the other candidates are FPs.
        rows = np.flatnonzero(candidates.any(axis=1))
        is_tp = np.zeros(len(scores), bool)
        if gt_matched.any():
            best = np.where(candidates[:, gt_matched], scores[:, None], -np.inf).argmax(axis=0)
            is_tp[best] = True
        return rows, is_tp[rows], gt_matched
    consumed = np.zeros(len(scores), bool)
    rows_list, tp_list = [], []
    for g in range(candidates.shape[1]):
        cand = np.flatnonzero(candidates[:, g] & ~consumed)
        gt_matched[g] = len(cand) > 0
        if not len(cand):
            continue
        consumed[cand[0]] = True  # official quirk: only the first candidate is consumed
        rows_list.append(cand)
        tp_list.append(np.arange(len(cand)) == scores[cand].argmax())
    if not rows_list:
        return np.zeros(0, np.int64), np.zeros(0, bool), gt_matched
    return np.concatenate(rows_list), np.concatenate(tp_list), gt_matched


def _average_precision(scores: np.ndarray, is_tp: np.ndarray, hard_fn: int) -> tuple[float, float]:
    """AP and recall of one class at one threshold, with the ScanNet script's PR interpolation.

    scores: (E,) float64 confidence of each TP / FP entry; is_tp: (E,) bool;
    hard_fn: GT instances left unmatched. Returns (ap, recall at the lowest confidence).
    """
    if len(scores) == 0:
        return 0.0, 0.0
    order = np.argsort(scores)
    sorted_scores = scores[order]
    cum_tp = np.cumsum(is_tp[order].astype(np.float64))
    _, first = np.unique(sorted_scores, return_index=True)  # one PR point per distinct confidence
    below = np.concatenate([[0.0], cum_tp])[first]  # TPs strictly below each threshold
    tp = cum_tp[-1] - below
    fp = (len(scores) - first) - tp
    fn = below + hard_fn
    precision = np.append(tp / (tp + fp), 1.0)  # artificial last point: recall 0, precision 1
    recall = np.append(tp / (tp + fn), 0.0)
    # Centred step widths (recall[i-1] - recall[i+1]) / 2 with recall[-1] := recall[0] and a trailing 0,
    # the script's np.convolve([-0.5, 0, 0.5]) written out (bitwise equal: halving is exact).
    padded = np.concatenate([recall[:1], recall, [0.0]])
    widths = 0.5 * (padded[:-2] - padded[2:])
    return float(np.dot(precision, widths)), float(recall[0])


def _nanmean(values: np.ndarray) -> float:
    """Mean over the non-NaN entries; NaN (without a warning) when there are none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(values))


@dataclass(frozen=True)
class EvalResult:
    """AP / recall per class and IoU threshold.

    class_names: C names; iou_thresholds: (T,) float64; ap, rc: (C, T) float64, NaN for classes
    without ground truth.
    """

    class_names: tuple[str, ...]
    iou_thresholds: np.ndarray
    ap: np.ndarray
    rc: np.ndarray

    def _columns(self, which: str) -> np.ndarray:
        th = self.iou_thresholds
        if which == "avg":
            return np.flatnonzero(~np.isclose(th, 0.25))
        return np.flatnonzero(np.isclose(th, 0.5 if which == "50" else 0.25))

    def _overall(self, values: np.ndarray, which: str) -> float:
        # Threshold-major layout as the official (1, T, C) fancy index, so the float sum matches bitwise.
        return _nanmean(np.ascontiguousarray(values[:, self._columns(which)].T))

    @property
    def all_ap(self) -> float:
        """Mean AP over valid classes and IoU 0.5:0.9 (the benchmark's "AP")."""
        return self._overall(self.ap, "avg")

    @property
    def all_ap_50(self) -> float:
        return self._overall(self.ap, "50")

    @property
    def all_ap_25(self) -> float:
        return self._overall(self.ap, "25")

    @property
    def all_rc(self) -> float:
        return self._overall(self.rc, "avg")

    @property
    def all_rc_50(self) -> float:
        return self._overall(self.rc, "50")

    @property
    def all_rc_25(self) -> float:
        return self._overall(self.rc, "25")

    @property
    def per_class(self) -> dict[str, dict[str, float]]:
        """{class name: {"ap", "ap50", "ap25", "rc", "rc50", "rc25"}}, NaN for classes without GT."""
        out = {}
        for i, name in enumerate(self.class_names):
            row = {}
            for key, values in (("ap", self.ap), ("rc", self.rc)):
                for which, suffix in (("avg", ""), ("50", "50"), ("25", "25")):
                    row[key + suffix] = float(np.average(values[i, self._columns(which)]))
            out[name] = row
        return out

    def to_dict(self) -> dict:
        """The official `ScanNetEval.evaluate` result layout ("all_ap", "all_ap_50%", "classes", ...)."""
        classes = {
            name: {k if k in ("ap", "rc") else f"{k}%": v for k, v in row.items()}
            for name, row in self.per_class.items()
        }
        return {
            "all_ap": self.all_ap,
            "all_ap_50%": self.all_ap_50,
            "all_ap_25%": self.all_ap_25,
            "all_rc": self.all_rc,
            "all_rc_50%": self.all_rc_50,
            "all_rc_25%": self.all_rc_25,
            "classes": classes,
        }

    def table(self, markdown: bool = False) -> str:
        """Per-class and average AP / AP50 / AP25 / recall, as aligned text or a markdown table."""
        head = ("class", "AP", "AP_50", "AP_25", "RC", "RC_50", "RC_25")
        keys = ("ap", "ap50", "ap25", "rc", "rc50", "rc25")
        rows = [(name, *(row[k] for k in keys)) for name, row in self.per_class.items()]
        overall = (self.all_ap, self.all_ap_50, self.all_ap_25, self.all_rc, self.all_rc_50, self.all_rc_25)
        rows.append(("average", *overall))
        width = max(15, *(len(r[0]) for r in rows))
        if markdown:
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
            lines += ["| " + " | ".join([r[0], *(f"{v:.3f}" for v in r[1:])]) + " |" for r in rows]
            return "\n".join(lines)

        def fmt(r: tuple) -> str:
            return f"{r[0]:<{width}}:" + "".join(f"{v:>8.3f}" for v in r[1:])

        rule = "-" * (width + 1 + 8 * (len(head) - 1))
        title = f"{head[0]:<{width}}:" + "".join(f"{h:>8}" for h in head[1:])
        return "\n".join([title, rule, *map(fmt, rows[:-1]), rule, fmt(rows[-1])])


class InstanceEvaluator:
    """Accumulates scenes, then computes the ScanNet-style instance AP.

    class_names: the C evaluated classes, in class-index order (prediction labels 0..C-1).
    label_shift: semantic label of class 0 (ScanNetV2 / ScanNet200: 2, STPLS3D: 1). For S3DIS, whose
        official evaluation also scores the semantic-only classes, pass all 13 names, label_shift=0 and
        prediction labels in semantic order.
    min_region_size: smallest evaluated GT instance and kept prediction, in points (STPLS3D: 10).
    iou_thresholds: the official ones unless you know why; AP averages all but 0.25.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        label_shift: int = 2,
        min_region_size: int = 100,
        iou_thresholds: Sequence[float] = IOU_THRESHOLDS,
    ) -> None:
        self.class_names = tuple(class_names)
        self.label_shift = int(label_shift)
        self.min_region_size = int(min_region_size)
        self.iou_thresholds = np.asarray(iou_thresholds, np.float64)
        self._scenes: list[_SceneMatches] = []

    def __len__(self) -> int:
        return len(self._scenes)

    def reset(self) -> None:
        self._scenes = []

    def add_scene(self, pred: InstancePrediction, gt: InstanceGroundTruth) -> None:
        """Add one scene; only its overlap statistics are kept, not the masks."""
        self._scenes.append(
            _match_scene(pred, gt, len(self.class_names), self.label_shift, self.min_region_size)
        )

    def compute(self) -> EvalResult:
        """AP / recall over all scenes added so far."""
        num_classes, num_th = len(self.class_names), len(self.iou_thresholds)
        has_gt = np.zeros(num_classes, bool)
        has_pred = np.zeros(num_classes, bool)
        for s in self._scenes:
            has_gt[s.gt_labels[s.gt_large]] = True
            has_pred[s.pred_labels] = True

        ap = np.full((num_classes, num_th), np.nan)
        rc = np.full((num_classes, num_th), np.nan)
        ap[has_gt] = rc[has_gt] = 0.0
        for ti, th in enumerate(self.iou_thresholds):
            labels, scores, is_tp, hard_fn = self._entries(th)
            for c in np.flatnonzero(has_gt & has_pred):
                sel = labels == c
                ap[c, ti], rc[c, ti] = _average_precision(scores[sel], is_tp[sel], int(hard_fn[c]))
        return EvalResult(self.class_names, self.iou_thresholds.copy(), ap, rc)

    def _entries(self, th: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """PR entries of all scenes at one threshold.

        Returns labels (E,) int64, scores (E,) float64, is_tp (E,) bool, hard_fn (C,) int64.
        """
        tp_all: list[np.ndarray] = []
        labels_all: list[np.ndarray] = [np.zeros(0, np.int64)]
        scores_all: list[np.ndarray] = [np.zeros(0)]
        hard_fn = np.zeros(len(self.class_names), np.int64)
        for s in self._scenes:
            passes = s.iou > th
            rows, is_tp, matched = _greedy_match(passes & s.gt_large[None, :], s.pred_scores)
            hard_fn += np.bincount(s.gt_labels[s.gt_large & ~matched], minlength=len(hard_fn))
            # Predictions passing no GT (small ones included) are FPs unless mostly on ignored points.
            fp_rows = np.flatnonzero(~passes.any(axis=1) & (s.pred_ignored <= th))
            rows = np.concatenate([rows, fp_rows])
            tp_all.append(np.concatenate([is_tp, np.zeros(len(fp_rows), bool)]))
            labels_all.append(s.pred_labels[rows])
            scores_all.append(s.pred_scores[rows])
        is_tp_all = np.concatenate([np.zeros(0, bool), *tp_all])
        return np.concatenate(labels_all), np.concatenate(scores_all), is_tp_all, hard_fn


def evaluate(
    preds: Iterable[InstancePrediction],
    gts: Iterable[InstanceGroundTruth],
    class_names: Sequence[str],
    label_shift: int = 2,
    min_region_size: int = 100,
) -> EvalResult:
    """Evaluate paired per-scene predictions and ground truths in one call."""
    evaluator = InstanceEvaluator(class_names, label_shift=label_shift, min_region_size=min_region_size)
    for pred, gt in zip(preds, gts, strict=True):
        evaluator.add_scene(pred, gt)
    return evaluator.compute()
