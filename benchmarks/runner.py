"""Run the benchmark: generate the rooms, measure each backend in a worker process of its own
(`worker.py`, a JSON spec in, a JSON result out), then assemble one result: per-stage summaries,
the identity check against the torch backend, speed-ups and the machine's load.

    result = run_benchmark(BenchmarkSettings(checkpoint, config, sizes=(30_000,), repeat=3))

The result is JSON-able; `report.render_markdown` turns it into the report. Each backend runs
in a process of its own (thread settings, allocator and the peak-RSS counter stay separate);
the torch backend is always run, as the reference.
"""

from __future__ import annotations

import json
import os
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

from isbnet_trt.benchmarks.machine import (
    backend_availability,
    cpu_clock,
    default_backends,
    loadavg,
    machine_info,
    other_cpu_share,
    usable_cores,
)
from isbnet_trt.benchmarks.worker import load_instances
from isbnet_trt.files import write_atomic
from isbnet_trt.runtime.backends import EXPORT_BACKENDS, REGISTRY

DEFAULT_SIZES = (30_000, 80_000, 150_000, 300_000)
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
    """Measure every backend of `settings` on every size; the JSON-able result (see `report.render_markdown`).

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
        "backends": {b: REGISTRY[b].description for b in requested if b in REGISTRY},
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
            spec = worker_spec(settings, backend, threads, work, result["scenes"], export_dir)
            log(f"[{backend}] measuring ({settings.warmup} warm-up + {settings.repeat} timed calls per size)")
            workers[backend] = _run_one(spec, settings, log)
            _log_worker(workers[backend], log)
        _assemble(result, workers, work)
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)
    result["machine"]["loadavg_end"] = loadavg()
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


def worker_spec(
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
    from isbnet_trt.benchmarks.worker import run_worker

    if not settings.isolate:
        return run_worker(spec)
    work = Path(spec["work_dir"])
    spec_path = work / f"spec_{spec['backend']}.json"
    out_path = work / f"result_{spec['backend']}.json"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(spec["threads"]), "OMP_NUM_THREADS": str(spec["threads"])}
    cmd = [sys.executable, "-m", "isbnet_trt.benchmarks.worker", str(spec_path)]
    problem = None
    write_atomic(spec_path, json.dumps({**spec, "spawned_at": time.time()}))  # for its cold start
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
