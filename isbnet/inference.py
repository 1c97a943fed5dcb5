"""The official `ISBNet.forward_test` flow, written once over any backend's stages.

A backend provides the three stages of `Stages` (the PyTorch model does, the onnxruntime and
TensorRT runtimes do too); this module runs them in the official order: backbone, encoder
(foreground + aggregator 1), the iterative-sampling rounds with the official coverage update,
then the official post-processing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.isbnet.aggregator import Queries
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.kernel_map import LevelMaps
from isbnet_trt.isbnet.model import BackboneOutputs, DecoderOutputs, EncoderOutputs, ISBNet
from isbnet_trt.isbnet.postprocess import Instances, get_instances
from isbnet_trt.isbnet.preprocess import PreparedScene, prepare_scene

Trace = dict[str, Any]


class Stages(Protocol):
    """The three inference stages of one backend (torch tensors in and out, batch size 1)."""

    def backbone(self, voxel_feats: Tensor, maps: Sequence[LevelMaps]) -> BackboneOutputs: ...

    def encoder(
        self,
        voxel_coords_float: Tensor,
        bb: BackboneOutputs,
        voxel_spps: Tensor,
        object_idxs: Tensor,
        pa1_max_voxel: int | None = None,
    ) -> EncoderOutputs: ...

    def foreground(self, semantic_scores: Tensor, voxel_spps: Tensor) -> Tensor: ...

    def decoder(self, cand: Queries, n_sample: int, enc: EncoderOutputs) -> DecoderOutputs: ...


def _select(q: Queries, idx: Tensor) -> Queries:
    return Queries(q.locs[:, idx], q.feats[:, :, idx], q.boxes[:, idx], q.inds[idx])


def sampling_rounds(
    stages: Stages, enc: EncoderOutputs, cfg: ModelConfig, trace: Trace | None = None
) -> list[DecoderOutputs]:
    """The official iterative sampling: rounds of `cfg.n_sample_rounds` queries drawn from
    the aggregator-1 queries not yet covered. Returns each round's outputs restricted to its
    foreground queries (official: a round without foreground ends the loop)."""
    pa1 = enc.queries
    n_pa1 = pa1.locs.shape[1]
    union = torch.zeros(n_pa1, dtype=torch.float32)
    cand_idxs = torch.arange(n_pa1)
    rounds: list[DecoderOutputs] = []
    n_rounds = len(cfg.n_sample_rounds)
    for i, n_sample in enumerate(cfg.n_sample_rounds):
        out = stages.decoder(_select(pa1, cand_idxs), min(n_sample, len(cand_idxs)), enc)
        if trace is not None:
            trace[f"it{i}"] = {"cand_idxs": cand_idxs, "out": out}
        if not bool(out.fg.any()):
            break
        fg = out.fg
        round_fg = DecoderOutputs(
            out.cand_inds[fg],
            out.cls_logits[fg],
            out.conf_logits[fg],
            out.box_preds[fg],
            out.mask_logits[fg],
            fg[fg],
        )
        rounds.append(round_fg)
        if i == n_rounds - 1:
            break
        # Official coverage update (quirk included, §9.11): `cover_cols` maps each aggregator-1
        # query to the superpoint column the official indexing reads.
        union = union + (round_fg.mask_logits[:, enc.cover_cols] > 0).float().sum(dim=0)
        cand_idxs = torch.nonzero(union == 0).view(-1)
        if len(cand_idxs) == 0:
            break
    return rounds


def forward_test(
    stages: Stages,
    scene: PreparedScene,
    cfg: ModelConfig,
    trace: Trace | None = None,
    timer: Callable[[str], AbstractContextManager[Any]] | None = None,
) -> Instances:
    """Run the official inference of one prepared scene on `stages`.

    `trace`, when given, receives every stage's outputs (for comparisons and debugging);
    `timer(name)`, when given, is a context-manager factory wrapped around each stage.
    """
    timer = timer or (lambda name: nullcontext())
    with timer("backbone"):
        bb = stages.backbone(scene.voxel_feats, scene.maps)
    with timer("encoder"):
        object_mask = stages.foreground(bb.semantic_scores, scene.voxel_spps)
        object_idxs = torch.nonzero(object_mask).view(-1)
        enc = (
            stages.encoder(scene.voxel_coords_float, bb, scene.voxel_spps, object_idxs, scene.pa1_max_voxel)
            if len(object_idxs) > 0
            else None
        )
    if trace is not None:
        trace.update(backbone=bb, object_mask=object_mask, encoder=enc)
    if enc is None:
        return scene.to_input_order(Instances.empty(scene.n_points))
    with timer("decoder"):
        rounds = sampling_rounds(stages, enc, cfg, trace)
    with timer("postprocess"):
        if not rounds:
            return scene.to_input_order(Instances.empty(scene.n_points))
        instances = get_instances(
            cfg,
            cls_logits=torch.cat([r.cls_logits for r in rounds]),
            conf_logits=torch.cat([r.conf_logits for r in rounds]),
            box_preds=torch.cat([r.box_preds for r in rounds]),
            spp_mask_logits=torch.cat([r.mask_logits for r in rounds]),
            voxel_spps=scene.voxel_spps,
            v2p=scene.v2p,
            point_spps=scene.point_spps,
            semantic_pred=torch.argmax(bb.semantic_scores, dim=1),
        )
        return scene.to_input_order(instances)


def predict(model: ISBNet, points: np.ndarray, superpoints: np.ndarray | None = None) -> Instances:
    """Segment one scene with the PyTorch reference model.

    points `(N, 6)` float: xyz in metres + rgb 0..255; superpoints `(N,)` int or None (every
    voxel its own superpoint). Raises `SceneError` naming the problem for bad input.
    """
    scene = prepare_scene(points, superpoints, model.cfg)
    with torch.no_grad():
        return forward_test(model, scene, model.cfg)
