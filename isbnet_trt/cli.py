"""The `isbnet-trt` command line: infer, demo, eval, export, benchmark, train.

Errors caused by the input (files, options, checkpoints, configs) print one line
`isbnet-trt: error: ...` on stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from isbnet_trt import __version__
from isbnet_trt.errors import IsbnetError

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "rest", None) is None:
        parser.error(f"unrecognized arguments: {' '.join(extra)}", getattr(args, "command", None))
    if extra:  # argparse hands a delegated command's leading options back as unknown: give them back
        args.rest = extra + args.rest
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    warnings.simplefilter("default")
    warnings.showwarning = _one_line_warning
    try:
        return int(args.func(args) or 0)
    except IsbnetError as e:
        print(f"isbnet-trt: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("isbnet-trt: interrupted", file=sys.stderr)
        return 130


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"isbnet-trt: warning: {message}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's one-line errors (`isbnet-trt: error: ...`, exit 2) instead of
    the usage block; subcommand parsers are of this class too (argparse's default)."""

    def error(self, message: str, command: str | None = None) -> NoReturn:  # type: ignore[override]
        prog = f"{self.prog} {command}" if command else self.prog
        self.exit(EXIT_USAGE, f"isbnet-trt: error: {message} (see '{prog} --help')\n")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="isbnet-trt",
        description="ISBNet 3D instance segmentation: PyTorch reference, ONNX/onnxruntime and TensorRT.",
    )
    p.add_argument("--version", action="version", version=f"isbnet-trt {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _add_infer(sub)
    _add_demo(sub)
    _add_eval(sub)
    _add_delegate(sub, "export", "export ONNX stages (and TensorRT engines) from a checkpoint", _run_export)
    _add_delegate(
        sub, "benchmark", "time every available backend per stage on generated scenes", _run_benchmark
    )
    _add_delegate(sub, "train", "train ISBNet on generated rooms (demo weights recipe)", _run_train)
    return p


# ---------------------------------------------------------------------------- model options
def _add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model (one of --ckpt, --export; default: the bundled demo weights)")
    g.add_argument("--ckpt", type=Path, help="official ISBNet checkpoint (.pth)")
    g.add_argument(
        "--config", type=Path, help="official YAML config of the --ckpt checkpoint (default: inferred)"
    )
    g.add_argument("--export", type=Path, metavar="DIR", help="export directory from `isbnet-trt export`")
    g.add_argument(
        "--backend",
        choices=("torch", "onnxruntime", "tensorrt"),
        help="torch (reference), onnxruntime or tensorrt (default: torch with --ckpt, onnxruntime otherwise)",
    )
    g.add_argument(
        "--device",
        default="cpu",
        help="torch backend: cpu, cuda or cuda:N (the model on the GPU with the isbnet CUDA kernels; "
        "default cpu)",
    )


def _add_scene_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("scene")
    g.add_argument(
        "--superpoints",
        default=None,
        metavar="FILE|auto|none",
        help="superpoint ids: a file (.npy/.npz/.pth, one scene only), 'auto' (computed from the points), "
        "or 'none' (every 2 cm voxel is one: 3-5x slower at 150k points, see docs/runtime.md); "
        "default: the scene file's own (for an official *_inst_nostuff.pth: "
        "<root>/superpoints/<scan>.pth, as the official loaders), else 'auto' ('none' for an "
        "official .pth)",
    )
    g.add_argument("--up-axis", choices=("z", "y"), default="z", help="the scene's up axis (default z)")
    g.add_argument(
        "--units", choices=("m", "cm", "mm"), default="m", help="units of the coordinates (default m)"
    )
    g.add_argument("--no-color", action="store_true", help="accept xyz-only points, coloured constant grey")
    g.add_argument(
        "--max-points",
        type=positive_int,
        metavar="N",
        help="downsample scenes larger than N points on a voxel grid (results mapped back to every "
        "point); without it, scenes above 1,000,000 points are refused",
    )


def _make_pipeline(args: argparse.Namespace):
    from isbnet_trt.runtime.pipeline import Pipeline, check_device

    if args.ckpt and args.export:
        raise _UsageError("give either --ckpt or --export, not both")
    if args.config and not args.ckpt:
        raise _UsageError(
            "--config describes the checkpoint given with --ckpt (an export carries its own config, "
            "the bundled demo weights theirs)"
        )
    backend = args.backend or ("torch" if args.ckpt else "onnxruntime")
    check_device(args.device)
    if args.device != "cpu" and backend != "torch":
        raise _UsageError(
            f"--device {args.device} applies to the torch backend (use --backend torch; {backend} "
            f"runs on {'the GPU' if backend == 'tensorrt' else 'the CPU'} by itself)"
        )
    if args.export:
        return Pipeline.from_export(args.export, backend)
    if args.ckpt:
        from isbnet_trt.isbnet.checkpoint import resolve_config

        config = resolve_config(args.ckpt, args.config)
        return Pipeline.from_checkpoint(args.ckpt, config, backend, device=args.device)
    from isbnet_trt.isbnet import demo

    return Pipeline.from_checkpoint(
        demo.demo_weights_path(), demo.demo_config_path(), backend, device=args.device
    )


def _scene_options(args: argparse.Namespace):
    from isbnet_trt.runtime.scene_prep import DEFAULT_MAX_POINTS, SceneOptions

    return SceneOptions(
        up_axis=args.up_axis,
        units=args.units,
        no_color=args.no_color,
        max_points=args.max_points if args.max_points is not None else DEFAULT_MAX_POINTS,
        downsample=args.max_points is not None,
    )


class _UsageError(IsbnetError):
    pass


# ---------------------------------------------------------------------------- infer
def _add_infer(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "infer",
        help="segment scenes and write their instances",
        description="Segment point clouds (.npy/.npz (N, 6) xyz+rgb, .ply, official *_inst_nostuff.pth) and "
        "write the instances in the chosen formats.",
    )
    p.add_argument("scenes", nargs="+", type=Path, metavar="SCENE")
    _add_model_args(p)
    _add_scene_args(p)
    g = p.add_argument_group("output")
    g.add_argument(
        "--out", type=Path, default=Path("isbnet_out"), help="output directory (default ./isbnet_out)"
    )
    g.add_argument(
        "--format",
        default="npz",
        help="comma-separated output formats: npz, scannet (benchmark .txt + masks), ply (default npz)",
    )
    g.add_argument("--png", action="store_true", help="also write a top-down PNG view per scene")
    g.add_argument("--timings", action="store_true", help="print the per-stage timing table")
    p.set_defaults(func=_run_infer)


def _parse_formats(text: str, png: bool) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("npz", "scannet", "ply")]
    if bad:
        raise _UsageError(f"unknown output format {', '.join(bad)} (choose from npz, scannet, ply)")
    if not formats and not png:
        raise _UsageError("no output format given (--format: npz, scannet, ply, comma-separated)")
    return formats + (["png"] if png else [])


