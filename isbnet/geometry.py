"""Reference geometry ops with the exact semantics of the official ISBNet CUDA kernels.

Spec: `official_semantics.md` (§0 float arithmetic, §3 ISBNet FPS, §4 ISBNet ball query,
§5 pointnet2 FPS, §6 pointnet2 ball query, §7 scatter_mean). Every other implementation of
these ops (ONNX function bodies, CPU kernels, CUDA kernels, TensorRT plugins) is checked
against this module, so it aims at bit-exact agreement with the official kernels, not speed;
it is still vectorised enough to serve as the CPU path of the PyTorch model.

The ops take CPU or CUDA tensors (or numpy arrays), compute on the CPU with numpy, and return
torch tensors on the input's device. Coordinates must be float32: the kernels are float32 and
a silent cast would change their results.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.plugins import spec

__all__ = [
    "fma_f32",
    "squared_distance",
    "opt_n_threads",
    "farthest_point_sample",
    "ball_query",
    "segment_sum_sequential",
    "scatter_mean",
]

ArrayLike = Tensor | np.ndarray

# §0: the FPS running minimum starts at fl32(1e10) (exactly 1e10).
_FPS_INIT = np.float32(spec.FPS_INIT)
# Safety margins of the float32 prefilters below (the plain float32 distance is within a few
# ulps, i.e. ~2^-22 relative, of the FMA distance; the margins are far wider than that).
_REL_MARGIN = np.float32(1.0 + 2.0**-16)
_ABS_MARGIN = np.float32(2.0**-100)


# --------------------------------------------------------------------------------------------
# §0 float arithmetic
# --------------------------------------------------------------------------------------------


def _fma_f32_np(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """`fmaf(a, b, c)` = fl32(a*b + c) with a single rounding, for float32 arrays (broadcast).

    The float64 product of two float32 values is exact (24 + 24 <= 53 bits). The float64 sum
    `s = fl64(p + c)` may round, and rounding `s` again to float32 is wrong exactly when `s`
    lands on a float32 midpoint while `p + c != s`. We round the sum to float64 *to odd*
    instead (TwoSum gives the exact error `e`; an inexact `s` with an even last bit moves one
    float64 ulp towards the exact value), which makes the second rounding to float32 correct
    (Boldo & Melquiond: round-to-odd in p >= q + 2 bits, then to nearest in q bits, equals
    direct rounding). Exact for all finite inputs: no float64 overflow or underflow is
    possible for float32 operands.
    """
    a, b, c = np.broadcast_arrays(a, b, c)
    shape = a.shape
    # Work on 1-D arrays (0-d inputs would turn into numpy scalars, which cannot be viewed).
    p = np.multiply(a.reshape(-1), b.reshape(-1), dtype=np.float64)
    c64 = c.reshape(-1).astype(np.float64)
    s = p + c64
    # TwoSum (Knuth): s + e == p + c exactly.
    bb = s - p
    e = (p - (s - bb)) + (c64 - bb)
    bits = s.view(np.int64)
    # Sign-magnitude encoding: +1 on the bits grows |s|, -1 shrinks it. Step towards p + c.
    step = np.where(np.signbit(e) == np.signbit(s), 1, -1)
    step[(e == 0) | ((bits & 1) == 1)] = 0
    return (bits + step).view(np.float64).astype(np.float32).reshape(shape)


def fma_f32(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> Tensor:
    """Exact emulation of CUDA `fmaf(a, b, c)` (§0): fl32(a*b + c) rounded once.

    a, b, c: float32 tensors or arrays, broadcast together. Returns a float32 CPU tensor.
    """
    arrs = [_as_f32(v, name) for v, name in ((a, "a"), (b, "b"), (c, "c"))]
    a_, b_, c_ = np.broadcast_arrays(*arrs)
    return torch.from_numpy(_fma_f32_np(a_, b_, c_))  # fresh, contiguous


def _sqdist_from_diffs(dx: np.ndarray, dy: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """§0 compiled distance from float32 differences: fmaf(dz, dz, fmaf(dx, dx, fl32(dy*dy)))."""
    return _fma_f32_np(dz, dz, _fma_f32_np(dx, dx, dy * dy))


def _naive_sqdist(dx: np.ndarray, dy: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """Plain float32 dx*dx + dy*dy + dz*dz: only a cheap prefilter, within ~4 ulp of §0."""
    out = dx * dx
    out += dy * dy
    out += dz * dz
    return out


def squared_distance(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Squared distance exactly as the official kernels compute it (§0).

    a: (..., 3) float32, b: (..., 3) float32, broadcast over the leading dims.
    Returns (...) float32: `fmaf(dz, dz, fmaf(dx, dx, fl32(dy*dy)))` with `dx = fl32(a_x - b_x)`
    etc. The sign convention of the differences does not matter (squares).
    """
    a_, b_ = _as_f32(a, "a"), _as_f32(b, "b")
    if a_.shape[-1:] != (3,) or b_.shape[-1:] != (3,):
        raise ValueError(f"expected (..., 3) inputs, got {a_.shape} and {b_.shape}")
    d = a_ - b_  # float32 subtraction, broadcast
    out = _sqdist_from_diffs(d[..., 0], d[..., 1], d[..., 2])
    return torch.from_numpy(out)  # fresh, contiguous (also 0-d)


