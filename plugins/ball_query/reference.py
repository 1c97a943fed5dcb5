"""Reference of `isbnet::BallQuery`: the official scan order, strict radius and padding rules,
bit-exact (`docs/ops/BallQuery.md`; `official_semantics.md` §4 ISBNet, §6 pointnet2).

Every other implementation (ONNX body, CPU and CUDA kernels, TensorRT plugin) is checked against
this one. Candidates come from a grid, every decision from the exact §0 distance. Takes CPU or
CUDA tensors (or numpy arrays), computes on the CPU with numpy and returns int64 indices on the
input's device.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.reference_common import ArrayLike, as_points, sqdist_from_diffs, to_torch

__all__ = ["ball_query"]


def ball_query(xyz: ArrayLike, centres: ArrayLike, radius: float, n_sample: int) -> Tensor:
    """Ball query with the official order, boundary and padding rules (§4, §6).

    xyz: (N, 3) float32 points; centres: (M, 3) float32 queries. Returns (M, n_sample) int64
    indices into `xyz`, on xyz's device. For each centre the points are scanned in ascending
    index order and point k is accepted iff `d2 < fl32(fl32(r) * fl32(r))` (strict, §0
    distance); the row holds the first `n_sample` accepted indices, unused slots repeat the
    first accepted index, and a centre without any neighbour gets a row of zeros.

    ISBNet's `ballquery_batchflat` with its offsets `[0, N]`, `[0, M]` (every query falls in
    batch 1, whose range is `[offset[0], offset[1]) = [0, N)`) and pointnet2's
    `query_ball_point` for batch size 1 have the same arithmetic, the same scan, the same
    zero-initialised output and the same fill rule: one function serves both.
    """
    pts = as_points(xyz, "xyz")
    qs = as_points(centres, "centres")
    radius, n_sample = spec.check_ball_query(radius, n_sample)
    r = np.float32(radius)  # the Python float is passed as a C++ float
    r2 = np.float32(r * r)
    out = np.zeros((qs.shape[0], n_sample), dtype=np.int64)
    if pts.shape[0] and qs.shape[0] and n_sample and r2 > 0:
        _ball_query_into(pts, qs, r2, out)
    return to_torch(out, xyz)


def _ball_query_into(pts: np.ndarray, qs: np.ndarray, r2: np.float32, out: np.ndarray) -> None:
    """Fill `out` (M, n_sample) for r2 > 0; candidates come from a grid, decisions are exact.

    Grid pruning is conservative: every §0 term is non-negative and rounding is monotonic, so
    `d2 >= fl32(dx*dx)`; a point whose |x - cx| exceeds sqrt(r2) (with a wide margin) has
    `d2 >= r2` and is rejected by the kernel too. Same for y and z.
    """
    grid = _Grid(pts, float(np.sqrt(np.float64(r2))) * (1.0 + 2.0**-10) + 2.0**-100)
    lo, hi = grid.query_ranges(qs)  # (M, 9) ranges into grid.order
    counts = (hi - lo).sum(axis=1)
    budget = 1 << 20  # candidate pairs per chunk: bounds the working memory to ~100 MB
    start = 0
    while start < qs.shape[0]:
        csum = np.cumsum(counts[start:])
        stop = start + max(1, int(np.searchsorted(csum, budget, side="right")))
        sl = slice(start, stop)
        _ball_query_chunk(pts, qs[sl], r2, grid.order, lo[sl], hi[sl], out[sl])
        start = stop


def _ball_query_chunk(
    pts: np.ndarray,
    qs: np.ndarray,
    r2: np.float32,
    order: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    out: np.ndarray,
) -> None:
    """Exact accept test over the candidate pairs of a chunk of centres, then order and pad.

    qs: (m, 3) the chunk's centres; lo, hi: (m, 9) candidate ranges into `order`; out: (m, S)
    zeroed rows of the result, written in place.
    """
    n_rows, n_sample = out.shape
    n_pts = pts.shape[0]
    lens = (hi - lo).ravel()
    total = int(lens.sum())
    if total == 0:
        return
    rows = np.repeat(np.repeat(np.arange(n_rows, dtype=np.int64), lo.shape[1]), lens)
    pos = np.repeat(lo.ravel() - (np.cumsum(lens) - lens), lens) + np.arange(total, dtype=np.int64)
    k = order[pos]
    q, p = qs[rows], pts[k]
    d2 = sqdist_from_diffs(q[:, 0] - p[:, 0], q[:, 1] - p[:, 1], q[:, 2] - p[:, 2])
    accepted = d2 < r2  # strict (§0)
    # The kernel scans in ascending index order: sort the accepted pairs by (row, index).
    key = np.sort(rows[accepted] * n_pts + k[accepted])
    rows_a, k_a = np.divmod(key, n_pts)
    cnt = np.bincount(rows_a, minlength=n_rows)
    start = np.cumsum(cnt) - cnt
    rank = np.arange(key.size, dtype=np.int64) - start[rows_a]
    has = cnt > 0
    out[has] = k_a[start[has]][:, None]  # the first neighbour fills the whole row ...
    keep = rank < n_sample
    out[rows_a[keep], rank[keep]] = k_a[keep]  # ... then the first n_sample overwrite it


class _Grid:
    """Points bucketed in cubic cells of side >= `width`, sorted by (ix, iy, iz) cell key.

    For a query, the points within `width` of it along every axis lie in the 3x3x3 cells
    around the query's cell; per (ix, iy) column those form one contiguous key range.
    """

    def __init__(self, pts: np.ndarray, width: float) -> None:
        p = pts.astype(np.float64)
        self.lo = p.min(axis=0)
        extent = p.max(axis=0) - self.lo
        # Cells a bit wider than `width` so that float64 rounding cannot skip a cell; at most
        # 2^20 cells per axis so that keys fit int64 (wider cells only prune less).
        self.cell = np.maximum(width * (1.0 + 2.0**-20), extent / 2.0**20)
        self.shape = np.floor(extent / self.cell).astype(np.int64) + 1
        key = self._key(self._cells(p))
        self.order = np.argsort(key, kind="stable")
        self.keys = key[self.order]

    def _cells(self, p: np.ndarray) -> np.ndarray:
        c = np.floor((p - self.lo) / self.cell)
        # Queries far outside the points: clip to one cell beyond, which has no neighbours.
        return np.clip(c, -2, self.shape + 1).astype(np.int64)

    def _key(self, c: np.ndarray) -> np.ndarray:
        nx, ny, nz = self.shape
        return (c[..., 0] * ny + c[..., 1]) * nz + c[..., 2]

    def query_ranges(self, qs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(M, 9) start/stop positions in `order` of the candidate points of each query."""
        c = self._cells(qs.astype(np.float64))
        nx, ny, nz = self.shape
        zlo = np.maximum(c[:, 2] - 1, 0)
        zhi = np.minimum(c[:, 2] + 1, nz - 1)
        lo = np.zeros((qs.shape[0], 9), dtype=np.int64)
        hi = np.zeros_like(lo)
        for col, (ox, oy) in enumerate((ox, oy) for ox in (-1, 0, 1) for oy in (-1, 0, 1)):
            ix, iy = c[:, 0] + ox, c[:, 1] + oy
            ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny) & (zlo <= zhi)
            base = (ix * ny + iy) * nz
            a = np.searchsorted(self.keys, base + zlo, side="left")
            b = np.searchsorted(self.keys, base + zhi, side="right")
            lo[:, col] = a
            hi[:, col] = np.where(ok, b, a)
        return lo, hi
