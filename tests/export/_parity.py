"""Stage-by-stage comparison of two traces of `forward_test` (test helper).

Float outputs: the largest absolute difference relative to the largest magnitude of the
reference output (a scale-relative error: elementwise relative errors are meaningless next to
zero); index and mask outputs: identical.
"""

from __future__ import annotations

import numpy as np
import torch

from isbnet_trt.isbnet.compare import match_instances
from isbnet_trt.isbnet.postprocess import Instances

BACKBONE_FLOATS = (
    "feats",
    "semantic_scores",
    "corners_offset",
    "box_preds",
    "spp_coords",
    "spp_boxes",
    "mask_features",
)
DECODER_FLOATS = ("cls_logits", "conf_logits", "box_preds", "mask_logits")


def rel_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    a, b = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if b.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def stage_errors(trace: dict, ref: dict) -> dict[str, float]:
    """Relative errors of every float stage output; asserts that every index/mask output and
    every discrete decision is identical."""
    errors = {}
    bb, bb_ref = trace["backbone"], ref["backbone"]
    for name in BACKBONE_FLOATS:
        errors[f"backbone.{name}"] = rel_error(getattr(bb, name), getattr(bb_ref, name))
    assert torch.equal(bb.object_mask, bb_ref.object_mask), "foreground mask differs"
    if "aggregator" not in ref:
        assert "aggregator" not in trace
        return errors
    q, q_ref = trace["aggregator"], ref["aggregator"]
    assert torch.equal(q.inds, q_ref.inds), "aggregator FPS indices differ"
    for name in ("locs", "feats", "boxes"):
        errors[f"aggregator.{name}"] = rel_error(getattr(q, name), getattr(q_ref, name))
    rounds = sorted(k for k in ref if k.startswith("it"))
    assert rounds == sorted(k for k in trace if k.startswith("it")), "number of sampling rounds differs"
    for it in rounds:
        r, r_ref = trace[it], ref[it]
        assert torch.equal(r["cand_idxs"], r_ref["cand_idxs"]), f"{it}: candidates differ"
        out, out_ref = r["out"], r_ref["out"]
        assert torch.equal(out.cand_inds.long(), out_ref.cand_inds.long()), f"{it}: FPS indices differ"
        assert torch.equal(out.fg, out_ref.fg), f"{it}: foreground queries differ"
        for name in DECODER_FLOATS:
            errors[f"{it}.{name}"] = rel_error(getattr(out, name), getattr(out_ref, name))
    return errors


def same_instances(a: Instances, b: Instances) -> bool:
    report = match_instances((a.label_ids, a.scores, a.masks), (b.label_ids, b.scores, b.masks))
    return len(a) == len(b) and report.same()


def isolated_stage_errors(stages, model, ref: dict, scene) -> dict[str, float]:  # noqa: ANN001
    """Every stage of `stages` fed the reference's own inputs (from the reference trace `ref` of
    `scene`): errors of the stage alone, not compounded through the earlier stages. Index
    outputs must be identical."""
    from isbnet_trt.isbnet.inference import _select

    bb_ref = ref["backbone"]
    with torch.no_grad():
        bb = stages.backbone(scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
        errors = stage_errors({"backbone": bb}, {"backbone": bb_ref})
        idx = ref["object_idxs"]
        if scene.pa1_max_voxel is not None:
            idx = idx[idx <= scene.pa1_max_voxel]
        args = (scene.voxel_coords_float[idx], bb_ref.feats[idx], bb_ref.box_preds[idx])
        q, q_ref = stages.aggregate(*args), ref["aggregator"]
        assert torch.equal(q.inds, q_ref.inds), "aggregator FPS indices differ"
        for name in ("locs", "feats", "boxes"):
            errors[f"aggregator.{name}"] = rel_error(getattr(q, name), getattr(q_ref, name))
        for it in sorted(k for k in ref if k.startswith("it")):
            cand = _select(q_ref, ref[it]["cand_idxs"])
            out_ref = ref[it]["out"]
            out = stages.decoder(cand, len(out_ref.cand_inds), bb_ref)
            assert torch.equal(out.cand_inds.long(), out_ref.cand_inds.long()), f"{it}: FPS indices differ"
            assert torch.equal(out.fg, out_ref.fg), f"{it}: foreground queries differ"
            for name in DECODER_FLOATS:
                errors[f"{it}.{name}"] = rel_error(getattr(out, name), getattr(out_ref, name))
    return errors
