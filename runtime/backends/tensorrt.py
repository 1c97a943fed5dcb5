"""TensorRT backend: the exported stages as TensorRT engines, behind the `Stages` protocol.

* `TensorRTEngine`: one engine deserialised once (`trt.Runtime.deserialize_cuda_engine`), one
  `IExecutionContext`; `run(feeds)` binds PyTorch CUDA tensors by name
  (`set_input_shape`, `set_tensor_address`), allocates outputs from the shapes the context
  infers (`get_tensor_shape`: every output size of the stages is a function of input sizes)
  and enqueues with `execute_async_v3` on PyTorch's current stream. Device memory is PyTorch's
  (caching allocator), streams are PyTorch's: no cuda-python needed at run time.
* `TensorRTStages`: `Stages` over the engines of one export, mapping stage arguments to graph
  feeds and graph outputs back with a `StageIO` adapter (the export's description of its stage
  signatures, shared with any other graph backend). Calls are serialised with a lock: an
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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor

from isbnet_trt.isbnet.aggregator import Queries
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.kernel_map import LevelMaps
from isbnet_trt.isbnet.model import BackboneOutputs, DecoderOutputs
from isbnet_trt.runtime.backends import BackendError

__all__ = ["TensorRTEngine", "StageIO", "TensorRTStages", "open_tensorrt_stages", "torch_dtype"]


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


class StageIO(Protocol):
    """How `Stages` arguments become graph feeds and graph outputs become stage results.

    Provided by the export (the graphs' signatures are its decision); any graph backend that
    runs `name -> {input: tensor} -> {output: tensor}` can use it.
    """

    cfg: ModelConfig

    def backbone_feeds(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: Sequence[LevelMaps]
    ) -> tuple[str, dict[str, Tensor]]: ...

    def backbone_outputs(self, outputs: Mapping[str, Tensor]) -> BackboneOutputs: ...

    def aggregate_feeds(
        self, locs: Tensor, feats: Tensor, boxes: Tensor
    ) -> tuple[str, dict[str, Tensor]]: ...

    def aggregate_outputs(self, outputs: Mapping[str, Tensor]) -> Queries: ...

    def decoder_feeds(
        self, cand: Queries, n_sample: int, bb: BackboneOutputs
    ) -> tuple[str, dict[str, Tensor]]: ...

    def decoder_outputs(self, outputs: Mapping[str, Tensor]) -> DecoderOutputs: ...


class TensorRTStages:
    """`Stages` over TensorRT engines (stage name -> engine) with the export's `StageIO`.

    Results come back on the CPU, like the onnxruntime backend's, so the shared loop
    (`isbnet.inference.forward_test`) can index the scene's CPU tensors with them.
    """

    def __init__(self, engines: Mapping[str, TensorRTEngine], io: StageIO) -> None:
        self.engines = dict(engines)
        self.io = io
        self.cfg = io.cfg
        self._lock = threading.Lock()

    def _run(self, name: str, feeds: dict[str, Tensor]) -> dict[str, Tensor]:
        if name not in self.engines:
            raise BackendError(f"no TensorRT engine for stage {name!r} (have {sorted(self.engines)})")
        with self._lock:
            out = self.engines[name].run(feeds)
            return {k: v.cpu() for k, v in out.items()}  # .cpu() synchronises the stream

    def backbone(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: Sequence[LevelMaps]
    ) -> BackboneOutputs:
        name, feeds = self.io.backbone_feeds(voxel_feats, voxel_coords_float, voxel_spps, maps)
        return self.io.backbone_outputs(self._run(name, feeds))

    def aggregate(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> Queries:
        name, feeds = self.io.aggregate_feeds(locs, feats, boxes)
        return self.io.aggregate_outputs(self._run(name, feeds))

    def decoder(self, cand: Queries, n_sample: int, bb: BackboneOutputs) -> DecoderOutputs:
        name, feeds = self.io.decoder_feeds(cand, n_sample, bb)
        return self.io.decoder_outputs(self._run(name, feeds))


def engine_cache_dir(export_dir: Path, fp16: bool = False) -> Path:
    """Where `open_tensorrt_stages` keeps the engines of an export: one folder per GPU model,
    compute capability, TensorRT version and precision (engines are not portable across them)."""
    trt = _trt()
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    tag = f"{props.name}|{props.major}.{props.minor}|{trt.__version__}|{'fp16' if fp16 else 'fp32'}"
    return Path(export_dir) / "tensorrt" / hashlib.sha256(tag.encode()).hexdigest()[:16]


def _stage_io(export_dir: Path) -> StageIO:
    """The export's `StageIO` (module `isbnet_trt.export.stage_io`, function `load_stage_io`)."""
    try:
        from isbnet_trt.export.stage_io import load_stage_io  # type: ignore[import-not-found]
    except ImportError:
        raise BackendError(
            "the export's stage I/O description (isbnet_trt.export.stage_io.load_stage_io) is not available; "
            "the TensorRT backend needs it to feed the engines"
        ) from None
    return load_stage_io(export_dir)


def open_tensorrt_stages(
    export_dir: Path, fp16: bool = False, workspace_mib: int = 4096
) -> tuple[TensorRTStages, ModelConfig]:
    """The stages of an export directory on TensorRT, building missing engines first."""
    if not torch.cuda.is_available():
        raise BackendError("the TensorRT backend needs an NVIDIA GPU (torch.cuda.is_available() is False)")
    export_dir = Path(export_dir)
    manifest = export_dir / "manifest.json"
    if not manifest.is_file():
        raise BackendError(f"{export_dir} is not an export directory (no manifest.json)")
    io = _stage_io(export_dir)
    cache = engine_cache_dir(export_dir, fp16)
    index = cache / "engines.json"
    if index.is_file():
        paths = {k: cache / v for k, v in json.loads(index.read_text()).items()}
    else:
        from isbnet_trt.export.tensorrt_engines import build_engines

        paths = build_engines(manifest, cache, fp16=fp16, workspace_mib=workspace_mib)
        tmp = index.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({k: p.name for k, p in paths.items()}))
        tmp.replace(index)  # atomic: a crashed build leaves no index, so it is rebuilt
    engines = {name: TensorRTEngine(path) for name, path in paths.items()}
    return TensorRTStages(engines, io), io.cfg
