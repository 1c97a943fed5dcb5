"""Every official config exports (random, calibrated weights), passes the ONNX checks, and its
onnxruntime stages match the reference on a small room, stage by stage (each stage on the
reference's inputs) and end to end (instances)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import onnx
import pytest
import torch

from isbnet_trt.export.build import export_model
from isbnet_trt.export.manifest import MANIFEST_NAME
from isbnet_trt.isbnet.compare import match_instances
from isbnet_trt.isbnet.config import load_config
from isbnet_trt.isbnet.inference import forward_test
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.plugins import onnxruntime_ops
from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages
from isbnet_trt.training.synthetic import generate_room

sys.path.insert(0, str(Path(__file__).parent))
from _parity import isolated_stage_errors  # noqa: E402
from _random_model import calibrated_model  # noqa: E402
from _trt_stage_check import tensorrt_problems  # noqa: E402

CONFIGS = [
    "isbnet_scannetv2",
    "isbnet_lightweight_scannetv2",
    "isbnet_scannet200",
    "isbnet_s3dis_area5",
    "isbnet_stpls3d",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", CONFIGS)
def test_official_config_exports_and_matches(name, fixtures_dir, tmp_path):
    cfg = load_config(fixtures_dir / "official_configs" / f"{name}.yaml")
    room = generate_room(6_000, seed=2)
    spps = room.superpoints if cfg.use_spp_pool else None
    model = calibrated_model(cfg, room.points, spps)
    doc = export_model(model, tmp_path, log=lambda _: None)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(doc))
    for entry in doc["stages"]:
        onnx.checker.check_model(str(tmp_path / entry["onnx"]), full_check=True)
    # what the TensorRT parser and the isbnet plugins will meet (no TensorRT needed)
    problems = tensorrt_problems(tmp_path)
    assert not any(problems.values()), problems

    kernels = "fast" if onnxruntime_ops.available() else "bodies"
    stages = OnnxRuntimeStages(tmp_path, kernels=kernels)
    scene = prepare_scene(room.points, spps, cfg)
    trace, ref = {}, {}
    with torch.no_grad():
        inst = forward_test(stages, scene, cfg, trace=trace)
        inst_ref = forward_test(model, scene, cfg, trace=ref)
    assert "it0" in ref, "the random model must reach the decoder"
    # Stage by stage on the reference's inputs: random weights amplify rounding differences
    # from stage to stage (up to ~1e-2 after four stages for STPLS3D), the export must not.
    errors = isolated_stage_errors(stages, model, ref, scene)
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-4, f"{worst}: relative error {errors[worst]:.2e}"
    # End to end the stages run on their own outputs, so the random weights' amplification
    # applies (conf logits ~6e-4 apart after four stages for STPLS3D): same instances, scores
    # within 1e-3 (the golden checkpoint is held to 1e-4 in test_parity).
    report = match_instances(
        (inst.label_ids, inst.scores, inst.masks), (inst_ref.label_ids, inst_ref.scores, inst_ref.masks)
    )
    assert len(inst) == len(inst_ref) and report.same(iou=0.99, score_tol=1e-3), report
