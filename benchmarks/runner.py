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
the cost model, plots and the issue's targets on top of this module.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from isbnet_trt import __version__
from isbnet_trt.runtime.benchmark_worker import BACKENDS, EXPORT_BACKENDS, GPU_BACKENDS, load_instances

DEFAULT_SIZES = (30_000, 80_000, 150_000, 300_000)
#: Backends run when none are named: everything available except the slow ONNX-function-body path.
OPT_IN_BACKENDS = ("onnxruntime-bodies",)
STAGES = ("preprocess", "backbone", "aggregator", "decoder", "postprocess", "total")
REFERENCE = "torch"
#: The PyTorch paths that the "fastest correct PyTorch path" is taken over.
PYTORCH_PATHS = ("torch", "torch-spconv")

Log = Callable[[str], None]


@dataclass(frozen=True)
class BenchmarkSettings:
    """What to measure. sizes: points per generated room; seed: room generator seed (the same
    room at every size); backends: None = every available one (`default_backends`); threads:
    torch / onnxruntime / numba threads, None = the usable cores; isolate: one process per
    backend (False: in this process, for tests); timeout_s: per backend process."""

    checkpoint: Path
    config: Path
    sizes: tuple[int, ...] = DEFAULT_SIZES
    seed: int = 0
    backends: tuple[str, ...] | None = None
    repeat: int = 10
    warmup: int = 2
    threads: int | None = None
    isolate: bool = True
    timeout_s: float = 3600.0
    label: str = ""


@dataclass
class Summary:
    """Milliseconds over the timed calls: median, min, max, quartiles, count."""

    median: float
    min: float
    max: float
    q1: float
    q3: float
    n: int

    @staticmethod
    def of(seconds: Sequence[float]) -> Summary:
        ms = sorted(1000.0 * s for s in seconds)
        q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive") if len(ms) > 1 else (ms[0],) * 3
        return Summary(statistics.median(ms), ms[0], ms[-1], q1, q3, len(ms))


# ------------------------------------------------------------------------------ environment
def usable_cores() -> int:
    """CPU cores this process may run on (affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def backend_availability(names: Sequence[str]) -> dict[str, str | None]:
    """None for each backend that can run here, else why not (a short sentence)."""
    found = {
        m: importlib.util.find_spec(m) is not None for m in ("numba", "spconv", "onnxruntime", "tensorrt")
    }
    cuda = _torch_cuda()
    reasons: dict[str, str | None] = {}
    for name in names:
        if name not in BACKENDS:
            reasons[name] = f"unknown backend (choose from {', '.join(BACKENDS)})"
        elif name == "torch-numba" and not found["numba"]:
            reasons[name] = "numba is not installed"
        elif name in ("torch-spconv", "torch-cuda-spconv") and not found["spconv"]:
            reasons[name] = "spconv is not installed"
        elif name.startswith("onnxruntime") and not found["onnxruntime"]:
            reasons[name] = "onnxruntime is not installed"
        elif name == "onnxruntime" and not _ort_fast_kernels():
            reasons[name] = "numba / onnxruntime-extensions not installed (see onnxruntime-bodies)"
        elif name in GPU_BACKENDS and not cuda:
            reasons[name] = "no CUDA GPU visible to torch"
        elif name == "onnxruntime-cuda" and "CUDAExecutionProvider" not in _ort_providers():
            reasons[name] = "onnxruntime has no CUDAExecutionProvider (onnxruntime-gpu)"
        elif name == "torch-cuda" and importlib.util.find_spec("cuda") is None:
            reasons[name] = "cuda-python is not installed (the isbnet CUDA kernels need it)"
        elif name == "tensorrt" and not found["tensorrt"]:
            reasons[name] = "tensorrt is not installed"
        else:
            reasons[name] = None
    return reasons


def default_backends() -> list[str]:
    """Every available backend except the opt-in ones, the reference first."""
    names = [b for b in BACKENDS if b not in OPT_IN_BACKENDS]
    return [b for b, why in backend_availability(names).items() if why is None]


def _torch_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _ort_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def _ort_fast_kernels() -> bool:
    from isbnet_trt.plugins import onnxruntime_ops

    return bool(onnxruntime_ops.available())


def machine_info(threads: int) -> dict[str, Any]:
    """CPU model, cores, memory, GPU, OS, library versions, thread count, load average."""
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "logical_cpus": os.cpu_count(),
        "threads": threads,
        "memory_gib": _meminfo_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "isbnet_trt": __version__,
        "git_commit": _git_commit(),
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "torch_parallel": _parallel_backend(torch.__config__.parallel_info()),
        "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other (no MKL)",
        "packages": {p: _version(p) for p in _PACKAGES if _version(p)},
        "loadavg_start": _loadavg(),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = f"{props.name} ({props.total_memory / 2**30:.0f} GiB, sm {props.major}.{props.minor})"
        info["torch_cuda"] = torch.version.cuda
    return info


_PACKAGES = (
    "torch",
    "numpy",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-extensions",
    "onnx",
    "numba",
    "llvmlite",
    "spconv",
    "spconv-cu126",
    "cumm",
    "tensorrt",
    "cuda-python",
)


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _slug(text: str) -> str:
    """Lower-case letters and digits, every other run of characters one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def machine_slug(info: dict[str, Any]) -> str:
    """A file-name-safe machine name: CPU model and core count, e.g. `amd-epyc-2c`."""
    model = re.sub(r"\((r|tm)\)|cpu|processor|@.*$", "", info["cpu"], flags=re.I)
    slug = _slug(model) or "cpu"
    return f"{slug}-{info['cores']}c"


