"""The benchmark harness (benchmarks/runner.py, worker.py, report.py, machine.py, command.py) and the
backends it adds (torch-spconv, torch-numba).

The harness runs for real on a tiny room with one timed call (structure of the result, the
markdown and the JSON; one run through a worker process); the derived ratios and the report
cells are checked on hand-made rows. No assertion on any time.
"""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from isbnet_trt.benchmarks import command, machine, report, runner
from isbnet_trt.benchmarks.worker import (
    instances_digest,
    load_instances,
    peak_memory,
    save_instances,
)
from isbnet_trt.isbnet.aggregator import ReferenceGeometry
from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.training.synthetic import generate_room

TINY = 3_000


@pytest.fixture(scope="module")
def tiny_result(golden_ckpt, tmp_path_factory):
    settings = runner.BenchmarkSettings(
        *golden_ckpt, sizes=(TINY,), backends=("torch",), repeat=1, warmup=0, threads=1, isolate=False
    )
    return runner.run_benchmark(settings, work_dir=tmp_path_factory.mktemp("bench"), log=lambda s: None)


def test_harness_result_structure(tiny_result):
    r = tiny_result
    assert r["settings"]["backends"][0] == "torch"
    assert {"cpu", "cores", "threads", "packages", "loadavg_start", "loadavg_end"} <= set(r["machine"])
    assert r["machine"]["threads"] == 1
    (row,) = r["rows"]
    assert row["backend"] == "torch" and row["n_points"] == TINY and row["status"] == "ok"
    for stage in ("preprocess", "backbone", "total"):
        s = row["stages"][stage]
        assert s["n"] == 1 and s["min"] <= s["median"] <= s["max"]
    if row["n_instances"]:  # the rounds are timed one by one
        assert any(k.startswith("decoder_r") for k in row["stages"])
    assert row["workload"]["voxels"] > 0 and row["workload"]["levels"][0] == row["workload"]["voxels"]
    assert row["kernel_maps"]["n"] == 1
    assert row["match"]["same"] and row["deterministic"]
    assert (
        row["memory"]["peak_rss_mib"] is None
        or row["memory"]["peak_rss_mib"] >= row["memory"]["base_rss_mib"]
    )
    assert r["derived"][str(TINY)]["speedup"]["torch"]["vs_torch"] == pytest.approx(1.0)
    json.loads(json.dumps(r, default=str))  # JSON-able


def test_markdown_and_files(tiny_result, tmp_path):
    md = report.render_markdown(tiny_result)
    assert f"## {TINY:,} points" in md
    assert "| torch |" in md and "reference" in md and "peak RSS" in md
    stem = report.report_stem(tiny_result)
    assert stem.startswith("cpu_") and tiny_result["machine"]["date_utc"][:10] in stem
    on_gpu = {
        "machine": {**tiny_result["machine"], "gpu": "NVIDIA H200 (140 GiB, sm 9.0)"},
        "rows": [{"backend": "torch-cuda", "status": "ok"}],
    }
    assert report.report_stem(on_gpu).startswith("gpu_nvidia-h200_")
    assert report.report_stem({**on_gpu, "rows": []}).startswith("cpu_")  # GPU present, not measured
    md_path, js_path = report.write_report(tiny_result, tmp_path, stem)
    assert md_path.read_text() == md
    assert json.loads(js_path.read_text())["rows"][0]["backend"] == "torch"


def test_worker_process(golden_ckpt, tmp_path):
    """The real path: the backend measured in a process of its own, results read back."""
    settings = runner.BenchmarkSettings(
        *golden_ckpt, sizes=(1_000,), backends=("torch",), repeat=1, warmup=0, threads=1, timeout_s=600
    )
    r = runner.run_benchmark(settings, work_dir=tmp_path, log=lambda s: None)
    assert r["setup"]["torch"]["status"] == "ok", r["setup"]
    assert r["setup"]["torch"]["threads"]["torch"] == 1
    assert r["rows"][0]["status"] == "ok" and r["rows"][0]["match"]["same"]
    # cold start: a new process to its first result, so more than building the stages
    setup = r["setup"]["torch"]
    assert setup["cold_start_s"] > setup["setup_s"] > 0
    assert f"| {setup['cold_start_s']:.1f} |" in "\n".join(report.setup_lines(r))


def test_unknown_and_unavailable_backends():
    reasons = machine.backend_availability(["torch", "nope"])
    assert reasons["torch"] is None and "unknown" in reasons["nope"]
    if not torch.cuda.is_available():
        assert "GPU" in machine.backend_availability(["torch-cuda"])["torch-cuda"]
    assert "torch" in machine.default_backends() and "onnxruntime-bodies" not in machine.default_backends()


