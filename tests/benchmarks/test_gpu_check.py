"""benchmarks/gpu_check.py (and its gpu_kernel_checks, stage_checks, check_report): the parts that
run without a GPU.

Argument parsing, the refusal without CUDA, report rendering and writing. The comparison
harness is exercised on the CPU with the CPU reference ops standing in for the CUDA ops
(`_cpu_stand_ins`): that checks the script's own logic (shapes, bookkeeping, verdicts), never
the kernels, and nothing here writes a GPU result.
"""

from __future__ import annotations

import json

import pytest
import torch

from isbnet_trt.plugins.ball_query import reference as bq_reference
from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference
from isbnet_trt.plugins.sparse_conv.reference import sparse_conv


@pytest.fixture(scope="module")
def gc():
    """The script's module; it also holds the names it imports from the modules it is split into
    (`check_report`, `gpu_kernel_checks`, `stage_checks`)."""
    from isbnet_trt.benchmarks import gpu_check

    return gpu_check


def test_arguments(gc):
    args = gc.parse_args(["--points", "30000", "--repeat", "3", "--skip-timing"])
    assert args.points == [30000] and args.repeat == 3 and args.skip_timing and args.device == "cuda:0"
    assert gc.parse_args([]).points == [50_000, 150_000]
    for bad in (["--points", "10"], ["--repeat", "0"]):
        with pytest.raises(SystemExit):
            gc.parse_args(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the refusal path is not taken")
def test_without_cuda_it_says_why_and_writes_nothing(gc, tmp_path, capsys):
    assert gc.main(["--points", "1000", "--out", str(tmp_path)]) == 2
    assert "sees no CUDA device" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_report_files(gc, tmp_path):
    report = gc.Report(
        environment={"gpu": {"name": "Test GPU 1"}, "packages": {"torch": "2.13"}},
        settings={"points": "[1000]"},
        checks=[
            gc.Check("FPS isbnet block [room]", True, {"first_mismatch": None}),
            gc.Check("conv", False, {"fp32_rel_err": 3e-4}, "tol"),
        ],
        timings=[
            {"scene": "room", "pipeline": "ours", "total_ms": 12.5},
            {"scene": "room", "pipeline": "ops", "fps_ms": 0.75},
        ],
    )
    md, js = gc.write_report(report, tmp_path)
    assert md.name.startswith("gpu_check-test-gpu-1-") and md.suffix == ".md" and js.suffix == ".json"
    text = md.read_text()
    assert (
        "**Result: FAILED** (1/2 checks passed)" in text and "| conv | **FAIL** |" in text and "12.5" in text
    )
    assert "| scene | pipeline | fps_ms |" in text and "| room | ops | 0.75 |" in text  # own table
    data = json.loads(js.read_text())
    assert data["passed"] is False and data["checks"][0]["name"] == "FPS isbnet block [room]"
    assert gc.render_markdown(gc.Report(errors=["no GPU"])).count("NOT RUN") == 1


@pytest.fixture()
def _cpu_stand_ins(monkeypatch):
    """CPU reference ops in place of the `plugins/<op>/cuda.py` bindings (test of the harness only,
    see module doc)."""
    from isbnet_trt.plugins import spec
    from isbnet_trt.plugins.ball_query import cuda as bq_cuda
    from isbnet_trt.plugins.farthest_point_sample import cuda as fps_cuda
    from isbnet_trt.plugins.sparse_conv import cuda as conv_cuda

    def fps(xyz, n_sample, variant="isbnet", algorithm="auto"):
        out = fps_reference.farthest_point_sample(xyz, n_sample, variant).to(torch.int32)
        return out[: spec.fps_output_size(len(xyz), n_sample, variant)]

    monkeypatch.setattr(fps_cuda, "farthest_point_sample", fps)
    monkeypatch.setattr(
        bq_cuda, "ball_query", lambda x, c, r, n: bq_reference.ball_query(x, c, r, n).to(torch.int32)
    )
    monkeypatch.setattr(
        conv_cuda,
        "sparse_conv",
        lambda f, k, w, m=None, algorithm="tile": sparse_conv(f.float(), k, w.float()).to(f.dtype),
    )


@pytest.mark.usefixtures("_cpu_stand_ins")
def test_harness_logic_with_cpu_stand_ins(gc):
    from isbnet_trt.isbnet.config import ModelConfig
    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.training.synthetic import generate_room

    room = generate_room(3000, seed=1)
    scene = prepare_scene(room.points, room.superpoints, ModelConfig())
    report = gc.Report()
    gc.check_geometry(report, scene, "room 3k", "cpu")
    gc.check_sparse_conv(report, scene, "room 3k", "cpu", channels=8)
    gc.check_kernel_maps(report, scene, "room 3k", "cpu", gc.parse_args(["--skip-timing"]))
    gc.check_preprocess(
        report, room, scene, ModelConfig(), "room 3k", "cpu", gc.parse_args(["--skip-timing"])
    )
    names = [c.name for c in report.checks]
    assert sum(n.startswith("FPS") for n in names) == 8 and sum(n.startswith("BallQuery") for n in names) == 4
    assert sum(n.startswith("SparseConv3d level") for n in names) == 3 * len(scene.maps) - 2
    assert sum(n.startswith("SparseConv3d split-K") for n in names) == 3 * len(scene.maps) - 2
    assert sum(n.startswith("kernel maps") for n in names) == 1
    assert sum(n.startswith("scene preparation") for n in names) == 1
    failed = [(c.name, c.details) for c in report.checks if not c.passed]
    assert not failed


def test_pipeline_harness_on_the_cpu(gc, golden_dir, fixtures_dir):
    """check_pipeline's bookkeeping (traces, matching, verdict) with DeviceStages on the CPU,
    where it runs the reference ops; timing (CUDA-only) is skipped."""
    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.training.synthetic import generate_room

    args = gc.parse_args(["--skip-timing", "--shared", str(fixtures_dir.parent)])
    model, source = gc.load_model_and_cfg(args)
    assert "random_scannetv2_lightweight.pth" in source
    room = generate_room(8000, seed=2)
    scene = prepare_scene(room.points, room.superpoints, model.cfg)
    report = gc.Report()
    gpu_scene = gc.check_preprocess(report, room, scene, model.cfg, "room 8k", "cpu", args)
    gc.check_pipeline(report, model, scene, gpu_scene, "room 8k", "cpu", args)
    checks = {c.name.split(" [")[0]: c for c in report.checks}
    assert all(c.passed for c in report.checks), [(c.name, c.details) for c in report.checks]
    assert {"stage backbone vs CPU reference", "stage aggregator 1 (teacher-forced)"} <= set(checks)
    assert "stage decoder round 0 (teacher-forced)" in checks
    assert checks["stage aggregator 1 (teacher-forced)"].details["inds_identical"]
    end_to_end = checks["pipeline instances GPU kernels vs CPU reference"].details
    assert end_to_end["unmatched"] == 0 and end_to_end["instances"].split("/")[0] != "0"
    assert end_to_end["gpu_prepared_unmatched"] == 0


def test_unet_vs_spconv_harness_on_the_cpu(gc):
    """check_unet_vs_spconv on the CPU: our kernel wiring (reference ops there) against spconv's
    CPU build; timing (CUDA-only) is skipped."""
    pytest.importorskip("spconv.pytorch", reason="spconv is not installed")
    from isbnet_trt.isbnet.config import ModelConfig
    from isbnet_trt.isbnet.model import ISBNet
    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.training.synthetic import generate_room

    torch.manual_seed(0)
    cfg = ModelConfig(channels=8, num_blocks=3)
    model = ISBNet(cfg).eval()
    room = generate_room(4000, seed=3)
    scene = prepare_scene(room.points, room.superpoints, cfg)
    report = gc.Report()
    gc.check_unet_vs_spconv(report, model, scene, "room 4k", "cpu", gc.parse_args(["--skip-timing"]))
    (check,) = report.checks
    assert check.name == "U-Net our kernels vs spconv [room 4k]" and check.passed, check.details
    assert check.details["rel_err"] < 1e-5 and check.details["levels"] == 3