def _meminfo_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_clock() -> tuple[float, float, float] | None:
    """(wall s, CPU s busy on the whole machine, CPU s of this process and its waited-for
    children), for `other_cpu_share`; None where /proc/stat is missing."""
    try:
        import resource  # Unix only

        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (ImportError, OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # user..steal; guest is inside user
    own = sum(
        r.ru_utime + r.ru_stime
        for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    return time.monotonic(), busy, own


def other_cpu_share(start: tuple[float, float, float] | None, cores: int) -> float | None:
    """Share of the machine's CPU time (0..1) used by other processes since `start`."""
    end = cpu_clock()
    if start is None or end is None or end[0] <= start[0]:
        return None
    wall, busy, own = (e - s for e, s in zip(end, start, strict=True))
    return round(max(0.0, busy - own) / (wall * cores), 3)


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _parallel_backend(info: str) -> str:
    """`ATen parallel backend: OpenMP` -> "OpenMP" (torch's `parallel_info()` text)."""
    found = re.search(r"ATen parallel backend:\s*(.+)", info)
    return found.group(1).strip() if found else "unknown"


# ------------------------------------------------------------------------------ the run
def write_scenes(sizes: Sequence[int], seed: int, work_dir: Path) -> list[dict[str, Any]]:
    """Generate the rooms (one seed, every size) into `work_dir`; their descriptions."""
    from isbnet_trt.training.synthetic import generate_room

    scenes = []
    for n in sizes:
        room = generate_room(n, seed=seed)
        path = work_dir / f"scene_{n}.npz"
        np.savez(path, points=room.points, superpoints=room.superpoints)
        scenes.append(
            {"n_points": n, "seed": seed, "superpoints": int(room.superpoints.max()) + 1, "file": str(path)}
        )
    return scenes


def run_benchmark(
    settings: BenchmarkSettings, work_dir: Path | None = None, log: Log | None = None
) -> dict[str, Any]:
    """Measure every backend of `settings` on every size; the JSON-able result (see `render_markdown`).

    work_dir: scratch folder for scenes, instances and worker results (default: a temporary
    folder, removed afterwards). log: progress lines (default: stderr).
    """
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    clock = cpu_clock()
    threads = settings.threads or usable_cores()
    requested = list(settings.backends) if settings.backends else default_backends()
    if REFERENCE not in requested:
        requested.insert(0, REFERENCE)  # the reference of the identity check
    requested = [REFERENCE] + [b for b in dict.fromkeys(requested) if b != REFERENCE]
    availability = backend_availability(requested)
    result: dict[str, Any] = {
        "kind": "isbnet-trt benchmark",
        "label": settings.label,
        "machine": machine_info(threads),
        "settings": {**asdict(settings), "threads": threads, "backends": requested},
        "model": {"checkpoint": str(settings.checkpoint), "config": str(settings.config)},
        "skipped": {b: why for b, why in availability.items() if why},
        "backends": {b: BACKENDS[b] for b in requested if b in BACKENDS},
        "setup": {},
        "rows": [],
        "notes": [],
    }
    result["model"].update(_model_summary(settings.config))
    runnable = [b for b in requested if availability[b] is None]
    own_dir = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="isbnet-bench-")) if own_dir else Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        log(f"generating rooms of {', '.join(str(n) for n in settings.sizes)} points (seed {settings.seed})")
        result["scenes"] = write_scenes(settings.sizes, settings.seed, work)
        export_dir = _export_if_needed(settings, runnable, result, log)
        workers = {}
        for backend in runnable:
            spec = _worker_spec(settings, backend, threads, work, result["scenes"], export_dir)
            log(f"[{backend}] measuring ({settings.warmup} warm-up + {settings.repeat} timed calls per size)")
            workers[backend] = _run_one(spec, settings, log)
            _log_worker(workers[backend], log)
        _assemble(result, workers, work)
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)
    result["machine"]["loadavg_end"] = _loadavg()
    result["machine"]["other_cpu_share"] = other_cpu_share(clock, result["machine"]["cores"])
    result["notes"] += load_notes(result["machine"])
    return result


