"""GPU check of the `isbnet::` CUDA kernels and of the GPU pipeline, in one command.

    python benchmarks/gpu_check.py                      # synthetic rooms of 50k and 150k points
    python benchmarks/gpu_check.py --points 30000 --ckpt model.pth --config isbnet_scannetv2.yaml

On a machine with an NVIDIA GPU, PyTorch with CUDA, cuda-python and NVRTC (or nvcc), it:

1. compares every kernel with the CPU reference on generated scenes: FPS (both variants, the
   one-block and the multi-block kernel, a tie-heavy set), ball query (ISBNet's radii and
   sizes), sparse conv on every kernel map of the U-Net (both kernels, "tile" and "splitk";
   float32 within tolerance, float16 error reported, each level timed), the PyTorch kernel-map
   builder and scene preparation on the GPU against the NumPy ones: index outputs must be
   identical, float outputs within float32 tolerance (the prepared scene: bit for bit);
2. runs the whole pipeline on the GPU with our kernels (`runtime.backends.torch_cuda.DeviceStages`) and
   matches its instances with the CPU reference run (`isbnet.compare.match_instances`), on the
   CPU-prepared and on the GPU-prepared scene;
3. times every stage (CUDA-synchronised wall clock, median of repeats) against the PyTorch GPU
   baseline (the unmodified reference model on the GPU); where spconv is installed, checks and
   times the U-Net on our kernel against the U-Net on spconv (same weights and voxels);
4. writes `benchmarks/results/gpu_check-<gpu>-<time>.{md,json}` with the machine, GPU, driver and
   library versions beside every number.

Exit status: 0 all checks passed, 1 a check failed, 2 the environment cannot run the check (the
message says what is missing). TensorRT is not used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"
DEFAULT_SHARED = REPO.parent / "shared"

# Tolerances of the float checks (relative to the largest reference magnitude): one kernel, and
# one model stage fed the reference inputs (the export's stage-parity tolerance).
FP32_REL_TOL = 1e-5
STAGE_REL_TOL = 1e-4


@dataclass
class Check:
    """One comparison: name, passed, the numbers behind it, and a note."""

    name: str
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class Report:
    """Everything the check found; `write_report` renders it."""

    environment: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    timings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors and all(c.passed for c in self.checks)


# --------------------------------------------------------------------------------------------
# arguments and environment
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument(
        "--points", type=int, nargs="+", default=[50_000, 150_000], help="points per synthetic room"
    )
    p.add_argument("--seed", type=int, default=0, help="room generator seed (default 0)")
    p.add_argument(
        "--config", type=Path, help="official model config (.yaml); default: the shared lightweight one"
    )
    p.add_argument(
        "--ckpt", type=Path, help="checkpoint; default: the shared golden one, else random weights"
    )
    p.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="shared fixtures folder (default ../shared)"
    )
    p.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs before timing")
    p.add_argument("--device", default="cuda:0", help="CUDA device (default cuda:0)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default benchmarks/results)")
    p.add_argument("--skip-pipeline", action="store_true", help="kernel checks only")
    p.add_argument("--skip-timing", action="store_true", help="no timing")
    p.add_argument(
        "--profile", action="store_true", help="also write a torch.profiler table per scene (our kernels)"
    )
    args = p.parse_args(argv)
    if any(n < 100 for n in args.points):
        p.error("--points must be >= 100")
    if args.repeat < 1 or args.warmup < 0:
        p.error("--repeat must be >= 1 and --warmup >= 0")
    return args


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - any failure means "not installed"
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True
        )
        return (
            out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if out.returncode == 0 else None
        )
    except OSError:
        return None


def collect_environment(device: str | None) -> dict[str, Any]:
    """Machine, Python and library versions; GPU, driver and compiler when `device` is usable."""
    env: dict[str, Any] = {
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "git_commit": _git_commit(),
        "packages": {
            name: _version(name)
            for name in (
                "torch",
                "numpy",
                "cuda-python",
                "cuda-bindings",
                "nvidia-cuda-nvrtc",
                "cupy-cuda13x",
                "onnxruntime",
                "spconv-cu126",
                "spconv",
                "tensorrt",
            )
        },
    }
    try:
        import torch

        env["torch_cuda"] = torch.version.cuda
        if device and torch.cuda.is_available():
            d = torch.device(device)
            props = torch.cuda.get_device_properties(d)
            env["gpu"] = {
                "name": props.name,
                "compute_capability": f"{props.major}.{props.minor}",
                "memory_gib": round(props.total_memory / 2**30, 1),
                "multiprocessors": props.multi_processor_count,
            }
    except ImportError:
        env["torch_cuda"] = None
    env["driver"] = _driver_version()
    return env


def _driver_version() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
        )
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except OSError:
        return None


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "unknown"


def render_markdown(report: Report) -> str:
    """The report as markdown: verdict, environment, checks, timings, errors."""
    env = report.environment
    gpu = env.get("gpu") or {}
    lines = [
        "# GPU check of the isbnet:: CUDA kernels",
        "",
        f"**Result: {_verdict(report)}** "
        f"({sum(c.passed for c in report.checks)}/{len(report.checks)} checks passed"
        + (f", {len(report.errors)} error(s)" if report.errors else "")
        + ")",
        "",
        "## Machine",
        "",
        "| item | value |",
        "| --- | --- |",
        f"| GPU | {gpu.get('name', 'none')} (sm {gpu.get('compute_capability', '-')}, "
        f"{gpu.get('multiprocessors', '-')} SMs, {gpu.get('memory_gib', '-')} GiB) |",
        f"| driver | {env.get('driver')} |",
        f"| kernel compiler | {env.get('kernel_compiler', '-')} |",
        f"| torch / CUDA | {env.get('packages', {}).get('torch')} / {env.get('torch_cuda')} |",
        f"| CPU | {env.get('cpu')} x {env.get('cpu_count')} |",
        f"| Python / OS | {env.get('python')} / {env.get('platform')} |",
        f"| git commit | {env.get('git_commit')} |",
        f"| date (UTC) | {env.get('date_utc')} |",
    ]
    installed = {k: v for k, v in env.get("packages", {}).items() if v}
    lines += ["", "Packages: " + ", ".join(f"{k} {v}" for k, v in sorted(installed.items())), ""]
    if report.settings:
        lines += ["Settings: " + ", ".join(f"{k}={v}" for k, v in report.settings.items()), ""]
    lines += ["## Checks", "", "| check | result | details |", "| --- | --- | --- |"]
    for c in report.checks:
        details = ", ".join(f"{k}={_fmt(v)}" for k, v in c.details.items())
        lines.append(
            f"| {c.name} | {'ok' if c.passed else '**FAIL**'} | {details}{' — ' + c.note if c.note else ''} |"
        )
    if report.timings:
        lines += ["", "## Timings (median ms, CUDA-synchronised)"]
        # One table per kind of row (kernel maps, pipelines, ops): their columns differ.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for t in report.timings:
            groups.setdefault(tuple(t), []).append(t)
        for keys, rows in groups.items():
            lines += ["", "| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
            lines += ["| " + " | ".join(_fmt(t[k]) for k in keys) + " |" for t in rows]
    if report.errors:
        lines += ["", "## Errors", ""] + [f"```\n{e}\n```" for e in report.errors]
    return "\n".join(lines) + "\n"


def _verdict(report: Report) -> str:
    if report.errors and not report.checks:
        return "NOT RUN"
    return "PASSED" if report.passed else "FAILED"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return (
            f"{v:.3g}" if (abs(v) < 1e-2 or abs(v) >= 1e4) and v != 0 else f"{v:.3f}".rstrip("0").rstrip(".")
        )
    return str(v)


def utc_stamp() -> str:
    """The current UTC time as in the report file names, e.g. 20261126T035758Z."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def write_report(report: Report, out_dir: Path, stamp: str | None = None) -> tuple[Path, Path]:
    """Write `gpu_check-<gpu>-<stamp>.md` and `.json` into `out_dir` (atomically); return both paths.

    stamp: UTC time in the file names, default now; pass the same one to rewrite a report in place.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    gpu = (report.environment.get("gpu") or {}).get("name", "no-gpu")
    stamp = stamp or utc_stamp()
    base = out_dir / f"gpu_check-{_slug(gpu)}-{stamp}"
    payload = {**asdict(report), "passed": report.passed}
    paths = (base.with_suffix(".md"), base.with_suffix(".json"))
    for path, text in zip(
        paths, (render_markdown(report), json.dumps(payload, indent=2, default=str)), strict=True
    ):
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=path.name + ".")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return paths


# --------------------------------------------------------------------------------------------
# the GPU work (imports torch and the package lazily so that --help and the report code run anywhere)
# --------------------------------------------------------------------------------------------


def require_gpu(device: str) -> str | None:
    """None when `device` can run the kernels, else a sentence saying what is missing."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if not torch.cuda.is_available():
        return f"PyTorch {torch.__version__} sees no CUDA device (CPU-only build or no driver)"
    try:
        from isbnet_trt.plugins.cuda_driver import device_kernels

        device_kernels(torch.device(device).index or 0)
    except Exception as e:  # noqa: BLE001 - report whatever stops the kernels from loading
        return f"the CUDA kernels cannot be loaded: {type(e).__name__}: {e}"
    return None


