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

Modules: `gpu_kernel_checks.py` (the op-level checks), `stage_checks.py` (stage and instance
comparisons shared with `trt_check.py`), `check_report.py` (the report).

Exit status: 0 all checks passed, 1 a check failed, 2 the environment cannot run the check (the
message says what is missing). TensorRT is not used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from isbnet_trt.benchmarks import SHARED
from isbnet_trt.benchmarks.check_report import (
    DEFAULT_OUT,
    Check,
    Report,
    render_markdown,
    utc_stamp,
    write_report,
)
from isbnet_trt.benchmarks.gpu_kernel_checks import (
    check_geometry,
    check_kernel_maps,
    check_preprocess,
    check_sparse_conv,
    time_kernels,
)
from isbnet_trt.benchmarks.machine import check_environment, package_version, slug
from isbnet_trt.benchmarks.stage_checks import (
    STAGE_REL_TOL,
    check_stages,
    cuda_timer,
    instance_diff,
    median_ms,
    rel_err,
    require_gpu,
)

DEFAULT_SHARED = SHARED


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
    mine = instance_diff(ref, forward_test(ours, scene, cfg))
    gpu_prepared = instance_diff(ref, forward_test(ours, gpu_scene, cfg))
    same = [mine.pop("same"), gpu_prepared.pop("same")]
    theirs = instance_diff(ref, forward_test(baseline, scene, cfg))
    tf32 = instance_diff(ref, forward_test(DeviceStages(model, device, tf32=True), scene, cfg))
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
    split_diff = instance_diff(ref, forward_test(split, scene, cfg))
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
            with cuda_timer(timings, "total"):
                forward_test(stages, scene, cfg, timer=lambda n, t=timings: cuda_timer(t, n))
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
    time_kernels(report, scene, label, device, args)


def check_unet_vs_spconv(
    report: Report, model, scene, label: str, device: str, args: argparse.Namespace
) -> None:
    """Input conv + U-Net on our sparse-conv kernel vs on spconv (same weights, same voxels):
    features within fp32 tolerance. Timed: ours with the kernel maps prebuilt, our kernel maps
    built on the device, and spconv, which builds its rulebooks inside every call. Does nothing
    where spconv is not installed (`pip install spconv-cu126` on a GPU machine)."""
    import torch

    from isbnet_trt.benchmarks.torch_spconv import SpconvStages, spconv_available
    from isbnet_trt.plugins.kernel_maps.torch_maps import build_unet_maps as torch_maps
    from isbnet_trt.runtime.backends.torch_cuda import DeviceStages, float32_precision, upload_maps

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
        rel = rel_err(our_unet(), spconv_unet())
        report.checks.append(
            Check(
                f"U-Net our kernels vs spconv [{label}]",
                rel < STAGE_REL_TOL,
                {
                    "voxels": scene.n_voxels,
                    "levels": len(scene.maps),
                    "rel_err": rel,
                    "spconv": package_version("spconv"),
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
            "ours_convs_ms": median_ms(our_unet, args.repeat, args.warmup),
            "ours_kernel_maps_ms": median_ms(
                lambda: torch_maps(coords, len(scene.maps), base.spatial_shape), args.repeat, args.warmup
            ),
            "spconv_incl_rulebooks_ms": median_ms(spconv_unet, args.repeat, args.warmup),
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
    (args.out / f"gpu_check-profile-{slug(label)}.txt").write_text(text)


def run(args: argparse.Namespace, save: Callable[[Report], Any] | None = None) -> Report:
    """All checks; `save(report)` after each scene, so a run cut short still leaves its results."""
    report = Report(settings={k: str(v) for k, v in vars(args).items()})
    report.environment = check_environment(args.device)
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