def _model_summary(config: Path) -> dict[str, Any]:
    from isbnet_trt.isbnet.config import load_config

    cfg = load_config(config)
    head = cfg.instance_head
    return {
        "name": cfg.name,
        "channels": cfg.channels,
        "num_blocks": cfg.num_blocks,
        "dec_dim": head.dec_dim,
        "n_sample_pa1": head.n_sample_pa1,
        "rounds": list(cfg.n_sample_rounds),
    }


def _export_if_needed(
    settings: BenchmarkSettings, runnable: list[str], result: dict[str, Any], log: Log
) -> str | None:
    """Export the ONNX stages once (cached) when an ONNX backend runs; failures skip them."""
    needing = [b for b in runnable if b in EXPORT_BACKENDS]
    if not needing:
        return None
    from isbnet_trt.runtime import backends

    log("exporting the ONNX stages (cached after the first time)")
    t = time.perf_counter()
    try:
        path = backends.cached_export(settings.checkpoint, settings.config)
    except Exception as e:  # noqa: BLE001 - the ONNX backends are skipped, the rest goes on
        for b in needing:
            result["skipped"][b] = f"export failed: {type(e).__name__}: {e}"
            runnable.remove(b)
        return None
    result["export"] = {"dir": str(path), "seconds": time.perf_counter() - t}
    return str(path)


def _worker_spec(
    settings: BenchmarkSettings,
    backend: str,
    threads: int,
    work: Path,
    scenes: list[dict[str, Any]],
    export_dir: str | None,
) -> dict[str, Any]:
    return {
        "backend": backend,
        "checkpoint": str(settings.checkpoint),
        "config": str(settings.config),
        "export_dir": export_dir,
        "scenes": [s["file"] for s in scenes],
        "warmup": settings.warmup,
        "repeat": settings.repeat,
        "threads": threads,
        "work_dir": str(work),
        "time_kernel_maps": backend == REFERENCE,
    }


def _run_one(spec: dict[str, Any], settings: BenchmarkSettings, log: Log) -> dict[str, Any]:
    """Run a worker (in a process of its own unless `settings.isolate` is False)."""
    from isbnet_trt.runtime.benchmark_worker import run_worker

    if not settings.isolate:
        return run_worker(spec)
    work = Path(spec["work_dir"])
    spec_path = work / f"spec_{spec['backend']}.json"
    out_path = work / f"result_{spec['backend']}.json"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(spec["threads"]), "OMP_NUM_THREADS": str(spec["threads"])}
    cmd = [sys.executable, "-m", "isbnet_trt.runtime.benchmark_worker", str(spec_path)]
    problem = None
    spec_path.write_text(json.dumps({**spec, "spawned_at": time.time()}))  # for its cold start
    try:
        proc = subprocess.run(cmd, env=env, timeout=settings.timeout_s, stdout=subprocess.DEVNULL)
        if proc.returncode < 0:
            problem = f"worker killed by signal {-proc.returncode}"
    except subprocess.TimeoutExpired:
        problem = f"worker timed out after {settings.timeout_s:.0f} s"
    worker = (
        json.loads(out_path.read_text()) if out_path.is_file() else {"backend": spec["backend"], "scenes": []}
    )
    if problem or not out_path.is_file():
        worker.update(status="error", error=problem or "worker wrote no result")
    return worker


