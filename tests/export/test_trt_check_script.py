"""`benchmarks/trt_check.py` has never run (no TensorRT here): its comparison logic runs here with
onnxruntime standing in for TensorRT on both sides, so that the first run on a TensorRT machine
fails only on TensorRT, not on the script (stage calls, teacher forcing, report writing)."""

from __future__ import annotations

import torch

from isbnet_trt.benchmarks import trt_check
from isbnet_trt.benchmarks.check_report import Report
from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.config import load_config
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages
from isbnet_trt.training.synthetic import generate_room


def test_comparison_and_report_with_onnxruntime_on_both_sides(light_export, golden_ckpt, tmp_path):
    ckpt, cfg_path = golden_ckpt
    model = load_model(ckpt, load_config(cfg_path)).eval()
    room = generate_room(6_000, seed=2)
    scene = prepare_scene(room.points, room.superpoints if model.cfg.use_spp_pool else None, model.cfg)
    report = Report()
    with torch.no_grad():
        trt_check.compare(
            report,
            OnnxRuntimeStages(light_export),
            OnnxRuntimeStages(light_export),
            model,
            scene,
            "6k",
            False,
        )
    names = [c.name for c in report.checks]
    assert any(n.startswith("stage backbone") for n in names)
    assert any(n.startswith("stage aggregator") for n in names)
    assert any(n.startswith("stage decoder round 0") for n in names)
    assert names[-1].startswith("instances TensorRT vs onnxruntime")
    assert report.passed, [c for c in report.checks if not c.passed]
    md, js = trt_check.write(report, tmp_path, "20260101T000000Z")
    assert md.read_text().startswith("# TensorRT check of the isbnet plugins and engines")
    assert js.is_file()
