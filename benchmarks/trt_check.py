"""TensorRT check of the isbnet plugins and engines, in one command (needs TensorRT >= 10.9 + GPU).

    python benchmarks/trt_check.py                         # demo weights, a room of 30k points
    python benchmarks/trt_check.py --ckpt model.pth --config isbnet_scannetv2.yaml --fp16

Nothing in this script has run yet: TensorRT could not be installed where it was written. It is
the first thing to run on a machine with TensorRT >= 10.9 (`pip install tensorrt-cu12` or
`tensorrt-cu13`), PyTorch with CUDA and a CUDA compiler for the plugins' PTX (NVRTC from
`cuda-python` + `nvidia-cuda-nvrtc`, or nvcc). It:

1. registers the plugins (`plugins.trt_plugins.register_plugins`) and exports the model's ONNX
   stages (demo weights by default; `--ckpt/--config`, or the shared golden checkpoint with
   `--shared`);
2. builds every stage's engine (`export.tensorrt_engines.build_engine`, stage by stage) with a VERBOSE
   TensorRT log written to `<report>.trt.log`: one check per stage (parse and build);
3. runs each stage on a synthetic room (`--points`, default 30000) on TensorRT against
   onnxruntime on the CPU, teacher-forced (each stage fed onnxruntime's inputs): index outputs
   identical, float outputs within 1e-4 of the largest magnitude (`--fp16`: reported only),
   then the whole scene: the same instances (mask IoU >= 0.99, scores within 1e-4);
4. loads engines with `trtexec --loadEngine` and the room's real inputs (`--loadInputs`), where
   trtexec is on the PATH: proves the engines run without Python and without the plugin module;
5. reports each engine's context memory: what the room needed (USER_MANAGED, sized per call)
   and what the default static allocation would take (`device_memory_size_v2`).

Writes `benchmarks/results/trt_check-<gpu>-<time>.{md,json}` and the TensorRT log. Exit status:
0 all checks passed, 1 a check failed, 2 this machine cannot run the check (no TensorRT >= 10.9,
no GPU; the message says what is missing).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from isbnet_trt.benchmarks.check_report import DEFAULT_OUT, Check, Report, utc_stamp, write_report
from isbnet_trt.benchmarks.gpu_check import load_model_and_cfg
from isbnet_trt.benchmarks.machine import check_environment
from isbnet_trt.benchmarks.stage_checks import check_stages, instance_diff, require_gpu
from isbnet_trt.export.manifest import write_manifest
from isbnet_trt.files import write_atomic

TITLE = "TensorRT check of the isbnet plugins and engines"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--points", type=int, default=30_000, help="points of the synthetic room (default 30000)")
    p.add_argument("--seed", type=int, default=0, help="room generator seed (default 0)")
    p.add_argument("--ckpt", type=Path, help="checkpoint (default: the bundled demo weights)")
    p.add_argument("--config", type=Path, help="its config (with --ckpt)")
    p.add_argument("--shared", type=Path, help="use the shared golden checkpoint of this folder instead")
    p.add_argument(
        "--fp16", action="store_true", help="build FP16 engines (float checks reported, not gated)"
    )
    p.add_argument("--workspace", type=int, default=4096, metavar="MiB", help="builder workspace (MiB)")
    p.add_argument("--device", default="cuda:0", help="CUDA device (default cuda:0)")
    p.add_argument("--keep", type=Path, help="keep the export and engines in this folder")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default benchmarks/results)")
    return p.parse_args(argv)


def requirements() -> str | None:
    """None when this machine can run the check, else what is missing."""
    problem = require_gpu("cuda:0")
    if problem:
        return problem
    from isbnet_trt.plugins import trt_plugins

    try:
        trt_plugins._import_tensorrt()
    except trt_plugins.TensorRTUnavailableError as e:
        return str(e)
    return None


def load_model(args: argparse.Namespace):
    from isbnet_trt.isbnet.checkpoint import load_model as load
    from isbnet_trt.isbnet.config import load_config
    from isbnet_trt.isbnet.demo import demo_config_path, demo_weights_path

    if args.shared is not None:
        ns = argparse.Namespace(shared=args.shared, ckpt=None, config=None, seed=args.seed)
        return load_model_and_cfg(ns)
    ckpt = args.ckpt or demo_weights_path()
    config = args.config or (demo_config_path() if args.ckpt is None else None)
    if config is None:
        raise SystemExit("--ckpt needs --config")
    return load(ckpt, load_config(config)).eval(), f"checkpoint {ckpt} (config {config})"


def make_logger(trt, path: Path):
    """A trt.ILogger writing every message (VERBOSE and up) to `path`, warnings also to stderr."""

    class FileLogger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.file = open(path, "a")  # noqa: SIM115 - lives as long as the builds

        def log(self, severity, msg):
            self.file.write(f"[{severity.name}] {msg}\n")
            if int(severity) <= int(trt.ILogger.Severity.WARNING):
                print(f"TensorRT {severity.name}: {msg}", file=sys.stderr)

    return FileLogger()


def build(report: Report, export_dir: Path, engine_dir: Path, args, logger) -> dict[str, Path]:
    """One engine per stage (each its own check, so one failure does not hide the others)."""
    from isbnet_trt.export.manifest import read_manifest
    from isbnet_trt.export.tensorrt_engines import build_engine, stage_specs

    engines = {}
    engine_dir.mkdir(parents=True, exist_ok=True)
    for spec in stage_specs(read_manifest(export_dir)):
        t0 = time.perf_counter()
        try:
            data = build_engine(spec, args.fp16, args.workspace, True, logger)
        except Exception as e:  # noqa: BLE001 - EngineBuildError or whatever TensorRT raised
            report.checks.append(
                Check(f"engine build [{spec.name}]", False, {"error": str(e).splitlines()[0]}, note=str(e))
            )
            continue
        path = engine_dir / f"{spec.name}.engine"
        write_atomic(path, data)
        engines[spec.name] = path
        report.checks.append(
            Check(
                f"engine build [{spec.name}]",
                True,
                {"seconds": round(time.perf_counter() - t0, 1), "MiB": round(len(data) / 2**20, 2)},
            )
        )
    return engines


class Recorder:
    """Wraps each engine's `run` to keep the last feeds (for trtexec)."""

    def __init__(self, stages) -> None:
        self.feeds: dict[str, dict[str, Any]] = {}
        for name, eng in stages.engines.items():
            eng.run = self._wrap(name, eng.run)

    def _wrap(self, name, run):
        def wrapped(feeds):
            self.feeds[name] = {k: v.detach().cpu().numpy() for k, v in feeds.items()}
            return run(feeds)

        return wrapped


