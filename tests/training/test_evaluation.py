"""ScanNet-style instance AP: hand-made cases with derived values, and a cross-check against a literal,
loop-based re-implementation of the official algorithm on random scenes.

PR arithmetic used in the derivations (official ScanNet script): sort the TP/FP entries by confidence;
for each distinct confidence s: tp = TPs with score >= s, fp = FPs with score >= s,
fn = TPs below s + unmatched GT; then append the artificial point (precision 1, recall 0) and
AP = sum_i p_i * (r_{i-1} - r_{i+1}) / 2 with r_{-1} := r_0 and r_{n+1} := 0.
Two cases that recur:
  * one TP (score above every FP), no missed GT: the top point has (p 1, r 1) -> AP = 1.
  * an FP above the only TP: points (p 1/2, r 1) and (p 0, r 0), artificial (1, 0);
    widths (1-0)/2, (1-0)/2, (0-0)/2 -> AP = 1/2 * 1/2 = 1/4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from isbnet_trt.training.evaluation import (
    IOU_THRESHOLDS,
    EvalResult,
    InstanceEvaluator,
    InstanceGroundTruth,
    InstancePrediction,
    evaluate,
)

NAMES = ("a", "b", "c")  # class index 0, 1, 2 = semantic 2, 3, 4 (label_shift 2)
UNLABELLED, WALL = -100, 0
TH = np.asarray(IOU_THRESHOLDS)
I50, I25 = int(np.flatnonzero(TH == 0.5)[0]), int(np.flatnonzero(TH == 0.25)[0])


class Scene:
    """Builds a scene from consecutive point segments: `seg(n, semantic, instance)` returns its indices."""

    def __init__(self) -> None:
        self.sem: list[int] = []
        self.ins: list[int] = []

    def seg(self, n: int, semantic: int, instance: int = -100) -> np.ndarray:
        start = len(self.sem)
        self.sem += [semantic] * n
        self.ins += [instance] * n
        return np.arange(start, start + n)

    def gt(self) -> InstanceGroundTruth:
        return InstanceGroundTruth(np.array(self.sem), np.array(self.ins))

    def pred(self, *instances: tuple[int, float, np.ndarray]) -> InstancePrediction:
        """instances: (class index, score, point indices)."""
        masks = np.zeros((len(instances), len(self.sem)), bool)
        for k, (_, _, idx) in enumerate(instances):
            masks[k, idx] = True
        labels = np.array([c for c, _, _ in instances], np.int64)
        return InstancePrediction(labels, np.array([s for _, s, _ in instances], np.float64), masks)


def run(scene: Scene, pred: InstancePrediction, min_region_size: int = 1) -> EvalResult:
    return evaluate([pred], [scene.gt()], NAMES, label_shift=2, min_region_size=min_region_size)


def class_ap(res: EvalResult, name: str = "a") -> np.ndarray:
    """(T,) AP of one class per threshold."""
    return res.ap[NAMES.index(name)]


def test_thresholds_are_the_official_ones() -> None:
    # np.arange(0.5, 0.95, 0.05) stops at 0.9: nine thresholds for AP, plus 0.25.
    assert len(TH) == 10 and TH[0] == 0.5 and TH[-1] == 0.25 and math.isclose(TH[-2], 0.9)


def test_perfect_predictions_give_one() -> None:
    s = Scene()
    a, b = s.seg(10, 2, 0), s.seg(12, 3, 1)
    s.seg(5, WALL)
    res = run(s, s.pred((0, 0.7, a), (1, 0.2, b)))
    assert np.all(res.ap[:2] == 1.0) and np.all(res.rc[:2] == 1.0)
    assert res.all_ap == res.all_ap_50 == res.all_ap_25 == 1.0
    assert np.isnan(res.ap[2]).all()  # class c has no GT


def test_no_predictions_give_zero() -> None:
    s = Scene()
    s.seg(10, 2, 0)
    s.seg(10, 3, 1)
    res = run(s, s.pred())
    # GT but no prediction of the class: AP 0 (not NaN), recall 0.
    assert np.all(res.ap[:2] == 0.0) and np.all(res.rc[:2] == 0.0)
    assert res.all_ap == 0.0 and res.all_ap_25 == 0.0


def test_false_positive_above_true_positive() -> None:
    s = Scene()
    a, b = s.seg(10, 2, 0), s.seg(10, 3, 1)
    # The FP (class a on b's points: no class-a IoU, not void) outranks the TP -> 1/4 (see module doc).
    res = run(s, s.pred((0, 0.9, b), (0, 0.5, a)))
    assert np.allclose(class_ap(res), 0.25)
    assert np.all(res.rc[0] == 1.0)
    # Below the TP it costs nothing: the top point is (p 1, r 1) -> AP 1.
    res = run(s, s.pred((0, 0.4, b), (0, 0.5, a)))
    assert np.all(class_ap(res) == 1.0)


def test_score_ties_form_one_pr_point() -> None:
    s = Scene()
    a, b = s.seg(10, 2, 0), s.seg(10, 3, 1)
    # TP and FP at 0.5: a single point (p 1/2, r 1), artificial (1, 0); widths 1/2, 1/2 -> 3/4.
    for order in [((0, 0.5, a), (0, 0.5, b)), ((0, 0.5, b), (0, 0.5, a))]:
        assert np.allclose(class_ap(run(s, s.pred(*order))), 0.75)


def test_duplicates_count_as_false_positives() -> None:
    s = Scene()
    a1, a2 = s.seg(10, 2, 0), s.seg(10, 2, 1)
    # Two exact copies of a1: the GT keeps the higher score as TP whatever the input order, the other
    # copy is an FP below it -> AP 1.
    for scores in [(0.8, 0.6), (0.6, 0.8)]:
        res = run(s, s.pred((0, scores[0], a1), (0, scores[1], a1), (0, 0.95, a2)))
        assert np.all(class_ap(res) == 1.0)
    # Entries TP .9 (a1), FP .8 (duplicate of a1), TP .7 (a2); 2 GT.
    # Points: s=.7: tp 2 fp 1 (p 2/3, r 1); s=.8: tp 1 fp 1 (p 1/2, r 1/2); s=.9: (p 1, r 1/2); art. (1, 0).
    # Widths: (1-1/2)/2, (1-1/2)/2, (1/2-0)/2, (1/2-0)/2 = 1/4 each -> AP = (2/3 + 1/2 + 1 + 1) / 4 = 19/24.
    res = run(s, s.pred((0, 0.9, a1), (0, 0.8, a1), (0, 0.7, a2)))
    assert np.allclose(class_ap(res), 19 / 24)


def test_iou_threshold_is_strict() -> None:
    s = Scene()
    a = s.seg(8, 2, 0)
    filler = s.seg(8, 3, 1)  # class-b points: not void, so unmatched class-a predictions stay FPs
    # IoU 4/8 = 0.5 exactly: no match at 0.5 ("iou > th"), a match at 0.25.
    res = run(s, s.pred((0, 0.5, a[:4])))
    assert class_ap(res)[I50] == 0.0 and class_ap(res)[I25] == 1.0
    # IoU 2/8 = 0.25 exactly: no match anywhere.
    assert np.all(class_ap(run(s, s.pred((0, 0.5, a[:2])))) == 0.0)
    # IoU 5/8 = 0.625 passes 0.5, 0.55, 0.6 of the nine AP thresholds -> AP 3/9.
    res = run(s, s.pred((0, 0.5, a[:5])))
    assert np.isclose(res.per_class["a"]["ap"], 3 / 9)
    # IoU 6/10 = 0.6 exactly: the third threshold is arange's 0.6000000000000001, so only two pass.
    res = run(s, s.pred((0, 0.5, np.concatenate([a[:6], filler[:2]]))))
    assert np.isclose(res.per_class["a"]["ap"], 2 / 9)


def test_predictions_on_void_are_discounted() -> None:
    s = Scene()
    a = s.seg(10, 2, 0)
    other = s.seg(10, 3, 1)  # class b: neither void nor ignored for a class-a prediction
    # The three kinds of void: unlabelled, non-instance class (wall), instance label -100 on an
    # instance class.
    void = np.concatenate([s.seg(4, UNLABELLED), s.seg(4, WALL, 7), s.seg(4, 2)])
    tp = (0, 0.5, a)
    # Entirely on void, above the TP: ignored fraction 1 > every threshold -> discounted, AP 1.
    assert np.all(class_ap(run(s, s.pred((0, 0.9, void), tp))) == 1.0)
    # 6 void + 4 class-b points: fraction 0.6. Discounted while 0.6 > th (0.5, 0.55, 0.25); an FP above
    # the TP (AP 1/4) from 0.6000000000000001 on ("fraction <= th" counts).
    res = run(s, s.pred((0, 0.9, np.concatenate([void[:6], other[:4]])), tp))
    assert np.allclose(class_ap(res), [1, 1, *[0.25] * 7, 1])
    assert np.isclose(res.per_class["a"]["ap"], (2 + 7 * 0.25) / 9)
    # Fraction 0.5 exactly: an FP at 0.5 (<=), discounted at 0.25.
    res = run(s, s.pred((0, 0.9, np.concatenate([void[:5], other[:5]])), tp))
    assert np.isclose(class_ap(res)[I50], 0.25) and class_ap(res)[I25] == 1.0


def test_classes_without_gt_are_nan_and_left_out_of_the_mean() -> None:
    s = Scene()
    a, b = s.seg(10, 2, 0), s.seg(10, UNLABELLED)
    # a: perfect; b: a prediction but no GT -> NaN; c: nothing -> NaN. Mean over a only.
    res = run(s, s.pred((0, 0.5, a), (1, 0.9, b)))
    assert np.all(res.ap[0] == 1.0) and np.isnan(res.ap[1:]).all()
    assert res.all_ap == 1.0 and res.all_rc == 1.0
    assert math.isnan(res.per_class["b"]["ap50"])
    # A class with GT but only other classes' predictions scores 0 and is averaged in.
    s.seg(10, 4, 2)
    res = run(s, s.pred((0, 0.5, a)))
    assert np.all(res.ap[2] == 0.0) and np.isclose(res.all_ap, 0.5)


def test_nothing_at_all_is_nan() -> None:
    s = Scene()
    s.seg(10, WALL)
    res = run(s, s.pred())
    assert np.isnan(res.ap).all() and math.isnan(res.all_ap)


def test_min_region_size_filters_ground_truth() -> None:
    s = Scene()
    a = s.seg(10, 2, 0)
    small = s.seg(3, 2, 1)
    s.seg(10, 3, 2)
    # Nobody predicts the 3-point instance: with min_region_size 5 it is not evaluated -> AP 1; with 3
    # it is a missed GT: one TP, 1 FN -> points (p 1, r 1/2), (1, 0); widths 1/4, 1/4 -> AP 1/2.
    pred = s.pred((0, 0.5, a))
    assert np.all(class_ap(run(s, pred, min_region_size=5)) == 1.0)
    assert np.allclose(class_ap(run(s, pred, min_region_size=3)), 0.5)
    # A prediction that finds the small instance is not punished either.
    pred = s.pred((0, 0.9, small), (0, 0.5, a))
    assert np.all(class_ap(run(s, pred, min_region_size=5)) == 1.0)


def test_small_predictions_are_dropped() -> None:
    s = Scene()
    a, b = s.seg(10, 2, 0), s.seg(10, 3, 1)
    # The 4-point FP above the TP (AP 1/4 if counted) is dropped below 5 points.
    pred = s.pred((0, 0.9, b[:4]), (0, 0.5, a))
    assert np.allclose(class_ap(run(s, pred, min_region_size=4)), 0.25)
    assert np.all(class_ap(run(s, pred, min_region_size=5)) == 1.0)
    # Only a too-small prediction for class b: b has GT and (after filtering) no prediction -> 0.
    res = run(s, s.pred((1, 0.9, b[:4])), min_region_size=5)
    assert np.all(class_ap(res, "b") == 0.0)


def test_small_gt_of_the_class_counts_as_ignored() -> None:
    s = Scene()
    a = s.seg(10, 2, 0)
    small_a, small_b = s.seg(3, 2, 1), s.seg(3, 3, 2)
    void = s.seg(5, UNLABELLED)
    tp = (0, 0.5, a)
    # 3 points of a small class-a GT + 5 void (min_region_size 5): IoU 3/8 with the small GT passes
    # 0.25 (not an FP); above, ignored fraction (3 + 5) / 8 = 1 > th -> discounted. AP 1 everywhere.
    res = run(s, s.pred((0, 0.9, np.concatenate([small_a, void])), tp), min_region_size=5)
    assert np.all(class_ap(res) == 1.0)
    # A small GT of another class is not ignored: fraction 5/8 = 0.625 -> discounted at 0.25, 0.5, 0.55,
    # 0.6; an FP above the TP (1/4) from 0.65 on. AP = (3 + 6/4) / 9 = 1/2.
    res = run(s, s.pred((0, 0.9, np.concatenate([small_b, void])), tp), min_region_size=5)
    assert np.allclose(class_ap(res), [1, 1, 1, *[0.25] * 6, 1])
    assert np.isclose(res.per_class["a"]["ap"], 0.5)


def test_duplicate_stays_available_to_later_gt_below_iou_half() -> None:
    s = Scene()
    a, b, c = s.seg(8, 2, 0), s.seg(8, 2, 1), s.seg(8, 2, 2)
    p1, p3 = (0, 0.5, a), (0, 0.3, c)
    p2 = (0, 0.9, np.concatenate([a[:4], b[:4]]))  # IoU 4/12 = 1/3 with both a and b
    # Order p1, p2: GT a takes p1 (consumed) and p2 (a duplicate: a keeps score .9, FP .5) but p2 is not
    # consumed, so GT b also takes it (TP .9); GT c: TP .3. Entries TP .9, TP .9, FP .5, TP .3; 3 GT.
    # Points: .3 (p 3/4, r 1), .5 (p 2/3, r 2/3), .9 (p 1, r 2/3), (1, 0);
    # widths 1/6, 1/6, 1/3, 1/3 -> AP25 = 3/4/6 + 2/3/6 + 1/3 + 1/3 = 65/72.
    assert np.isclose(class_ap(run(s, s.pred(p1, p2, p3)))[I25], 65 / 72)
    # Order p2, p1: a consumes p2 (TP .9, FP .5), b finds nothing (FN), c: TP .3; 2 TP + 1 FN.
    # Points: .3 (p 2/3, r 2/3), .5 (p 1/2, r 1/3), .9 (p 1, r 1/3), (1, 0); widths 1/6 each
    # -> AP25 = (2/3 + 1/2 + 1 + 1) / 6 = 19/36.
    assert np.isclose(class_ap(run(s, s.pred(p2, p1, p3)))[I25], 19 / 36)


def test_multiple_scenes_are_pooled() -> None:
    s1, s2 = Scene(), Scene()
    a1 = s1.seg(10, 2, 0)
    s2.seg(10, 2, 0)  # missed
    b2 = s2.seg(10, 3, 1)
    preds = [s1.pred((0, 0.6, a1)), s2.pred((0, 0.8, b2))]
    # Pooled entries FP .8, TP .6; 1 missed GT. Points: .6 (p 1/2, r 1/2), .8 (p 0, r 0), (1, 0);
    # widths 1/4, 1/4, 0 -> AP 1/8 (averaging the scenes' APs would give (1 + 0) / 2 instead).
    res = evaluate(preds, [s1.gt(), s2.gt()], NAMES, min_region_size=1)
    assert np.allclose(class_ap(res), 0.125) and np.allclose(res.rc[0], 0.5)
    # Incremental accumulation and scene order give the same numbers.
    ev = InstanceEvaluator(NAMES, label_shift=2, min_region_size=1)
    for p, g in reversed(list(zip(preds, [s1.gt(), s2.gt()], strict=True))):
        ev.add_scene(p, g)
    assert len(ev) == 2
    np.testing.assert_array_equal(ev.compute().ap, res.ap)


def test_labels_outside_the_classes_are_skipped_and_mixed_instances_split() -> None:
    s = Scene()
    a = s.seg(10, 2, 0)
    b = s.seg(10, 3, 0)  # same instance id, other class: a separate GT instance (class, id)
    res = run(s, s.pred((-1, 0.9, b), (3, 0.9, b), (0, 0.5, a), (1, 0.5, b)))
    assert np.all(res.ap[:2] == 1.0)


def test_result_formatting() -> None:
    s = Scene()
    a = s.seg(10, 2, 0)
    res = run(s, s.pred((0, 0.5, a)))
    text = res.table()
    assert "average" in text and "   1.000" in text and "nan" in text
    md = res.table(markdown=True)
    assert md.splitlines()[0].startswith("| class | AP |") and md.count("\n") == len(NAMES) + 2
    d = res.to_dict()
    assert d["all_ap_50%"] == 1.0 and d["classes"]["a"]["ap25%"] == 1.0
    assert math.isnan(d["classes"]["b"]["ap"])


def test_shape_mismatch_is_rejected() -> None:
    s = Scene()
    s.seg(10, 2, 0)
    with pytest.raises(ValueError):
        run(s, InstancePrediction(np.zeros(1, int), np.ones(1), np.ones((1, 9), bool)))


# ---------------------------------------------------------------------------------------------------
# Literal re-implementation (loops, sets) of the official algorithm, from its description.


def reference_ap(preds, gts, num_classes, label_shift, min_size):
    """Returns (ap, rc), each (C, T), by the official rules written out one point and one GT at a time."""
    scenes = []
    for pred, gt in zip(preds, gts, strict=True):
        instances: dict[tuple[int, int], set[int]] = {}
        void = set()
        point_labels = zip(gt.semantic_labels.tolist(), gt.instance_labels.tolist(), strict=True)
        for i, (sem, ins) in enumerate(point_labels):
            cls = sem - label_shift
            if 0 <= cls < num_classes and ins >= 0:
                instances.setdefault((cls, ins), set()).add(i)
            else:
                void.add(i)
        gt_list = [(key[0], pts) for key, pts in sorted(instances.items())]
        pred_list = []
        for label, score, mask in zip(pred.labels.tolist(), pred.scores.tolist(), pred.masks, strict=True):
            pts = set(np.flatnonzero(mask).tolist())
            if 0 <= label < num_classes and len(pts) >= min_size:
                pred_list.append((label, score, pts))
        scenes.append((gt_list, pred_list, void))

    def iou(p: set[int], g: set[int]) -> float:
        inter = len(p & g)
        return inter / (len(p) + len(g) - inter)

    ap = np.full((num_classes, len(IOU_THRESHOLDS)), np.nan)
    rc = np.full_like(ap, np.nan)
    for c in range(num_classes):
        has_gt = any(gc == c and len(g) >= min_size for gl, _, _ in scenes for gc, g in gl)
        has_pred = any(pc == c for _, pl, _ in scenes for pc, _, _ in pl)
        for t_i, t in enumerate(IOU_THRESHOLDS):
            if not has_gt:
                continue
            entries: list[tuple[float, int]] = []
            missed = 0
            for gl, pl, void in scenes:
                gts_c = [g for gc, g in gl if gc == c]
                preds_c = [(s, p) for pc, s, p in pl if pc == c]
                used: set[int] = set()
                for g in gts_c:
                    if len(g) < min_size:
                        continue
                    cands = [k for k, (_, p) in enumerate(preds_c) if k not in used and iou(p, g) > t]
                    if not cands:
                        missed += 1
                        continue
                    used.add(cands[0])
                    cand_scores = sorted(preds_c[k][0] for k in cands)
                    entries.append((cand_scores[-1], 1))
                    entries += [(sc, 0) for sc in cand_scores[:-1]]
                for sc, p in preds_c:
                    if any(iou(p, g) > t for g in gts_c):
                        continue
                    small = [g for g in gts_c if len(g) < min_size]
                    ignored = sum(1 for i in p if i in void or any(i in g for g in small))
                    if ignored / len(p) <= t:
                        entries.append((sc, 0))
            if not has_pred or not entries:
                ap[c, t_i] = rc[c, t_i] = 0.0
                continue
            precision, recall = [], []
            for s in sorted({sc for sc, _ in entries}):
                tp = sum(1 for sc, y in entries if sc >= s and y)
                fp = sum(1 for sc, y in entries if sc >= s and not y)
                fn = sum(1 for sc, y in entries if sc < s and y) + missed
                precision.append(tp / (tp + fp))
                recall.append(tp / (tp + fn))
            precision.append(1.0)
            recall.append(0.0)
            total = 0.0
            for i in range(len(recall)):
                r_prev = recall[max(i - 1, 0)]
                r_next = recall[i + 1] if i + 1 < len(recall) else 0.0
                total += precision[i] * (r_prev - r_next) / 2
            ap[c, t_i], rc[c, t_i] = total, recall[0]
    return ap, rc


def random_scene(rng: np.random.Generator, num_classes: int, min_size: int):
    """Segments of void / wall / instances (some with unlabelled parts, some sharing an instance id with
    the previous segment), shuffled; predictions copied from GT, merged across two GT (IoU-0.25
    conflicts), duplicated, relabelled, noised, or random, with tied scores."""
    sem, ins = [], []
    for k in range(int(rng.integers(3, 10))):
        n = int(rng.integers(max(1, min_size // 2), 3 * min_size))
        if rng.random() < 0.2:
            sem += [int(rng.choice([UNLABELLED, WALL]))] * n
            ins += [-100] * n
        else:
            sem += [int(rng.integers(2, 2 + num_classes + 1))] * n  # includes one non-evaluated class
            ins += [-100 if rng.random() < 0.1 else k - int(k > 0 and rng.random() < 0.1)] * n
    perm = rng.permutation(len(sem))
    sem_a, ins_a = np.array(sem)[perm], np.array(ins)[perm]
    n_pts = len(sem_a)
    ids = [i for i in np.unique(ins_a) if i >= 0]
    labels, scores, masks = [], [], []
    for _ in range(int(rng.integers(0, 2 * len(ids) + 3))):
        if masks and rng.random() < 0.25:  # near-duplicate of an earlier prediction
            j = int(rng.integers(0, len(masks)))
            m, label = masks[j].copy(), labels[j]
        elif ids and rng.random() < 0.75:
            g = rng.choice(ids)
            m = ins_a == g
            if rng.random() < 0.5:  # merge with (part of) another instance, preferably of the same class
                same = [i for i in ids if sem_a[ins_a == i][0] == sem_a[ins_a == g][0] and i != g]
                m |= np.isin(ins_a, same or ids) & (rng.random(n_pts) < rng.uniform(0.3, 1.0))
            label = int(sem_a[ins_a == g][0]) - 2
            if rng.random() < 0.15:  # wrong or out-of-range class
                label = int(rng.integers(-1, num_classes + 1))
        else:
            m = np.zeros(n_pts, bool)
            m[rng.integers(0, n_pts) :][: int(rng.integers(1, 3 * min_size))] = True
            label = int(rng.integers(0, num_classes))
        # Drop some points, add a few anywhere.
        m = (m & (rng.random(n_pts) > rng.random() * 0.3)) | (rng.random(n_pts) < 0.02)
        labels.append(label)
        scores.append(float(rng.integers(0, 4)) / 4 if rng.random() < 0.4 else float(rng.random()))
        masks.append(m)
    masks_a = np.array(masks, bool).reshape(-1, n_pts)
    pred = InstancePrediction(np.array(labels, np.int64), np.array(scores), masks_a)
    return pred, InstanceGroundTruth(sem_a, ins_a)


@pytest.mark.parametrize("seed", range(10))
def test_matches_literal_reference_on_random_scenes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    num_classes, min_size = int(rng.integers(1, 4)), int(rng.integers(2, 12))
    names = [f"c{i}" for i in range(num_classes)]
    scenes = [random_scene(rng, num_classes, min_size) for _ in range(int(rng.integers(1, 5)))]
    preds, gts = zip(*scenes, strict=True)
    res = evaluate(preds, gts, names, label_shift=2, min_region_size=min_size)
    ap, rc = reference_ap(preds, gts, num_classes, 2, min_size)
    np.testing.assert_allclose(res.ap, ap, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.rc, rc, rtol=0, atol=1e-12)
