"""The official `ISBNet.forward_test` flow, written once over any backend's stages.

A backend provides the three stages of `Stages` (the PyTorch model does, the onnxruntime and
TensorRT runtimes do too); this module runs them in the official order: backbone, foreground
selection and aggregator 1, the iterative-sampling rounds with the official coverage update,
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
from isbnet_trt.isbnet.model import BackboneOutputs, DecoderOutputs, ISBNet
from isbnet_trt.isbnet.postprocess import Instances, get_instances
from isbnet_trt.isbnet.preprocess import PreparedScene, dense_ranks, prepare_scene
from isbnet_trt.plugins.kernel_maps import LevelMaps

Trace = dict[str, Any]


class Stages(Protocol):
    """The inference stages of one backend (torch tensors in and out, batch size 1).

    Output sizes depend only on input sizes (see `isbnet.model`); the data-dependent steps
    (foreground selection, candidates of each round) are done here, once for every backend.
    A backend may also offer `preprocessor` (a `preprocess.ScenePreparer` or None) that prepares
    scenes on its own device; `runtime.Pipeline` uses it instead of `prepare_scene`.
    """

    def backbone(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: Sequence[LevelMaps]
    ) -> BackboneOutputs: ...

    def aggregate(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> Queries: ...

    def decoder(self, cand: Queries, n_sample: int, bb: BackboneOutputs) -> DecoderOutputs: ...


def _select(q: Queries, idx: Tensor) -> Queries:
    return Queries(q.locs[:, idx], q.feats[:, :, idx], q.boxes[:, idx], q.inds[idx])


def coverage_columns(voxel_spps: Tensor, object_idxs: Tensor, query_inds: Tensor) -> Tensor:
    """`(m,)` int64: the mask-logit column the official coverage update reads for each
    aggregator-1 query (§9.11). The official code indexes the all-superpoint logits with
    superpoint ids renumbered over the foreground voxels only; this reproduces that quirk.

    The renumbering (`torch.unique(fg, return_inverse=True)[1]`: each id's rank among the
    distinct ids) is `preprocess.dense_ranks`, a cumulative count of the ids present: a
    multi-threaded torch sort of ~50k ids took ~100 ms with 16 threads on the H200 machine."""
    fg = voxel_spps[object_idxs]
    rank = torch.from_numpy(dense_ranks(fg.cpu().numpy())).to(fg.device)
    return rank[query_inds]


def sampling_rounds(
    stages: Stages,
    pa1: Queries,
    bb: BackboneOutputs,
    cover_cols: Tensor,
    cfg: ModelConfig,
    trace: Trace | None = None,
) -> list[DecoderOutputs]:
    """The official iterative sampling: rounds of `cfg.n_sample_rounds` queries drawn from
    the aggregator-1 queries not yet covered. Returns each round's outputs restricted to its
    foreground queries (official: a round without foreground ends the loop)."""
    n_pa1 = pa1.locs.shape[1]
    union = torch.zeros(n_pa1, dtype=torch.float32)
    cand_idxs = torch.arange(n_pa1)
    rounds: list[DecoderOutputs] = []
    n_rounds = len(cfg.n_sample_rounds)
    for i, n_sample in enumerate(cfg.n_sample_rounds):
        out = stages.decoder(_select(pa1, cand_idxs), min(n_sample, len(cand_idxs)), bb)
        if trace is not None:
            trace[f"it{i}"] = {"cand_idxs": cand_idxs, "out": out}
        fg = out.fg
        if not bool(fg.any()):
            break
        rounds.append(
            DecoderOutputs(
                out.cand_inds[fg],
                out.cls_logits[fg],
                out.conf_logits[fg],
                out.box_preds[fg],
                out.mask_logits[fg],
                fg[fg],
            )
        )
        if i == n_rounds - 1:
            break
        union = union + (rounds[-1].mask_logits[:, cover_cols] > 0).float().sum(dim=0)
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
    empty = scene.to_input_order(Instances.empty(scene.n_points))
    with timer("backbone"):
        bb = stages.backbone(scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
    if trace is not None:
        trace["backbone"] = bb
    object_idxs = torch.nonzero(bb.object_mask).view(-1)
    if len(object_idxs) == 0:
        return empty
    with timer("aggregator"):
        pa1_idxs = object_idxs
        if scene.pa1_max_voxel is not None:  # official S3DIS quirk: parts 0 and 1 (and one more voxel)
            pa1_idxs = object_idxs[object_idxs <= scene.pa1_max_voxel]
        pa1 = stages.aggregate(scene.voxel_coords_float[pa1_idxs], bb.feats[pa1_idxs], bb.box_preds[pa1_idxs])
        cover_cols = coverage_columns(scene.voxel_spps, object_idxs, pa1.inds)
    if trace is not None:
        trace.update(object_idxs=object_idxs, aggregator=pa1, cover_cols=cover_cols)
    with timer("decoder"):
        rounds = sampling_rounds(stages, pa1, bb, cover_cols, cfg, trace)
    if not rounds:
        return empty
    with timer("postprocess"):
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