# --------------------------------------------------------------------------------------------
# §3 / §5 farthest point sampling
# --------------------------------------------------------------------------------------------


def opt_n_threads(work_size: int, cap: int) -> int:
    """`opt_n_threads` of the official `cuda_utils.h`: the FPS block size.

    `max(min(1 << int(log(w) / log(2.0)), cap), 1)` evaluated in double like the C++ code
    (largest power of two <= w, capped; `cap` = 1024 for ISBNet's ops, 512 for pointnet2).
    """
    if work_size < 1:
        raise ValueError(f"work_size must be >= 1, got {work_size}")
    pow_2 = int(math.log(float(work_size)) / math.log(2.0))  # int() truncates like C++
    return max(min(1 << pow_2, cap), 1)


def _bit_reverse(t: np.ndarray, n_bits: int) -> np.ndarray:
    """Reverse the low `n_bits` bits of each entry of `t` (int64)."""
    out = np.zeros_like(t)
    for i in range(n_bits):
        out |= ((t >> i) & 1) << (n_bits - 1 - i)
    return out


def _tie_winner(cands: np.ndarray, block: int, bitrev: np.ndarray) -> int:
    """§3 tie rule among the point ids `cands` (ascending) that share the maximum.

    Thread `t = k mod block` keeps its first k with its maximum; the shared-memory tree keeps
    the left operand unless the right one is strictly larger, so among the threads holding the
    maximum the one with the smallest bit-reversed id wins, and it reports its smallest k.
    """
    keys = bitrev[cands & (block - 1)]
    return int(cands[int(np.argmin(keys))])  # argmin: first (= smallest k) of the best thread


def farthest_point_sample(xyz: ArrayLike, n_sample: int, variant: str = "isbnet") -> Tensor:
    """Furthest point sampling with the official kernels' start, tie and exhaustion rules.

    xyz: (N, 3) float32 points. Returns int64 indices into `xyz`, on xyz's device: (n_sample,)
    for "isbnet", (min(n_sample, N),) for "pointnet2" (`spec.fps_output_size`). N = 0: "isbnet"
    gives n_sample zeros, "pointnet2" an empty output; n_sample = 0 gives an empty output.

    variant="isbnet": `furthestsampling_batchflat` with ISBNet's offsets `[0, N]` (§3). Slot 0
    is point 0; each further slot takes the point with the largest running minimum of §0
    squared distances (initialised to 1e10, updated with `fminf`). Ties follow the §3 tie rule
    with block size `opt_n_threads(N, 1024)`. Once every running minimum is 0 (all distinct
    positions taken) the rule picks thread 0's first point: the remaining slots are 0.

    variant="pointnet2": `pointnet2_utils.furthest_point_sample` (§5). Block size
    `opt_n_threads(N, 512)`. Points with `(double)fmaf(z,z,fmaf(x,x,fl32(y*y))) <= 1e-3` are
    skipped (never updated nor picked after the start). Slot 0 is point 0 even when it is
    skipped, and distances of the first round are measured from it. Threads without a valid
    point report (-1, 0), so with no valid point at all every slot is 0.
    """
    n_sample, variant = spec.check_farthest_point_sample(n_sample, variant)
    pts = _as_points(xyz, "xyz")
    n = pts.shape[0]
    out = np.zeros(spec.fps_output_size(n, n_sample, variant), dtype=np.int64)
    if out.size > 1 and n > 0:  # N = 0 (isbnet): every slot stays 0 (rule 6)
        block = opt_n_threads(n, spec.FPS_BLOCK_CAP[variant])
        active = np.arange(n, dtype=np.int64)
        if variant == "pointnet2":
            x, y, z = pts[:, 0], pts[:, 1], pts[:, 2]
            mag = _fma_f32_np(z, z, _fma_f32_np(x, x, y * y))
            active = np.flatnonzero(mag.astype(np.float64) > spec.FPS_PN2_ORIGIN_EPS)
        if active.size:  # no valid point (pointnet2 only): every slot stays 0
            _fps_loop(pts, active, block, out)
    return _to_torch(out, xyz)


