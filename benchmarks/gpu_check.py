"""GPU check of the `isbnet::` CUDA kernels and of the GPU pipeline, in one command.

    python benchmarks/gpu_check.py                      # synthetic rooms of 50k and 150k points
    python benchmarks/gpu_check.py --points 30000 --ckpt model.pth --config isbnet_scannetv2.yaml

On a machine with an NVIDIA GPU, PyTorch with CUDA, cuda-python and NVRTC (or nvcc), it:

1. compares every kernel with the CPU reference on generated scenes: FPS (both variants, the
   one-block and the multi-block kernel, a tie-heavy set), ball query (ISBNet's radii and
   sizes), sparse conv on every kernel map of the U-Net (float32 within tolerance, float16
   error reported), the PyTorch kernel-map builder on the GPU against the NumPy one: index
   outputs must be identical, float outputs within float32 tolerance;
2. runs the whole pipeline on the GPU with our kernels (`runtime.cuda_stages.DeviceStages`) and
   matches its instances with the CPU reference run (`isbnet.compare.match_instances`);
3. times every stage (CUDA-synchronised wall clock, median of repeats) against the PyTorch GPU
   baseline (the unmodified reference model on the GPU), and spconv's SubMConv3d per U-Net level
   where spconv is installed;
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

# Tolerances of the float checks (relative to the largest reference magnitude).
FP32_REL_TOL = 1e-5


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
        lines += ["", "## Timings (median ms, CUDA-synchronised)", ""]
        keys = list(report.timings[0].keys())
        lines += ["| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
        lines += ["| " + " | ".join(_fmt(t.get(k)) for k in keys) + " |" for t in report.timings]
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


def write_report(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write `gpu_check-<gpu>-<time>.md` and `.json` into `out_dir` (atomically); return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gpu = (report.environment.get("gpu") or {}).get("name", "no-gpu")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
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
        ref = geometry.furthest_point_sample(pts, n_sample, variant).numpy()
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
    centres = xyz[torch.from_numpy(geometry.furthest_point_sample(xyz, 2048, "isbnet").numpy())]
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


def check_sparse_conv(report: Report, scene, label: str, device: str, channels: int) -> None:
    """Every kernel map of the U-Net, float32 (gated) and float16 (reported), vs the CPU reference."""
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
            got = ops_cuda.sparse_conv(feats.to(device), kmap.to(device), weight.to(device)).cpu()
            scale = float(ref.abs().max()) or 1.0
            rel = float((got - ref).abs().max()) / scale
            half = (
                ops_cuda.sparse_conv(feats.to(device).half(), kmap.to(device), weight.to(device).half())
                .float()
                .cpu()
            )
            rel16 = float((half - ref).abs().max()) / scale
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
                    },
                    note="" if rel <= FP32_REL_TOL else f"fp32 tolerance {FP32_REL_TOL}",
                )
            )


def check_kernel_maps(report: Report, scene, label: str, device: str, args: argparse.Namespace) -> None:
    """The PyTorch kernel-map builder on the GPU vs the NumPy builder: identical tables; both timed."""
    import numpy as np
    import torch

    from isbnet_trt.isbnet.kernel_map import build_unet_maps as numpy_maps
    from isbnet_trt.runtime.torch_kernel_maps import build_unet_maps as torch_maps

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


def check_pipeline(
    report: Report, model, room, scene, label: str, device: str, args: argparse.Namespace
) -> None:
    """Whole scene: CPU reference vs GPU with our kernels (instances), then stage timings."""
    import torch

    from isbnet_trt.isbnet.compare import match_instances
    from isbnet_trt.isbnet.inference import forward_test
    from isbnet_trt.runtime.cuda_stages import DeviceStages

    cfg = model.cfg
    trace_ref: dict[str, Any] = {}
    with torch.no_grad():
        ref = forward_test(model, scene, cfg, trace=trace_ref)
    ours = DeviceStages(model, device, kernels=True)
    trace_gpu: dict[str, Any] = {}
    got = forward_test(ours, scene, cfg, trace=trace_gpu)
    m = match_instances((ref.label_ids, ref.scores, ref.masks), (got.label_ids, got.scores, got.masks))
    bb_diff = float((trace_gpu["backbone"].feats.cpu() - trace_ref["backbone"].feats).abs().max())
    same_fps = "aggregator" in trace_ref and bool(
        torch.equal(trace_gpu["aggregator"].inds.cpu(), trace_ref["aggregator"].inds.cpu())
    )
    report.checks.append(
        Check(
            f"pipeline instances GPU kernels vs CPU reference [{label}]",
            m.same(iou=0.99, score_tol=1e-4),
            {
                "instances_ref": len(ref),
                "instances_gpu": len(got),
                "unmatched": m.unmatched,
                "min_iou": m.min_iou,
                "max_score_diff": m.max_score_diff,
                "backbone_feats_max_abs_diff": bb_diff,
                "pa1_fps_identical": same_fps,
            },
            note="" if len(ref) else "no instance in the reference run: only the stages are exercised",
        )
    )
    if args.skip_timing:
        return
    baseline = DeviceStages(model, device, kernels=False)
    for name, stages in (("torch GPU baseline", baseline), ("our kernels", ours)):
        store: dict[str, list[float]] = {}
        for i in range(args.warmup + args.repeat):
            timings: dict[str, list[float]] = {}
            with _cuda_timer(timings, "total"):
                forward_test(stages, scene, cfg, timer=lambda n, t=timings: _cuda_timer(t, n))
            if i >= args.warmup:
                for k, v in timings.items():
                    store.setdefault(k, []).append(sum(v))
        row = {"scene": label, "pipeline": name, "points": len(room.points), "voxels": scene.n_voxels}
        row.update({f"{k}_ms": statistics.median(v) for k, v in store.items()})
        report.timings.append(row)
    base, mine = report.timings[-2], report.timings[-1]
    report.timings.append(
        {
            "scene": label,
            "pipeline": "speed-up (baseline / ours)",
            "points": mine["points"],
            "voxels": mine["voxels"],
            **{k: base[k] / mine[k] for k in mine if k.endswith("_ms") and k in base and mine[k] > 0},
        }
    )
    _time_kernels(report, scene, label, device, args)


def _time_kernels(report: Report, scene, label: str, device: str, args: argparse.Namespace) -> None:
    """Per-op timings: FPS (both kernels), ball query, level-0 SubMConv3d vs torch and spconv."""
    import torch

    from isbnet_trt.isbnet.geometry import furthest_point_sample as cpu_fps
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


def run(args: argparse.Namespace) -> Report:
    report = Report(settings={k: str(v) for k, v in vars(args).items()})
    report.environment = collect_environment(args.device)
    problem = require_gpu(args.device)
    if problem:
        report.errors.append(f"cannot run the GPU check: {problem}")
        return report
    import torch

    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.isbnet.synthetic import generate_room
    from isbnet_trt.plugins.cuda_driver import device_kernels

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
            check_sparse_conv(report, scene, label, args.device, model.cfg.channels)
            check_kernel_maps(report, scene, label, args.device, args)
            if not args.skip_pipeline:
                check_pipeline(report, model, room, scene, label, args.device, args)
        except Exception:  # noqa: BLE001 - record and go on with the next scene
            report.errors.append(f"{label}:\n{traceback.format_exc()}")
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    if report.errors and not report.checks:  # nothing measured: no report file
        print("\n".join(report.errors), file=sys.stderr)
        return 2
    md, js = write_report(report, args.out)
    print(render_markdown(report))
    print(f"report: {md}\n        {js}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
