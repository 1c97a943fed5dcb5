"""The pipeline users embed: built once, called per scene, on any backend.

    pipe = Pipeline.from_checkpoint("model.pth", "isbnet_scannetv2.yaml")        # torch
    pipe = Pipeline.from_export("export_dir", backend="onnxruntime")             # ONNX stages
    result = pipe(points)                     # points (N, 6): xyz metres + rgb 0..255
    result.instances.masks, result.class_names, result.timings

A `Pipeline` keeps no per-call state: calls from several threads are safe and independent
(each call allocates its own buffers; the torch model and onnxruntime sessions are only read).
For throughput, give each thread its own pipeline; the TensorRT backend serialises calls on
its execution contexts internally.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.inference import Stages, forward_test
from isbnet_trt.isbnet.postprocess import Instances
from isbnet_trt.isbnet.preprocess import (
    MapBuilder,
    SceneError,
    ScenePreparer,
    check_points,
    prepare_scene,
)
from isbnet_trt.runtime import backends
from isbnet_trt.runtime.scene_prep import SceneOptions, check_extent, limit_size, to_model_frame

SuperpointsArg = np.ndarray | str | None


@dataclass
class Prediction:
    """One scene's result: instances (masks over the input points, in input order), the name
    of each instance's class, per-stage wall-clock seconds (`total` included) and the backend."""

    instances: Instances
    class_names: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    backend: str = ""

    def __len__(self) -> int:
        return len(self.instances)


class Pipeline:
    """ISBNet inference on one backend (see the module docstring)."""

    def __init__(self, stages: Stages, cfg: ModelConfig, backend: str, centred_input: bool = False) -> None:
        self.stages = stages
        self.cfg = cfg
        self.backend = backend
        self.centred_input = centred_input
        # Preprocessing: the backend's own (voxels and kernel maps on its GPU), else NumPy with
        # the numba kernel-map builder (same tables as NumPy's).
        self.prepare: ScenePreparer = getattr(stages, "preprocessor", None) or partial(
            prepare_scene, map_builder=cpu_map_builder()
        )

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | Path,
        config: str | Path | ModelConfig,
        backend: str = "torch",
        device: str = "cpu",
    ) -> Pipeline:
        """An official checkpoint + its official YAML config. Backends other than `torch` run the
        ONNX stages exported from it (exported once into the cache directory). `device` (torch
        backend): "cpu", or "cuda" for the model on the GPU with our CUDA kernels."""
        backends.require(backend)
        check_device(device)
        if backend == "torch":
            model = load_model(checkpoint, config)
            if device == "cpu":
                return cls(model, model.cfg, "torch")
            if not torch.cuda.is_available():
                raise backends.BackendError(f"device {device!r} requested but torch sees no CUDA GPU")
            index = torch.device(device).index
            if index is not None and index >= torch.cuda.device_count():
                raise backends.BackendError(
                    f"device {device!r} requested but torch sees {torch.cuda.device_count()} CUDA GPU(s)"
                )
            from isbnet_trt.runtime.backends.torch_cuda import DeviceStages

            return cls(DeviceStages(model, device), model.cfg, f"torch-{device}")
        export_dir = backends.cached_export(checkpoint, config)
        return cls.from_export(export_dir, backend)

    @classmethod
    def from_export(cls, export_dir: str | Path, backend: str = "onnxruntime") -> Pipeline:
        """An export directory written by `isbnet-trt export` / `export/build_engine.py`."""
        stages, cfg = backends.open_export(Path(export_dir), backend)
        return cls(stages, cfg, backend)

    def __call__(
        self,
        points: np.ndarray,
        superpoints: SuperpointsArg = None,
        options: SceneOptions | None = None,
        centred: bool = False,
    ) -> Prediction:
        """Segment one scene.

        points `(N, 6)` float xyz + rgb 0..255 (or `(N, 3)` with `options.no_color`).
        superpoints: `(N,)` int ids, "auto" (computed from the points), or None / "none" (every
        voxel its own superpoint). options: axes, units, colour, size limit (`SceneOptions`).
        centred: points are an official preprocessed scene (`*_inst_nostuff.pth` content, used
        as it is); otherwise they are prepared as the config's dataset script does
        (`isbnet.preprocess.official_preparation`).
        Raises an `IsbnetError` subclass naming the problem for any bad input.
        """
        options = options or SceneOptions()
        timings: dict[str, float] = {}
        t_start = time.perf_counter()
        with _timed(timings, "preprocess"):
            if centred:
                pts, spp = check_points(points, _array_or_none(superpoints))
                check_extent(pts[:, :3], self.cfg.data_scale)
                back = None
            else:
                pts = to_model_frame(points, options, voxel_scale=self.cfg.data_scale)
                pts, back = limit_size(pts, options)
                spp = self._superpoints(pts, superpoints, back)
            scene = self.prepare(pts, spp, self.cfg, centred)
        with torch.no_grad():
            instances = forward_test(self.stages, scene, self.cfg, timer=lambda name: _timed(timings, name))
        if back is not None:  # downsampled: every input point takes its representative's result
            instances = replace(instances, masks=instances.masks[:, back])
        timings["total"] = time.perf_counter() - t_start
        names = self.cfg.semantic_class_names
        return Prediction(instances, [names[c] for c in instances.semantic_classes], timings, self.backend)

    def _superpoints(
        self, points: np.ndarray, superpoints: SuperpointsArg, back: np.ndarray | None
    ) -> np.ndarray | None:
        if isinstance(superpoints, str):
            if superpoints == "auto":
                from isbnet_trt.runtime.superpoints import compute_superpoints

                return compute_superpoints(points)
            if superpoints == "none":
                return None
            raise SceneError(f"superpoints must be an array, 'auto' or 'none', got {superpoints!r}")
        if superpoints is None:
            return None
        spp = np.asarray(superpoints)
        if back is None:
            return spp
        if spp.shape != (len(back),):
            raise SceneError(f"superpoints must have shape ({len(back)},), got {spp.shape}")
        kept = np.zeros(len(points), np.int64)
        kept[back] = spp  # a representative keeps (one of) its cell's superpoint ids
        return kept


def check_device(device: str) -> None:
    """Refuse a torch device name other than "cpu", "cuda" or "cuda:N" (`BackendError`)."""
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise backends.BackendError(f"invalid device {device!r} (choose cpu, cuda or cuda:N)")


def cpu_map_builder() -> MapBuilder | None:
    """The numba kernel-map builder (`plugins.kernel_maps.numba_maps`), or None (NumPy) without numba."""
    from isbnet_trt.plugins import cpu

    if not cpu.available():
        return None
    from isbnet_trt.plugins.kernel_maps.numba_maps import build_unet_maps

    return build_unet_maps


def _array_or_none(superpoints: SuperpointsArg) -> np.ndarray | None:
    if isinstance(superpoints, str):
        if superpoints == "none":
            return None
        raise SceneError("an official preprocessed scene takes superpoints from a file (or 'none')")
    return superpoints


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    t = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t
