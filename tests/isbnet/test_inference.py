"""Whole-scene inference of the reference model, and its refusals of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.checkpoint import build_model, load_model
from isbnet_trt.isbnet.config import load_config
from isbnet_trt.isbnet.inference import coverage_columns, predict
from isbnet_trt.isbnet.preprocess import SceneError
from isbnet_trt.training.synthetic import generate_room


@pytest.fixture(scope="module")
def light_cfg(golden_ckpt):
    """The official lightweight config (the demo's without ../shared: the same with 5 levels)."""
    return load_config(golden_ckpt[1])


@pytest.fixture(scope="module")
def golden_model(golden_ckpt, light_cfg):
    return load_model(golden_ckpt[0], light_cfg)


@pytest.fixture(scope="module")
def untrained(light_cfg):
    torch.manual_seed(0)
    return build_model(light_cfg)


@pytest.mark.slow
@pytest.mark.parametrize("n_points", [30_000, 150_000])
def test_generated_room(golden_model, n_points):
    room = generate_room(n_points, seed=11)
    inst = predict(golden_model, room.points, room.superpoints)
    cfg = golden_model.cfg
    assert len(inst) > 5
    assert inst.masks.shape == (len(inst), n_points) and inst.masks.dtype == bool
    assert np.all(inst.masks.sum(1) >= cfg.test.npoint_thresh)
    assert np.all((inst.scores > 0) & (inst.scores <= 1))
    assert np.all((inst.label_ids >= 1) & (inst.label_ids <= cfg.instance_classes))
    assert np.array_equal(inst.semantic_classes, inst.label_ids + 1)
    assert len(inst) <= cfg.test.topk
    # A mask is a union of whole superpoints (superpoint refinement).
    for m in inst.masks[:10]:
        inside = np.unique(room.superpoints[m])
        assert np.all(np.isin(room.superpoints, inside) == m)


def test_without_superpoints_every_voxel_is_one(golden_model):
    room = generate_room(20_000, seed=3)
    inst = predict(golden_model, room.points, None)
    assert len(inst) > 0 and inst.masks.shape[1] == 20_000


@pytest.mark.parametrize("n_points", [1, 7, 300])
def test_tiny_scenes_give_no_instances(untrained, n_points):
    room = generate_room(n_points, seed=2)
    inst = predict(untrained, room.points, room.superpoints)
    assert len(inst) == 0 and inst.masks.shape == (0, n_points)


@pytest.mark.parametrize(
    "points, superpoints, message",
    [
        (np.zeros((10, 3), np.float32), None, r"shape \(N, 6\).*got \(10, 3\).*xyz only"),
        (np.zeros((10, 6, 1), np.float32), None, r"shape \(N, 6\)"),
        (np.zeros((0, 6), np.float32), None, "empty"),
        (np.array([["a"] * 6]), None, "float array"),
        (np.full((4, 6), np.nan, np.float32), None, "NaN or inf in 4 rows"),
        (np.array([[0, 0, 0, 1, 1, 1], [0, np.inf, 0, 1, 1, 1]], np.float32), None, "first: row 1"),
        (np.zeros((10, 6), np.float32), np.zeros(9, np.int64), r"superpoints must have shape \(10,\)"),
        (np.zeros((10, 6), np.float32), np.zeros(10, np.float32), "superpoint ids must be integers"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(untrained, points, superpoints, message):
    with pytest.raises(SceneError, match=message):
        predict(untrained, points, superpoints)


def test_coverage_columns_renumber_the_foreground_superpoints():
    """The official quirk (§9.11): superpoint ids renumbered over the foreground voxels, read at
    each query's voxel; equal to `torch.unique(..., return_inverse=True)` (the official form)."""
    voxel_spps = torch.tensor([7, 2, 2, 9, 4, 7, 0])
    object_idxs = torch.tensor([0, 1, 3, 5])  # superpoints 7, 2, 9, 7 -> ranks 1, 0, 2, 1
    assert coverage_columns(voxel_spps, object_idxs, torch.tensor([3, 2, 0])).tolist() == [1, 2, 1]
    g = torch.Generator().manual_seed(0)
    voxel_spps = torch.randint(0, 5000, (20_000,), generator=g)
    object_idxs = torch.nonzero(torch.rand(20_000, generator=g) < 0.4).view(-1)
    query_inds = torch.randint(0, len(object_idxs), (2048,), generator=g)
    official = torch.unique(voxel_spps[object_idxs], return_inverse=True)[1][query_inds]
    assert torch.equal(coverage_columns(voxel_spps, object_idxs, query_inds), official)
    empty = torch.zeros(0, dtype=torch.long)
    assert coverage_columns(voxel_spps, empty, empty).numel() == 0
