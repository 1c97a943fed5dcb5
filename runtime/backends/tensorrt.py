"""TensorRT backend: the exported stages as TensorRT engines, behind the `Stages` protocol.

* `TensorRTEngine`: one engine deserialised once (`trt.Runtime.deserialize_cuda_engine`), one
  `IExecutionContext`; `run(feeds)` binds PyTorch CUDA tensors by name
  (`set_input_shape`, `set_tensor_address`), allocates outputs from the shapes the context
  infers (`get_tensor_shape`: every output size of the stages is a function of input sizes)
  and enqueues with `execute_async_v3` on PyTorch's current stream. Device memory is PyTorch's
  (caching allocator), streams are PyTorch's: no cuda-python needed at run time.
* Context memory: created with `ExecutionContextAllocationStrategy.USER_MANAGED` and sized per
  call to the actual input shapes (`update_device_memory_size_for_shapes`, then
  `set_device_memory`), from a PyTorch buffer grown when needed (`ContextMemory`,
  `DeviceBuffer`) that all stages of a `TensorRTStages` share (they run one at a time: the
  largest need is held, not the sum). The default (STATIC) allocates the profile maximum when
  the context is created: for the mask head's maximum (192 queries x 1M superpoints x 32
  channels) that is tens of GB, which would fail or starve every other stage; ON_PROFILE_CHANGE
  would still allocate the profile maximum.
* `TensorRTStages`: `Stages` over the engines of one export; the mapping of stage arguments to
  graph feeds and of graph outputs to stage results is the onnxruntime backend's (inherited),
  so both backends feed the graphs identically. Calls are serialised with a lock: an
  execution context must not run two enqueues at once.
* `open_tensorrt_stages(export_dir)`: builds the engines on first use (cached per GPU and
  TensorRT version under the export directory), registers nothing at run time (the AOT plugins
  are inside the engines) and returns `(stages, cfg)`.

TensorRT API followed (TensorRT 10 Python API, docs.nvidia.com/deeplearning/tensorrt/latest/
_static/python-api/infer/Core/): `Runtime.deserialize_cuda_engine`, `ICudaEngine.num_io_tensors`
/ `get_tensor_name` / `get_tensor_mode` / `get_tensor_dtype` / `device_memory_size_v2`,
`create_execution_context(ExecutionContextAllocationStrategy.USER_MANAGED)` (None on failure),
`IExecutionContext.set_input_shape` / `update_device_memory_size_for_shapes` (10.1+) /
`set_device_memory(ptr, size)` (10.1+) / `set_tensor_address` / `get_tensor_shape` /
`execute_async_v3(stream_handle)`; the names checked against the 10.9 and 11.4 bindings.

NOT RUN ON TENSORRT: TensorRT cannot be installed where this was written. `ContextMemory` is
tested with a fake context; the rest needs TensorRT >= 10.9 and a GPU (`benchmarks/trt_check.py`).
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

from isbnet_trt.export.manifest import Manifest, read_manifest
from isbnet_trt.files import write_atomic
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.runtime.backends import BackendError
from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages

__all__ = [
    "TensorRTEngine",
    "TensorRTStages",
    "ContextMemory",
    "DeviceBuffer",
    "open_tensorrt_stages",
    "engine_cache_dir",
    "torch_dtype",
]


def _trt() -> Any:
    try:
        import tensorrt as trt
    except ImportError:
        raise BackendError("TensorRT is not installed (NVIDIA's tensorrt Python package, >= 10.9)") from None
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


class DeviceBuffer:
    """A PyTorch byte buffer on one device that only grows, for execution-context memory.

    One may serve several contexts whose calls never overlap (the stages of one
    `TensorRTStages`, serialised by its lock): the memory held is then the largest need of any
    stage, not the sum. `take(size, stream)`: the buffer's address, grown to `size` bytes if
    needed (the caching allocator's blocks are 512-byte aligned, above CUDA's 256); a call on
    another stream than the previous one first waits for that stream, whose enqueued work may
    still use the buffer.
    """

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.buffer: Tensor | None = None
        self._stream: Any = None

    @property
    def nbytes(self) -> int:
        return 0 if self.buffer is None else self.buffer.numel()

    def take(self, size: int, stream: Any = None) -> int:
        if stream is not None and self._stream is not None and stream != self._stream:
            stream.wait_stream(self._stream)
        self._stream = stream
        if size and self.nbytes < size:
            if self.buffer is not None and stream is not None:
                self.buffer.record_stream(stream)  # freed only after work already enqueued on it
            self.buffer = None  # released first, so the allocator may reuse its block
            self.buffer = torch.empty(size, dtype=torch.uint8, device=self.device)
        return self.buffer.data_ptr() if size else 0


class ContextMemory:
    """The device memory of one USER_MANAGED execution context, sized to the current shapes.

    `bind(stream)`, after every input shape is set: asks the context for the size these shapes
    need (`update_device_memory_size_for_shapes`), takes that much of a `DeviceBuffer` (its own,
    or one shared with the other stages) and hands it to the context (`set_device_memory`).
    `last_bytes` / `peak_bytes`: what the last / largest call needed.
    """

    def __init__(self, context: Any, device: torch.device | str, buffer: DeviceBuffer | None = None) -> None:
        self.context = context
        self.buffer = buffer if buffer is not None else DeviceBuffer(device)
        self.last_bytes = 0
        self.peak_bytes = 0

    def bind(self, stream: Any = None) -> int:
        size = int(self.context.update_device_memory_size_for_shapes())
        if size < 0:
            raise BackendError(
                "TensorRT could not size the execution context's memory for these input shapes"
            )
        self.context.set_device_memory(self.buffer.take(size, stream), size)
        self.last_bytes = size
        self.peak_bytes = max(self.peak_bytes, size)
        return size


class TensorRTEngine:
    """One serialized engine on one CUDA device, run on PyTorch tensors (see the module docstring)."""

    def __init__(
        self, path: Path, device: torch.device | str = "cuda", memory: DeviceBuffer | None = None
    ) -> None:
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
            strategy = trt.ExecutionContextAllocationStrategy.USER_MANAGED
            self.context = self.engine.create_execution_context(strategy)
            if self.context is None:
                raise BackendError(f"TensorRT could not create an execution context for {self.path.name}")
        self.memory = ContextMemory(self.context, self.device, memory)
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
        stream = torch.cuda.current_stream(self.device)
        self.memory.bind(stream)  # sized to these input shapes, not to the profile maximum
        outputs = {}
        for name in self.outputs:
            shape = tuple(self.context.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise BackendError(f"{self.path.name}: output {name} has an unresolved shape {shape}")
            out = torch.empty(shape, dtype=self.dtypes[name], device=self.device)
            outputs[name] = out
            self.context.set_tensor_address(name, out.data_ptr())
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
        self.memory = DeviceBuffer(device)  # one context buffer for all stages: they never overlap
        self.engines = {
            name: TensorRTEngine(engines[name], device, self.memory) for name in self.manifest.stages
        }
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
    built = manifest.engines(fp16)  # engines `isbnet-trt export` built beside the graphs
    if built:
        return TensorRTStages(export_dir, built), manifest.config
    cache = engine_cache_dir(export_dir, fp16)
    index = cache / "engines.json"
    if index.is_file():
        paths = {k: cache / v for k, v in json.loads(index.read_text()).items()}
    else:
        from isbnet_trt.export.tensorrt_engines import EngineBuildError, build_engines
        from isbnet_trt.plugins.trt_plugins import TensorRTUnavailableError

        try:
            paths = build_engines(export_dir, cache, fp16=fp16, workspace_mib=workspace_mib)
        except (EngineBuildError, TensorRTUnavailableError, ValueError) as e:
            lines = str(e).strip().splitlines() or [type(e).__name__]
            more = (
                f" (+{len(lines) - 1} more lines: rerun isbnet-trt export for the log)"
                if len(lines) > 1
                else ""
            )
            raise BackendError(f"TensorRT engines could not be built: {lines[0]}{more}") from e
        # atomic: a crashed build leaves no index, so it is rebuilt
        write_atomic(index, json.dumps({k: p.name for k, p in paths.items()}))
    stages = TensorRTStages(export_dir, paths)
    return stages, manifest.config
