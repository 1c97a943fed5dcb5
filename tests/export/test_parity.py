"""onnxruntime stages vs the PyTorch reference, stage by stage and end to end: fast CPU kernels
on generated rooms of 30k / 80k / 150k points, the function bodies alone on a small room, and
the official golden outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.compare import match_instances
from isbnet_trt.isbnet.inference import forward_test
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.plugins import onnxruntime_ops
from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages, OnnxRuntimeStagesError
from isbnet_trt.training.synthetic import generate_room

sys.path.insert(0, str(Path(__file__).parent))
from _parity import same_instances, stage_errors  # noqa: E402

RTOL = 1e-4
needs_fast = pytest.mark.skipif(
    not onnxruntime_ops.available(), reason="numba / onnxruntime-extensions absent"
)


def _compare(stages, model, n_points: int, seed: int) -> dict[str, float]:
    room = generate_room(n_points, seed=seed)
    cfg = model.cfg
    scene = prepare_scene(room.points, room.superpoints, cfg)
    trace, ref = {}, {}
    with torch.no_grad():
        inst = forward_test(stages, scene, cfg, trace=trace)
        inst_ref = forward_test(model, scene, cfg, trace=ref)
    errors = stage_errors(trace, ref)
    worst = max(errors, key=errors.get)
    assert errors[worst] < RTOL, f"{worst}: relative error {errors[worst]:.2e}"
    assert len(inst_ref) > 0 and same_instances(inst, inst_ref)
    return errors


@pytest.fixture(scope="module")
def fast_stages(light_export):
    return OnnxRuntimeStages(light_export, kernels="fast")


@needs_fast
@pytest.mark.parametrize(
    "n_points",
    [30_000, pytest.param(80_000, marks=pytest.mark.slow), pytest.param(150_000, marks=pytest.mark.slow)],
)
def test_fast_kernels_match_the_reference(fast_stages, light_model, n_points):
    assert fast_stages.fast
    _compare(fast_stages, light_model, n_points, seed=n_points % 97)


@pytest.mark.slow
def test_function_bodies_alone_match_the_reference(light_export, light_model):
    stages = OnnxRuntimeStages(light_export, kernels="bodies")
    assert not stages.fast
    _compare(stages, light_model, 8_000, seed=4)


@needs_fast
def test_golden_official_outputs(fast_stages, golden_dir, light_model):
    """The onnxruntime stages against the official inference recorded on room30k, with the
    tolerances of the reference's own golden test."""
    cfg = light_model.cfg
    points = np.load(golden_dir / "room30k.npy")
    spps = np.load(golden_dir / "room30k_labels.npz")["superpoints"]
    ref = dict(np.load(golden_dir / "room30k_official.npz"))
    trace: dict = {}
    inst = forward_test(fast_stages, prepare_scene(points, spps, cfg), cfg, trace=trace)

    def close(actual, key, atol):
        np.testing.assert_allclose(np.asarray(actual), ref[key], atol=atol, rtol=1e-4, err_msg=key)

    bb = trace["backbone"]
    close(bb.feats, "backbone_feats", 1e-4)
    close(bb.semantic_scores, "semantic_scores", 5e-4)
    close(bb.corners_offset, "corners_offset", 1e-4)
    assert np.array_equal(bb.object_mask.numpy(), ref["object_mask"])
    close(bb.spp_coords, "spp_coords_float", 1e-6)
    close(bb.spp_boxes, "spp_box_preds", 1e-5)
    close(bb.mask_features, "mask_features", 1e-4)
    q = trace["aggregator"]
    assert np.array_equal(q.inds.numpy(), ref["pa1_fps_inds"])
    close(q.locs[0], "pa1_query_locs", 0)
    close(q.boxes[0], "pa1_query_boxes", 1e-5)
    close(q.feats[0], "pa1_query_feats", 2e-4)
    for it in range(int(ref["n_iterations"])):
        r = trace[f"it{it}"]
        out = r["out"]
        assert np.array_equal(r["cand_idxs"].numpy(), ref[f"it{it}_cand_idxs"])
        assert np.array_equal(out.cand_inds.numpy(), ref[f"it{it}_pa2_fps_inds"])
        assert np.array_equal(out.fg.numpy(), ref[f"it{it}_fg"])
        close(out.cls_logits, f"it{it}_cls_logits_all", 5e-4)
        close(out.conf_logits, f"it{it}_conf_logits_all", 5e-4)
        close(out.box_preds[out.fg], f"it{it}_box_preds", 5e-4)
        close(out.mask_logits[out.fg], f"it{it}_mask_logits_spp", 5e-4)
    report = match_instances(
        (inst.label_ids, inst.scores, inst.masks), (ref["pred_label_id"], ref["pred_conf"], ref["pred_masks"])
    )
    assert len(inst) == int(ref["n_instances"]) and report.unmatched == 0
    assert report.min_iou == 1.0 and report.max_score_diff < 1e-5


def test_kernel_choice(light_export, monkeypatch):
    monkeypatch.setattr(onnxruntime_ops, "available", lambda: False)
    with pytest.raises(OnnxRuntimeStagesError, match="numba and onnxruntime-extensions"):
        OnnxRuntimeStages(light_export, kernels="fast")
    assert not OnnxRuntimeStages(light_export, kernels="auto").fast  # falls back to the bodies
    with pytest.raises(ValueError, match="kernels"):
        OnnxRuntimeStages(light_export, kernels="gpu")


