"""Backends: the one registry of every backend name, which are installed, and opening an export
directory on one of them.

| backend | runs | needs |
| --- | --- | --- |
| `torch` | the PyTorch reference model (CPU; GPU with `device="cuda"`, `torch_cuda.py`) | torch |
| `onnxruntime` | the exported ONNX stages (CPU; CUDA EP with onnxruntime-gpu) | onnxruntime |
| `tensorrt` | engines built from the ONNX stages with the `isbnet::` plugins | tensorrt, cuda-python |

`REGISTRY` also names the variants that `isbnet-trt benchmark` measures: the product backends on
a device (`torch-cuda`, `onnxruntime-cuda`) and benchmark-only baselines and ablations
(`bench_only`: `torch-numba`, `torch-spconv`, `onnxruntime-bodies`, `torch-cuda-baseline`,
`torch-cuda-spconv`), so that a name means the same thing everywhere. The benchmark builds them
(`isbnet_trt.benchmarks.worker.make_stages`); the numba and spconv baselines live in `benchmarks/`
(`torch_numba.py`, `torch_spconv.py`).

Optional dependencies are imported lazily: the package imports without them.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from isbnet_trt.errors import IsbnetError
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.inference import Stages


@dataclass(frozen=True)
class BackendInfo:
    """One backend name. gpu: runs on an NVIDIA GPU (the benchmark synchronises it per stage);
    export: runs the exported ONNX stages (needs an export directory); bench_only: a baseline or
    an ablation measured by `isbnet-trt benchmark`, not a way to deploy (not a `--backend`)."""

    description: str
    gpu: bool = False
    export: bool = False
    bench_only: bool = False


#: Every backend name, in the benchmark's order (the reference first).
REGISTRY: dict[str, BackendInfo] = {
    "torch": BackendInfo("PyTorch reference model (gather-GEMM-scatter sparse convs, NumPy FPS/ball query)"),
    "torch-numba": BackendInfo("PyTorch model with FPS/ball query on the numba CPU kernels", bench_only=True),
    "torch-spconv": BackendInfo(
        "PyTorch model with its U-Net on spconv 2.x (1 torch thread in the U-Net)", bench_only=True
    ),
    "onnxruntime": BackendInfo(
        "ONNX stages on onnxruntime CPU, isbnet:: ops on the numba kernels", export=True
    ),
    "onnxruntime-bodies": BackendInfo(
        "ONNX stages on plain onnxruntime CPU (isbnet:: ops as ONNX function bodies)",
        export=True,
        bench_only=True,
    ),
    "onnxruntime-cuda": BackendInfo(
        "ONNX stages on onnxruntime's CUDA execution provider", gpu=True, export=True
    ),
    "torch-cuda": BackendInfo("PyTorch model on the GPU with the isbnet CUDA kernels", gpu=True),
    "torch-cuda-baseline": BackendInfo(
        "unmodified PyTorch model on the GPU (the PyTorch GPU baseline)", gpu=True, bench_only=True
    ),
    "torch-cuda-spconv": BackendInfo(
        "the PyTorch GPU baseline with its U-Net on spconv (spconv-cu126; preprocess "
        "still builds the CPU kernel maps it does not use)",
        gpu=True,
        bench_only=True,
    ),
    "tensorrt": BackendInfo("TensorRT engines with the isbnet:: plugins", gpu=True, export=True),
}
#: The product's backends (`isbnet-trt infer --backend`, `Pipeline`).
BACKENDS = ("torch", "onnxruntime", "tensorrt")
GPU_BACKENDS = tuple(name for name, info in REGISTRY.items() if info.gpu)
EXPORT_BACKENDS = tuple(name for name, info in REGISTRY.items() if info.export)
_REQUIRES = {"torch": ("torch",), "onnxruntime": ("onnxruntime",), "tensorrt": ("tensorrt", "cuda")}


class BackendError(IsbnetError, RuntimeError):
    """Unknown or uninstalled backend, or an export directory it cannot open."""


def missing_modules(backend: str) -> list[str]:
    """Python modules the backend needs that are not installed."""
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    return [m for m in _REQUIRES[backend] if importlib.util.find_spec(m) is None]


def available() -> list[str]:
    return [b for b in BACKENDS if not missing_modules(b)]


def require(backend: str) -> None:
    """Raise `BackendError` naming what to install when `backend` cannot run here."""
    missing = missing_modules(backend)
    if missing:
        hint = {"tensorrt": "pip install 'isbnet-trt[trt,gpu]' on a machine with NVIDIA's TensorRT"}.get(
            backend, f"pip install {' '.join(missing)}"
        )
        raise BackendError(f"backend {backend!r} is not installed (missing: {', '.join(missing)}; {hint})")


def open_export(export_dir: Path, backend: str) -> tuple[Stages, ModelConfig]:
    """The stages of an export directory on `backend`, and the model config it was exported with."""
    require(backend)
    if backend == "torch":
        raise BackendError("the torch backend runs a checkpoint, not an export directory (use --ckpt)")
    if backend == "onnxruntime":
        from isbnet_trt.runtime.backends.onnxruntime import open_onnxruntime_stages

        return open_onnxruntime_stages(export_dir)
    from isbnet_trt.runtime.backends.tensorrt import open_tensorrt_stages

    return open_tensorrt_stages(export_dir)


def cache_dir() -> Path:
    """`$ISBNET_TRT_CACHE`, else `$XDG_CACHE_HOME/isbnet-trt`, else `~/.cache/isbnet-trt`."""
    if os.environ.get("ISBNET_TRT_CACHE"):
        return Path(os.environ["ISBNET_TRT_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "isbnet-trt"


def cached_export(checkpoint: str | Path, config: str | Path | ModelConfig) -> Path:
    """Export a checkpoint's ONNX stages once into the cache (keyed by weights, config and
    package version) and return the directory."""
    from isbnet_trt.export.cache import cache_entry, is_valid_export
    from isbnet_trt.isbnet.config import load_config

    if not isinstance(config, ModelConfig):
        config = load_config(config)
    cached = cache_entry(Path(checkpoint), config, cache_dir() / "exports")
    if is_valid_export(cached):  # without importing onnx and the exporter (cold start)
        return cached
    from isbnet_trt.export.build import export_cached

    return export_cached(Path(checkpoint), config, cache_dir() / "exports")
