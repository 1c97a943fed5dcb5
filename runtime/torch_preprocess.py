"""The official test-time voxelisation with PyTorch ops, on the device that runs the model.

Same `PreparedScene` as `isbnet.preprocess.prepare_scene`, bit for bit (the tests compare them
on the CPU, `benchmarks/gpu_check.py` on the GPU), for a GPU pipeline that should not spend
~0.1 s of CPU time per 150k-point scene in NumPy:

* kept on the CPU, where they are cheap and NumPy's arithmetic is the reference: the input
  checks, centring and colour scaling, the float64 test rotation (`np.matmul`, whose rounding
  is BLAS's) and the superpoint renumbering;
* on the device: the voxel coordinates (float64 elementwise ops, exact), first-appearance voxel
  numbering (integer sort and scan), the voxel means (float32, summed in the official order:
  one pass per slot of the voxels' point lists, so every voxel adds its points in ascending
  order from zero, as the official kernel does) and the kernel maps (`plugins.kernel_maps.torch_maps`).

The S3DIS 4-part split (`test.x4_split`) voxelises on the CPU and builds its maps here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.preprocess import PreparedScene, prepare_scene, superpoint_ids, test_frame
from isbnet_trt.isbnet.voxelize import Voxels
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.plugins.kernel_maps.torch_maps import build_unet_maps as build_maps_with_torch

__all__ = ["TorchVoxels", "voxelize", "voxel_mean", "TorchPreprocessor", "scene_differences"]

_INT32 = torch.iinfo(torch.int32)


@dataclass(frozen=True)
class TorchVoxels:
    """`isbnet.voxelize.Voxels` with int64 tensors: voxel_coords (M, 3), v2p (N,), offsets
    (M+1,), point_idx (N,)."""

    voxel_coords: Tensor
    v2p: Tensor
    offsets: Tensor
    point_idx: Tensor

    def numpy(self) -> Voxels:
        return Voxels(*(t.cpu().numpy() for t in (self.voxel_coords, self.v2p, self.offsets, self.point_idx)))


def voxelize(coords: Tensor) -> TorchVoxels:
    """`isbnet.voxelize.voxelize` of `(N, 3)` integer coordinates with PyTorch ops, on their
    device: the same maps, as tensors."""
    if coords.dim() != 2 or coords.shape[1] != 3:
        raise ValueError(f"coords must have shape (N, 3), got {tuple(coords.shape)}")
    if coords.dtype.is_floating_point or coords.dtype == torch.bool:
        raise TypeError(f"coords must be integers, got {coords.dtype}")
    c = coords.long()
    dev, n = c.device, len(c)
    if n == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=dev)
        return TorchVoxels(c, empty, torch.zeros(1, dtype=torch.int64, device=dev), empty)
    lo, hi = c.min(0).values, c.max(0).values
    bounds = torch.stack([lo, hi]).cpu().numpy()  # one host sync for both checks
    if bounds[0].min() < _INT32.min or bounds[1].max() > _INT32.max:
        raise ValueError("coords must fit in int32 (the official op's key type)")
    ext = hi - lo + 1
    if float(np.prod((bounds[1] - bounds[0] + 1).astype(np.float64))) >= 2.0**62:
        raise ValueError(f"coordinate range {ext.tolist()} too large for int64 keys")
    key = ((c[:, 0] - lo[0]) * ext[1] + (c[:, 1] - lo[1])) * ext[2] + (c[:, 2] - lo[2])
    sorted_key, perm = torch.sort(key, stable=True)  # stable: each voxel's points stay ascending
    is_start = torch.ones(n, dtype=torch.bool, device=dev)
    is_start[1:] = sorted_key[1:] != sorted_key[:-1]
    group_of_sorted = torch.cumsum(is_start, 0) - 1
    group_first = perm[is_start]  # smallest point id of each group (stable sort)
    n_voxels = len(group_first)
    voxel_of_group = torch.empty(n_voxels, dtype=torch.int64, device=dev)
    voxel_of_group[torch.argsort(group_first)] = torch.arange(n_voxels, device=dev)
    v2p = torch.empty(n, dtype=torch.int64, device=dev)
    v2p[perm] = voxel_of_group[group_of_sorted]
    point_idx = torch.sort(v2p, stable=True).indices  # points grouped by voxel, ascending
    offsets = torch.zeros(n_voxels + 1, dtype=torch.int64, device=dev)
    offsets[1:] = torch.cumsum(torch.bincount(v2p, minlength=n_voxels), 0)
    return TorchVoxels(c[point_idx[offsets[:-1]]], v2p, offsets, point_idx)


def voxel_mean(feats: Tensor, voxels: TorchVoxels) -> Tensor:
    """`isbnet.voxelize.voxel_mean` on `feats`' device: (N, C) float32 -> (M, C) float32 with
    the official arithmetic, `out[v] = sum_i fl32(fl32(1 / count) * feats[p_i])` summed from
    zero in ascending point order (`voxels` from `voxelize` here, on the same device).

    Pass j adds the j-th point of every voxel that has one: one host sync for the slot sizes,
    then as many passes as the fullest voxel has points."""
    if feats.dtype != torch.float32:
        raise TypeError(f"feats must be float32, got {feats.dtype}")
    n = len(voxels.v2p)
    if feats.dim() != 2 or feats.shape[0] != n:
        raise ValueError(f"feats must have shape ({n}, C), got {tuple(feats.shape)}")
    offsets, point_idx = voxels.offsets, voxels.point_idx
    counts = offsets[1:] - offsets[:-1]
    inv = 1.0 / counts.float()  # IEEE division: the official __frcp_rn
    voxel_of_row = voxels.v2p[point_idx]  # CSR row -> voxel
    terms = feats[point_idx] * inv[voxel_of_row][:, None]
    slot = torch.arange(n, device=feats.device) - offsets[voxel_of_row]
    by_slot = torch.sort(slot, stable=True).indices  # slot 0 of every voxel, then slot 1, ...
    out = torch.zeros((len(counts), feats.shape[1]), dtype=torch.float32, device=feats.device)
    start = 0
    for size in torch.bincount(slot).tolist():
        rows = by_slot[start : start + size]
        v = voxel_of_row[rows]  # distinct voxels: one add per output element
        out[v] = out[v] + terms[rows]
        start += size
    return out


class TorchPreprocessor:
    """`prepare_scene` with the voxelisation, voxel means and kernel maps on `device` (see the
    module doc). The scene's tensors for the model (`voxel_feats`, `voxel_coords_float`, the
    maps) stay on the device; what the CPU side of `forward_test` indexes (`v2p`, the
    superpoints) comes back to the CPU."""

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)

    def build_maps(
        self, coords: np.ndarray | Tensor, num_levels: int, spatial_shape: np.ndarray
    ) -> list[LevelMaps]:
        """A `preprocess.MapBuilder` on the device (`plugins.kernel_maps.torch_maps.build_unet_maps`)."""
        return build_maps_with_torch(torch.as_tensor(coords).to(self.device), num_levels, spatial_shape)

    def __call__(
        self,
        points: np.ndarray,
        superpoints: np.ndarray | None,
        cfg: ModelConfig,
        centred: bool = False,
    ) -> PreparedScene:
        """`isbnet.preprocess.prepare_scene(points, superpoints, cfg, centred)` on the device."""
        if cfg.test.x4_split:
            return prepare_scene(points, superpoints, cfg, centred=centred, map_builder=self.build_maps)
        xyz_middle, colors, superpoints = test_frame(points, superpoints, centred, cfg.dataset_name)
        dev = self.device
        xyz_middle_d = torch.from_numpy(xyz_middle).to(dev)
        xyz = xyz_middle_d * cfg.data_scale
        xyz -= xyz.min(0).values
        coord = xyz.long()  # truncation, all >= 0 (as the NumPy path's astype)
        spatial_shape = np.maximum(coord.max(0).values.cpu().numpy() + 1, cfg.min_spatial_shape)
        voxels = voxelize(coord)
        coords_float = xyz_middle_d.float()
        feats = torch.from_numpy(colors).to(dev).float()
        means = voxel_mean(torch.cat([feats, coords_float], 1), voxels)
        maps = build_maps_with_torch(voxels.voxel_coords, cfg.num_blocks, spatial_shape)
        host = voxels.numpy()
        point_spps, voxel_spps = superpoint_ids(superpoints, host.first_point, cfg)
        return PreparedScene(
            coords_float=coords_float,
            feats=feats,
            voxels=host,
            voxel_feats=means if cfg.with_coords else means[:, :3].contiguous(),
            voxel_coords_float=means[:, 3:].contiguous(),
            v2p=torch.from_numpy(host.v2p),
            voxel_spps=torch.from_numpy(voxel_spps),
            point_spps=None if point_spps is None else torch.from_numpy(point_spps),
            maps=maps,
            spatial_shape=spatial_shape,
        )


def scene_differences(ref: PreparedScene, got: PreparedScene) -> list[str]:
    """Names of the fields in which two prepared scenes differ, [] when `got` is `ref` bit for
    bit (dtypes too; the maps' tables by value, level by level). For tests and checks."""

    def host(x: object) -> np.ndarray | None:
        return x.cpu().numpy() if isinstance(x, Tensor) else None if x is None else np.asarray(x)

    def same(a: object, b: object, dtype: bool = True) -> bool:
        a, b = host(a), host(b)
        if a is None or b is None:
            return a is None and b is None
        return (a.dtype == b.dtype or not dtype) and np.array_equal(a, b)

    fields = ["coords_float", "feats", "voxel_feats", "voxel_coords_float", "v2p", "voxel_spps"]
    fields += ["point_spps", "spatial_shape", "input_order", "pa1_max_voxel"]
    out = [n for n in fields if not same(getattr(ref, n), getattr(got, n))]
    out += [
        f"voxels.{n}"
        for n in ("voxel_coords", "v2p", "offsets", "point_idx")
        if not same(getattr(ref.voxels, n), getattr(got.voxels, n))
    ]
    if len(ref.maps) != len(got.maps):
        return [*out, "maps"]
    for level, (r, g) in enumerate(zip(ref.maps, got.maps, strict=True)):
        out += [
            f"maps[{level}].{n}"
            for n in ("coords", "subm", "down", "up")
            if not same(getattr(r, n), getattr(g, n), dtype=False)
        ]
    return out
