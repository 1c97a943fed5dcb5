"""The official test-time preprocessing of one scene (`official_semantics.md` §9, steps 1-7).

`points (N, 6)` xyz + rgb → the dataset's own preparation (ScanNetV2: centring and colour
scaling, `prepare_data_inst.py`; see `official_preparation`), the 0.35π
test-time rotation and voxel coordinates (`CustomDataset.transform_test`), first-appearance
voxelisation, mean-pooled voxel inputs, superpoints per voxel, and the kernel maps of every
U-Net level. All arithmetic follows the official float64/float32 steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.errors import IsbnetError
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.postprocess import Instances
from isbnet_trt.isbnet.voxelize import Voxels, voxel_mean, voxelize
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.plugins.kernel_maps.reference import build_unet_maps

#: Builds the kernel maps of every U-Net level: (level-0 coords (M, 3) int, levels, spatial shape)
#: -> one maps object per level, finest first (`plugins.kernel_maps.reference.build_unet_maps`, or a
#: backend's own builder on its device, e.g. `plugins.kernel_maps.torch_maps` on the GPU).
MapBuilder = Callable[[np.ndarray, int, np.ndarray], Sequence[LevelMaps]]

TEST_ROTATION = 0.35 * math.pi  # official `dataAugment(..., rot=False)`: applied even at test time
MIN_POINTS = 1  # below this there is nothing to voxelise; see `check_points`
#: Rows per `np.matmul` call of the test rotation: 9 × rows multiply-adds stay below OpenBLAS's
#: multi-threading threshold (m·n·k < 262144). A multi-threaded call leaves OpenBLAS's workers
#: spinning for ~0.1 s, which stalls PyTorch's CPU thread pool right after it (measured on a
#: 2-core VM: a 2.5 ms op took up to 106 ms; on the 16-core H200 host the GPU pipeline's CPU
#: bookkeeping took 50-100 ms).
ROTATION_CHUNK_ROWS = 8192


class SceneError(IsbnetError, ValueError):
    """The scene cannot be segmented as given (shape, dtype, NaN/inf, empty, bad superpoints)."""


def check_points(
    points: np.ndarray, superpoints: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate a scene; return points as float64 `(N, 6)` and superpoints as int64 `(N,)`."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 6:
        hint = (
            " (xyz only: give colours, or a constant grey)"
            if points.ndim == 2 and points.shape[1] == 3
            else ""
        )
        raise SceneError(f"points must have shape (N, 6) = xyz + rgb, got {points.shape}{hint}")
    if not (np.issubdtype(points.dtype, np.floating) or np.issubdtype(points.dtype, np.integer)):
        raise SceneError(f"points must be a float array, got dtype {points.dtype}")
    if len(points) < MIN_POINTS:
        raise SceneError("the scene is empty (0 points)")
    with np.errstate(invalid="ignore"):  # a signalling NaN warns when widened: reported below
        points = points.astype(np.float64)
    bad = ~np.isfinite(points)
    if bad.any():
        rows = np.flatnonzero(bad.any(1))
        raise SceneError(f"points contain NaN or inf in {len(rows)} rows (first: row {rows[0]})")
    if superpoints is not None:
        superpoints = np.asarray(superpoints)
        if superpoints.shape != (len(points),):
            raise SceneError(f"superpoints must have shape ({len(points)},), got {superpoints.shape}")
        if not np.issubdtype(superpoints.dtype, np.integer):
            raise SceneError(f"superpoint ids must be integers, got dtype {superpoints.dtype}")
        superpoints = superpoints.astype(np.int64)
    return points, superpoints


@dataclass(frozen=True)
class PreparedScene:
    """A scene ready for the model (N points, M voxels, S superpoints as the model sees them).

    coords_float `(N, 3)` float32 rotated positions (metres; centred for ScanNetV2); feats
    `(N, 3)` float32 colours as the model reads them (rgb / 127.5 - 1; S3DIS: rgb 0..255);
    voxels: point↔voxel maps; voxel_feats `(M, 6 or 3)` float32 mean `[rgb, xyz]` (or rgb)
    per voxel; voxel_coords_float `(M, 3)` float32; v2p `(N,)` int64;
    voxel_spps `(M,)` int64 superpoint of each voxel's first point, renumbered 0..S-1;
    point_spps `(N,)` int64 superpoint of each point (0..S_p-1), None without superpoints;
    maps: kernel maps of the U-Net levels (`LevelMaps` of arrays, or of tensors on a device when
    the `MapBuilder` given to `prepare_scene` builds them there); pa1_max_voxel: S3DIS quirk bound, else None;
    input_order `(N,)` int64 or None: internal point i is input point input_order[i].
    """

    coords_float: Tensor
    feats: Tensor
    voxels: Voxels
    voxel_feats: Tensor
    voxel_coords_float: Tensor
    v2p: Tensor
    voxel_spps: Tensor
    point_spps: Tensor | None
    maps: Sequence[LevelMaps]
    spatial_shape: np.ndarray
    pa1_max_voxel: int | None = None
    input_order: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return len(self.v2p)

    @property
    def n_voxels(self) -> int:
        return len(self.voxel_spps)

    def to_input_order(self, inst: Instances) -> Instances:
        """Map instance masks from the internal point order back to the input order."""
        if self.input_order is None:
            return inst
        masks = np.zeros_like(inst.masks)
        masks[:, self.input_order] = inst.masks
        return replace(inst, masks=masks)


#: Prepares one scene: (points, superpoints, cfg, centred) -> `PreparedScene`; `prepare_scene`
#: (NumPy), or a backend's own on its device (`runtime.torch_preprocess.TorchPreprocessor`).
ScenePreparer = Callable[[np.ndarray, np.ndarray | None, ModelConfig, bool], PreparedScene]


def dense_ranks(ids: np.ndarray) -> np.ndarray:
    """`np.unique(ids, return_inverse=True)[1]`: each id's rank among the distinct ids, int64.

    Non-negative ids up to a few times their count (superpoint ids) take a bincount instead of
    a sort.
    """
    ids = np.asarray(ids).reshape(-1)
    if ids.size and ids.min() >= 0 and ids.max() < 4 * ids.size + 1024:
        present = np.bincount(ids) > 0
        return (np.cumsum(present) - 1)[ids].astype(np.int64)
    return np.unique(ids, return_inverse=True)[1].reshape(-1).astype(np.int64)


def official_preparation(
    points: np.ndarray, dataset_name: str = "scannetv2"
) -> tuple[np.ndarray, np.ndarray]:
    """Raw points (xyz metres, rgb 0..255) → (coords, colours) `(N, 3)` float64 holding what the
    official preparation script of `dataset_name` stores in its `*_inst_nostuff.pth`:

    * scannetv2 (`prepare_data_inst.py`): xyz minus its mean, rgb / 127.5 - 1, float64;
    * scannet200 (`preprocess_scannet200.py`): xyz as given (axis-aligned, not centred),
      rgb / 127.5 - 1, float64;
    * s3dis (`prepare_s3dis.py`): xyz and rgb as given, rounded to float32 (the model's input
      colours are 0..255);
    * stpls3d (`prepare_data_inst_instance_stpls3d.py`): xyz minus its mean, rgb / 127.5 - 1,
      rounded to float32 (one block; the script's 50 m blocks and its dummy point for flat
      blocks are not applied).
    """
    points = np.ascontiguousarray(points, dtype=np.float64)
    xyz, rgb = points[:, :3], points[:, 3:6]
    if dataset_name == "s3dis":
        return xyz.astype(np.float32).astype(np.float64), rgb.astype(np.float32).astype(np.float64)
    coords = np.ascontiguousarray(xyz if dataset_name == "scannet200" else xyz - xyz.mean(0))
    colors = np.ascontiguousarray(rgb) / 127.5 - 1
    if dataset_name == "stpls3d":
        return coords.astype(np.float32).astype(np.float64), colors.astype(np.float32).astype(np.float64)
    return coords, colors


def rotate_for_test(coords: np.ndarray) -> np.ndarray:
    """The official test-time rotation by 0.35π about z (row vectors, float64 `np.matmul`).

    Computed `ROTATION_CHUNK_ROWS` rows per `np.matmul` call: every row gets the same result
    (the same BLAS kernel computes each row), but each call stays on the calling thread."""
    c, s = math.cos(TEST_ROTATION), math.sin(TEST_ROTATION)
    m = np.matmul(np.eye(3), [[c, s, 0], [-s, c, 0], [0, 0, 1]])
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    out = np.empty((len(coords), 3))
    for start in range(0, len(coords), ROTATION_CHUNK_ROWS):
        rows = slice(start, start + ROTATION_CHUNK_ROWS)
        np.matmul(coords[rows], m, out=out[rows])
    return out


def test_frame(
    points: np.ndarray, superpoints: np.ndarray | None, centred: bool = False, dataset_name: str = "scannetv2"
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Checked scene in the official test frame: (xyz_middle `(N, 3)` float64 prepared as for
    `dataset_name` (`official_preparation`; as given when `centred`) and rotated, colours `(N, 3)`
    float64 as the model reads them, superpoints `(N,)` int64 or None); see `prepare_scene`."""
    points, superpoints = check_points(points, superpoints)
    if centred:
        coords, colors = np.ascontiguousarray(points[:, :3]), np.ascontiguousarray(points[:, 3:6])
    else:
        coords, colors = official_preparation(points, dataset_name)
    return rotate_for_test(coords), colors, superpoints


