"""`isbnet::BallQuery` on the CPU (numba): exact, same indices as the official kernels.

Spec: `docs/ops/BallQuery.md`. For each centre, the first `n_sample` points in ascending index
order with `d2 < r2` (the kernels' FMA distance, `r2 = fl32(fl32(r) * fl32(r))`), unused slots
repeating the first one, rows without a neighbour all 0.

Small problems scan every point per centre, exactly as the kernels do. Large ones bucket the
points in a grid of cells at least the radius wide: a point outside the 3x3x3 cells around a
centre has |dx| (or |dy|, |dz|) >= r, hence `d2 >= r2` (every term of the FMA sum is >= 0 and
rounding is monotonic), so only candidates from those cells are tested, with the same exact
test, and the accepted ones are put back in ascending index order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.cpu._fma import sqdist

#: Below this many (centre, point) pairs the plain scan is fast enough.
BRUTE_FORCE_PAIRS = 1 << 22
_MAX_CELLS_PER_AXIS = 2.0**20  # keeps cell keys well inside int64


def ball_query(xyz: np.ndarray, centres: np.ndarray, radius: float, n_sample: int) -> np.ndarray:
    """xyz `(N, 3)` float32, centres `(M, 3)` float32 (finite), radius (float), n_sample >= 0.
    Returns `(M, n_sample)` int32 indices into xyz."""
    radius, n_sample = spec.check_ball_query(radius, n_sample)
    xyz, centres = _points(xyz, "xyz"), _points(centres, "centres")
    r = np.float32(radius)
    r2 = np.float32(r * r)  # fl32(fl32(r) * fl32(r)), as the kernels
    out = np.zeros((centres.shape[0], n_sample), dtype=np.int32)
    if xyz.shape[0] == 0 or centres.shape[0] == 0 or n_sample == 0 or not r2 > 0:
        return out
    if xyz.shape[0] * centres.shape[0] <= BRUTE_FORCE_PAIRS:
        _scan(xyz, centres, r2, out)
    else:
        _grid_query(xyz, centres, r2, out)
    return out


def _points(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.float32 or a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"{name} must be (n, 3) float32, got {a.shape} {a.dtype}")
    return np.ascontiguousarray(a)


@njit(parallel=True, nogil=True, cache=True)
def _scan(xyz: np.ndarray, centres: np.ndarray, r2: np.float32, out: np.ndarray) -> None:
    """The kernels' own loop: every point in ascending order, stop after n_sample hits."""
    n_sample = out.shape[1]
    for q in prange(centres.shape[0]):
        cx, cy, cz = centres[q, 0], centres[q, 1], centres[q, 2]
        cnt = 0
        for k in range(xyz.shape[0]):
            if sqdist(cx - xyz[k, 0], cy - xyz[k, 1], cz - xyz[k, 2]) < r2:
                if cnt == 0:
                    out[q, :] = k
                out[q, cnt] = k
                cnt += 1
                if cnt == n_sample:
                    break


def _grid_query(xyz: np.ndarray, centres: np.ndarray, r2: np.float32, out: np.ndarray) -> None:
    # Cells a little wider than the radius (float64 rounding must never skip a cell), and at
    # most 2^20 per axis (wider cells only prune less).
    width = float(np.sqrt(np.float64(r2))) * (1.0 + 2.0**-10) + 2.0**-100
    p = xyz.astype(np.float64)
    lo = p.min(axis=0)
    extent = p.max(axis=0) - lo
    cell = np.maximum(width * (1.0 + 2.0**-20), extent / _MAX_CELLS_PER_AXIS)
    dims = np.floor(extent / cell).astype(np.int64) + 1
    keys = _cell_keys(p, lo, cell, dims)
    order = np.argsort(keys, kind="stable").astype(np.int64)  # stable: ascending index per cell
    _query(xyz, centres, r2, lo, cell, dims, keys[order], order, out)


@njit(nogil=True, cache=True)
def _cell_keys(p: np.ndarray, lo: np.ndarray, cell: np.ndarray, dims: np.ndarray) -> np.ndarray:
    keys = np.empty(p.shape[0], dtype=np.int64)
    for i in range(p.shape[0]):
        cx = min(max(int(np.floor((p[i, 0] - lo[0]) / cell[0])), 0), dims[0] - 1)
        cy = min(max(int(np.floor((p[i, 1] - lo[1]) / cell[1])), 0), dims[1] - 1)
        cz = min(max(int(np.floor((p[i, 2] - lo[2]) / cell[2])), 0), dims[2] - 1)
        keys[i] = (cx * dims[1] + cy) * dims[2] + cz
    return keys


@njit(inline="always", nogil=True, cache=True)
def _clipped_cell(v: float, lo: float, cell: float, dim: int) -> int:
    """Cell index of coordinate v, clipped to [-2, dim + 1] (beyond: no neighbour anyway)."""
    c = np.floor((np.float64(v) - lo) / cell)
    return int(min(max(c, -2.0), dim + 1.0))


@njit(parallel=True, nogil=True, cache=True)
def _query(
    xyz: np.ndarray,
    centres: np.ndarray,
    r2: np.float32,
    lo: np.ndarray,
    cell: np.ndarray,
    dims: np.ndarray,
    sorted_keys: np.ndarray,
    order: np.ndarray,
    out: np.ndarray,
) -> None:
    n_sample = out.shape[1]
    for q in prange(centres.shape[0]):
        cx, cy, cz = centres[q, 0], centres[q, 1], centres[q, 2]
        # Cell of the centre (may lie outside the points' box: then clip one cell beyond).
        ix = _clipped_cell(cx, lo[0], cell[0], dims[0])
        iy = _clipped_cell(cy, lo[1], cell[1], dims[1])
        iz = _clipped_cell(cz, lo[2], cell[2], dims[2])
        z0 = max(iz - 1, 0)
        z1 = min(iz + 1, dims[2] - 1)
        if z0 > z1:
            continue
        # Candidate ranges: one contiguous key range per (x, y) column of the 3x3 neighbourhood.
        starts = np.empty(9, dtype=np.int64)
        stops = np.empty(9, dtype=np.int64)
        total = 0
        for c in range(9):
            jx = ix + c // 3 - 1
            jy = iy + c % 3 - 1
            starts[c] = 0
            stops[c] = 0
            if 0 <= jx < dims[0] and 0 <= jy < dims[1]:
                base = (jx * dims[1] + jy) * dims[2]
                starts[c] = np.searchsorted(sorted_keys, base + z0, side="left")
                stops[c] = np.searchsorted(sorted_keys, base + z1, side="right")
                total += stops[c] - starts[c]
        if total == 0:
            continue
        hits = np.empty(total, dtype=np.int64)
        cnt = 0
        for c in range(9):
            for pos in range(starts[c], stops[c]):
                k = order[pos]
                if sqdist(cx - xyz[k, 0], cy - xyz[k, 1], cz - xyz[k, 2]) < r2:
                    hits[cnt] = k
                    cnt += 1
        if cnt == 0:
            continue
        first = np.sort(hits[:cnt])  # ascending index order, as the kernels scan
        out[q, :] = first[0]
        for s in range(min(cnt, n_sample)):
            out[q, s] = first[s]
