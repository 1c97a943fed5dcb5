"""onnxruntime backend: the ONNX stages of an export directory as `isbnet.inference.Stages`.

    stages = OnnxRuntimeStages("export_dir")            # CPU, fast kernels when installed
    instances = forward_test(stages, scene, stages.cfg) # the official inference, on onnxruntime

The `isbnet::` ops run either as the numba CPU kernels of `plugins/` (registered through
onnxruntime-extensions; the session gets an in-memory copy of the graph whose `isbnet::`
nodes are renamed to the registered ops) or as the graphs' own ONNX function bodies (plain
onnxruntime, nothing of ours needed; exact but slower, and the SparseConv3d body is an
im2col). `kernels="auto"` (default) takes the fast kernels when numba and
onnxruntime-extensions import, else the bodies.

Providers: CPU by default; with `providers=None` and onnxruntime-gpu on a machine with a GPU,
the CUDA provider first (the custom ops then run as function bodies, CPU-side ops where CUDA
has none).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import Tensor

from isbnet_trt.errors import IsbnetError
from isbnet_trt.export.manifest import Manifest, StageEntry, read_manifest
from isbnet_trt.isbnet.aggregator import Queries
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.model import BackboneOutputs, DecoderOutputs, dynamic_conv_blocks
from isbnet_trt.plugins import DOMAIN, onnxruntime_ops
from isbnet_trt.plugins.kernel_maps import LevelMaps

Kernels = Literal["auto", "fast", "bodies"]


class OnnxRuntimeStagesError(IsbnetError, RuntimeError):
    """The stages cannot run as asked (fast kernels not installed, unknown query count)."""


class OnnxRuntimeStages:
    """The `Stages` of an export directory over onnxruntime sessions (one per stage graph).

    export_dir: written by `isbnet-trt export`; its manifest is validated (`ManifestError`).
    kernels: "auto" | "fast" (numba kernels, required) | "bodies" (ONNX function bodies).
    providers: onnxruntime providers; None = CUDA when available, else CPU.
    threads: onnxruntime intra-op threads and numba kernel threads (default: all cores; on a busy
        machine 1 can be faster).
    memory_arena: onnxruntime's CPU memory arena (default on: faster, but it keeps the buffers of
        the largest scene seen; off keeps resident memory flat for long-running processes).
    Sessions are created once and only read afterwards: calls from several threads are safe.
    """

    def __init__(
        self,
        export_dir: str | Path,
        kernels: Kernels = "auto",
        providers: Sequence[str] | None = None,
        threads: int | None = None,
        memory_arena: bool = True,
    ) -> None:
        self.manifest: Manifest = read_manifest(export_dir)
        self.cfg: ModelConfig = self.manifest.config
        if kernels not in ("auto", "fast", "bodies"):
            raise ValueError(f"kernels must be 'auto', 'fast' or 'bodies', got {kernels!r}")
        self.providers = list(providers) if providers is not None else default_providers()
        on_cpu = self.providers[0] == "CPUExecutionProvider"
        if kernels == "fast" and not onnxruntime_ops.available():
            raise OnnxRuntimeStagesError(
                "fast CPU kernels need numba and onnxruntime-extensions (pip install 'isbnet-trt[cpu]')"
            )
        self.fast = kernels == "fast" or (kernels == "auto" and on_cpu and onnxruntime_ops.available())
        self.threads = threads or os.cpu_count() or 1
        self.memory_arena = memory_arena
        self.sessions = {name: self._session(stage) for name, stage in self.manifest.stages.items()}
        self._decoders = dict(sorted(self.manifest.decoders.items()))

    # ------------------------------------------------------------------ sessions
    def _session(self, stage: StageEntry) -> ort.InferenceSession:
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL  # custom ops run on the calling thread
        so.log_severity_level = 3  # errors only
        so.enable_cpu_mem_arena = self.memory_arena
        if self.fast:
            # The numba kernels use their own threads: idle onnxruntime workers must not spin.
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
            so.register_custom_ops_library(onnxruntime_ops.library_path())
            model = onnx.load(str(stage.path))
            _use_fast_kernels(model)
            source = model.SerializeToString()
        else:
            source = str(stage.path)
        return ort.InferenceSession(source, so, providers=self.providers)

    def _run(self, name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        if not self.fast:
            return self.sessions[name].run(None, feeds)
        onnxruntime_ops.take_error()  # a stale message from an earlier failed run on this thread
        onnxruntime_ops.set_threads(self.threads)  # the kernels run on this thread's numba pool
        try:
            out = self.sessions[name].run(None, feeds)
        finally:
            error = onnxruntime_ops.take_error()
        if error:  # the op returned zeros instead of raising (see plugins.onnxruntime_ops)
            raise OnnxRuntimeStagesError(f"stage {name!r}: {error}")
        return out

    # ------------------------------------------------------------------ Stages protocol
    def backbone(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: Sequence[LevelMaps]
    ) -> BackboneOutputs:
        feeds = {"voxel_feats": _np(voxel_feats), "voxel_coords_float": _np(voxel_coords_float)}
        if self.cfg.use_spp_pool:
            spps = _np(voxel_spps).astype(np.int64, copy=False)
            n_spp = int(spps.max()) + 1 if spps.size else 0
            feeds["voxel_spps"] = spps
            feeds["spp_order"] = np.argsort(spps, kind="stable")
            feeds["spp_voxel_counts"] = np.bincount(spps, minlength=n_spp).astype(np.float32)
        for lvl, lm in enumerate(maps):
            feeds[f"subm_map_{lvl}"] = _kmap(lm.subm)
            if lm.down is not None:
                feeds[f"down_map_{lvl}"] = _kmap(lm.down)
                feeds[f"up_map_{lvl}"] = _kmap(lm.up)
        out = [torch.from_numpy(a) for a in self._run("backbone", feeds)]
        feats, sem, corners, boxes, fg, spp_coords, spp_boxes, mask_features = out
        return BackboneOutputs(feats, sem, corners, boxes, fg, spp_coords, spp_boxes, mask_features)

    def aggregate(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> Queries:
        feeds = {"locs": _np(locs), "feats": _np(feats), "boxes": _np(boxes)}
        q_locs, q_feats, q_boxes, inds = (torch.from_numpy(a) for a in self._run("aggregator", feeds))
        return Queries(q_locs[None], q_feats.t()[None], q_boxes[None], inds)

    def decoder(self, cand: Queries, n_sample: int, bb: BackboneOutputs) -> DecoderOutputs:
        cand_locs = _np(cand.locs[0])
        feeds = {
            "cand_locs": cand_locs,
            "cand_feats": _np(cand.feats[0].t()),
            "cand_boxes": _np(cand.boxes[0]),
        }
        decoder = self._decoder_for(n_sample, len(cand_locs))
        inds, cls_logits, conf_logits, box_preds, fg, controllers = self._run(decoder, feeds)
        mask_logits = self._mask_logits(controllers, cand_locs[inds], box_preds, bb)
        out = (inds, cls_logits, conf_logits, box_preds, mask_logits, fg)
        return DecoderOutputs(*(torch.from_numpy(a) for a in out))

    def _mask_logits(
        self, controllers: np.ndarray, locs: np.ndarray, boxes: np.ndarray, bb: BackboneOutputs
    ) -> np.ndarray:
        """The mask head in the reference's blocks (`isbnet.model.dynamic_conv_blocks`): on the
        CPU all queries over cache-sized tiles of superpoints (or voxels, without pooling), else
        chunks of queries over whole rows; the same logits as one call, bounded memory."""
        feats, coords, spp_boxes = _np(bb.mask_features), _np(bb.spp_coords), _np(bb.spp_boxes)
        k, n_spp = len(controllers), len(feats)
        out = np.empty((k, n_spp), np.float32)
        on_cpu = self.providers[0] == "CPUExecutionProvider"
        chunk, tiles = dynamic_conv_blocks(k, n_spp, feats.shape[1], on_cpu)
        for q in range(0, k, chunk):
            query = {"controllers": controllers[q : q + chunk], "query_locs": locs[q : q + chunk],
                     "query_boxes": boxes[q : q + chunk]}  # fmt: skip
            for s, e in tiles:
                part = {"mask_features": feats[s:e], "spp_coords": coords[s:e], "spp_boxes": spp_boxes[s:e]}
                out[q : q + chunk, s:e] = self._run("mask_head", {**query, **part})[0]
        return out

    def _decoder_for(self, n_sample: int, n_cand: int) -> str:
        """The decoder graph giving `n_sample` queries from `n_cand` candidates: the one of that
        n_sample, or (when all candidates are taken, n_sample = n_cand) any larger one, since a
        graph samples min(its n_sample, n_cand) and FPS picks do not depend on the count."""
        if n_sample in self._decoders:
            return self._decoders[n_sample].name
        if n_sample == n_cand:
            for n, stage in self._decoders.items():
                if n >= n_cand:
                    return stage.name
        raise OnnxRuntimeStagesError(
            f"no decoder graph samples {n_sample} of {n_cand} candidates (exported: {sorted(self._decoders)})"
        )


def default_providers() -> list[str]:
    """CUDA first when onnxruntime-gpu sees a GPU, else CPU only."""
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def open_onnxruntime_stages(export_dir: Path) -> tuple[OnnxRuntimeStages, ModelConfig]:
    """The runtime's entry point: stages of `export_dir` (defaults) and their model config."""
    stages = OnnxRuntimeStages(export_dir)
    return stages, stages.cfg


def _use_fast_kernels(model: onnx.ModelProto) -> None:
    """Point the model's `isbnet::` nodes at the registered CPU kernels (in place)."""
    for node in model.graph.node:  # exported graphs have the custom ops at top level only
        if node.domain == DOMAIN:
            node.domain = onnxruntime_ops.PYOP_DOMAIN
            node.op_type = onnxruntime_ops.PYOP_NAMES[node.op_type]
    model.opset_import.append(onnx.helper.make_opsetid(onnxruntime_ops.PYOP_DOMAIN, 1))


def _np(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy())


def _kmap(table: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(table, dtype=np.int32)
