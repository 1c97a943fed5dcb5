"""TensorRT backend: the exported stages as TensorRT engines, behind the `Stages` protocol.

* `TensorRTEngine`: one engine deserialised once (`trt.Runtime.deserialize_cuda_engine`), one
  `IExecutionContext`; `run(feeds)` binds PyTorch CUDA tensors by name
  (`set_input_shape`, `set_tensor_address`), allocates outputs from the shapes the context
  infers (`get_tensor_shape`: every output size of the stages is a function of input sizes)
  and enqueues with `execute_async_v3` on PyTorch's current stream. Device memory is PyTorch's
  (caching allocator), streams are PyTorch's: no cuda-python needed at run time.
* `TensorRTStages`: `Stages` over the engines of one export; the mapping of stage arguments to
  graph feeds and of graph outputs to stage results is the onnxruntime backend's (inherited),
  so both backends feed the graphs identically. Calls are serialised with a lock: an
  execution context must not run two enqueues at once.
* `open_tensorrt_stages(export_dir)`: builds the engines on first use (cached per GPU and
  TensorRT version under the export directory), registers nothing at run time (the AOT plugins
  are inside the engines) and returns `(stages, cfg)`.

TensorRT API followed (TensorRT 10 Python API, docs.nvidia.com/deeplearning/tensorrt/latest/
_static/python-api/infer/Core/): `Runtime.deserialize_cuda_engine`, `ICudaEngine.num_io_tensors`
/ `get_tensor_name` / `get_tensor_mode` / `get_tensor_dtype`, `create_execution_context`,
`IExecutionContext.set_input_shape` / `set_tensor_address` / `get_tensor_shape` /
`execute_async_v3(stream_handle)`.

NOT RUN: TensorRT cannot be installed where this was written; the tests skip without it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.export.manifest import MANIFEST_NAME, Manifest, read_manifest
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.runtime.backends import BackendError
from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages

__all__ = ["TensorRTEngine", "TensorRTStages", "open_tensorrt_stages", "engine_cache_dir", "torch_dtype"]


def _trt() -> Any:
    try:
        import tensorrt as trt
    except ImportError:
        raise BackendError("TensorRT is not installed (NVIDIA's tensorrt Python package, >= 10.8)") from None
    return trt


def torch_dtype(trt_dtype: Any) -> torch.dtype:
    """The torch dtype of a `tensorrt.DataType`."""
    trt = _trt()
    table = {
        trt.float32: torch.float32,
        trt.float16: torch.float16,
        trt.int32: torch.int32,
        trt.int8: torch.int8,
        trt.bool: torch.bool,
    }
    for name, dt in (("int64", torch.int64), ("bfloat16", torch.bfloat16), ("uint8", torch.uint8)):
        if hasattr(trt, name):
            table[getattr(trt, name)] = dt
    if trt_dtype not in table:
        raise BackendError(f"unsupported TensorRT tensor type {trt_dtype}")
    return table[trt_dtype]


class TensorRTEngine:
    """One serialized engine on one CUDA device, run on PyTorch tensors (see the module docstring)."""

    def __init__(self, path: Path, device: torch.device | str = "cuda") -> None:
        trt = _trt()
        self.path = Path(path)
        self.device = torch.device(device)
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        with torch.cuda.device(self.device):
            self.engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
            if self.engine is None:
                raise BackendError(
                    f"TensorRT could not deserialize {self.path} (built by another TensorRT version or GPU?)"
                )
            self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        is_input = {n: self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self.inputs = [n for n in names if is_input[n]]
        self.outputs = [n for n in names if not is_input[n]]
        self.dtypes = {n: torch_dtype(self.engine.get_tensor_dtype(n)) for n in names}

    def run(self, feeds: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Run once: feeds name -> tensor (moved to the engine's device and dtype, made
        contiguous) -> outputs name -> new CUDA tensor. Enqueued on PyTorch's current stream;
        the outputs are ready for any later work on that stream."""
        missing = set(self.inputs) - set(feeds)
        if missing:
            raise BackendError(f"{self.path.name}: missing inputs {sorted(missing)}")
        keep = []  # the input tensors must live until the enqueue is done
        for name in self.inputs:
            t = feeds[name].to(self.device, self.dtypes[name]).contiguous()
            keep.append(t)
            if not self.context.set_input_shape(name, tuple(t.shape)):
                raise BackendError(
                    f"{self.path.name}: input {name} shape {tuple(t.shape)} is outside the profile"
                )
            self.context.set_tensor_address(name, t.data_ptr())
        outputs = {}
        for name in self.outputs:
            shape = tuple(self.context.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise BackendError(f"{self.path.name}: output {name} has an unresolved shape {shape}")
            out = torch.empty(shape, dtype=self.dtypes[name], device=self.device)
            outputs[name] = out
            self.context.set_tensor_address(name, out.data_ptr())
        stream = torch.cuda.current_stream(self.device)
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise BackendError(f"{self.path.name}: TensorRT enqueue failed")
        for t in keep:
            t.record_stream(stream)
        return outputs


class TensorRTStages(OnnxRuntimeStages):
    """`Stages` of an export directory over TensorRT engines (one per stage graph).

    The stage methods (feeds from stage arguments, stage results from graph outputs, the choice
    of decoder graph) are the onnxruntime backend's, inherited unchanged, so both backends feed
    the graphs identically; only `_run` differs. `OnnxRuntimeStages.__init__` is deliberately not
    called (it opens onnxruntime sessions): its stage methods use `manifest`, `cfg`,
    `_decoders` and `_run`, which are set here.

    engines: stage name -> engine file (see `open_tensorrt_stages`). Calls are serialised with
    a lock (an execution context runs one enqueue at a time); results come back on the CPU.
    """

    def __init__(self, export_dir: str | Path, engines: Mapping[str, Path], device: str = "cuda") -> None:
        self.manifest: Manifest = read_manifest(export_dir)
        self.cfg: ModelConfig = self.manifest.config
        self._decoders = dict(sorted(self.manifest.decoders.items()))
        missing = set(self.manifest.stages) - set(engines)
        if missing:
            raise BackendError(f"no TensorRT engine for stages {sorted(missing)}")
        self.engines = {name: TensorRTEngine(engines[name], device) for name in self.manifest.stages}
        self._lock = threading.Lock()

    def _run(self, name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Graph outputs of stage `name` in the manifest's output order, as NumPy arrays."""
        with self._lock:
            out = self.engines[name].run({k: torch.from_numpy(v) for k, v in feeds.items()})
            return [out[spec.name].cpu().numpy() for spec in self.manifest.stages[name].outputs]


def engine_cache_dir(export_dir: Path, fp16: bool = False) -> Path:
    """Where `open_tensorrt_stages` keeps the engines of an export: one folder per GPU model,
    compute capability, TensorRT version and precision (engines are not portable across them)."""
    trt = _trt()
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    tag = f"{props.name}|{props.major}.{props.minor}|{trt.__version__}|{'fp16' if fp16 else 'fp32'}"
    return Path(export_dir) / "tensorrt" / hashlib.sha256(tag.encode()).hexdigest()[:16]


def open_tensorrt_stages(
    export_dir: Path, fp16: bool = False, workspace_mib: int = 4096
) -> tuple[TensorRTStages, ModelConfig]:
    """The stages of an export directory on TensorRT (the runtime's entry point): the engines the
    export built (manifest `engines`, same precision), else engines built on first use into
    `engine_cache_dir(export_dir, fp16)`."""
    if not torch.cuda.is_available():
        raise BackendError("the TensorRT backend needs an NVIDIA GPU (torch.cuda.is_available() is False)")
    export_dir = Path(export_dir)
    manifest = read_manifest(export_dir)  # validates before any build
    built = manifest.raw.get("engines")  # engines `isbnet-trt export` built beside the graphs
    if built and bool(manifest.raw.get("engine_options", {}).get("fp16")) == fp16:
        return TensorRTStages(export_dir, {k: export_dir / v for k, v in built.items()}), manifest.config
    cache = engine_cache_dir(export_dir, fp16)
    index = cache / "engines.json"
    if index.is_file():
        paths = {k: cache / v for k, v in json.loads(index.read_text()).items()}
    else:
        from isbnet_trt.export.tensorrt_engines import build_engines

        paths = build_engines(export_dir / MANIFEST_NAME, cache, fp16=fp16, workspace_mib=workspace_mib)
        tmp = index.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({k: p.name for k, p in paths.items()}))
        tmp.replace(index)  # atomic: a crashed build leaves no index, so it is rebuilt
    stages = TensorRTStages(export_dir, paths)
    return stages, manifest.config
