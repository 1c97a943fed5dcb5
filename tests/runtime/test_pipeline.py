"""The embeddable pipeline: repeated and concurrent calls, timings, options."""

from __future__ import annotations

import threading

import numpy as np

from isbnet_trt.isbnet.compare import match_instances
from isbnet_trt.runtime.scene_prep import SceneOptions


def as_set(pred):
    return pred.instances.label_ids, pred.instances.scores, pred.instances.masks


def test_repeated_calls_are_identical_and_timed(torch_pipeline, room):
    a = torch_pipeline(room.points, room.superpoints)
    b = torch_pipeline(room.points, room.superpoints)
    assert len(a) > 0 and match_instances(as_set(a), as_set(b)).same(iou=0.999999, score_tol=0)
    assert set(a.timings) >= {"preprocess", "backbone", "aggregator", "decoder", "postprocess", "total"}
    assert a.timings["total"] >= a.timings["backbone"] > 0
    assert len(a.class_names) == len(a) and a.backend == "torch"
    names = torch_pipeline.cfg.semantic_class_names
    assert all(n == names[c] for n, c in zip(a.class_names, a.instances.semantic_classes, strict=True))


def test_two_threads_give_the_sequential_results(torch_pipeline, room):
    other = room.points.copy()
    other[:, :2] = other[:, [1, 0]]  # a different scene: x and y swapped
    expected = [torch_pipeline(p, room.superpoints) for p in (room.points, other)]
    results: list = [None, None]

    def work(i, pts):
        results[i] = torch_pipeline(pts, room.superpoints)

    threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate((room.points, other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for exp, got in zip(expected, results, strict=True):
        assert match_instances(as_set(exp), as_set(got)).same(iou=0.999999, score_tol=0)


def test_units_option_gives_the_same_instances(torch_pipeline, room):
    cm = room.points.copy()
    cm[:, :3] *= 100
    a = torch_pipeline(room.points, room.superpoints)
    b = torch_pipeline(cm, room.superpoints, SceneOptions(units="cm"))
    assert match_instances(as_set(a), as_set(b)).same()


def test_downsampled_results_cover_every_point(torch_pipeline, room):
    pred = torch_pipeline(room.points, room.superpoints, SceneOptions(max_points=15_000, downsample=True))
    assert pred.instances.masks.shape == (len(pred), len(room.points))
    assert np.all(pred.instances.masks.sum(1) > 0)