@contextmanager
def _cuda_timer(store: dict[str, list[float]], name: str) -> Iterator[None]:
    import torch

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    yield
    torch.cuda.synchronize()
    store.setdefault(name, []).append(1000 * (time.perf_counter() - t0))


def _median_ms(fn: Callable[[], Any], repeat: int, warmup: int) -> float:
    import torch

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def check_geometry(report: Report, scene, label: str, device: str) -> None:
    """FPS and ball query, CUDA vs CPU reference, on the scene's voxel centres."""
    import numpy as np
    import torch

    from isbnet_trt.isbnet import geometry
    from isbnet_trt.plugins import ops_cuda

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
        ref = geometry.farthest_point_sample(pts, n_sample, variant).numpy()
        if variant == "pointnet2":
            ref = ref[: min(n_sample, len(pts))]
        for algorithm in ("block", "grid"):
            got = (
                ops_cuda.farthest_point_sample(pts.to(device), n_sample, variant, algorithm=algorithm)
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
    centres = xyz[torch.from_numpy(geometry.farthest_point_sample(xyz, 2048, "isbnet").numpy())]
    for pts, qs, radius, n_sample, what in [
        (xyz, centres, 0.2, 32, "pa1 grouping"),
        (centres, centres, 0.4, 64, "pa1 post-grouping"),
        (centres[:1024], centres[:256], 0.8, 32, "pa2 post-grouping"),
        (xyz, xyz[:500] + 5.0, 0.2, 8, "no neighbours"),
    ]:
        ref = geometry.ball_query(pts, qs, radius, n_sample).numpy()
        got = ops_cuda.ball_query(pts.to(device), qs.to(device), radius, n_sample).cpu().numpy()
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

    from isbnet_trt.isbnet.sparse_conv import sparse_conv
    from isbnet_trt.plugins import ops_cuda

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
            rel = _rel_err(ops_cuda.sparse_conv(*dev_args), ref)
            rel16 = _rel_err(ops_cuda.sparse_conv(feats_d.half(), kmap_d, weight_d.half()), ref)
            split = _rel_err(ops_cuda.sparse_conv(*dev_args, algorithm="splitk"), ref)
            timing = {}
            if repeat > 0:
                for algorithm in ops_cuda.SPARSE_CONV_ALGORITHMS:
                    timing[f"{algorithm}_fp32_ms"] = _median_ms(
                        lambda a=algorithm, d=dev_args: ops_cuda.sparse_conv(*d, algorithm=a), repeat, 1
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
                "numpy_cpu_ms": _median_ms(
                    lambda: numpy_maps(base.coords, len(scene.maps), base.spatial_shape), 3, 1
                ),
                "torch_gpu_ms": _median_ms(
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
                "numpy_cpu_ms": _median_ms(
                    lambda: prepare_scene(room.points, room.superpoints, cfg, map_builder=builder), 3, 1
                ),
                "torch_gpu_ms": _median_ms(
                    lambda: prepare_on_gpu(room.points, room.superpoints, cfg, False), 5, 2
                ),
            }
        )
    return gpu_scene


def load_model_and_cfg(args: argparse.Namespace):
    """(model, source) from --ckpt/--config, the shared fixtures, or random weights."""
    import torch

    from isbnet_trt.isbnet.checkpoint import build_model, load_model
    from isbnet_trt.isbnet.config import ModelConfig, load_config

    config = args.config
    golden = args.shared / "fixtures" / "golden" / "random_scannetv2_lightweight.pth"
    shared_cfg = args.shared / "fixtures" / "official_configs" / "isbnet_lightweight_scannetv2.yaml"
    if config is None and shared_cfg.is_file():
        config = shared_cfg
    cfg = load_config(config) if config is not None else ModelConfig()
    ckpt = args.ckpt or (golden if golden.is_file() and config == shared_cfg else None)
    if ckpt is not None:
        return load_model(ckpt, cfg).eval(), f"checkpoint {ckpt} (config {cfg.name})"
    torch.manual_seed(args.seed)
    return build_model(cfg).eval(), f"random weights (seed {args.seed}), config {config or 'defaults'}"


def _rel_err(got, ref) -> float:
    """max |got - ref| / max |ref| (inf on a shape mismatch, 0 for empty tensors)."""
    got, ref = got.detach().float().cpu(), ref.detach().float().cpu()
    if got.shape != ref.shape:
        return float("inf")
    if ref.numel() == 0:
        return 0.0
    return float((got - ref).abs().max()) / (float(ref.abs().max()) or 1.0)


def _same(got, ref) -> bool:
    """Index tensors equal in shape and value (any integer dtype, any device)."""
    import torch

    got, ref = got.cpu().long(), ref.cpu().long()
    return got.shape == ref.shape and bool(torch.equal(got, ref))


def check_stages(report: Report, ours, trace_ref: dict[str, Any], scene, label: str) -> None:
    """Each GPU stage fed the CPU reference's inputs (teacher forcing), so that float noise of
    one stage cannot reach the next: index outputs must be identical, float outputs within
    `STAGE_REL_TOL` of the reference (the export's stage-parity tolerance)."""
    import dataclasses

    import torch

    from isbnet_trt.isbnet.aggregator import Queries

    bb_ref = trace_ref["backbone"]
    bb = ours.backbone(scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
    fields = ("feats", "semantic_scores", "box_preds", "spp_boxes", "mask_features")
    details: dict[str, Any] = {f"{f}_rel": _rel_err(getattr(bb, f), getattr(bb_ref, f)) for f in fields}
    details["object_mask_flips"] = int((bb.object_mask.cpu() != bb_ref.object_mask).sum())
    ok = all(v <= STAGE_REL_TOL for k, v in details.items() if k.endswith("_rel"))
    report.checks.append(
        Check(
            f"stage backbone vs CPU reference [{label}]",
            ok,
            details,
            note="object_mask_flips: foreground decisions changed by float rounding (reported, not gated)",
        )
    )
    if "aggregator" not in trace_ref:
        return
    idx = trace_ref["object_idxs"]
    if scene.pa1_max_voxel is not None:
        idx = idx[idx <= scene.pa1_max_voxel]
    pa1_ref = trace_ref["aggregator"]
    pa1 = ours.aggregate(scene.voxel_coords_float[idx], bb_ref.feats[idx], bb_ref.box_preds[idx])
    details = {
        "queries": int(pa1_ref.inds.numel()),
        "inds_identical": _same(pa1.inds, pa1_ref.inds),
        "feats_rel": _rel_err(pa1.feats, pa1_ref.feats),
        "boxes_rel": _rel_err(pa1.boxes, pa1_ref.boxes),
    }
    ok = details["inds_identical"] and max(details["feats_rel"], details["boxes_rel"]) <= STAGE_REL_TOL
    report.checks.append(Check(f"stage aggregator 1 (teacher-forced) [{label}]", ok, details))
    dev = ours.device
    bb_dev = dataclasses.replace(
        bb_ref,
        **{
            f.name: getattr(bb_ref, f.name).to(dev)
            for f in dataclasses.fields(bb_ref)
            if isinstance(getattr(bb_ref, f.name), torch.Tensor)
        },
    )
    for i, n_sample in enumerate(ours.cfg.n_sample_rounds):
        step = trace_ref.get(f"it{i}")
        if step is None:
            break
        c = step["cand_idxs"]
        cand = Queries(pa1_ref.locs[:, c], pa1_ref.feats[:, :, c], pa1_ref.boxes[:, c], pa1_ref.inds[c])
        out, out_ref = ours.decoder(cand, min(n_sample, len(c)), bb_dev), step["out"]
        details = {"candidates": len(c), "cand_inds_identical": _same(out.cand_inds, out_ref.cand_inds)}
        for f in ("cls_logits", "conf_logits", "box_preds", "mask_logits"):
            details[f"{f}_rel"] = _rel_err(getattr(out, f), getattr(out_ref, f))
        ok = details["cand_inds_identical"] and all(
            v <= STAGE_REL_TOL for k, v in details.items() if k.endswith("_rel")
        )
        report.checks.append(Check(f"stage decoder round {i} (teacher-forced) [{label}]", ok, details))


def _instance_diff(ref, got) -> dict[str, Any]:
    from isbnet_trt.isbnet.compare import match_instances

    m = match_instances((ref.label_ids, ref.scores, ref.masks), (got.label_ids, got.scores, got.masks))
    return {
        "instances": f"{len(ref)}/{len(got)}",
        "unmatched": m.unmatched,
        "min_iou": m.min_iou,
        "max_score_diff": m.max_score_diff,
        "same": m.same(iou=0.99, score_tol=1e-4),
    }


def check_pipeline(
    report: Report, model, scene, gpu_scene, label: str, device: str, args: argparse.Namespace
) -> None:
    """Whole scene: the stages one by one (teacher-forced), the instances of our GPU path (on
    `scene` and on `gpu_scene`, the same room prepared on the GPU) and of the PyTorch GPU baseline
    against the CPU reference, then stage timings."""
    import torch

    from isbnet_trt.isbnet.inference import forward_test
    from isbnet_trt.runtime.backends.torch_cuda import DeviceStages

    cfg = model.cfg
    trace_ref: dict[str, Any] = {}
    with torch.no_grad():
        ref = forward_test(model, scene, cfg, trace=trace_ref)
    ours = DeviceStages(model, device, kernels=True)
    baseline = DeviceStages(model, device, kernels=False)
    check_stages(report, ours, trace_ref, scene, label)
    mine = _instance_diff(ref, forward_test(ours, scene, cfg))
    gpu_prepared = _instance_diff(ref, forward_test(ours, gpu_scene, cfg))
    same = [mine.pop("same"), gpu_prepared.pop("same")]
    theirs = _instance_diff(ref, forward_test(baseline, scene, cfg))
    tf32 = _instance_diff(ref, forward_test(DeviceStages(model, device, tf32=True), scene, cfg))
    report.checks.append(
        Check(
            f"pipeline instances GPU kernels vs CPU reference [{label}]",
            all(same),
            {
                **mine,
                **{f"gpu_prepared_{k}": v for k, v in gpu_prepared.items()},
                **{f"baseline_{k}": v for k, v in theirs.items()},
                **{f"tf32_{k}": v for k, v in tf32.items()},
            },
            note=(
                "gpu_prepared_*: our kernels on the scene prepared on the GPU; "
                "baseline_*: the PyTorch GPU baseline against the same reference; tf32_*: our "
                "kernels with TF32 allowed in cuDNN and matmuls (not gated)"
                if len(ref)
                else "no instance in the reference run: only the stages are exercised"
            ),
        )
    )
    split = DeviceStages(model, device, conv_algorithm="auto")
    split_diff = _instance_diff(ref, forward_test(split, scene, cfg))
    report.checks.append(
        Check(
            f"pipeline instances, split-K convs on coarse levels [{label}]",
            split_diff.pop("same"),
            split_diff,
            note="conv_algorithm='auto': split-K where the tile kernel launches fewer warps than SMs",
        )
    )
    if args.skip_timing:
        return
    rows = {}
    for name, stages in (
        ("torch GPU baseline", baseline),
        ("our kernels, split-K on coarse levels", split),
        ("our kernels", ours),
    ):
        store: dict[str, list[float]] = {}
        for i in range(args.warmup + args.repeat):
            timings: dict[str, list[float]] = {}
            with _cuda_timer(timings, "total"):
                forward_test(stages, scene, cfg, timer=lambda n, t=timings: _cuda_timer(t, n))
            if i >= args.warmup:
                for k, v in timings.items():
                    store.setdefault(k, []).append(sum(v))
        row = {"scene": label, "pipeline": name, "points": scene.n_points, "voxels": scene.n_voxels}
        row.update({f"{k}_ms": statistics.median(v) for k, v in store.items()})
        report.timings.append(row)
        rows[name] = row
    base, mine = rows["torch GPU baseline"], rows["our kernels"]
    report.timings.append(
        {
            "scene": label,
            "pipeline": "speed-up (baseline / ours)",
            "points": mine["points"],
            "voxels": mine["voxels"],
            **{k: base[k] / mine[k] for k in mine if k.endswith("_ms") and k in base and mine[k] > 0},
        }
    )
    if args.profile:
        _profile(ours, scene, label, args)
    _time_kernels(report, scene, label, device, args)


def check_unet_vs_spconv(
    report: Report, model, scene, label: str, device: str, args: argparse.Namespace
) -> None:
    """Input conv + U-Net on our sparse-conv kernel vs on spconv (same weights, same voxels):
    features within fp32 tolerance. Timed: ours with the kernel maps prebuilt, our kernel maps
    built on the device, and spconv, which builds its rulebooks inside every call. Does nothing
    where spconv is not installed (`pip install spconv-cu126` on a GPU machine)."""
    import torch

    from isbnet_trt.plugins.kernel_maps.torch_maps import build_unet_maps as torch_maps
    from isbnet_trt.runtime.backends.torch_cuda import DeviceStages, float32_precision, upload_maps
    from isbnet_trt.benchmarks.torch_spconv import SpconvStages, spconv_available

    if not spconv_available():
        report.settings["spconv"] = "not installed: no U-Net comparison with spconv"
        return
    ours = DeviceStages(model, device).model
    theirs = SpconvStages(DeviceStages(model, device, kernels=False).model)
    feats = scene.voxel_feats.to(device)
    levels = upload_maps(scene.maps, device)
    base = scene.maps[0]

    def our_unet():
        return ours.unet(ours.input_conv[0](feats, levels[0].subm), levels)

    def spconv_unet():
        return theirs.unet(feats, base)

    with torch.no_grad(), float32_precision(False):
        rel = _rel_err(our_unet(), spconv_unet())
        report.checks.append(
            Check(
                f"U-Net our kernels vs spconv [{label}]",
                rel < STAGE_REL_TOL,
                {
                    "voxels": scene.n_voxels,
                    "levels": len(scene.maps),
                    "rel_err": rel,
                    "spconv": _version("spconv"),
                },
            )
        )
        if args.skip_timing:
            return
        coords = torch.from_numpy(base.coords).to(device)
        row: dict[str, Any] = {
            "scene": label,
            "pipeline": "U-Net vs spconv",
            "points": len(scene.v2p),
            "voxels": scene.n_voxels,
            "ours_convs_ms": _median_ms(our_unet, args.repeat, args.warmup),
            "ours_kernel_maps_ms": _median_ms(
                lambda: torch_maps(coords, len(scene.maps), base.spatial_shape), args.repeat, args.warmup
            ),
            "spconv_incl_rulebooks_ms": _median_ms(spconv_unet, args.repeat, args.warmup),
        }
    row["speed_up_incl_maps"] = row["spconv_incl_rulebooks_ms"] / (
        row["ours_convs_ms"] + row["ours_kernel_maps_ms"]
    )
    report.timings.append(row)


def _profile(stages, scene, label: str, args: argparse.Namespace) -> None:
    """torch.profiler tables (top ops by GPU and by CPU time) of one scene on `stages`, written
    beside the report as `gpu_check-profile-<scene>.txt`."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from isbnet_trt.isbnet.inference import forward_test

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        forward_test(stages, scene, stages.cfg)
        torch.cuda.synchronize()
    table = prof.key_averages()
    text = "\n\n".join(
        f"# {label}: top 30 by {key}\n" + table.table(sort_by=key, row_limit=30)
        for key in ("self_cuda_time_total", "self_cpu_time_total")
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"gpu_check-profile-{_slug(label)}.txt").write_text(text)


def _time_kernels(report: Report, scene, label: str, device: str, args: argparse.Namespace) -> None:
    """Per-op timings: FPS (both kernels), ball query, level-0 SubMConv3d vs torch and spconv."""
    import torch

    from isbnet_trt.isbnet.geometry import farthest_point_sample as cpu_fps
    from isbnet_trt.isbnet.sparse_conv import KernelPairs, sparse_conv
    from isbnet_trt.plugins import ops_cuda

    xyz = scene.voxel_coords_float.float().to(device)
    row: dict[str, Any] = {
        "scene": label,
        "pipeline": "ops",
        "points": len(scene.v2p),
        "voxels": scene.n_voxels,
    }
    row["fps2048_block_ms"] = _median_ms(
        lambda: ops_cuda.farthest_point_sample(xyz, 2048, algorithm="block"), args.repeat, 1
    )
    row["fps2048_grid_ms"] = _median_ms(
        lambda: ops_cuda.farthest_point_sample(xyz, 2048, algorithm="grid"), args.repeat, 1
    )
    row["fps2048_cpu_reference_ms"] = _median_ms(lambda: cpu_fps(xyz.cpu(), 2048), 1, 0)
    centres = xyz[ops_cuda.farthest_point_sample(xyz, 2048).long()]
    row["ballquery_r0.2_n32_ms"] = _median_ms(
        lambda: ops_cuda.ball_query(xyz, centres, 0.2, 32), args.repeat, 1
    )
    table = scene.maps[0].subm
    c = 32
    feats = torch.randn(len(table), c, device=device)
    weight = torch.randn(27, c, c, device=device)
    kmap = torch.from_numpy(table).to(device)
    pairs = KernelPairs.build(table, device=device)
    row["subm_l0_ours_ms"] = _median_ms(
        lambda: ops_cuda.sparse_conv(feats, kmap, weight, len(table)), args.repeat, args.warmup
    )
    row["subm_l0_ours_fp16_ms"] = _median_ms(
        lambda: ops_cuda.sparse_conv(feats.half(), kmap, weight.half(), len(table)), args.repeat, args.warmup
    )
    row["subm_l0_torch_ms"] = _median_ms(lambda: sparse_conv(feats, pairs, weight), args.repeat, args.warmup)
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
        return _median_ms(run, args.repeat, args.warmup)


def run(args: argparse.Namespace, save: Callable[[Report], Any] | None = None) -> Report:
    """All checks; `save(report)` after each scene, so a run cut short still leaves its results."""
    report = Report(settings={k: str(v) for k, v in vars(args).items()})
    report.environment = collect_environment(args.device)
    problem = require_gpu(args.device)
    if problem:
        report.errors.append(f"cannot run the GPU check: {problem}")
        return report
    import torch

    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.plugins.cuda_driver import device_kernels
    from isbnet_trt.training.synthetic import generate_room

    kern = device_kernels(torch.device(args.device).index or 0)
    report.environment["kernel_compiler"] = f"{kern.compiler} -> sm_{kern.arch} cubin"
    model, source = load_model_and_cfg(args)
    report.settings["model"] = source
    for n_points in args.points:
        label = f"room {n_points // 1000}k seed {args.seed}"
        try:
            room = generate_room(n_points, seed=args.seed)
            scene = prepare_scene(room.points, room.superpoints, model.cfg)
            check_geometry(report, scene, label, args.device)
            check_sparse_conv(
                report, scene, label, args.device, model.cfg.channels, 0 if args.skip_timing else args.repeat
            )
            check_kernel_maps(report, scene, label, args.device, args)
            gpu_scene = check_preprocess(report, room, scene, model.cfg, label, args.device, args)
            if not args.skip_pipeline:
                check_pipeline(report, model, scene, gpu_scene, label, args.device, args)
            check_unet_vs_spconv(report, model, scene, label, args.device, args)
        except Exception:  # noqa: BLE001 - record and go on with the next scene
            report.errors.append(f"{label}:\n{traceback.format_exc()}")
        if save is not None:
            save(report)
        failed = sum(not c.passed for c in report.checks)
        print(f"gpu_check: {label} done ({len(report.checks)} checks so far, {failed} failed)", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = utc_stamp()
    report = run(args, save=lambda r: write_report(r, args.out, stamp))
    if report.errors and not report.checks:  # nothing measured: no report file
        print("\n".join(report.errors), file=sys.stderr)
        return 2
    md, js = write_report(report, args.out, stamp)
    print(render_markdown(report))
    print(f"report: {md}\n        {js}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
