"""Per-stage latency, peak memory and result identity of every backend, side by side in one run.

    isbnet-trt benchmark --ckpt model.pth --config model.yaml              # every available backend
    isbnet-trt benchmark --points 30000 --repeat 1 --backends torch onnxruntime --out results/

For each generated room size (fixed seeds) and each backend: the pipeline is built once, called
`warmup` times untimed, then `repeat` times timed (wall clock per stage: preprocess incl. kernel
maps, backbone, aggregator, decoder and each of its rounds, postprocess incl. NMS, total), then
once more for the peak resident memory. Every backend's instances are matched with the torch
backend's (`isbnet.compare.match_instances(...).same()`), every call's instances against its
first call's. Each backend runs in a process of its own (thread settings, allocator and the
peak-RSS counter stay separate); the torch backend is always run, as the reference.

Output: a markdown report (printed, and written with `--out`) and a JSON file with every raw
time. Numbers compare only within one run on one machine. `benchmarks/run_benchmarks.py` adds
the cost model, plots and the issue's targets on top of it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from isbnet_trt.benchmarks.report import render_markdown, report_stem, write_report
from isbnet_trt.benchmarks.runner import DEFAULT_SIZES, BenchmarkSettings, run_benchmark
from isbnet_trt.runtime.backends import REGISTRY


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", type=Path, help="official checkpoint (default: the bundled demo weights)")
    p.add_argument("--config", type=Path, help="its official YAML config (default: inferred)")
    p.add_argument(
        "--points", type=int, nargs="+", help=f"room sizes (default {', '.join(map(str, DEFAULT_SIZES))})"
    )
    p.add_argument("--seed", type=int, default=0, help="room generator seed (default 0)")
    p.add_argument(
        "--backends",
        nargs="+",
        metavar="B",
        help=f"backends (default: all available of {', '.join(REGISTRY)})",
    )
    p.add_argument("--repeat", type=int, default=10, help="timed calls per backend and size (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls before timing (default 2)")
    p.add_argument(
        "--threads", type=int, help="threads for torch / onnxruntime / numba (default: usable cores)"
    )
    p.add_argument("--timeout", type=float, default=3600, help="seconds per backend process (default 3600)")
    p.add_argument("--in-process", action="store_true", help="run every backend in this process")
    p.add_argument(
        "--quick",
        action="store_true",
        help="validation run: 30k points only (unless --points), 1 warm-up + 1 timed call; the report "
        "says it is not a measurement",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="write <out>/cpu_<machine>_<date>.md and .json (gpu_<gpu>_... with a GPU backend)",
    )
    return p


def resolve_model(ckpt: Path | None, config: Path | None) -> tuple[Path, Path]:
    """(checkpoint, config): the given ones (config inferred when absent), else the demo weights."""
    from isbnet_trt.isbnet import demo
    from isbnet_trt.isbnet.checkpoint import candidate_config_paths, matching_configs, read_state_dict
    from isbnet_trt.isbnet.config import load_config
    from isbnet_trt.runtime.backends import BackendError

    if ckpt is None:
        if not demo.demo_weights_path().is_file():
            raise BackendError(
                "no --ckpt given and the demo weights are not installed: pass --ckpt and --config"
            )
        return demo.demo_weights_path(), demo.demo_config_path()
    if config is not None:
        return ckpt, config
    sd = read_state_dict(ckpt)
    for path in candidate_config_paths(ckpt):
        if matching_configs(sd, [load_config(path)]):
            return ckpt, path
    raise BackendError(f"no config found for {ckpt}: pass --config")


def settings_from_args(args: argparse.Namespace, label: str = "") -> BenchmarkSettings:
    ckpt, config = resolve_model(args.ckpt, args.config)
    return BenchmarkSettings(
        checkpoint=ckpt,
        config=config,
        sizes=tuple(args.points),
        seed=args.seed,
        backends=tuple(args.backends) if args.backends else None,
        repeat=args.repeat,
        warmup=args.warmup,
        threads=args.threads,
        isolate=not args.in_process,
        timeout_s=args.timeout,
        label=label,
    )


#: The title of a `--quick` report.
QUICK_LABEL = "VALIDATION RUN (--quick: 1 timed call, one size), not a measurement"


def apply_quick(args: argparse.Namespace) -> None:
    """Fill the default sizes; `--quick`: 30k points unless sizes were given, 1 warm-up and 1
    timed call."""
    if args.quick:
        args.repeat, args.warmup = 1, 1
    args.points = args.points or ([30_000] if args.quick else list(DEFAULT_SIZES))


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.repeat < 1 or args.warmup < 0:
        p.error("--repeat must be >= 1 and --warmup >= 0")
    if any(n < 100 for n in args.points):
        p.error("--points must be >= 100")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be >= 1")
    unknown = [b for b in args.backends or [] if b not in REGISTRY]
    if unknown:
        p.error(f"unknown backend {', '.join(unknown)} (choose from {', '.join(REGISTRY)})")


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """`isbnet-trt benchmark`: measure, print the markdown report, write it with `--out`."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    apply_quick(args)
    check_args(parser, args)
    result = run_benchmark(settings_from_args(args, label=QUICK_LABEL if args.quick else ""))
    print(render_markdown(result))
    if args.out:
        md, js = write_report(result, args.out, report_stem(result))
        print(f"report: {md}\n        {js}", file=sys.stderr)
    failed = [r for r in result["rows"] if r["status"] != "ok" or (r.get("match") and not r["match"]["same"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