def _run_infer(args: argparse.Namespace) -> int:
    from isbnet_trt.runtime.outputs import check_output_dir
    from isbnet_trt.runtime.scene_io import load_scene

    formats = _parse_formats(args.format, args.png)
    if args.superpoints not in (None, "auto", "none") and len(args.scenes) > 1:
        raise _UsageError("--superpoints FILE applies to one scene; give one scene or use auto/none")
    for path in args.scenes:  # fail early, before loading the model, on a missing input
        if path.is_dir():
            raise _UsageError(f"{path}: is a directory; give the scene files in it (e.g. {path}/*.npy)")
        if not path.is_file():
            raise _UsageError(f"{path}: no such file")
    out_dir = check_output_dir(args.out)  # created only when there is something to write
    options = _scene_options(args)
    pipe = _make_pipeline(args)
    n = len(args.scenes)
    for i, path in enumerate(args.scenes, 1):
        scene = load_scene(path)
        pred = _predict(pipe, scene, args.superpoints, options, path)
        written = _write_outputs(pred, pipe.cfg, scene, out_dir, formats)
        print(
            f"[{i}/{n}] {scene.name}: {len(pred)} instances in {pred.timings['total']:.2f} s ({pipe.backend})"
            f" -> {', '.join(str(w) for w in written)}",
            file=sys.stderr,
        )
        if args.timings:
            print(format_timings(pred.timings))
    return 0


