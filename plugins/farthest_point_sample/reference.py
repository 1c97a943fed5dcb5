"""Reference of `isbnet::FarthestPointSample`: the official kernels' start, tie and exhaustion
rules, bit-exact (`docs/ops/FarthestPointSample.md`; `official_semantics.md` §3 ISBNet FPS, §5
pointnet2 FPS).

Every other implementation (ONNX body, CPU and CUDA kernels, TensorRT plugin) is checked against
this one, so it aims at exact agreement, not speed; it is still vectorised enough to serve as the
CPU path of the PyTorch model. Takes CPU or CUDA tensors (or numpy arrays), computes on the CPU
with numpy and returns int64 indices on the input's device.
"""

from __future__ import annotations

import math

import numpy as np
from torch import Tensor

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.reference_common import (
    ArrayLike,
    as_points,
    fma_f32_np,
    naive_sqdist,
    sqdist_from_diffs,
    to_torch,
)

__all__ = ["opt_n_threads", "farthest_point_sample"]

# §0: the FPS running minimum starts at fl32(1e10) (exactly 1e10).
_FPS_INIT = np.float32(spec.FPS_INIT)
# Safety margins of the float32 prefilters below (the plain float32 distance is within a few
# ulps, i.e. ~2^-22 relative, of the FMA distance; the margins are far wider than that).
_REL_MARGIN = np.float32(1.0 + 2.0**-16)
_ABS_MARGIN = np.float32(2.0**-100)


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
    """Farthest point sampling with the official kernels' start, tie and exhaustion rules.

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
    pts = as_points(xyz, "xyz")
    n = pts.shape[0]
    out = np.zeros(spec.fps_output_size(n, n_sample, variant), dtype=np.int64)
    if out.size > 1 and n > 0:  # N = 0 (isbnet): every slot stays 0 (rule 6)
        block = opt_n_threads(n, spec.FPS_BLOCK_CAP[variant])
        active = np.arange(n, dtype=np.int64)
        if variant == "pointnet2":
            x, y, z = pts[:, 0], pts[:, 1], pts[:, 2]
            mag = fma_f32_np(z, z, fma_f32_np(x, x, y * y))
            active = np.flatnonzero(mag.astype(np.float64) > spec.FPS_PN2_ORIGIN_EPS)
        if active.size:  # no valid point (pointnet2 only): every slot stays 0
            _fps_loop(pts, active, block, out)
    return to_torch(out, xyz)


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
        cand = np.flatnonzero(naive_sqdist(dx, dy, dz) <= thr)
        if cand.size:
            d = sqdist_from_diffs(dx[cand], dy[cand], dz[cand])
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