def _log_worker(worker: dict[str, Any], log: Log) -> None:
    name = worker["backend"]
    if worker.get("status") == "error" and not worker.get("scenes"):
        log(f"[{name}] failed: {worker.get('error')}")
        return
    for s in worker["scenes"]:
        if s["status"] != "ok":
            log(f"[{name}] {s['n_points']} points: {s['error']}")
        else:
            total = Summary.of(s["times_s"]["total"])
            log(f"[{name}] {s['n_points']} points: total {total.median:.0f} ms median of {total.n}")
    if worker.get("status") == "error":
        log(f"[{name}] stopped: {worker.get('error')}")


def _assemble(result: dict[str, Any], workers: dict[str, dict[str, Any]], work: Path) -> None:
    """Rows (backend × size) with summaries and the identity check against the reference."""
    ref_files = {
        s["n_points"]: work / s["instances_files"][0]
        for s in workers.get(REFERENCE, {}).get("scenes", [])
        if s["status"] == "ok"
    }
    for backend, worker in workers.items():
        result["setup"][backend] = {
            k: worker.get(k)
            for k in ("status", "error", "setup_s", "cold_start_s", "threads")
            if worker.get(k) is not None
        }
        for s in worker.get("scenes", []):
            row: dict[str, Any] = {"backend": backend, "n_points": s["n_points"], "status": s["status"]}
            if s["status"] != "ok":
                row["error"] = s.get("error")
                result["rows"].append(row)
                continue
            row["stages"] = {k: asdict(Summary.of(v)) for k, v in s["times_s"].items()}
            row["times_ms"] = {k: [1000 * x for x in v] for k, v in s["times_s"].items()}
            row["first_call_ms"] = 1000 * s["warmup_s"][0] if s["warmup_s"] else None
            row["memory"] = s["memory"]
            row["workload"] = s["workload"]
            row["n_instances"] = s["n_instances"]
            row["deterministic"] = len(set(s["digests"])) == 1
            if "kernel_maps_s" in s:
                row["kernel_maps"] = asdict(Summary.of(s["kernel_maps_s"]))
            ref = ref_files.get(s["n_points"])
            row["match"] = _match(ref, [work / f for f in s["instances_files"]]) if ref else None
            result["rows"].append(row)
    result["derived"] = derive(result["rows"])


def _match(ref: Path, variants: list[Path]) -> dict[str, Any]:
    """Every distinct result of a backend against the reference's first result; the worst."""
    from isbnet_trt.isbnet.compare import match_instances

    a = load_instances(ref)
    reports = [match_instances(a, load_instances(v)) for v in variants]
    return {
        "same": all(r.same() for r in reports),
        "unmatched": max(r.unmatched for r in reports),
        "min_iou": min(r.min_iou for r in reports),
        "max_score_diff": max(r.max_score_diff for r in reports),
        "distinct_results": len(variants),
    }


