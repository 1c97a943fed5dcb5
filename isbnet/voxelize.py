"""Voxelisation with the exact semantics of ISBNet's `voxelization_idx` and `voxelization`.

Spec: `official_semantics.md` §1 (numbering, maps) and §2 (mean-pooled features). Built with
numpy: this runs in preprocessing, once per scene.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.isbnet.geometry import segment_sum_sequential

__all__ = ["Voxels", "voxelize", "voxel_mean"]

_INT32 = np.iinfo(np.int32)


@dataclass(frozen=True)
class Voxels:
    """Point <-> voxel maps of one scene (§1), voxels numbered by first appearance.

    voxel_coords: (M, D) int64, the input coordinates of each voxel's first point (D = 3 or 4,
        as given to `voxelize`; the official op returns `[batch, x, y, z]`).
    v2p: (N,) int64, voxel id of each point (the official `v2p_map`: point -> voxel).
    offsets: (M+1,) int64 and point_idx: (N,) int64, a CSR of the points of each voxel in
        ascending point order: voxel v holds `point_idx[offsets[v]:offsets[v+1]]`.
    """

    voxel_coords: np.ndarray
    v2p: np.ndarray
    offsets: np.ndarray
    point_idx: np.ndarray

    @property
    def num_voxels(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def counts(self) -> np.ndarray:
        """(M,) int64 number of points per voxel (>= 1)."""
        return np.diff(self.offsets)

    @property
    def first_point(self) -> np.ndarray:
        """(M,) int64 smallest point id of each voxel (`p2v_map[:, 1]` of the official op)."""
        return self.point_idx[self.offsets[:-1]]

    def p2v_map(self) -> np.ndarray:
        """The official `p2v_map` for mode 4: (M, 1 + maxcount) int32.

        Row v = `[count, p_1, ..., p_count, 0, ...]`, point ids ascending, zero padded.
        """
        counts = self.counts
        width = 1 + (int(counts.max()) if counts.size else 0)
        out = np.zeros((self.num_voxels, width), dtype=np.int32)
        out[:, 0] = counts
        rows = self.v2p[self.point_idx]
        slots = np.arange(self.point_idx.size, dtype=np.int64) - self.offsets[rows] + 1
        out[rows, slots] = self.point_idx
        return out


def voxelize(coords: np.ndarray | Tensor) -> Voxels:
    """`voxelization_idx(coords, batchsize, mode=4)` (§1) as numpy maps.

    coords: (N, 3) `[x, y, z]` or (N, 4) `[batch, x, y, z]` integer voxel coordinates; the
    official op keys its hash maps with int32, so values must fit int32 (batch ids >= 0).
    Voxel ids follow the order of first appearance when scanning the points 0..N-1 (one hash
    map per batch item, one global counter: a voxel is a distinct `(batch, x, y, z)` row).
    """
    c = coords.detach().cpu().numpy() if isinstance(coords, Tensor) else np.asarray(coords)
    if c.ndim != 2 or c.shape[1] not in (3, 4):
        raise ValueError(f"coords must have shape (N, 3) or (N, 4), got {c.shape}")
    if not np.issubdtype(c.dtype, np.integer):
        raise TypeError(f"coords must be integers, got {c.dtype}")
    c = c.astype(np.int64)
    if c.size and (c.min() < _INT32.min or c.max() > _INT32.max):
        raise ValueError("coords must fit in int32 (the official op's key type)")
    if c.shape[1] == 4 and c.size and c[:, 0].min() < 0:
        raise ValueError("batch ids (column 0) must be >= 0")
    n = c.shape[0]
    key = _row_keys(c)
    perm = np.argsort(key, kind="stable")  # stable: each voxel's points stay ascending
    sorted_key = key[perm]
    is_start = np.ones(n, dtype=bool)
    is_start[1:] = sorted_key[1:] != sorted_key[:-1]
    group_start = np.flatnonzero(is_start)  # start of each distinct key in perm
    group_len = np.diff(np.append(group_start, n))
    # First appearance = smallest point id of the group = its first entry (stable sort).
    by_appearance = np.argsort(perm[group_start], kind="stable")
    counts = group_len[by_appearance]
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    # point_idx: the groups' point lists concatenated in voxel-id order.
    src_start = np.repeat(group_start[by_appearance], counts)
    point_idx = perm[src_start + np.arange(n, dtype=np.int64) - np.repeat(offsets[:-1], counts)]
    voxel_id_of_group = np.empty_like(by_appearance)
    voxel_id_of_group[by_appearance] = np.arange(by_appearance.size)
    v2p = np.empty(n, dtype=np.int64)
    v2p[perm] = np.repeat(voxel_id_of_group, group_len)
    voxel_coords = c[point_idx[offsets[:-1]]]
    return Voxels(voxel_coords=voxel_coords, v2p=v2p, offsets=offsets, point_idx=point_idx)


def _row_keys(c: np.ndarray) -> np.ndarray:
    """(N,) int64 keys equal iff the rows of `c` (N, D) are equal (the order is irrelevant)."""
    if c.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    lo = c.min(axis=0)
    ext = c.max(axis=0) - lo + 1
    if float(np.prod(ext.astype(np.float64))) < 2.0**62:
        key = np.zeros(c.shape[0], dtype=np.int64)
        for d in range(c.shape[1]):
            key = key * ext[d] + (c[:, d] - lo[d])
        return key
    # Sparse coordinates spanning a huge box: rank the distinct rows instead (slower, exact).
    return np.unique(c, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)


def voxel_mean(feats: np.ndarray | Tensor, voxels: Voxels) -> np.ndarray | Tensor:
    """`voxelization(feats, p2v_map, mode=4)` (§2): per-voxel mean with the kernel's arithmetic.

    feats: (N, C) float32 point features. Returns (M, C) float32, a torch tensor (on feats'
    device) when given one, else a numpy array.
    `out[v] = sum_i fl32(fl32(1 / count) * feats[p_i])`, summed in float32 sequentially in
    ascending point order from a zeroed buffer (one CUDA thread owns each (v, c), so the
    official atomicAdd sum has exactly this order).
    """
    f = feats.detach().cpu().numpy() if isinstance(feats, Tensor) else np.asarray(feats)
    if f.dtype != np.float32:
        raise TypeError(f"feats must be float32, got {f.dtype}")
    if f.ndim != 2 or f.shape[0] != voxels.v2p.size:
        raise ValueError(f"feats must have shape ({voxels.v2p.size}, C), got {f.shape}")
    inv = np.float32(1.0) / voxels.counts.astype(np.float32)  # rcp.rn.f32: correctly rounded
    terms = f[voxels.point_idx] * inv[voxels.v2p[voxels.point_idx]][:, None]
    out = segment_sum_sequential(terms, voxels.offsets)
    if isinstance(feats, Tensor):
        return torch.from_numpy(out).to(feats.device)
    return out
