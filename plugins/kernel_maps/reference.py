"""Kernel maps of the ISBNet sparse U-Net, built from voxel coordinates: the NumPy reference.

A kernel map is the geometry of one sparse convolution, the input of the `isbnet::SparseConv3d`
op (`docs/ops/SparseConv3d.md`)::

    out[o] = sum_k features[kmap[o, k]] @ weight_kcc[k]      (terms with kmap[o, k] == -1 skipped)

with `kmap` an `(N_out, K)` int32 table. Every function here is a pure function of integer
coordinates (numpy in, numpy out, no torch), so the PyTorch model, the export pipeline and a GPU
preprocessing path can all build the same tables (`numba_maps` and `torch_maps` are its faster
twins, tested equal to it).

Conventions, checked against spconv 2.3.8 (`tests/isbnet/test_sparse_conv.py`):

* Offset order is spconv's weight order `[C_out, kx, ky, kz, C_in]` flattened over `(kx, ky, kz)`:
  `k = i*9 + j*3 + l` <-> offset `(i-1, j-1, l-1)` for the 3x3x3 submanifold conv and
  `k = i*4 + j*2 + l` <-> offset `(i, j, l)` for the 2x2x2 stride-2 conv and its inverse.
* Direction: the neighbour of output `x` for offset `d` is the input at `x + d` (cross-correlation,
  like `torch.nn.functional.conv3d`), i.e. `subm[x, k]` is the voxel at `x + SUBM_OFFSETS[k]`.
* Stride-2 conv: coarse voxel `y` reads fine voxel `2*y + DOWN_OFFSETS[k]` with weight `k`.
  Inverse conv (`SparseInverseConv3d`, same `indice_key`): fine voxel `x` reads its parent
  `y = x // 2` with the *same* `k` (`x - 2*y == DOWN_OFFSETS[k]`), not the mirrored one.
* spconv sizes the coarse grid as `(S - 2) // 2 + 1` per axis, so on an axis with an odd spatial
  shape `S` the fine voxels at coordinate `S - 1` have no parent: they are dropped by the down
  conv and get zeros from the inverse conv. `downsample(..., spatial_shape=S)` reproduces this.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from isbnet_trt.plugins.kernel_maps.levels import LevelMaps

#: (27, 3) int32: offset of submanifold kernel index k = i*9 + j*3 + l is (i-1, j-1, l-1).
SUBM_OFFSETS: np.ndarray = np.array(
    [(i - 1, j - 1, h - 1) for i in range(3) for j in range(3) for h in range(3)], dtype=np.int32
)
#: Index of the (0, 0, 0) offset in `SUBM_OFFSETS`: the identity column of a submanifold map.
SUBM_CENTER: int = 13
#: (8, 3) int32: offset of 2x2x2 kernel index k = i*4 + j*2 + l is (i, j, l).
DOWN_OFFSETS: np.ndarray = np.array(
    [(i, j, h) for i in range(2) for j in range(2) for h in range(2)], dtype=np.int32
)
#: Smallest spatial shape per axis of the official input tensor (`voxel_cfg.spatial_shape[0]`).
OFFICIAL_MIN_SPATIAL_SHAPE: int = 128

for _arr in (SUBM_OFFSETS, DOWN_OFFSETS):
    _arr.setflags(write=False)

#: Largest bounding box (in cells) for which `subm_map` uses a dense lookup grid: 2**26 cells is
#: 256 MiB of address space, of which only the pages near voxels are touched (a 6 x 5 x 3 m room
#: at 2 cm is ~11M cells).
DENSE_GRID_MAX_CELLS: int = 2**26

# Keys are int64; keep a margin so `key + offset_key` never overflows.
_MAX_KEY_SPACE = 2**62


def check_coords(coords: np.ndarray, spatial_shape: np.ndarray | None = None) -> np.ndarray:
    """Validate voxel coordinates and return them as an (M, 3) int64 array.

    coords: (M, 3) integer array, non-negative, unique rows (one batch; no batch column).
    spatial_shape: optional (3,) ints; every coordinate must then be < spatial_shape.
    Raises ValueError with the reason otherwise. Uniqueness is checked by `subm_map` and
    `downsample` as a by-product of their lookups, not here.
    """
    coords = np.asarray(coords)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise ValueError(f"coords must have shape (M, 3), got {coords.shape}")
    if not np.issubdtype(coords.dtype, np.integer):
        raise ValueError(f"coords must be integers, got dtype {coords.dtype}")
    coords = coords.astype(np.int64, copy=False)
    if len(coords) and coords.min() < 0:
        bad = int(np.argmax((coords < 0).any(1)))
        raise ValueError(f"coords must be non-negative; row {bad} is {coords[bad].tolist()}")
    if spatial_shape is not None and len(coords):
        shape = _as_shape(spatial_shape)
        if (coords >= shape).any():
            bad = int(np.argmax((coords >= shape).any(1)))
            raise ValueError(
                f"coords row {bad} = {coords[bad].tolist()} is outside spatial_shape {shape.tolist()}"
            )
    return coords


def _as_shape(spatial_shape: np.ndarray | tuple[int, int, int]) -> np.ndarray:
    shape = np.asarray(spatial_shape, dtype=np.int64).reshape(-1)
    if shape.shape != (3,) or (shape < 1).any():
        raise ValueError(f"spatial_shape must be 3 positive ints, got {spatial_shape}")
    return shape


def official_spatial_shape(coords: np.ndarray, min_size: int = OFFICIAL_MIN_SPATIAL_SHAPE) -> np.ndarray:
    """The official input spatial shape: `max(coords.max(0) + 1, min_size)` per axis, (3,) int64."""
    coords = check_coords(coords)
    top = coords.max(0) + 1 if len(coords) else np.zeros(3, np.int64)
    return np.maximum(top, min_size).astype(np.int64)


def downsampled_spatial_shape(spatial_shape: np.ndarray | tuple[int, int, int]) -> np.ndarray:
    """spconv's output shape of a kernel-2 stride-2 conv without padding: `(S - 2) // 2 + 1`, (3,) int64."""
    shape = _as_shape(spatial_shape)
    if (shape < 2).any():
        raise ValueError(f"cannot downsample spatial_shape {shape.tolist()}: every axis needs >= 2")
    return (shape - 2) // 2 + 1