def derive(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per size: speed-up of each backend over torch and over the fastest correct PyTorch path.

    The PyTorch paths are `PYTORCH_PATHS`; torch-spconv's total is taken without the kernel
    maps that the pipeline's preprocess builds but spconv does not use (the reference's
    separately timed kernel-map median), so the baseline is not handicapped.
    """
    by = {(r["backend"], r["n_points"]): r for r in rows if r["status"] == "ok"}
    sizes = sorted({r["n_points"] for r in rows})
    out: dict[str, Any] = {}
    for n in sizes:
        ref = by.get((REFERENCE, n))
        if ref is None:
            continue
        maps_ms = ref.get("kernel_maps", {}).get("median", 0.0)
        paths = {}
        for b in PYTORCH_PATHS:
            r = by.get((b, n))
            if r is None or (r["match"] is not None and not r["match"]["same"]):
                continue  # only correct paths count
            total = r["stages"]["total"]["median"]
            paths[b] = total - maps_ms if b == "torch-spconv" else total
        best = min(paths, key=paths.get) if paths else REFERENCE
        best_ms = paths.get(best, ref["stages"]["total"]["median"])
        torch_ms = ref["stages"]["total"]["median"]
        out[str(n)] = {
            "torch_total_ms": torch_ms,
            "kernel_maps_ms": maps_ms,
            "pytorch_paths_ms": paths,
            "fastest_pytorch": best,
            "fastest_pytorch_ms": best_ms,
            "speedup": {
                b: {
                    "vs_torch": torch_ms / r["stages"]["total"]["median"],
                    "vs_fastest_pytorch": best_ms / r["stages"]["total"]["median"],
                }
                for (b, m), r in by.items()
                if m == n
            },
        }
    return out


def _share(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.1%}"


def load_notes(machine: dict[str, Any]) -> list[str]:
    """A warning when other processes used more than 10 % of the CPU time during the run; where
    that share is unknown, when the load average at the start was high (a trailing measure: the
    end's would count the benchmark itself)."""
    notes = []
    other = machine.get("other_cpu_share")
    load = machine.get("loadavg_start")
    if other is None and load and load[0] > 0.5 * machine["cores"]:
        notes.append(
            f"load average {load[0]:.2f} at the start on {machine['cores']} cores: "
            "other processes were running, the times are noisy and slow"
        )
    if other is not None and other > 0.1:
        notes.append(
            f"other processes used {other:.0%} of the machine's CPU time during the run: "
            "the times are noisy and slow"
        )
    return notes


# ------------------------------------------------------------------------------ report
def fmt_ms(ms: float | None) -> str:
    """Milliseconds with 3 significant figures (`-` for None)."""
    if ms is None:
        return "-"
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def _cell(row: dict[str, Any], stage: str) -> str:
    s = row["stages"].get(stage)
    return fmt_ms(s["median"]) if s else "-"


def _decoder_cell(row: dict[str, Any]) -> str:
    rounds = [row["stages"][k]["median"] for k in sorted(row["stages"]) if k.startswith("decoder_r")]
    total = _cell(row, "decoder")
    return f"{total} ({' / '.join(fmt_ms(r) for r in rounds)})" if rounds else total


def _same_cell(row: dict[str, Any]) -> str:
    m = row.get("match")
    if row["backend"] == REFERENCE:
        return "reference" + ("" if row["deterministic"] else " (**varies between calls**)")
    if m is None:
        return "no reference"
    if m["same"]:
        return "yes" if m["distinct_results"] == 1 else f"yes ({m['distinct_results']} results)"
    return (
        f"**NO** (unmatched {m['unmatched']}, min IoU {m['min_iou']:.3f}, "
        f"score diff {m['max_score_diff']:.1e})"
    )


def _memory_cell(row: dict[str, Any]) -> str:
    mem = row["memory"]
    if mem.get("peak_rss_mib") is None:
        return "-"
    text = f"{mem['peak_rss_mib']:.0f} (+{mem['peak_rss_mib'] - mem['base_rss_mib']:.0f})"
    if mem.get("cuda_peak_mib") is not None:
        text += f", GPU {mem['cuda_peak_mib']:.0f}"
    return text


def render_markdown(result: dict[str, Any]) -> str:
    """The report: machine, model, settings, one stage table per size, speed-ups, notes."""
    m = result["machine"]
    title = "isbnet-trt benchmark" + (f" — {result['label']}" if result.get("label") else "")
    lines = [f"# {title}", ""]
    lines += [f"> {n}" for n in result.get("notes", [])] + ([""] if result.get("notes") else [])
    lines += machine_lines(m) + [""]
    model, st = result["model"], result["settings"]
    lines += [
        f"Model: `{model['checkpoint']}` with `{model['config']}` "
        f"({model['name']}: channels {model['channels']}, "
        f"{model['num_blocks']} U-Net levels, rounds {model['rounds']}).",
        f"Rooms: `generate_room(n, seed={st['seed']})`; "
        f"{st['warmup']} warm-up + {st['repeat']} timed calls per "
        f"backend and size; {st['threads']} threads (torch, onnxruntime intra-op, numba); "
        + ("one process per backend." if st["isolate"] else "all backends in one process."),
        "",
    ]
    for n in sorted({r["n_points"] for r in result["rows"]}):
        lines += stage_table(result, n) + [""]
    lines += speedup_lines(result) + [""]
    if result.get("skipped"):
        lines += ["Not run: " + "; ".join(f"{b} ({why})" for b, why in result["skipped"].items()), ""]
    lines += setup_lines(result) + [""]
    lines += [COLUMNS_NOTE, ""]
    return "\n".join(lines)


def machine_lines(m: dict[str, Any]) -> list[str]:
    pk = m.get("packages", {})
    return [
        "| machine | |",
        "| --- | --- |",
        f"| CPU | {m['cpu']}, {m['cores']} cores usable ({m['logical_cpus']} logical), "
        f"{m.get('memory_gib')} GiB |",
        f"| GPU | {m.get('gpu', 'none')} |",
        f"| threads | {m['threads']} (torch parallel backend {m.get('torch_parallel')}, "
        f"BLAS {m.get('torch_blas')}) |",
        f"| load average (1/5/15 min) | start {m.get('loadavg_start')}, end {m.get('loadavg_end')} |",
        f"| CPU used by other processes during the run | {_share(m.get('other_cpu_share'))} |",
        f"| OS / Python | {m['os']} / {m['python']} |",
        f"| libraries | {', '.join(f'{k} {v}' for k, v in pk.items())} |",
        f"| isbnet-trt | {m['isbnet_trt']} (git {m.get('git_commit')}), {m['date_utc']} |",
    ]


def stage_table(result: dict[str, Any], n_points: int) -> list[str]:
    rows = [r for r in result["rows"] if r["n_points"] == n_points]
    ok = [r for r in rows if r["status"] == "ok"]
    voxels = next((r["workload"].get("voxels") for r in ok if r["workload"].get("voxels")), None)
    derived = result.get("derived", {}).get(str(n_points), {})
    lines = [
        f"## {n_points:,} points ({voxels:,} voxels)" if voxels else f"## {n_points:,} points",
        "",
        "Median ms per stage; total with [min – max]; decoder = all rounds (each round).",
        "",
        "| backend | preprocess | backbone | aggregator | decoder (rounds) | postprocess | total [min – max] "
        "| vs torch | peak RSS MiB (+call) | instances | same as torch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['backend']} | failed: {r.get('error')} |" + " |" * 9)
            continue
        tot = r["stages"]["total"]
        speed = derived.get("speedup", {}).get(r["backend"], {}).get("vs_torch")
        lines.append(
            f"| {r['backend']} | {_cell(r, 'preprocess')} | {_cell(r, 'backbone')} "
            f"| {_cell(r, 'aggregator')} "
            f"| {_decoder_cell(r)} | {_cell(r, 'postprocess')} "
            f"| {fmt_ms(tot['median'])} [{fmt_ms(tot['min'])} – {fmt_ms(tot['max'])}] "
            f"| {f'{speed:.2f}×' if speed else '-'} | {_memory_cell(r)} "
            f"| {r['n_instances']} | {_same_cell(r)} |"
        )
    ref = next((r for r in ok if r.get("kernel_maps")), None)
    if ref:
        lines += ["", f"Kernel maps (inside preprocess): {fmt_ms(ref['kernel_maps']['median'])} ms median."]
    return lines


def speedup_lines(result: dict[str, Any]) -> list[str]:
    derived = result.get("derived", {})
    if not derived:
        return []
    backends = [b for b in result["settings"]["backends"] if any(b in d["speedup"] for d in derived.values())]
    lines = [
        "## Speed-up of the total (median) over the fastest correct PyTorch path",
        "",
        "The fastest of "
        + ", ".join(PYTORCH_PATHS)
        + " with the reference's instances; torch-spconv's total "
        "without the kernel maps it does not use.",
        "",
        "| points | fastest PyTorch (ms) | " + " | ".join(backends) + " |",
        "| ---: | --- |" + " ---: |" * len(backends),
    ]
    for n, d in derived.items():
        cells = [
            f"{d['speedup'][b]['vs_fastest_pytorch']:.2f}×" if b in d["speedup"] else "-" for b in backends
        ]
        lines.append(
            f"| {int(n):,} | {d['fastest_pytorch']} ({fmt_ms(d['fastest_pytorch_ms'])}) | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def setup_lines(result: dict[str, Any]) -> list[str]:
    first = min((r["n_points"] for r in result["rows"]), default=None)
    lines = [
        "## Setup, cold start and threads",
        "",
        f"| backend | build s | cold start s ({first or 0:,} points) | first call ms (per size) | threads |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for b, s in result["setup"].items():
        firsts = [
            fmt_ms(r.get("first_call_ms"))
            for r in result["rows"]
            if r["backend"] == b and r["status"] == "ok"
        ]
        threads = ", ".join(f"{k}={v}" for k, v in (s.get("threads") or {}).items())
        build = f"{s['setup_s']:.1f}" if s.get("setup_s") is not None else f"failed: {s.get('error')}"
        cold = f"{s['cold_start_s']:.1f}" if s.get("cold_start_s") is not None else "-"
        lines.append(f"| {b} | {build} | {cold} | {' / '.join(firsts) or '-'} | {threads} |")
    lines += [
        "",
        "Cold start: from starting the backend's process to the first result on the smallest room "
        "(interpreter, imports, building the stages, first call with its one-off costs: numba's "
        "cache loads, onnxruntime's first runs); `-` with --in-process. Build: the stages alone.",
    ]
    if result.get("export"):
        lines += [
            "",
            f"ONNX export: {result['export']['seconds']:.1f} s (0 when cached) "
            f"into `{result['export']['dir']}`.",
        ]
    return lines


COLUMNS_NOTE = """Columns: preprocess = axes/centring, voxelisation, superpoint renumbering and the
kernel maps of every U-Net level (NumPy + numba; torch-cuda: voxelisation, voxel means and maps
with PyTorch ops on the GPU); backbone = U-Net,
heads, superpoint pooling and mask tower (torch: including the pair lists built from the kernel
maps; torch-spconv: including spconv's own rulebooks); aggregator = foreground selection and
point aggregator 1 (FPS 2048, ball query, MLPs); decoder = every iterative-sampling round
(aggregator 2, heads, dynamic convolution) and the coverage updates between rounds; postprocess =
scores, top-k, matrix NMS, devoxelisation, superpoint refinement. Peak RSS = the process's
resident peak during one untimed call (VmHWM after a reset), in brackets its growth over the
resident size before that call. "same as torch": every distinct result of the backend's calls
matches the torch backend's first result (`match_instances(...).same()`: same labels, mask IoU >
0.99, scores within 1e-4)."""


def write_report(result: dict[str, Any], out_dir: Path, stem: str) -> tuple[Path, Path]:
    """`<stem>.md` and `<stem>.json` in `out_dir`, written atomically; both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / f"{stem}.md", out_dir / f"{stem}.json")
    for path, text in zip(
        paths, (render_markdown(result), json.dumps(result, indent=1, default=str)), strict=True
    ):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return paths


def report_stem(result: dict[str, Any], prefix: str = "") -> str:
    """`<prefix><cpu|gpu>_<machine>_<date>`: `cpu_amd-epyc-2c_2026-11-25`, or, when a GPU backend
    was measured, `gpu_nvidia-h200_intel-xeon-16c_2026-11-26` (the GPU named first)."""
    machine = result["machine"]
    date = machine["date_utc"][:10]
    on_gpu = machine.get("gpu") and any(
        r["backend"] in GPU_BACKENDS and r["status"] == "ok" for r in result["rows"]
    )
    if not on_gpu:
        return f"{prefix}cpu_{machine_slug(machine)}_{date}"
    gpu = _slug(machine["gpu"].split(" (")[0])
    return f"{prefix}gpu_{gpu}_{machine_slug(machine)}_{date}"


# ------------------------------------------------------------------------------ command line
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
        help=f"backends (default: all available of {', '.join(BACKENDS)})",
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
    unknown = [b for b in args.backends or [] if b not in BACKENDS]
    if unknown:
        p.error(f"unknown backend {', '.join(unknown)} (choose from {', '.join(BACKENDS)})")


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
