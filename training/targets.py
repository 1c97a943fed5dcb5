"""Training targets of ISBNet, computed from voxel labels as the official training does.

* `instance_info` — official `get_instance_info`: per instance its class and axis-aligned box,
  per voxel the offsets to its instance's centroid and box corners (point-wise head targets).
* `superpoint_targets` — official `get_spp_gt`: per foreground GT instance a binary mask over
  the superpoints (a superpoint belongs to an instance when at least half of its voxels do),
  with the instance class and box (the targets the queries are matched to).

Everything is vectorised (scatter reductions instead of the official per-instance loops) and
gives the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

IGNORE = -100  # official ignore label / "no instance" / offset-target filler


@dataclass(frozen=True)
class InstanceInfo:
    """Per-instance and per-voxel targets (K instances, ids 0..K-1; M voxels).

    cls `(K,)` int64 instance class (semantic label - label_shift; -100 for an unlabelled
    semantic class, negative for a non-instance class); box `(K, 6)` float32 min xyz, max xyz;
    centroid_offset `(M, 3)` and corners_offset `(M, 6)` float32 target offsets from each voxel,
    -100 on voxels without instance.
    """

    cls: Tensor
    box: Tensor
    centroid_offset: Tensor
    corners_offset: Tensor


@dataclass(frozen=True)
class SuperpointTargets:
    """GT instances with an instance class, over S superpoints (G instances).

    masks `(G, S)` float32 0/1; cls `(G,)` int64 in 0..n_inst-1; box `(G, 6)` float32.
    """

    masks: Tensor
    cls: Tensor
    box: Tensor

    def __len__(self) -> int:
        return len(self.cls)


def instance_info(
    coords: Tensor, instance_labels: Tensor, semantic_labels: Tensor, label_shift: int
) -> InstanceInfo:
    """Official `get_instance_info` on voxels.

    coords `(M, 3)` float32 voxel positions; instance_labels `(M,)` int64, contiguous ids
    0..K-1 or -100; semantic_labels `(M,)` int64. An instance's class is the semantic label of
    its first voxel (official: `semantic_labels[inst_idx_i[0]]`).
    """
    m = len(coords)
    k = int(instance_labels.max()) + 1 if m else 0
    centroid_offset = coords.new_full((m, 3), float(IGNORE))
    corners_offset = coords.new_full((m, 6), float(IGNORE))
    if k <= 0:
        return InstanceInfo(
            torch.zeros(0, dtype=torch.int64), coords.new_zeros(0, 6), centroid_offset, corners_offset
        )
    on = instance_labels >= 0
    ids, xyz = instance_labels[on], coords[on]
    count = torch.bincount(ids, minlength=k).to(coords.dtype)[:, None]
    centroid = coords.new_zeros(k, 3).index_add_(0, ids, xyz) / count.clamp(min=1)
    ids3 = ids[:, None].expand(-1, 3)
    lo = coords.new_full((k, 3), float("inf")).scatter_reduce_(0, ids3, xyz, "amin")
    hi = coords.new_full((k, 3), float("-inf")).scatter_reduce_(0, ids3, xyz, "amax")
    centroid_offset[on] = centroid[ids] - xyz
    corners_offset[on] = torch.cat([lo[ids] - xyz, hi[ids] - xyz], dim=1)
    # Class of each instance: semantic label of its first voxel (lowest voxel index).
    first = torch.full((k,), m, dtype=torch.int64).scatter_reduce_(0, ids, torch.nonzero(on).view(-1), "amin")
    cls = semantic_labels[first.clamp(max=m - 1)].clone()
    cls[cls != IGNORE] -= label_shift
    return InstanceInfo(cls, torch.cat([lo, hi], dim=1), centroid_offset, corners_offset)


def superpoint_targets(instance_labels: Tensor, spps: Tensor, info: InstanceInfo) -> SuperpointTargets | None:
    """Official `get_spp_gt`: instance masks over superpoints, or None without GT instance.

    instance_labels `(M,)` int64 as in `instance_info`; spps `(M,)` int64 superpoint of each
    voxel, 0..S-1 contiguous. GT instances are those present with class >= 0, in ascending id.
    """
    n_spp = int(spps.max()) + 1 if len(spps) else 0
    present = torch.unique(instance_labels[instance_labels >= 0])
    keep = present[info.cls[present] >= 0]
    if len(keep) == 0:
        return None
    row = torch.full((len(info.cls),), -1, dtype=torch.int64)
    row[keep] = torch.arange(len(keep))
    voxel_row = torch.where(instance_labels >= 0, row[instance_labels.clamp(min=0)], -1)
    on = voxel_row >= 0
    counts = torch.zeros(len(keep), n_spp).index_put_(
        (voxel_row[on], spps[on]), torch.ones(int(on.sum())), accumulate=True
    )
    spp_size = torch.bincount(spps, minlength=n_spp).to(torch.float32)
    masks = (counts / spp_size.clamp(min=1) >= 0.5).float()
    return SuperpointTargets(masks=masks, cls=info.cls[keep], box=info.box[keep])
