"""The U-Net kernel maps on the CPU with numba: the same tables as `reference`, faster.

`build_unet_maps` has the signature and the result of `reference.build_unet_maps`
(a `preprocess.MapBuilder`); the runtime's CPU backends use it. Per level:

* submanifold map: a dense key -> row grid over the level's bounding box, left uninitialised
  (only touched pages cost memory) and every hit verified (`keys[row] == query`), then the 27
  lookups of each voxel in parallel;
* stride-2 maps: one sequential pass in fine row order numbers the parents by first appearance
  (a second dense grid, verified the same way), so no sort is needed.

Bounding boxes above `reference.DENSE_GRID_MAX_CELLS` cells fall back to the NumPy builder,
as do inputs that fail its checks (it raises the same errors).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from isbnet_trt.plugins.kernel_maps import reference
from isbnet_trt.plugins.kernel_maps.levels import LevelMaps

__all__ = ["build_unet_maps", "subm_map", "downsample"]


def build_unet_maps(
    coords: np.ndarray,
    num_levels: int,
    spatial_shape: np.ndarray | tuple[int, int, int] | None = None,
) -> list[LevelMaps]:
    """`reference.build_unet_maps` (same arguments, same tables, same errors)."""
    return reference.build_levels(coords, num_levels, spatial_shape, subm_map, downsample)


def subm_map(coords: np.ndarray) -> np.ndarray:
    """`reference.subm_map`: (M, 27) int32 rows of the neighbours at `SUBM_OFFSETS`, or -1."""
    coords = reference.check_coords(coords)
    m = len(coords)
    if m == 0:
        return np.full((0, 27), -1, dtype=np.int32)
    dims = reference._key_dims(coords, 3)  # shifted by 1, padded by 2: every x + d has a key
    cells = int(np.prod(dims))
    if cells > reference.DENSE_GRID_MAX_CELLS:
        return reference.subm_map(coords)
    keys = reference._keys(coords + 1, dims)
    offset_keys = reference._keys(reference.SUBM_OFFSETS.astype(np.int64), dims)
    grid = np.empty(cells, dtype=np.int32)  # uninitialised on purpose: hits are verified
    duplicate = _fill_grid(keys, grid)
    if duplicate >= 0:
        raise ValueError(
            f"coords contain duplicate rows (row {duplicate} repeats row {int(grid[keys[duplicate]])})"
        )
    kmap = np.empty((m, 27), dtype=np.int32)
    _lookup(keys, offset_keys, grid, kmap)
    return kmap


def downsample(
    coords: np.ndarray, spatial_shape: np.ndarray | tuple[int, int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`reference.downsample`: (coarse (M', 3) int32, down (M', 8) int32, up (M, 8) int32)."""
    coords = reference.check_coords(coords, spatial_shape)
    m = len(coords)
    parent = coords >> 1
    if m == 0:
        return reference.downsample(coords, spatial_shape)
    limit = (
        reference.downsampled_spatial_shape(spatial_shape) if spatial_shape is not None else parent.max(0) + 1
    )
    dims = reference._key_dims(parent, 1)
    cells = int(np.prod(dims))
    if cells > reference.DENSE_GRID_MAX_CELLS:
        return reference.downsample(coords, spatial_shape)
    keys = reference._keys(parent, dims)
    kept = (parent < limit).all(1)
    k_of = ((coords & 1) * np.array([4, 2, 1], dtype=np.int64)).sum(1)
    grid = np.empty(cells, dtype=np.int32)  # key -> coarse id, verified against coarse_keys
    coarse_of = np.empty(m, dtype=np.int32)
    coarse_keys = np.empty(m, dtype=np.int64)
    first_row = np.empty(m, dtype=np.int64)
    n_coarse = _number_parents(keys, kept, grid, coarse_keys, first_row, coarse_of)
    up = np.full((m, 8), -1, dtype=np.int32)
    down = np.full((n_coarse, 8), -1, dtype=np.int32)
    if not _scatter_maps(coarse_of, k_of, down, up):
        raise ValueError("coords contain duplicate rows")
    coarse = parent[first_row[:n_coarse]].astype(np.int32)
    return coarse, down, up


@njit(nogil=True, cache=True)
def _fill_grid(keys: np.ndarray, grid: np.ndarray) -> int:
    """grid[keys[i]] = i; returns the first row whose key another row also has, else -1."""
    for i in range(keys.size):
        grid[keys[i]] = i
    for i in range(keys.size):
        if grid[keys[i]] != i:
            return i
    return -1


@njit(parallel=True, nogil=True, cache=True)
def _lookup(keys: np.ndarray, offset_keys: np.ndarray, grid: np.ndarray, kmap: np.ndarray) -> None:
    m = keys.size
    for i in prange(m):
        for k in range(offset_keys.size):
            q = keys[i] + offset_keys[k]
            c = grid[q]
            kmap[i, k] = c if 0 <= c < m and keys[c] == q else -1


@njit(nogil=True, cache=True)
def _number_parents(
    keys: np.ndarray,
    kept: np.ndarray,
    grid: np.ndarray,
    coarse_keys: np.ndarray,
    first_row: np.ndarray,
    coarse_of: np.ndarray,
) -> int:
    """Coarse ids by first appearance in fine row order; returns their count. Dropped rows
    (parent outside the coarse grid) get -1."""
    n = 0
    for i in range(keys.size):
        if not kept[i]:
            coarse_of[i] = -1
            continue
        key = keys[i]
        c = grid[key]
        if not (0 <= c < n and coarse_keys[c] == key):
            c = n
            grid[key] = c
            coarse_keys[c] = key
            first_row[c] = i
            n += 1
        coarse_of[i] = c
    return n


@njit(nogil=True, cache=True)
def _scatter_maps(coarse_of: np.ndarray, k_of: np.ndarray, down: np.ndarray, up: np.ndarray) -> bool:
    """down[coarse, k] = fine row, up[fine, k] = coarse for the kept rows (coarse_of >= 0);
    False when two rows share a slot."""
    for i in range(coarse_of.size):
        c = coarse_of[i]
        if c >= 0:
            k = k_of[i]
            if down[c, k] >= 0:
                return False
            down[c, k] = i
            up[i, k] = c
    return True
