"""benchmarks/cost_model.py and the report of benchmarks/run_benchmarks.py (no timing asserted)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.isbnet.sparse_conv import Conv1x1, SparseConv3d, SparseInverseConv3d, SubMConv3d
from isbnet_trt.plugins.sparse_conv.reference import KernelPairs
from isbnet_trt.training.synthetic import generate_room


@pytest.fixture(scope="module")
def cm():
    from isbnet_trt.benchmarks import cost_model

    return cost_model


@pytest.fixture(scope="module")
def rb():
    from isbnet_trt.benchmarks import run_benchmarks

    return run_benchmarks


def test_mac_counter_on_a_hand_made_kernel_map(cm):
    table = np.array([[0, -1, 2], [-1, -1, -1], [1, 1, -1], [3, -1, -1]], np.int32)  # 5 active pairs
    assert cm.active_pairs(table) == 5
    assert cm.conv_macs(table, 4, 7) == 5 * 4 * 7


def test_backbone_macs_equal_the_pairs_the_convs_use(cm, golden_ckpt):
    """The structural count equals a count taken by hooks on every conv of a real forward."""
    model = load_model(*golden_ckpt)
    room = generate_room(3_000, seed=2)
    scene = prepare_scene(room.points, room.superpoints, model.cfg)
    seen = []

    def hook(mod, inputs, _out):
        if isinstance(mod, Conv1x1):
            seen.append(inputs[0].shape[0] * mod.in_channels * mod.out_channels)
        else:
            km = inputs[1]
            table = km.table.numpy() if isinstance(km, KernelPairs) else np.asarray(km)
            seen.append(cm.conv_macs(table, mod.in_channels, mod.out_channels))

    convs = (SubMConv3d, SparseConv3d, SparseInverseConv3d, Conv1x1)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, convs)]
    with torch.no_grad():
        model.backbone(scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
    for h in handles:
        h.remove()
    cost = cm.backbone_cost(cm.structure_model(model.cfg), scene.maps, int(scene.voxel_spps.max()) + 1)
    assert len(cost.detail["convs"]) == len(seen)
    assert cost.detail["sparse_conv_macs"] + cost.detail["conv1x1_macs"] == sum(seen)


def test_stage_costs_and_floors(cm, golden_ckpt):
    model = cm.structure_model(load_model(*golden_ckpt).cfg)
    room = generate_room(2_000, seed=1)
    maps = prepare_scene(room.points, room.superpoints, model.cfg).maps
    workload = {
        "voxels": maps[0].num_voxels,
        "superpoints": 300,
        "foreground_voxels": 1000,
        "pa1_queries": 2048,
        "rounds": [[2048, 192, 10], [900, 128, 5]],
    }
    costs = cm.scene_costs(model, maps, workload, 2_000, 4)
    assert {
        "preprocess",
        "backbone",
        "aggregator",
        "decoder_r0",
        "decoder_r1",
        "decoder",
        "postprocess",
    } <= set(costs)
    assert costs["decoder"].macs == pytest.approx(costs["decoder_r0"].macs + costs["decoder_r1"].macs)
    # dynamic convolution: queries x superpoints x generated weights per query
    assert costs["decoder_r1"].detail["dynamic_conv_macs"] == 128 * 300 * sum(model.weight_nums)
    assert costs["aggregator"].detail["fps_updates"] == 1000 * 2048
    machine = cm.MachineThroughput(
        threads=1,
        peak_gflops=100.0,
        peak_gflops_1thread=100.0,
        bandwidth_gbs=10.0,
        shape_gflops={cm.shape_key(k, n): 50.0 for k, n in cm.backbone_shapes(model)},
    )
    table = cm.floors_table(costs, machine)
    bb = table["backbone"]
    assert bb["compute_ms"] == pytest.approx(2 * costs["backbone"].macs / 100e9 * 1e3)
    assert bb["floor_ms"] == max(bb["compute_ms"], bb["memory_ms"])
    assert bb["shape_floor_ms"] > bb["compute_ms"]  # convs at half the peak
    stages = ("preprocess", "backbone", "aggregator", "decoder", "postprocess")
    assert table["total"]["floor_ms"] == pytest.approx(sum(table[s]["floor_ms"] for s in stages))


def test_gemm_and_bandwidth_measurements_run(cm):
    assert cm.gemm_gflops(64, 16, 16, min_time_s=0.0) > 0
    assert cm.copy_bandwidth_gbs(mib=4, min_time_s=0.0) > 0


def _result(n: int, speed_ms: float, same: bool, ratio: float | None) -> dict:
    total = {"median": speed_ms, "min": speed_ms, "max": speed_ms, "q1": speed_ms, "q3": speed_ms, "n": 1}
    rows = [
        {"backend": "torch", "n_points": n, "status": "ok", "stages": {"total": {**total, "median": 300.0}}},
        {
            "backend": "onnxruntime",
            "n_points": n,
            "status": "ok",
            "stages": {"total": total},
            "match": {"same": same},
        },
    ]
    result = {
        "rows": rows,
        "setup": {},
        "settings": {"backends": ["torch", "onnxruntime"]},
        "derived": {
            str(n): {
                "fastest_pytorch": "torch",
                "speedup": {
                    "onnxruntime": {"vs_fastest_pytorch": 300.0 / speed_ms, "vs_torch": 300.0 / speed_ms}
                },
            }
        },
    }
    if ratio is not None:
        result["cost"] = {"ratio_to_floor": {str(n): {"onnxruntime": {"backbone": ratio}}}}
    return result


def test_targets(rb):
    met = rb.targets(_result(150_000, 100.0, True, 2.0))
    assert [t["status"] for t in met] == ["met", "met"]
    missed = rb.targets(_result(150_000, 100.0, False, 5.0))
    assert [t["status"] for t in missed] == ["missed", "missed"]
    quick = rb.targets(_result(30_000, 100.0, True, None))
    assert "not measured in this run" in quick[0]["target"] and quick[1]["status"] == "not measured"


def test_quick_arguments(rb):
    args = rb.parse_args(["--quick"])
    assert (args.points, args.repeat, args.warmup) == ([30_000], 1, 1)
    assert rb.parse_args([]).points == [30_000, 80_000, 150_000, 300_000]


def test_cost_markdown_holds_gpu_backends_to_the_gpu_floor(rb):
    """With a GPU measured, the table gets a GPU-floor column and says which cells use it."""
    stage = {"gmac": 1.0, "other_gflop": 0.0, "min_mb": 1.0, "compute_ms": 2.0, "memory_ms": 1.0}
    cpu_floor = {"backbone": {**stage, "floor_ms": 2.0}, "total": {"floor_ms": 2.0}}
    gpu_floor = {"backbone": {**stage, "floor_ms": 0.05}, "total": {"floor_ms": 0.05}}
    machine = {"peak_gflops": 100.0, "peak_gflops_1thread": 50.0, "threads": 2, "peak_size": 2048}
    cost = {
        "machine": {**machine, "bandwidth_gbs": 10.0, "shape_gflops": {}},
        "gpu_machine": {**machine, "peak_gflops": 50_000.0, "bandwidth_gbs": 3000.0, "peak_size": 8192},
        "floors": {"30000": cpu_floor},
        "gpu_floors": {"30000": gpu_floor},
        "ratio_to_floor": {"30000": {"torch": {"backbone": 3.0}, "torch-cuda": {"backbone": 40.0}}},
    }
    result = {"cost": cost, "settings": {"backends": ["torch", "torch-cuda"]}}
    text = "\n".join(rb.cost_markdown(result))
    assert "`torch.mm` peak 50000 GFLOP/s" in text and "GPU floor ms | torch | torch-cuda |" in text
    assert "| backbone | 1 | 0 | 1 | 2.00 (2.00 / 1.00) | 0.05 | 3.0× | 40.0× |" in text
    del cost["gpu_machine"], cost["gpu_floors"]
    assert "GPU floor" not in "\n".join(rb.cost_markdown(result))


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device: the GPU throughput is not measured"
)
def test_gpu_measurements_run(cm):
    gpu = cm.measure_gpu([(16, 16)], peak_size=256, min_time_s=0.0)
    assert gpu.peak_gflops > 0 and gpu.bandwidth_gbs > 0 and gpu.shape_gflops