def _keys(coords: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """Row-major linear keys of (M, 3) int64 coords in a box of size `dims`, (M,) int64."""
    return (coords[:, 0] * dims[1] + coords[:, 1]) * dims[2] + coords[:, 2]


def _key_dims(coords: np.ndarray, pad: int) -> np.ndarray:
    """Box size `coords.max(0) + pad` for `_keys`, (3,) int64; raises if int64 keys could overflow."""
    dims = coords.max(0) + pad
    if float(np.prod(dims, dtype=np.float64)) >= _MAX_KEY_SPACE:
        raise ValueError(f"coordinate range {dims.tolist()} too large for int64 keys")
    return dims


def subm_map(coords: np.ndarray, max_dense_cells: int = DENSE_GRID_MAX_CELLS) -> np.ndarray:
    """Kernel map of a 3x3x3 submanifold conv (`SubMConv3d(k=3, padding=1)`).

    coords: (M, 3) non-negative unique ints.
    max_dense_cells: use a dense lookup grid when the bounding box has at most this many cells
        (fast, lazily touched memory), else sorted keys + binary search. Same result either way.
    Returns (M, 27) int32: `out[x, k]` is the row of the voxel at `coords[x] + SUBM_OFFSETS[k]`,
    or -1. Column `SUBM_CENTER` is `arange(M)`.
    """
    coords = check_coords(coords)
    m = len(coords)
    kmap = np.full((m, 27), -1, dtype=np.int32)
    if m == 0:
        return kmap
    # Shift by 1 and pad by 2 so that every x + d (d in {-1,0,1}^3) has a unique, non-negative key.
    dims = _key_dims(coords, 3)
    keys = _keys(coords + 1, dims)
    offset_keys = _keys(SUBM_OFFSETS.astype(np.int64), dims)
    kmap[:, SUBM_CENTER] = np.arange(m, dtype=np.int32)
    if np.prod(dims) <= max_dense_cells:
        neighbours = _dense_neighbours(keys, int(np.prod(dims)))
    else:
        neighbours = _sorted_neighbours(keys)
    # The neighbourhood is symmetric (b = a + d <=> a = b - d): one search fills columns k and
    # 26 - k, so only the 13 offsets after the centre are searched.
    for k in range(SUBM_CENTER + 1, 27):
        a, b = neighbours(offset_keys[k])
        kmap[a, k] = b
        kmap[b, 26 - k] = a
    return kmap


def _dense_neighbours(keys: np.ndarray, num_cells: int) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """Neighbour search through a dense key -> row grid.

    Returns `search(d) -> (a, b)`: all row pairs with `keys[b] == keys[a] + d`, a ascending.
    """
    m = len(keys)
    # Uninitialised on purpose: only touched pages cost memory, and every hit is verified
    # (keys[row] == query), so stale values in untouched cells can never produce a false match.
    grid = np.empty(num_cells, dtype=np.int32)
    rows = np.arange(m, dtype=np.int32)
    grid[keys] = rows
    if (grid[keys] != rows).any():
        dup = int(np.flatnonzero(grid[keys] != rows)[0])
        raise ValueError(f"coords contain duplicate rows (row {dup} repeats row {int(grid[keys[dup]])})")

    def search(offset_key: int) -> tuple[np.ndarray, np.ndarray]:
        query = keys + offset_key  # in range by construction of the padded box
        cand = grid[query]
        np.clip(cand, 0, m - 1, out=cand)
        a = np.flatnonzero(keys[cand] == query)
        return a, cand[a]

    return search


def _sorted_neighbours(keys: np.ndarray) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """Neighbour search by binary search in sorted keys.

    Returns `search(d) -> (a, b)`: all row pairs with `keys[b] == keys[a] + d`.
    """
    m = len(keys)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    same = sorted_keys[1:] == sorted_keys[:-1]
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise ValueError(f"coords contain duplicate rows (rows {int(order[i])} and {int(order[i + 1])})")

    def search(offset_key: int) -> tuple[np.ndarray, np.ndarray]:
        # Sorted queries keep the binary searches cache-friendly.
        query = sorted_keys + offset_key
        pos = np.searchsorted(sorted_keys, query)
        np.minimum(pos, m - 1, out=pos)
        hit = sorted_keys[pos] == query
        return order[hit], order[pos[hit]]

    return search


def downsample(
    coords: np.ndarray, spatial_shape: np.ndarray | tuple[int, int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coarse voxels and kernel maps of a 2x2x2 stride-2 conv and of its inverse.

    coords: (M, 3) non-negative unique ints, the fine voxels.
    spatial_shape: the fine grid's spatial shape (3 ints). When given, fine voxels whose parent
        falls outside spconv's coarse grid `downsampled_spatial_shape(spatial_shape)` (coordinate
        `S - 1` on an odd axis) are dropped, as spconv does. None: no fine voxel is dropped.
    Returns
        coarse: (M', 3) int32 coarse coordinates `fine // 2`, numbered by first appearance when
            scanning the (kept) fine voxels in row order.
        down: (M', 8) int32, `down[y, k]` = fine row at `2*coarse[y] + DOWN_OFFSETS[k]`, or -1
            (kernel map of `SparseConv3d(k=2, stride=2)`).
        up: (M, 8) int32, `up[x, k]` = coarse parent row of fine voxel x if
            `coords[x] - 2*coarse[parent] == DOWN_OFFSETS[k]`, else -1; exactly one entry per kept
            row, none on a dropped row (kernel map of `SparseInverseConv3d(k=2)`).
    """
    coords = check_coords(coords, spatial_shape)
    m = len(coords)
    parent = coords >> 1
    k_of = ((coords & 1) * np.array([4, 2, 1], dtype=np.int64)).sum(1)
    kept = np.arange(m)
    if spatial_shape is not None:
        inside = (parent < downsampled_spatial_shape(spatial_shape)).all(1)
        if not inside.all():
            kept, parent, k_of = kept[inside], parent[inside], k_of[inside]
    up = np.full((m, 8), -1, dtype=np.int32)
    if len(kept) == 0:
        return np.zeros((0, 3), np.int32), np.zeros((0, 8), np.int32), up
    keys = _keys(parent, _key_dims(parent, 1))
    # Group the kept fine voxels by parent; a stable sort puts each group's first fine row first.
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1]))
    group = np.cumsum(starts) - 1
    first = order[starts]
    # Number the groups (coarse voxels) by first appearance in fine row order.
    by_appearance = np.argsort(first)
    new_id = np.empty(len(first), dtype=np.int64)
    new_id[by_appearance] = np.arange(len(first))
    coarse_of = np.empty(len(kept), dtype=np.int64)
    coarse_of[order] = new_id[group]
    coarse = parent[first[by_appearance]].astype(np.int32)
    up[kept, k_of] = coarse_of
    down = np.full((len(coarse), 8), -1, dtype=np.int32)
    down[coarse_of, k_of] = kept
    if np.count_nonzero(down >= 0) != len(kept):  # two fine rows landed on one (parent, k) slot
        raise ValueError("coords contain duplicate rows")
    return coarse, down, up


def build_unet_maps(
    coords: np.ndarray,
    num_levels: int,
    spatial_shape: np.ndarray | tuple[int, int, int] | None = None,
) -> list[LevelMaps]:
    """Kernel maps of every level of the sparse U-Net (ISBNet: 7 levels, grid halved 6 times).

    coords: (M, 3) non-negative unique ints, the input voxels (level 0).
    num_levels: number of U-Net levels (`len(nPlanes)` in the official config), >= 1.
    spatial_shape: level-0 spatial shape; None -> `official_spatial_shape(coords)`.
    Returns `num_levels` LevelMaps, finest first.
    """
    return build_levels(coords, num_levels, spatial_shape, subm_map, downsample)


def build_levels(
    coords: np.ndarray,
    num_levels: int,
    spatial_shape: np.ndarray | tuple[int, int, int] | None,
    subm: Callable[[np.ndarray], np.ndarray],
    down: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> list[LevelMaps]:
    """`build_unet_maps` with the per-level builders given (`subm_map` / `downsample` or
    implementations with the same results, e.g. `numba_maps`)."""
    if num_levels < 1:
        raise ValueError(f"num_levels must be >= 1, got {num_levels}")
    coords = check_coords(coords)
    shape = official_spatial_shape(coords) if spatial_shape is None else _as_shape(spatial_shape)
    levels: list[LevelMaps] = []
    for level in range(num_levels):
        table = subm(coords)
        if level == num_levels - 1:
            levels.append(LevelMaps(coords.astype(np.int32), shape, table, None, None))
            break
        coarse, down_map, up_map = down(coords, shape)
        levels.append(LevelMaps(coords.astype(np.int32), shape, table, down_map, up_map))
        coords, shape = coarse.astype(np.int64), downsampled_spatial_shape(shape)
    return levels
