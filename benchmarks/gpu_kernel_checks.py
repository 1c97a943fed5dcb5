"""The GPU check's op-level checks: each `isbnet::` CUDA kernel, the kernel-map builder and the
scene preparation on the GPU against the CPU reference, and per-op timings.
"""

from __future__ import annotations

import argparse
from typing import Any

from isbnet_trt.benchmarks.check_report import Check, Report
from isbnet_trt.benchmarks.stage_checks import FP32_REL_TOL, median_ms, rel_err


def check_geometry(report: Report, scene, label: str, device: str) -> None:
    """FPS and ball query, CUDA vs CPU reference, on the scene's voxel centres."""
    import numpy as np
    import torch

    from isbnet_trt.plugins.ball_query import cuda as bq_cuda
    from isbnet_trt.plugins.ball_query import reference as bq_reference
    from isbnet_trt.plugins.farthest_point_sample import cuda as fps_cuda
    from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference

    xyz = scene.voxel_coords_float.float().contiguous()
    xyz_gpu = xyz.to(device)
    rng = np.random.default_rng(0)
    grid = torch.from_numpy((rng.integers(-40, 40, size=(min(len(xyz), 20000), 3)) * 0.02).astype(np.float32))
    cases = [
        ("isbnet", xyz, 2048, "voxels"),
        ("pointnet2", xyz[:2048], 192, "first 2048 voxels"),
        ("isbnet", grid, 1024, "integer grid (ties, duplicates)"),
        ("pointnet2", grid, 256, "integer grid (ties, duplicates, origin)"),
    ]
    for variant, pts, n_sample, what in cases:
        ref = fps_reference.farthest_point_sample(pts, n_sample, variant).numpy()  # spec length already
        for algorithm in ("block", "grid"):
            got = (
                fps_cuda.farthest_point_sample(pts.to(device), n_sample, variant, algorithm=algorithm)
                .cpu()
                .numpy()
            )
            same = got.shape == ref.shape and bool(np.array_equal(got, ref))
            first = int(np.argmax(got != ref)) if got.shape == ref.shape and not same else None
            report.checks.append(
                Check(
                    f"FPS {variant} {algorithm} [{label}, {what}]",
                    same,
                    {"n_points": len(pts), "n_sample": n_sample, "first_mismatch": first},
                )
            )
    centres = xyz[torch.from_numpy(fps_reference.farthest_point_sample(xyz, 2048, "isbnet").numpy())]
    for pts, qs, radius, n_sample, what in [
        (xyz, centres, 0.2, 32, "pa1 grouping"),
        (centres, centres, 0.4, 64, "pa1 post-grouping"),
        (centres[:1024], centres[:256], 0.8, 32, "pa2 post-grouping"),
        (xyz, xyz[:500] + 5.0, 0.2, 8, "no neighbours"),
    ]:
        ref = bq_reference.ball_query(pts, qs, radius, n_sample).numpy()
        got = bq_cuda.ball_query(pts.to(device), qs.to(device), radius, n_sample).cpu().numpy()
        same = bool(np.array_equal(got, ref))
        report.checks.append(
            Check(
                f"BallQuery r={radius} n={n_sample} [{label}, {what}]",
                same,
                {
                    "n_points": len(pts),
                    "n_centres": len(qs),
                    "mismatched_rows": int((got != ref).any(1).sum()),
                },
            )
        )
    del xyz_gpu