def _fps_loop(pts: np.ndarray, active: np.ndarray, block: int, out: np.ndarray) -> None:
    """Fill out[1:] by FPS over the points `active` (ascending ids), starting from point 0.

    Exactness of the prefilter: a point whose plain float32 distance exceeds its running
    minimum by the margins has a §0 distance above it too, so `fminf` would keep the minimum;
    only the remaining candidates get the exact (costlier) distance.
    """
    x = np.ascontiguousarray(pts[active, 0])
    y = np.ascontiguousarray(pts[active, 1])
    z = np.ascontiguousarray(pts[active, 2])
    tmp = np.full(active.size, _FPS_INIT, dtype=np.float32)
    thr = tmp * _REL_MARGIN + _ABS_MARGIN  # prefilter threshold, kept in sync with tmp
    bitrev = _bit_reverse(np.arange(block, dtype=np.int64), block.bit_length() - 1)
    old = 0  # slot 0 = point 0 (§3 start, §5 start), valid or not
    for j in range(1, out.size):
        px, py, pz = pts[old]
        dx, dy, dz = x - px, y - py, z - pz
        cand = np.flatnonzero(_naive_sqdist(dx, dy, dz) <= thr)
        if cand.size:
            d = _sqdist_from_diffs(dx[cand], dy[cand], dz[cand])
            new = np.minimum(d, tmp[cand])  # fminf; inputs are finite
            tmp[cand] = new
            thr[cand] = new * _REL_MARGIN + _ABS_MARGIN
        i = int(np.argmax(tmp))
        mx = tmp[i]
        if np.count_nonzero(tmp == mx) == 1:
            old = int(active[i])
        else:  # only ties need the thread/bit-reversal rule
            old = _tie_winner(active[tmp == mx], block, bitrev)
        out[j] = old


# --------------------------------------------------------------------------------------------
# §4 / §6 ball query
# --------------------------------------------------------------------------------------------


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
    pts = _as_points(xyz, "xyz")
    qs = _as_points(centres, "centres")
    radius, n_sample = spec.check_ball_query(radius, n_sample)
    r = np.float32(radius)  # the Python float is passed as a C++ float
    r2 = np.float32(r * r)
    out = np.zeros((qs.shape[0], n_sample), dtype=np.int64)
    if pts.shape[0] and qs.shape[0] and n_sample and r2 > 0:
        _ball_query_into(pts, qs, r2, out)
    return _to_torch(out, xyz)


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
    d2 = _sqdist_from_diffs(q[:, 0] - p[:, 0], q[:, 1] - p[:, 1], q[:, 2] - p[:, 2])
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


# --------------------------------------------------------------------------------------------
# §7 scatter_mean
# --------------------------------------------------------------------------------------------