class _SceneFailure(IsbnetError):
    pass


def _predict(pipe, scene, superpoints_arg: str | None, options, path: Path | None = None):
    """Run `pipe` on `scene`; errors about the scene's content name its file."""
    from isbnet_trt.runtime.scene_io import load_superpoints

    if superpoints_arg in ("auto", "none"):
        spp = superpoints_arg
    elif superpoints_arg is not None:
        spp = load_superpoints(Path(superpoints_arg), len(scene.points))
    elif scene.superpoints is not None:
        spp = scene.superpoints
    else:
        spp = "none" if scene.centred else "auto"
    try:
        return pipe(scene.points, spp, options, centred=scene.centred)
    except IsbnetError as e:
        if path is None or str(e).startswith(str(path)):
            raise
        raise _SceneFailure(f"{path}: {e}") from None


def _write_outputs(pred, cfg, scene, out_dir: Path, formats: list[str]) -> list[Path]:
    from isbnet_trt.runtime import outputs

    outputs.make_output_dir(out_dir)
    written = []
    xyz = scene.points[:, :3]
    for fmt in formats:
        if fmt == "npz":
            written.append(outputs.write_npz(pred, out_dir / f"{scene.name}.npz"))
        elif fmt == "scannet":
            written.append(outputs.write_scannet(pred, cfg, out_dir, scene.name))
        elif fmt == "ply":
            written.append(outputs.write_ply(pred, xyz, out_dir / f"{scene.name}.ply"))
        elif fmt == "png":
            written.append(outputs.write_png(pred, xyz, out_dir / f"{scene.name}.png", title=scene.name))
    return written


def format_timings(timings: dict[str, float]) -> str:
    """A two-column table of per-stage wall-clock times in milliseconds."""
    rows = [f"  {name:<12} {1000 * t:10.1f} ms" for name, t in timings.items()]
    return "\n".join(["  stage              time", *rows])