def test_decoder_graph_choice(light_export):
    stages = OnnxRuntimeStages(light_export, kernels="bodies")
    assert stages._decoder_for(128, 500) == "decoder_128"
    assert stages._decoder_for(100, 100) == "decoder_128"  # all 100 candidates: any larger graph
    assert stages._decoder_for(40, 40) == "decoder_64"
    with pytest.raises(OnnxRuntimeStagesError, match="no decoder graph samples 100 of 300"):
        stages._decoder_for(100, 300)


@needs_fast
def test_fewer_candidates_than_queries(fast_stages, light_model):
    """A round with fewer candidates than its n_sample (the graph samples min(n, n_cand))."""
    room = generate_room(20_000, seed=8)
    cfg = light_model.cfg
    scene = prepare_scene(room.points, room.superpoints, cfg)
    with torch.no_grad():
        bb = light_model.backbone(scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
        fg = torch.nonzero(bb.object_mask).view(-1)
        pa1 = light_model.aggregate(scene.voxel_coords_float[fg], bb.feats[fg], bb.box_preds[fg])
        cand = type(pa1)(pa1.locs[:, :50], pa1.feats[:, :, :50], pa1.boxes[:, :50], pa1.inds[:50])
        out = fast_stages.decoder(cand, 50, bb)
        ref = light_model.decoder(cand, 50, bb)
    assert torch.equal(out.cand_inds, ref.cand_inds) and out.mask_logits.shape == ref.mask_logits.shape
    assert torch.allclose(
        out.mask_logits, ref.mask_logits, rtol=1e-4, atol=1e-4 * ref.mask_logits.abs().max()
    )


@needs_fast
def test_mask_head_blocks_change_nothing(fast_stages, light_model, monkeypatch):
    """The runtime calls the mask head in blocks (cache-sized tiles of long rows on the CPU,
    chunks of queries otherwise); any blocking gives the same mask logits. (The reference's
    torch GEMM rounds some logits differently when tiled: ~3e-6, checked in tests/isbnet.)"""
    from isbnet_trt.isbnet import model as model_module

    room = generate_room(20_000, seed=9)
    scene = prepare_scene(room.points, room.superpoints, light_model.cfg)
    with torch.no_grad():
        bb = light_model.backbone(scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
        fg = torch.nonzero(bb.object_mask).view(-1)
        cand = light_model.aggregate(scene.voxel_coords_float[fg], bb.feats[fg], bb.box_preds[fg])
        whole = fast_stages.decoder(cand, 192, bb)
        monkeypatch.setattr(model_module, "DYCO_WHOLE_ROWS", 0)
        monkeypatch.setattr(model_module, "DYCO_MIN_TILE", 64)
        monkeypatch.setattr(model_module, "DYCO_TILE_PAIRS", 1)
        tiled = fast_stages.decoder(cand, 192, bb)
    n_spp = bb.mask_features.shape[0]
    assert (
        whole.mask_logits.shape == (192, n_spp)
        and len(model_module.dynamic_conv_blocks(192, n_spp, 32)[1]) > 2
    )
    assert torch.equal(tiled.mask_logits, whole.mask_logits)


def test_dynamic_conv_blocks_cover_everything_once():
    from isbnet_trt.isbnet.model import dynamic_conv_blocks

    for n_spp, k in [(0, 5), (1, 300), (511, 1), (16_384, 300), (16_385, 300), (125_000, 300), (125_000, 3)]:
        for on_cpu in (True, False):
            chunk, tiles = dynamic_conv_blocks(k, n_spp, 32, on_cpu)
            assert chunk >= 1 and (len(tiles) <= 1 or chunk >= k)
            assert len(tiles) > 1 if on_cpu and n_spp > 16_384 else len(tiles) <= 1
            assert [s for s, _ in tiles[1:]] == [e for _, e in tiles[:-1]]
            assert (tiles[0][0], tiles[-1][1]) == (0, n_spp) if n_spp else tiles == []
            assert all(e - s >= 64 for s, e in tiles) or len(tiles) == 1


@needs_fast
def test_runs_are_bit_identical(light_export, light_model):
    """Two threads, repeated runs: every stage output identical. (onnxruntime's ScatterND(add)
    splits rows over threads; the superpoint means must not use it.)"""
    stages = OnnxRuntimeStages(light_export, kernels="fast", threads=2)
    room = generate_room(30_000, seed=21)
    scene = prepare_scene(room.points, room.superpoints, light_model.cfg)
    first, second = {}, {}
    forward_test(stages, scene, light_model.cfg, trace=first)
    forward_test(stages, scene, light_model.cfg, trace=second)
    assert stage_errors(first, second) == dict.fromkeys(stage_errors(first, second), 0.0)


def test_memory_arena_switch(light_export):
    on = OnnxRuntimeStages(light_export, kernels="bodies")
    off = OnnxRuntimeStages(light_export, kernels="bodies", memory_arena=False)
    for stages, expected in ((on, True), (off, False)):
        assert {s.get_session_options().enable_cpu_mem_arena for s in stages.sessions.values()} == {expected}