def compare(report: Report, trt_stages, ort_stages, model, scene, label: str, fp16: bool) -> None:
    import torch

    from isbnet_trt.isbnet.inference import forward_test

    trace_ref: dict[str, Any] = {}
    with torch.no_grad():
        inst_ref = forward_test(ort_stages, scene, model.cfg, trace=trace_ref)
        trt_stages.device = torch.device("cpu")  # results come back on the CPU, like onnxruntime's
        before = len(report.checks)
        check_stages(report, trt_stages, trace_ref, scene, label)
        if fp16:  # FP16 engines: the float tolerances are fp32's; report, do not gate
            for c in report.checks[before:]:
                if not c.passed and all(v is True for k, v in c.details.items() if "identical" in k):
                    c.passed, c.note = True, (c.note + " fp16: float errors reported, not gated").strip()
        inst = forward_test(trt_stages, scene, model.cfg)
    diff = instance_diff(inst_ref, inst)
    report.checks.append(Check(f"instances TensorRT vs onnxruntime [{label}]", bool(diff["same"]), diff))


def trtexec(report: Report, engines: dict[str, Path], feeds: dict[str, dict], work: Path) -> None:
    exe = shutil.which("trtexec")
    if exe is None:
        report.checks.append(
            Check("trtexec --loadEngine", True, {"skipped": "trtexec not on the PATH"}, note="not run")
        )
        return
    for name in ("backbone", "aggregator"):
        if name not in engines or name not in feeds:
            continue
        shapes, loads = [], []
        for k, v in feeds[name].items():
            f = work / f"{name}.{k}.bin"
            v.tofile(f)
            shapes.append(f"{k}:{'x'.join(str(d) for d in v.shape)}")
            loads.append(f"{k}:{f}")
        cmd = [exe, f"--loadEngine={engines[name]}", f"--shapes={','.join(shapes)}"]
        cmd += [f"--loadInputs={','.join(loads)}", "--iterations=5", "--warmUp=0", "--duration=0"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        ok = done.returncode == 0 and "PASSED" in done.stdout
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        report.checks.append(
            Check(
                f"trtexec --loadEngine [{name}]", ok, {"returncode": done.returncode}, note=" / ".join(tail)
            )
        )


def memory(report: Report, trt_stages) -> None:
    for name, eng in trt_stages.engines.items():
        static = getattr(eng.engine, "device_memory_size_v2", None)
        report.timings.append(
            {
                "engine": name,
                "context MiB (this room, USER_MANAGED)": round(eng.memory.peak_bytes / 2**20, 1),
                "static MiB (profile maximum)": round(static / 2**20, 1) if static is not None else "-",
            }
        )


def run(args: argparse.Namespace, log_path: Path) -> Report:
    report = Report(settings={k: str(v) for k, v in vars(args).items()})
    report.environment = check_environment(args.device)
    problem = requirements()
    if problem:
        report.errors.append(f"cannot run the TensorRT check: {problem}")
        return report
    import tensorrt as trt
    import torch

    from isbnet_trt.export.build import export_model
    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.plugins.trt_plugins import plugin_arch, register_plugins
    from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages
    from isbnet_trt.runtime.backends.tensorrt import TensorRTStages
    from isbnet_trt.training.synthetic import generate_room

    report.environment["tensorrt"] = trt.__version__
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="trt_check."))
    work.mkdir(parents=True, exist_ok=True)
    try:
        torch.cuda.set_device(torch.device(args.device))
        register_plugins()
        report.environment["plugin_ptx"] = f"sm_{plugin_arch()}"
        model, source = load_model(args)
        report.settings["model"] = source
        export_dir = work / "export"
        export_dir.mkdir(exist_ok=True)
        with torch.no_grad():
            doc = export_model(model, export_dir, log=lambda _: None)
        write_manifest(export_dir, doc)
        engines = build(report, export_dir, work / "engines", args, make_logger(trt, log_path))
        if len(engines) < len(doc["stages"]):
            return report
        label = f"room {args.points // 1000}k seed {args.seed}"
        room = generate_room(args.points, seed=args.seed)
        scene = prepare_scene(room.points, room.superpoints, model.cfg)
        trt_stages = TensorRTStages(export_dir, engines, device=args.device)
        recorder = Recorder(trt_stages)
        compare(report, trt_stages, OnnxRuntimeStages(export_dir), model, scene, label, args.fp16)
        memory(report, trt_stages)
        trtexec(report, engines, recorder.feeds, work)
    except Exception:  # noqa: BLE001 - recorded in the report
        report.errors.append(traceback.format_exc())
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return report


def write(report: Report, out_dir: Path, stamp: str) -> tuple[Path, Path]:
    """`trt_check-<gpu>-<stamp>.md` and `.json` in `out_dir`, the GPU check's report format."""
    return write_report(report, out_dir, stamp, kind="trt_check", title=TITLE)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = utc_stamp()
    args.out.mkdir(parents=True, exist_ok=True)
    log_path = args.out / f"trt_check-{stamp}.trt.log"
    report = run(args, log_path)
    if report.errors and not report.checks:
        print("\n".join(report.errors), file=sys.stderr)
        return 2
    md, js = write(report, args.out, stamp)
    print(md.read_text())
    print(f"report: {md}\n        {js}\nTensorRT log: {log_path}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