def check_sparse_conv(report: Report, scene, label: str, device: str, channels: int, repeat: int = 0) -> None:
    """Every kernel map of the U-Net, float32 (gated) and float16 (reported), vs the CPU reference;
    with `repeat` > 0 also the median time of each float32 conv (which levels the kernel is slow on)."""
    import torch

    from isbnet_trt.plugins.sparse_conv import cuda as conv_cuda
    from isbnet_trt.plugins.sparse_conv.reference import sparse_conv

    gen = torch.Generator().manual_seed(0)
    for level, lm in enumerate(scene.maps):
        c_in = channels * (level + 1)
        for kind in ("subm", "down", "up"):
            table = getattr(lm, kind)
            if table is None:
                continue
            n_in = int(table.max()) + 1 if table.size else 0
            c_out = c_in if kind == "subm" else channels * (level + 2 if kind == "down" else level + 1)
            k = table.shape[1]
            feats = torch.randn(max(n_in, 1), c_in if kind != "up" else channels * (level + 2), generator=gen)
            weight = torch.randn(k, feats.shape[1], c_out, generator=gen) / (k * feats.shape[1]) ** 0.5
            kmap = torch.from_numpy(table)
            ref = sparse_conv(feats, kmap, weight)
            feats_d, kmap_d, weight_d = feats.to(device), kmap.to(device), weight.to(device)
            dev_args = (feats_d, kmap_d, weight_d, n_in)
            rel = rel_err(conv_cuda.sparse_conv(*dev_args), ref)
            rel16 = rel_err(conv_cuda.sparse_conv(feats_d.half(), kmap_d, weight_d.half()), ref)
            split = rel_err(conv_cuda.sparse_conv(*dev_args, algorithm="splitk"), ref)
            timing = {}
            if repeat > 0:
                for algorithm in conv_cuda.SPARSE_CONV_ALGORITHMS:
                    timing[f"{algorithm}_fp32_ms"] = median_ms(
                        lambda a=algorithm, d=dev_args: conv_cuda.sparse_conv(*d, algorithm=a), repeat, 1
                    )
            report.checks.append(
                Check(
                    f"SparseConv3d level {level} {kind} [{label}]",
                    rel <= FP32_REL_TOL,
                    {
                        "n_out": table.shape[0],
                        "K": k,
                        "c_in": feats.shape[1],
                        "c_out": c_out,
                        "fp32_rel_err": rel,
                        "fp16_rel_err": rel16,
                        **timing,
                    },
                    note="" if rel <= FP32_REL_TOL else f"fp32 tolerance {FP32_REL_TOL}",
                )
            )
            report.checks.append(
                Check(
                    f"SparseConv3d split-K level {level} {kind} [{label}]",
                    split <= FP32_REL_TOL,
                    {"n_out": table.shape[0], "fp32_rel_err": split},
                    note="" if split <= FP32_REL_TOL else f"fp32 tolerance {FP32_REL_TOL}",
                )
            )


def check_kernel_maps(report: Report, scene, label: str, device: str, args: argparse.Namespace) -> None:
    """The PyTorch kernel-map builder on the GPU vs the NumPy builder: identical tables; both timed."""
    import numpy as np
    import torch

    from isbnet_trt.plugins.kernel_maps.reference import build_unet_maps as numpy_maps
    from isbnet_trt.plugins.kernel_maps.torch_maps import build_unet_maps as torch_maps

    base = scene.maps[0]
    coords = torch.from_numpy(base.coords).to(device)
    got = torch_maps(coords, len(scene.maps), base.spatial_shape)
    same = len(got) == len(scene.maps) and all(
        (getattr(r, k) is None and getattr(g, k) is None)
        or (getattr(g, k) is not None and np.array_equal(getattr(g, k).cpu().numpy(), getattr(r, k)))
        for r, g in zip(scene.maps, got, strict=False)
        for k in ("subm", "down", "up")
    )
    report.checks.append(
        Check(f"kernel maps torch-on-GPU == numpy [{label}]", same, {"voxels": scene.n_voxels})
    )
    if not args.skip_timing:
        report.timings.append(
            {
                "scene": label,
                "pipeline": "kernel maps",
                "points": len(scene.v2p),
                "voxels": scene.n_voxels,
                "numpy_cpu_ms": median_ms(
                    lambda: numpy_maps(base.coords, len(scene.maps), base.spatial_shape), 3, 1
                ),
                "torch_gpu_ms": median_ms(
                    lambda: torch_maps(coords, len(scene.maps), base.spatial_shape), 5, 2
                ),
            }
        )