# ------------------------------------------------------------------------------ derived numbers
def _row(backend: str, n: int, total_ms: float, same: bool = True, maps_ms: float | None = None) -> dict:
    s = {"median": total_ms, "min": total_ms, "max": total_ms, "q1": total_ms, "q3": total_ms, "n": 1}
    row = {
        "backend": backend,
        "n_points": n,
        "status": "ok",
        "stages": {"total": s},
        "match": None if backend == "torch" else {"same": same},
    }
    if maps_ms is not None:
        row["kernel_maps"] = {"median": maps_ms}
    return row


def test_derive_fastest_correct_pytorch_path():
    rows = [
        _row("torch", 1000, 400.0, maps_ms=50.0),
        _row("torch-spconv", 1000, 300.0),  # 250 without the unused kernel maps
        _row("onnxruntime", 1000, 100.0),
        _row("torch", 2000, 400.0, maps_ms=0.0),
        _row("torch-spconv", 2000, 100.0, same=False),  # fast but wrong: not a baseline
        _row("onnxruntime", 2000, 200.0),
    ]
    d = runner.derive(rows)
    assert d["1000"]["fastest_pytorch"] == "torch-spconv"
    assert d["1000"]["fastest_pytorch_ms"] == pytest.approx(250.0)
    assert d["1000"]["speedup"]["onnxruntime"] == {"vs_torch": 4.0, "vs_fastest_pytorch": 2.5}
    assert d["2000"]["fastest_pytorch"] == "torch"
    assert d["2000"]["speedup"]["onnxruntime"]["vs_fastest_pytorch"] == pytest.approx(2.0)


def test_summary_and_cells():
    s = runner.Summary.of([0.004, 0.001, 0.002, 0.003])
    assert (s.median, s.min, s.max, s.n) == (2.5, 1.0, 4.0, 4)
    assert s.q1 == pytest.approx(1.75) and s.q3 == pytest.approx(3.25)
    one = runner.Summary.of([0.5])
    assert one.q1 == one.q3 == one.median == 500.0
    assert report.fmt_ms(None) == "-" and report.fmt_ms(12.345) == "12.3" and report.fmt_ms(1234.5) == "1234"
    bad = {"backend": "x", "match": {"same": False, "unmatched": 2, "min_iou": 0.5, "max_score_diff": 0.1}}
    assert "**NO**" in report._same_cell(bad)
    assert machine.machine_slug({"cpu": "Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz", "cores": 8}) == (
        "intel-xeon-e5-2690-v4-8c"
    )
    assert runner.load_notes({"cores": 2, "loadavg_start": [1.9, 1, 1], "loadavg_end": [0.1, 0, 0]})
    # the end's load average is the benchmark's own: only other processes' CPU share counts
    assert not runner.load_notes({"cores": 2, "loadavg_start": [0.1, 0, 0], "loadavg_end": [1.9, 1, 1]})
    assert runner.load_notes({"cores": 2, "loadavg_start": [0.1, 0, 0], "other_cpu_share": 0.4})
    assert not runner.load_notes({"cores": 2, "loadavg_start": [1.9, 1, 1], "other_cpu_share": 0.01})


def test_own_children_are_not_other_processes():
    """The workers' CPU time (waited-for children) counts as the benchmark's own."""
    start = machine.cpu_clock()
    if start is None:
        pytest.skip("no /proc/stat or resource module")
    subprocess.run([sys.executable, "-c", "import time\nwhile time.process_time() < 0.5: pass"], check=True)
    end = machine.cpu_clock()
    assert end[2] - start[2] >= 0.5  # own CPU seconds include the child's
    assert end[1] - start[1] >= 0.45  # and the machine saw them as busy
    assert machine.other_cpu_share(start, os.cpu_count() or 1) is not None


def test_instances_round_trip_and_digest(tmp_path):
    from isbnet_trt.isbnet.postprocess import Instances

    rng = np.random.default_rng(0)
    masks = rng.random((3, 37)) < 0.3
    inst = Instances(np.arange(3), np.arange(3) + 1, np.float32([0.9, 0.5, 0.2]), masks, np.zeros((3, 6)))
    save_instances(inst, tmp_path / "a.npz")
    labels, scores, got = load_instances(tmp_path / "a.npz")
    assert np.array_equal(got, masks) and np.array_equal(labels, inst.label_ids)
    other = Instances(inst.semantic_classes, inst.label_ids, inst.scores, ~masks, inst.boxes)
    assert instances_digest(inst) == instances_digest(inst) != instances_digest(other)