def superpoint_ids(
    superpoints: np.ndarray | None, first_point: np.ndarray, cfg: ModelConfig
) -> tuple[np.ndarray | None, np.ndarray]:
    """(point_spps `(N,)` or None, voxel_spps `(M,)`) int64, both renumbered 0..S-1; a voxel
    takes the superpoint of its first point (`first_point` `(M,)`)."""
    if superpoints is not None and cfg.use_spp_pool:
        point_spps = dense_ranks(superpoints)
        return point_spps, dense_ranks(point_spps[first_point])
    # Fallback: every voxel is its own superpoint (voxel ids are first-appearance ordered,
    # so this is also what the official code computes from per-point superpoint ids).
    return None, np.arange(len(first_point), dtype=np.int64)


def prepare_scene(
    points: np.ndarray,
    superpoints: np.ndarray | None,
    cfg: ModelConfig,
    centred: bool = False,
    map_builder: MapBuilder | None = None,
) -> PreparedScene:
    """Preprocess one scene exactly as the official test path.

    points `(N, 6)`: xyz (metres) + rgb (0..255), prepared as the official script of the
    config's dataset does (`official_preparation`); with `centred=True`, the content of an official
    preprocessed `*_inst_nostuff.pth`, used as it is (ScanNetV2: centred xyz, colours in [-1, 1]).
    superpoints `(N,)` int or None: without superpoints every voxel is its own superpoint
    (the official STPLS3D behaviour; superpoint refinement is then a no-op).
    map_builder: builds the kernel maps (default `plugins.kernel_maps.reference.build_unet_maps`, NumPy).
    """
    xyz_middle, colors, superpoints = test_frame(points, superpoints, centred, cfg.dataset_name)
    if cfg.test.x4_split:
        return _prepare_x4(xyz_middle, colors, superpoints, cfg, map_builder)

    xyz = xyz_middle * cfg.data_scale
    xyz -= xyz.min(0)
    coord = xyz.astype(np.int64)  # truncation, as torch's .long(); all >= 0
    spatial_shape = np.maximum(coord.max(0) + 1, cfg.min_spatial_shape)
    voxels = voxelize(coord)
    maps = (map_builder or build_unet_maps)(voxels.voxel_coords, cfg.num_blocks, spatial_shape)
    return _finish(xyz_middle, colors, superpoints, cfg, voxels, maps, spatial_shape, None, None)