def segment_sum_sequential(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-segment sums, each accumulated sequentially in row order in the values' dtype.

    values: (N, C) float array whose rows are grouped by segment; offsets: (S+1,) int64 CSR
    offsets (segment s = rows offsets[s]:offsets[s+1]). Returns (S, C): for every segment,
    `((0 + v_0) + v_1) + ...` in row order, starting from +0 like a zeroed atomicAdd buffer.
    Vectorised over segments: slot j of every segment longer than j is added in one step
    (segments sorted by length, so the active ones form a prefix); the last few long segments
    finish with `np.add.accumulate`, which is also strictly sequential.
    """
    values = np.asarray(values)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_seg = offsets.size - 1
    counts = np.diff(offsets)
    out = np.zeros((n_seg,) + values.shape[1:], dtype=values.dtype)
    if n_seg == 0 or values.shape[0] == 0:
        return out
    by_len = np.argsort(-counts, kind="stable")
    starts = offsets[:-1][by_len]
    lens = counts[by_len]
    acc = np.zeros_like(out)
    # n_active[j] = number of segments with more than j rows (a prefix of by_len).
    n_active = np.searchsorted(-lens, -np.arange(int(lens[0])), side="left")
    few = 8  # below this many active segments, finish each one with a sequential accumulate
    j = 0
    while j < lens[0] and n_active[j] > few:
        m = n_active[j]
        acc[:m] += values[starts[:m] + j]
        j += 1
    if j < lens[0]:
        for s in range(int(n_active[j])):
            rest = values[starts[s] + j : starts[s] + lens[s]]
            acc[s] = np.add.accumulate(np.concatenate([acc[s : s + 1], rest]), axis=0)[-1]
    out[by_len] = acc
    return out


def scatter_mean(src: ArrayLike, index: ArrayLike, dim_size: int | None = None) -> Tensor:
    """`torch_scatter.scatter_mean(src, index, dim=0, dim_size=dim_size)` (§7), deterministic.

    src: (N,) or (N, C) float32/float64; index: (N,) int64 segment ids (>= 0).
    Returns (dim_size,) or (dim_size, C) in src's dtype, on src's device; dim_size defaults to
    `max(index) + 1` (0 for empty input). `out = sum / clamp(count, min=1)` with a true
    division, so empty segments give 0. Summation order: each segment sums its rows
    sequentially in ascending row order, in src's dtype (this is what torch's CPU
    `scatter_add_` does, which torch_scatter uses on the CPU; the official CUDA run uses
    atomics, whose order is not defined).
    """
    s = _to_numpy(src)
    idx = _to_numpy(index)
    if s.dtype not in (np.float32, np.float64):
        raise TypeError(f"src must be float32 or float64, got {s.dtype}")
    if idx.ndim != 1 or s.ndim not in (1, 2) or s.shape[0] != idx.shape[0]:
        raise ValueError(f"expected src (N,) or (N, C) and index (N,), got {s.shape} and {idx.shape}")
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"index must be an integer array, got {idx.dtype}")
    idx = idx.astype(np.int64)
    if idx.size and idx.min() < 0:
        raise ValueError("index must be >= 0")
    needed = int(idx.max()) + 1 if idx.size else 0
    size = needed if dim_size is None else int(dim_size)
    if size < needed:
        raise ValueError(f"dim_size={size} is smaller than max(index) + 1 = {needed}")
    vals = s.reshape(s.shape[0], -1)
    order = np.argsort(idx, kind="stable")  # stable: rows of a segment stay in ascending order
    counts = np.bincount(idx, minlength=size)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    sums = segment_sum_sequential(vals[order], offsets)
    # torch_scatter counts in src's dtype and clamps to >= 1 (empty segments -> 0 / 1 = 0).
    denom = np.maximum(counts, 1).astype(s.dtype)[:, None]
    out = (sums / denom).reshape((size,) + s.shape[1:])
    return _to_torch(out, src)


# --------------------------------------------------------------------------------------------
# conversions and validation
# --------------------------------------------------------------------------------------------


def _to_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _as_f32(x: ArrayLike, name: str) -> np.ndarray:
    arr = _to_numpy(x)
    if arr.dtype != np.float32:
        raise TypeError(f"{name} must be float32 (the kernels' type), got {arr.dtype}")
    return arr


def _as_points(x: ArrayLike, name: str) -> np.ndarray:
    """(N, 3) float32, finite, C-contiguous."""
    arr = _as_f32(x, name)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {tuple(arr.shape)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr)


def _to_torch(arr: np.ndarray, like: ArrayLike) -> Tensor:
    out = torch.from_numpy(arr if arr.flags.c_contiguous else arr.copy())  # copy() keeps 0-d
    if isinstance(like, Tensor) and like.device.type != "cpu":
        out = out.to(like.device)
    return out