def test_peak_memory_sees_an_allocation():
    # Fresh anonymous pages: a malloc'd block may reuse memory that is already resident (the
    # allocator's thresholds depend on what ran before in this process), which adds no RSS.
    size = 64 * 2**20
    with peak_memory(sync_cuda=False) as mem:
        block = mmap.mmap(-1, size)
        block.write(b"\1" * size)  # touch every page
        block.close()
    if mem["peak_rss_mib"] is None:
        pytest.skip(f"no RSS on this OS ({mem['method']})")
    assert mem["peak_rss_mib"] - mem["base_rss_mib"] > 32


# ------------------------------------------------------------------------------ the extra backends
@pytest.fixture(scope="module")
def small_scene(golden_ckpt):
    model = load_model(*golden_ckpt)
    room = generate_room(4_000, seed=3)
    return model, prepare_scene(room.points, room.superpoints, model.cfg)


def test_spconv_backbone_equals_torch_backbone(small_scene):
    pytest.importorskip(
        "spconv.pytorch", reason="spconv not installed: the torch-spconv backend is not checked"
    )
    from isbnet_trt.benchmarks.torch_spconv import SpconvStages

    model, scene = small_scene
    args = (scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
    threads = torch.get_num_threads()
    with torch.no_grad():
        ref = model.backbone(*args)
        got = SpconvStages(model).backbone(*args)
    assert torch.get_num_threads() == threads  # the U-Net's single thread is given back
    for name in (
        "feats",
        "semantic_scores",
        "corners_offset",
        "box_preds",
        "spp_coords",
        "spp_boxes",
        "mask_features",
    ):
        a, b = getattr(ref, name), getattr(got, name)
        scale = float(a.abs().max()) or 1.0
        assert float((a - b).abs().max()) <= 1e-5 * scale, name
    assert torch.equal(ref.object_mask, got.object_mask)


def test_spconv_device_stages_give_the_reference_instances(small_scene):
    """The torch-cuda-spconv wiring, run on the CPU (spconv's CPU build): the model's instances."""
    pytest.importorskip(
        "spconv.pytorch", reason="spconv not installed: the torch-cuda-spconv wiring is not checked"
    )
    from isbnet_trt.benchmarks.torch_spconv import SpconvDeviceStages
    from isbnet_trt.isbnet.compare import match_instances
    from isbnet_trt.isbnet.inference import forward_test

    model, scene = small_scene
    with torch.no_grad():
        ref = forward_test(model, scene, model.cfg)
    got = forward_test(SpconvDeviceStages(model, "cpu"), scene, model.cfg)
    assert len(ref) > 0
    report = match_instances(*((x.label_ids, x.scores, x.masks) for x in (ref, got)))
    assert report.same(), report


def test_numba_geometry_equals_reference(small_scene):
    pytest.importorskip("numba", reason="numba not installed: the torch-numba backend is not checked")
    from isbnet_trt.benchmarks.torch_numba import NumbaGeometry

    _, scene = small_scene
    xyz = scene.voxel_coords_float
    ref, fast = ReferenceGeometry(), NumbaGeometry()
    for variant, n in (("isbnet", 256), ("pointnet2", 64)):
        assert torch.equal(
            fast.farthest_point_sample(xyz, n, variant), ref.farthest_point_sample(xyz, n, variant)
        )
    centres = xyz[:50]
    assert torch.equal(fast.ball_query(xyz, centres, 0.2, 32), ref.ball_query(xyz, centres, 0.2, 32))


def test_cli_arguments_are_checked(capsys):
    with pytest.raises(SystemExit):
        command.main(["--repeat", "0", "--ckpt", str(Path("x.pth")), "--config", "x.yaml"])
    assert "--repeat" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, points, repeat, warmup",
    [
        ([], list(runner.DEFAULT_SIZES), 10, 2),
        (["--quick"], [30_000], 1, 1),
        (["--quick", "--points", "5000", "8000"], [5000, 8000], 1, 1),
        (["--points", "5000", "--repeat", "3"], [5000], 3, 2),
    ],
)
def test_quick_mode(argv, points, repeat, warmup):
    args = command.build_parser().parse_args(argv)
    command.apply_quick(args)
    assert (args.points, args.repeat, args.warmup) == (points, repeat, warmup)


def test_isbnet_trt_benchmark_passes_options_through(capsys):
    """`isbnet-trt benchmark --opt ...`: the options reach the benchmark's parser."""
    from isbnet_trt import cli

    with pytest.raises(SystemExit):
        cli.main(["benchmark", "--repeat", "0", "--points", "1000"])
    assert "--repeat must be >= 1" in capsys.readouterr().err