def check_preprocess(report: Report, room, scene, cfg, label: str, device: str, args: argparse.Namespace):
    """Scene preparation with PyTorch ops on the GPU (`TorchPreprocessor`) vs the NumPy path:
    the same scene bit for bit; both timed (NumPy with the numba kernel maps, as the pipeline's
    CPU path). Returns the GPU-prepared scene (for `check_pipeline`)."""
    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.runtime.pipeline import cpu_map_builder
    from isbnet_trt.runtime.torch_preprocess import TorchPreprocessor, scene_differences

    prepare_on_gpu = TorchPreprocessor(device)
    gpu_scene = prepare_on_gpu(room.points, room.superpoints, cfg, False)
    differences = scene_differences(scene, gpu_scene)
    report.checks.append(
        Check(
            f"scene preparation torch-on-GPU == numpy [{label}]",
            not differences,
            {"voxels": scene.n_voxels, "differing_fields": ", ".join(differences) or "none"},
        )
    )
    if not args.skip_timing:
        builder = cpu_map_builder()
        report.timings.append(
            {
                "scene": label,
                "pipeline": "scene preparation",
                "points": len(room.points),
                "voxels": scene.n_voxels,
                "numpy_cpu_ms": median_ms(
                    lambda: prepare_scene(room.points, room.superpoints, cfg, map_builder=builder), 3, 1
                ),
                "torch_gpu_ms": median_ms(
                    lambda: prepare_on_gpu(room.points, room.superpoints, cfg, False), 5, 2
                ),
            }
        )
    return gpu_scene


def time_kernels(report: Report, scene, label: str, device: str, args: argparse.Namespace) -> None:
    """Per-op timings: FPS (both kernels), ball query, level-0 SubMConv3d vs torch and spconv."""
    import torch

    from isbnet_trt.plugins.ball_query import cuda as bq_cuda
    from isbnet_trt.plugins.farthest_point_sample import cuda as fps_cuda
    from isbnet_trt.plugins.farthest_point_sample.reference import farthest_point_sample as cpu_fps
    from isbnet_trt.plugins.sparse_conv import cuda as conv_cuda
    from isbnet_trt.plugins.sparse_conv.reference import KernelPairs, sparse_conv

    xyz = scene.voxel_coords_float.float().to(device)
    row: dict[str, Any] = {
        "scene": label,
        "pipeline": "ops",
        "points": len(scene.v2p),
        "voxels": scene.n_voxels,
    }
    row["fps2048_block_ms"] = median_ms(
        lambda: fps_cuda.farthest_point_sample(xyz, 2048, algorithm="block"), args.repeat, 1
    )
    row["fps2048_grid_ms"] = median_ms(
        lambda: fps_cuda.farthest_point_sample(xyz, 2048, algorithm="grid"), args.repeat, 1
    )
    row["fps2048_cpu_reference_ms"] = median_ms(lambda: cpu_fps(xyz.cpu(), 2048), 1, 0)
    centres = xyz[fps_cuda.farthest_point_sample(xyz, 2048).long()]
    row["ballquery_r0.2_n32_ms"] = median_ms(
        lambda: bq_cuda.ball_query(xyz, centres, 0.2, 32), args.repeat, 1
    )
    table = scene.maps[0].subm
    c = 32
    feats = torch.randn(len(table), c, device=device)
    weight = torch.randn(27, c, c, device=device)
    kmap = torch.from_numpy(table).to(device)
    pairs = KernelPairs.build(table, device=device)
    row["subm_l0_ours_ms"] = median_ms(
        lambda: conv_cuda.sparse_conv(feats, kmap, weight, len(table)), args.repeat, args.warmup
    )
    row["subm_l0_ours_fp16_ms"] = median_ms(
        lambda: conv_cuda.sparse_conv(feats.half(), kmap, weight.half(), len(table)), args.repeat, args.warmup
    )
    row["subm_l0_torch_ms"] = median_ms(lambda: sparse_conv(feats, pairs, weight), args.repeat, args.warmup)
    row["subm_l0_spconv_ms"] = _spconv_subm_ms(scene.maps[0], feats, args)
    report.timings.append(row)


def _spconv_subm_ms(level, feats, args: argparse.Namespace) -> float | None:
    """spconv SubMConv3d on the same voxels (None when spconv is not installed)."""
    try:
        import spconv.pytorch as spconv
        import torch
    except ImportError:
        return None
    coords = torch.from_numpy(level.coords.astype("int32"))
    indices = torch.cat([torch.zeros(len(coords), 1, dtype=torch.int32), coords], 1).to(feats.device)
    conv = spconv.SubMConv3d(feats.shape[1], feats.shape[1], 3, padding=1, bias=False, indice_key="s").to(
        feats.device
    )
    shape = [int(s) for s in level.spatial_shape]

    def run():
        x = spconv.SparseConvTensor(feats, indices, shape, 1)
        return conv(x).features

    with torch.no_grad():
        return median_ms(run, args.repeat, args.warmup)
