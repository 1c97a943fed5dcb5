"""The reference model against the official inference recorded stage by stage (golden fixture).

Indices and discrete decisions must be identical; features agree to fp32 accumulation-order
tolerance; final instances are compared as sets (matrix NMS ends in an unsorted top-k).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.compare import match_instances
from isbnet_trt.isbnet.config import load_config
from isbnet_trt.isbnet.inference import forward_test
from isbnet_trt.isbnet.preprocess import prepare_scene


@pytest.fixture(scope="module")
def golden(golden_dir, fixtures_dir):
    cfg = load_config(fixtures_dir / "official_configs" / "isbnet_lightweight_scannetv2.yaml")
    model = load_model(golden_dir / "random_scannetv2_lightweight.pth", cfg)
    points = np.load(golden_dir / "room30k.npy")
    spps = np.load(golden_dir / "room30k_labels.npz")["superpoints"]
    ref = dict(np.load(golden_dir / "room30k_official.npz"))
    scene = prepare_scene(points, spps, cfg)
    trace: dict = {}
    with torch.no_grad():
        instances = forward_test(model, scene, cfg, trace=trace)
    return scene, trace, instances, ref


def assert_close(actual, expected, atol: float, rtol: float = 1e-4) -> None:
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=rtol)


def test_preprocessing_is_bit_exact(golden):
    scene, _, _, ref = golden
    assert np.array_equal(scene.coords_float.numpy(), ref["in_coords_float"])
    assert np.array_equal(scene.feats.numpy(), ref["in_feats"])
    assert np.array_equal(scene.voxels.voxel_coords, ref["in_voxel_coords"][:, 1:])
    assert np.array_equal(scene.v2p.numpy(), ref["in_v2p_map"])
    assert np.array_equal(scene.voxels.p2v_map(), ref["in_p2v_map"])
    assert np.array_equal(scene.spatial_shape, ref["in_spatial_shape"])
    assert np.array_equal(scene.voxel_feats.numpy(), ref["voxel_input_feats"])
    assert np.array_equal(scene.voxel_coords_float.numpy(), ref["voxel_coords_float"])
    assert np.array_equal(scene.voxel_spps.numpy(), ref["voxel_spps"])


def test_backbone_and_heads(golden):
    _, trace, _, ref = golden
    bb = trace["backbone"]
    assert_close(bb.feats, ref["backbone_feats"], atol=1e-4)
    assert_close(bb.semantic_scores, ref["semantic_scores"], atol=5e-4)
    assert_close(bb.centroid_offset, ref["centroid_offset"], atol=1e-4)
    assert_close(bb.corners_offset, ref["corners_offset"], atol=1e-4)
    assert_close(bb.box_conf, ref["box_conf"], atol=5e-4)


def test_superpoints_and_aggregator(golden):
    _, trace, _, ref = golden
    bb = trace["backbone"]
    assert np.array_equal(bb.object_mask.numpy(), ref["object_mask"])
    assert np.array_equal(trace["object_idxs"].numpy(), ref["object_idxs"])
    assert_close(bb.spp_coords, ref["spp_coords_float"], atol=1e-6)
    assert_close(bb.spp_boxes, ref["spp_box_preds"], atol=1e-5)
    assert_close(bb.mask_features, ref["mask_features"], atol=1e-4)
    q = trace["aggregator"]
    assert np.array_equal(q.inds.numpy(), ref["pa1_fps_inds"])
    assert np.array_equal(trace["object_idxs"][q.inds].numpy(), ref["pa1_query_voxel_idxs"])
    assert_close(q.locs[0], ref["pa1_query_locs"], atol=0)
    assert_close(q.boxes[0], ref["pa1_query_boxes"], atol=1e-5)
    assert_close(q.feats[0], ref["pa1_query_feats"], atol=2e-4)


@pytest.mark.parametrize("it", [0, 1, 2])
def test_sampling_rounds(golden, it):
    _, trace, _, ref = golden
    assert int(ref["n_iterations"]) == 3
    r = trace[f"it{it}"]
    out = r["out"]
    assert np.array_equal(r["cand_idxs"].numpy(), ref[f"it{it}_cand_idxs"])
    assert len(out.cand_inds) == int(ref[f"it{it}_n_sample"])
    assert np.array_equal(out.cand_inds.numpy(), ref[f"it{it}_pa2_fps_inds"])
    assert_close(out.cls_logits, ref[f"it{it}_cls_logits_all"], atol=5e-4)
    assert_close(out.conf_logits, ref[f"it{it}_conf_logits_all"], atol=5e-4)
    assert np.array_equal(out.fg.numpy(), ref[f"it{it}_fg"])
    assert_close(out.box_preds[out.fg], ref[f"it{it}_box_preds"], atol=5e-4)
    assert_close(out.mask_logits[out.fg], ref[f"it{it}_mask_logits_spp"], atol=5e-4)


def test_final_instances_match_as_sets(golden):
    _, _, inst, ref = golden
    assert len(inst) == int(ref["n_instances"]) == 57
    report = match_instances(
        (inst.label_ids, inst.scores, inst.masks),
        (ref["pred_label_id"], ref["pred_conf"], ref["pred_masks"]),
    )
    assert report.unmatched == 0, report
    assert report.min_iou == 1.0
    assert report.max_score_diff < 1e-5