# ---------------------------------------------------------------------------- demo
def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="segment a generated room with the bundled demo weights (onnxruntime CPU)",
        description="Generate a synthetic room, segment it with the bundled demo weights on onnxruntime "
        "(the ONNX stages are exported once into the cache), write the outputs and a PNG, and print "
        "the per-stage timings.",
    )
    p.add_argument(
        "--out", type=Path, default=Path("isbnet_demo"), help="output directory (default ./isbnet_demo)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated room (default 0)")
    p.add_argument(
        "--points", type=positive_int, default=100_000, help="points in the generated room (default 100000)"
    )
    p.add_argument("--backend", choices=("torch", "onnxruntime", "tensorrt"), default="onnxruntime")
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from isbnet_trt.isbnet import demo
    from isbnet_trt.runtime.outputs import PNG_MIN_SCORE, check_output_dir
    from isbnet_trt.runtime.pipeline import Pipeline
    from isbnet_trt.runtime.scene_io import Scene
    from isbnet_trt.training.synthetic import generate_room

    out_dir = check_output_dir(args.out)
    t = time.perf_counter()
    pipe = Pipeline.from_checkpoint(demo.demo_weights_path(), demo.demo_config_path(), args.backend)
    print(f"model ready on {pipe.backend} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    # A small room first: the first run on a machine compiles the numba CPU kernels (cached on
    # disk afterwards), which must not show up in the timings printed below.
    t = time.perf_counter()
    small = generate_room(5_000, seed=args.seed + 1)
    pipe(small.points, small.superpoints)
    print(f"warm-up in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    room = generate_room(args.points, seed=args.seed)
    scene = Scene(f"room_seed{args.seed}", room.points, room.superpoints)
    pred = pipe(scene.points, scene.superpoints)
    written = _write_outputs(pred, pipe.cfg, scene, out_dir, ["npz", "ply", "png"])
    n_objects = len(room.meta.get("objects", []))
    print(f"generated room: {len(room.points):,} points, {n_objects} objects (seed {args.seed})")
    ranked = sorted(zip(pred.class_names, pred.instances.scores, strict=True), key=lambda x: -x[1])
    confident = [(name, score) for name, score in ranked if score >= PNG_MIN_SCORE]
    print(f"found {len(pred)} instances, {len(confident)} scoring >= {PNG_MIN_SCORE:g}:")
    for name, score in confident:
        print(f"  {name:<16} {score:.2f}")
    print(format_timings(pred.timings))
    for w in written:
        print(f"wrote {w}")
    return 0


# ---------------------------------------------------------------------------- eval
def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="ScanNet-style instance AP (AP, AP50, AP25, per class) on labelled scenes",
        description="Evaluate instance segmentation AP on scenes with ground-truth labels (.npz with "
        "semantic_labels and instance_labels, or official *_inst_nostuff.pth), or on generated rooms.",
    )
    p.add_argument("scenes", nargs="*", type=Path, metavar="SCENE")
    p.add_argument("--generated", type=int, default=0, metavar="N", help="also evaluate N generated rooms")
    p.add_argument(
        "--seed", type=int, default=100_000, help="first seed of the generated rooms (default 100000)"
    )
    p.add_argument(
        "--points", type=positive_int, default=100_000, help="points per generated room (default 100000)"
    )
    _add_model_args(p)
    _add_scene_args(p)
    p.set_defaults(func=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    from isbnet_trt.runtime.scene_io import Scene, load_scene
    from isbnet_trt.training.evaluation import InstanceEvaluator, InstanceGroundTruth, InstancePrediction
    from isbnet_trt.training.synthetic import generate_room

    if not args.scenes and args.generated <= 0:
        raise _UsageError("nothing to evaluate: give labelled scenes or --generated N")
    pipe = _make_pipeline(args)
    cfg = pipe.cfg
    evaluator = InstanceEvaluator(cfg.semantic_class_names[cfg.label_shift :], label_shift=cfg.label_shift)
    scenes = [load_scene(p) for p in args.scenes]
    for s in scenes:
        if s.semantic_labels is None or s.instance_labels is None:
            raise _UsageError(
                f"{s.name}: no ground-truth semantic_labels / instance_labels to evaluate against"
            )
    for k in range(args.generated):
        room = generate_room(args.points, seed=args.seed + k)
        scenes.append(
            Scene(
                f"room{args.seed + k}",
                room.points,
                room.superpoints,
                room.semantic_labels,
                room.instance_labels,
            )
        )
    options = _scene_options(args)
    for i, scene in enumerate(scenes, 1):
        pred = _predict(pipe, scene, args.superpoints, options, Path(scene.name))
        inst = pred.instances
        evaluator.add_scene(
            InstancePrediction(
                labels=inst.semantic_classes - cfg.label_shift, scores=inst.scores, masks=inst.masks
            ),
            InstanceGroundTruth(semantic_labels=scene.semantic_labels, instance_labels=scene.instance_labels),
        )
        print(f"[{i}/{len(scenes)}] {scene.name}: {len(inst)} instances", file=sys.stderr)
    print(evaluator.compute().table(markdown=True))
    return 0


# ---------------------------------------------------------------------------- delegated commands
def _add_delegate(sub: argparse._SubParsersAction, name: str, help_text: str, func) -> None:
    p = sub.add_parser(name, help=help_text, add_help=False, description=help_text)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=func)


def _run_export(args: argparse.Namespace) -> int:
    from isbnet_trt.export.build import main as export_main

    return export_main(["--help"] if args.rest == [] else args.rest, prog="isbnet-trt export")


def _run_benchmark(args: argparse.Namespace) -> int:
    from isbnet_trt.benchmarks.command import main as bench_main

    return bench_main(args.rest, prog="isbnet-trt benchmark")


def _run_train(args: argparse.Namespace) -> int:
    from isbnet_trt.training.train import main as train_main

    return train_main(args.rest, prog="isbnet-trt train")


if __name__ == "__main__":
    sys.exit(main())