def _prepare_x4(
    xyz_middle: np.ndarray,
    colors: np.ndarray,
    superpoints: np.ndarray | None,
    cfg: ModelConfig,
    map_builder: MapBuilder | None,
) -> PreparedScene:
    """S3DIS test path: the scene is split into 4 interleaved parts (points i::4), each
    voxelised in its own frame and run through the backbone separately (official
    `S3DISDataset.transform_test` + `forward_4_parts`)."""
    n = len(xyz_middle)
    order = np.concatenate([np.arange(n)[i::4] for i in range(4)])
    xyz_middle, colors = xyz_middle[order], colors[order]
    superpoints = None if superpoints is None else superpoints[order]
    parts = np.repeat(np.arange(4), [len(range(i, n, 4)) for i in range(4)])
    coord = np.zeros((n, 3), np.int64)
    for i in range(4):
        sel = parts == i
        if sel.any():
            xyz = xyz_middle[sel] * cfg.data_scale
            xyz -= xyz.min(0)
            coord[sel] = xyz.astype(np.int64)
    spatial_shape = np.maximum(coord.max(0) + 1, cfg.min_spatial_shape)
    voxels = voxelize(np.concatenate([parts[:, None], coord], 1))  # part 0's voxels first, ...
    voxel_part, local = voxels.voxel_coords[:, 0], voxels.voxel_coords[:, 1:]
    # Each part gets its own kernel maps on the official grid `spatial_shape` (spconv drops a
    # voxel on the last coordinate of an odd axis at every halving, in every part), then the
    # parts are placed side by side along x, `step` apart, in one scene.
    step = 2**cfg.num_blocks * (int(spatial_shape[0]) // 2**cfg.num_blocks + 2)
    build = map_builder or build_unet_maps
    maps = merge_part_maps(
        {
            part: build(local[voxel_part == part], cfg.num_blocks, spatial_shape)
            for part in range(4)
            if np.any(voxel_part == part)
        },
        step,
    )
    n_first_two = int(np.count_nonzero(voxel_part <= 1))
    shape = spatial_shape + np.array([3 * step, 0, 0])
    return _finish(xyz_middle, colors, superpoints, cfg, voxels, maps, shape, order, n_first_two)


def merge_part_maps(parts: dict[int, Sequence[LevelMaps]], step: int) -> list[LevelMaps]:
    """Kernel maps of independent parts as the maps of one scene (S3DIS `x4_split`).

    parts: part index -> its levels (`LevelMaps`, of arrays or of tensors on a device), the parts'
    voxels in this order. At level l, part p's coordinates move by `p * step / 2**l` along x
    (`step` a multiple of 2**levels, wider than a part), its rows and map entries by the voxel
    counts of the parts before it; no map reaches across parts.
    """
    per_part = list(parts.values())
    n_levels = len(per_part[0])
    # first_row[level][i]: row of the i-th part's first voxel in the merged level
    first_row = [np.cumsum([0] + [maps[level].num_voxels for maps in per_part]) for level in range(n_levels)]
    merged = []
    for level in range(n_levels):
        step_l = step >> level
        coords, subm, down, up = [], [], [], []
        for i, (part, maps) in enumerate(parts.items()):
            lm = maps[level]
            shifted = lm.coords + 0  # a copy, numpy or torch
            shifted[:, 0] += part * step_l
            coords.append(shifted)
            subm.append(_offset_entries(lm.subm, int(first_row[level][i])))
            if lm.down is not None:  # rows: the next level's voxels; entries: this level's
                down.append(_offset_entries(lm.down, int(first_row[level][i])))
                up.append(_offset_entries(lm.up, int(first_row[level + 1][i])))
        first = per_part[0][level]
        shape = np.asarray(first.spatial_shape) + np.array([3 * step_l, 0, 0])
        down_map, up_map = (_cat(down), _cat(up)) if down else (None, None)
        merged.append(type(first)(_cat(coords), shape, _cat(subm), down_map, up_map))
    return merged


def _offset_entries(table: Any, offset: int) -> Any:
    """Map entries (row indices, -1 for none) moved by `offset`; numpy or torch."""
    out = table + 0
    out[out >= 0] += offset
    return out


def _cat(arrays: list[Any]) -> Any:
    return torch.cat(arrays) if isinstance(arrays[0], Tensor) else np.concatenate(arrays)


def _finish(
    xyz_middle: np.ndarray,
    colors: np.ndarray,
    superpoints: np.ndarray | None,
    cfg: ModelConfig,
    voxels: Voxels,
    maps: Sequence[LevelMaps],
    spatial_shape: np.ndarray,
    input_order: np.ndarray | None,
    pa1_max_voxel: int | None,
) -> PreparedScene:
    coords_float = xyz_middle.astype(np.float32)
    feats = colors.astype(np.float32)
    # One pass over [rgb, xyz]: each column's voxel mean is computed independently, so the xyz
    # columns are exactly `voxel_mean(coords_float)`.
    means = voxel_mean(np.ascontiguousarray(np.concatenate([feats, coords_float], 1)), voxels)
    voxel_feats = means if cfg.with_coords else np.ascontiguousarray(means[:, :3])
    voxel_coords_float = np.ascontiguousarray(means[:, 3:])
    point_spps, voxel_spps = superpoint_ids(superpoints, voxels.first_point, cfg)
    return PreparedScene(
        coords_float=torch.from_numpy(coords_float),
        feats=torch.from_numpy(feats),
        voxels=voxels,
        voxel_feats=torch.from_numpy(voxel_feats),
        voxel_coords_float=torch.from_numpy(voxel_coords_float),
        v2p=torch.from_numpy(voxels.v2p),
        voxel_spps=torch.from_numpy(voxel_spps),
        point_spps=None if point_spps is None else torch.from_numpy(point_spps),
        maps=maps,
        spatial_shape=spatial_shape,
        pa1_max_voxel=pa1_max_voxel,
        input_order=input_order,
    )
