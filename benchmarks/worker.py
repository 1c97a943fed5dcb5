"""One backend's measurements for `benchmarks.runner`, normally in a process of its own.

    python -m isbnet_trt.benchmarks.worker SPEC.json      # writes spec["out"] (JSON)

A worker builds one backend's pipeline once, then for each scene: warm-up calls, timed calls
(per-stage wall clock from `Pipeline`, plus each decoder round), one untimed call for the peak
memory, the instances of its first call (saved for the comparison with the torch backend) and a
digest of every call's instances (are repeated calls identical?). Its JSON is rewritten after
every scene, so a crash or a timeout keeps what was measured.

A process per backend keeps thread settings, allocator state and the peak-RSS counter of one
backend away from the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.files import write_atomic
from isbnet_trt.isbnet.aggregator import Queries
from isbnet_trt.isbnet.inference import Stages
from isbnet_trt.isbnet.model import BackboneOutputs, DecoderOutputs
from isbnet_trt.isbnet.postprocess import Instances
from isbnet_trt.isbnet.preprocess import ScenePreparer
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.plugins.kernel_maps.reference import build_unet_maps
from isbnet_trt.runtime.backends import GPU_BACKENDS
from isbnet_trt.runtime.pipeline import Pipeline, cpu_map_builder


# ------------------------------------------------------------------------------ memory
def rss_kib() -> int | None:
    """Resident set size of this process in KiB (Linux /proc), None elsewhere."""
    return _status_kib("VmRSS")


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) to the current RSS; False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@contextmanager
def peak_memory(sync_cuda: bool) -> Iterator[dict[str, Any]]:
    """Measure the block's peak resident memory (and torch's CUDA allocator peak).

    Yields a dict filled on exit: `base_rss_mib` (before), `peak_rss_mib` (process peak during the
    block), `method`; `cuda_peak_mib` when `sync_cuda`. Uses Linux's VmHWM after resetting it
    (exact, no sampling cost); else a thread sampling RSS every 2 ms (can miss short spikes).
    """
    out: dict[str, Any] = {}
    base = rss_kib()
    if sync_cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    exact = base is not None and reset_peak_rss()
    sampler = None if exact or base is None else _RssSampler()
    try:
        yield out
    finally:
        if sync_cuda:
            torch.cuda.synchronize()
            out["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
        if exact:
            peak, out["method"] = _status_kib("VmHWM"), "VmHWM reset via /proc/self/clear_refs"
        elif sampler is not None:
            peak, out["method"] = sampler.stop(), "RSS sampled every 2 ms"
        else:
            peak, out["method"] = None, "unavailable (no /proc)"
        out["base_rss_mib"] = None if base is None else base / 1024
        out["peak_rss_mib"] = None if peak is None else peak / 1024


class _RssSampler:
    """Polls RSS in a daemon thread until `stop()`; returns the largest value seen (KiB)."""

    def __init__(self, period_s: float = 0.002) -> None:
        self.peak = rss_kib() or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(period_s,), daemon=True)
        self._thread.start()

    def _run(self, period_s: float) -> None:
        while not self._stop.wait(period_s):
            self.peak = max(self.peak, rss_kib() or 0)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_kib() or 0)


# ------------------------------------------------------------------------------ timing proxy
@dataclass
class TimedStages:
    """A `Stages` proxy: times each decoder round (the pipeline's `decoder` timer wraps all
    rounds and the coverage updates between them) and records the workload of the last call.

    sync_cuda: synchronise the GPU at the end of every stage, so stage timers see the work.
    """

    inner: Stages
    sync_cuda: bool = False
    rounds_s: list[float] = field(default_factory=list)
    workload: dict[str, Any] = field(default_factory=dict)

    @property
    def preprocessor(self) -> ScenePreparer | None:
        return getattr(self.inner, "preprocessor", None)

    def start_call(self) -> None:
        self.rounds_s = []
        self.workload = {"rounds": []}

    def _sync(self) -> None:
        if self.sync_cuda:
            torch.cuda.synchronize()

    def backbone(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: list[LevelMaps]
    ) -> BackboneOutputs:
        bb = self.inner.backbone(voxel_feats, voxel_coords_float, voxel_spps, maps)
        self._sync()
        self.workload.update(voxels=int(voxel_feats.shape[0]), superpoints=int(bb.spp_coords.shape[0]))
        self.workload["levels"] = [lm.num_voxels for lm in maps]
        return bb

    def aggregate(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> Queries:
        q = self.inner.aggregate(locs, feats, boxes)
        self._sync()
        self.workload.update(foreground_voxels=int(locs.shape[0]), pa1_queries=int(q.locs.shape[1]))
        return q

    def decoder(self, cand: Queries, n_sample: int, bb: BackboneOutputs) -> DecoderOutputs:
        t = time.perf_counter()
        out = self.inner.decoder(cand, n_sample, bb)
        self._sync()
        self.rounds_s.append(time.perf_counter() - t)
        self.workload["rounds"].append([int(cand.locs.shape[1]), int(n_sample), int(out.fg.sum())])
        return out


# ------------------------------------------------------------------------------ backends
def make_stages(
    backend: str, checkpoint: Path, config: Path, export_dir: Path | None, threads: int
) -> Stages:
    """Build `backend`'s stages once (raises `BackendError` / ImportError when it cannot run)."""
    from isbnet_trt.isbnet.checkpoint import load_model
    from isbnet_trt.runtime.backends import BackendError

    if backend in ("torch", "torch-numba", "torch-spconv"):
        model = load_model(checkpoint, config)
        if backend == "torch-numba":
            from isbnet_trt.benchmarks.torch_numba import NumbaGeometry

            model.geometry_ops = NumbaGeometry()
        if backend == "torch-spconv":
            from isbnet_trt.benchmarks.torch_spconv import SpconvStages

            return SpconvStages(model, threads=1)
        return model
    if backend in ("torch-cuda", "torch-cuda-baseline", "torch-cuda-spconv"):
        if not torch.cuda.is_available():
            raise BackendError("torch sees no CUDA GPU")
        from isbnet_trt.runtime.backends.torch_cuda import DeviceStages

        if backend == "torch-cuda-spconv":
            from isbnet_trt.benchmarks.torch_spconv import SpconvDeviceStages

            return SpconvDeviceStages(load_model(checkpoint, config), "cuda")

        return DeviceStages(load_model(checkpoint, config), "cuda", kernels=backend == "torch-cuda")
    if export_dir is None:
        raise BackendError(f"backend {backend!r} needs an export directory")
    if backend == "tensorrt":
        from isbnet_trt.runtime.backends.tensorrt import open_tensorrt_stages

        return open_tensorrt_stages(export_dir)[0]
    from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages

    if backend == "onnxruntime-cuda":
        return OnnxRuntimeStages(export_dir, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    kernels = "bodies" if backend == "onnxruntime-bodies" else "fast"
    return OnnxRuntimeStages(export_dir, kernels=kernels, providers=["CPUExecutionProvider"], threads=threads)


def thread_settings(stages: Stages) -> dict[str, Any]:
    """The thread counts this process runs with (torch, onnxruntime, numba, spconv's U-Net)."""
    info: dict[str, Any] = {
        "torch": torch.get_num_threads(),
        "torch_interop": torch.get_num_interop_threads(),
    }
    inner = getattr(stages, "inner", stages)
    if hasattr(inner, "sessions"):  # onnxruntime
        info["onnxruntime_intra_op"] = inner.threads
        info["onnxruntime_fast_kernels"] = bool(inner.fast)
        info["onnxruntime_providers"] = list(inner.providers)
    if "numba" in sys.modules:
        info["numba"] = sys.modules["numba"].get_num_threads()
    if hasattr(inner, "_spconv"):
        info["spconv_unet_torch_threads"] = inner.threads
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        if os.environ.get(var):
            info[f"env_{var}"] = os.environ[var]
    return info


# ------------------------------------------------------------------------------ measuring
def instances_digest(inst: Instances) -> str:
    """sha256 of an instance set's labels, scores and masks (equal digests: identical results)."""
    h = hashlib.sha256()
    for a in (inst.label_ids, inst.scores, inst.masks):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def save_instances(inst: Instances, path: Path) -> None:
    """label_ids, scores and masks (bit-packed per point) of one call, for the comparison."""
    np.savez(
        path,
        label_ids=inst.label_ids,
        scores=inst.scores,
        masks=np.packbits(inst.masks, axis=1),
        n_points=np.int64(inst.masks.shape[1]),
    )


def load_instances(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label_ids (K,), scores (K,), masks (K, N) bool) as written by `save_instances`."""
    with np.load(path) as z:
        n = int(z["n_points"])
        return z["label_ids"], z["scores"], np.unpackbits(z["masks"], axis=1, count=n).astype(bool)


def kernel_maps_s(maps: list[LevelMaps]) -> float:
    """Seconds to build again the U-Net kernel maps `maps` of a scene (part of `preprocess`), with
    the CPU builder the pipeline uses."""
    base = maps[0]
    build = cpu_map_builder() or build_unet_maps
    t = time.perf_counter()
    build(base.coords, len(maps), base.spatial_shape)
    return time.perf_counter() - t


def measure_scene(
    pipe: Pipeline, proxy: TimedStages, points: np.ndarray, superpoints: np.ndarray, spec: dict[str, Any]
) -> dict[str, Any]:
    """Warm-up, timed calls, a memory call; per-stage seconds of every timed call."""
    out_dir, n = Path(spec["work_dir"]), len(points)
    prefix = f"{spec['backend']}_{n}"
    times: dict[str, list[float]] = {}
    warm_s: list[float] = []
    digests: list[str] = []
    for i in range(spec["warmup"] + spec["repeat"]):
        proxy.start_call()
        pred = pipe(points, superpoints)
        if i == 0:
            first_result_at = time.time()  # wall clock: compared with the parent's spawn time
        timed = {**pred.timings, **{f"decoder_r{r}": s for r, s in enumerate(proxy.rounds_s)}}
        if i < spec["warmup"]:
            warm_s.append(timed["total"])
        else:
            for k, v in timed.items():
                times.setdefault(k, []).append(v)
        digest = instances_digest(pred.instances)
        if digest not in digests:  # the first call's result, and any call that differs from it
            save_instances(pred.instances, out_dir / f"{prefix}_v{len(set(digests))}.npz")
        digests.append(digest)
        n_instances = len(pred.instances)
    workload = proxy.workload  # of the last timed call
    proxy.start_call()
    with peak_memory(proxy.sync_cuda) as mem:
        pipe(points, superpoints)
    result: dict[str, Any] = {
        "n_points": n,
        "status": "ok",
        "times_s": times,
        "warmup_s": warm_s,
        "n_instances": n_instances,
        "digests": digests,
        "instances_files": [f"{prefix}_v{i}.npz" for i in range(len(set(digests)))],
        "workload": workload,
        "memory": mem,
        "first_result_at": first_result_at,
    }
    if spec.get("time_kernel_maps"):
        from isbnet_trt.isbnet.preprocess import prepare_scene

        scene = prepare_scene(points, superpoints, pipe.cfg)
        result["kernel_maps_s"] = [kernel_maps_s(scene.maps) for _ in range(spec["repeat"])]
    return result


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one backend on every scene of `spec` (see `runner.worker_spec` for the keys).

    Never raises for a backend or scene failure: the error goes into the result.
    """
    result: dict[str, Any] = {"backend": spec["backend"], "scenes": [], "status": "ok"}
    out_path = Path(spec["work_dir"]) / f"result_{spec['backend']}.json"
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(spec["threads"])
    try:
        t = time.perf_counter()
        export_dir = Path(spec["export_dir"]) if spec.get("export_dir") else None
        stages = make_stages(
            spec["backend"], Path(spec["checkpoint"]), Path(spec["config"]), export_dir, spec["threads"]
        )
        from isbnet_trt.isbnet.config import load_config

        proxy = TimedStages(stages, sync_cuda=spec["backend"] in GPU_BACKENDS and torch.cuda.is_available())
        pipe = Pipeline(proxy, load_config(spec["config"]), spec["backend"])
        result["setup_s"] = time.perf_counter() - t
        result["threads"] = thread_settings(proxy)
    except Exception as e:  # noqa: BLE001 - any failure to build is reported, not raised
        result.update(status="error", error=_one_line(e), traceback=traceback.format_exc())
        _write_json(out_path, result)
        torch.set_num_threads(previous_threads)
        return result
    try:
        for scene_file in spec["scenes"]:
            with np.load(scene_file) as z:
                points, superpoints = z["points"], z["superpoints"]
            try:
                result["scenes"].append(measure_scene(pipe, proxy, points, superpoints, spec))
                if spec.get("spawned_at") and "cold_start_s" not in result:
                    # new process -> first scene's first result: interpreter, imports, build, first call
                    result["cold_start_s"] = result["scenes"][-1]["first_result_at"] - spec["spawned_at"]
            except Exception as e:  # noqa: BLE001 - one scene failing must not lose the others
                result["scenes"].append(
                    {
                        "n_points": len(points),
                        "status": "error",
                        "error": _one_line(e),
                        "traceback": traceback.format_exc(),
                    }
                )
            result["threads"] = thread_settings(proxy)  # numba's count appears once it is imported
            _write_json(out_path, result)
    finally:
        torch.set_num_threads(previous_threads)
    return result


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(payload, indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m isbnet_trt.benchmarks.worker SPEC.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    result = run_worker(spec)
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
