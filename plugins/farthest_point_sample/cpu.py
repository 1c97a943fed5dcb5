"""`isbnet::FarthestPointSample` on the CPU (numba): exact, same indices as the official kernels.

Spec: `docs/ops/FarthestPointSample.md`. Exactness: distances use the kernels' FMA arithmetic
(`_fma.sqdist`), the running minimum is `fminf` in float32, and the arg-max follows the
kernels' thread/tie rule: among the points holding the maximum, the smallest bit-reversed
thread id `bitrev(k mod B)` wins, then the smallest index in that thread.

Speed: each round is one vectorisable pass over the points that updates the running minima
and the maximum of every chunk of `_CHUNK` points; only the chunks that hold the maximum are
scanned again for the winner (usually one chunk).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.cpu._fma import f32_bits, sqdist

_INIT = np.float32(spec.FPS_INIT)  # running minimum's start value (exactly 1e10 in float32)
_ORIGIN_EPS = spec.FPS_PN2_ORIGIN_EPS  # pointnet2 skips points with (double) fmaf-magnitude <= 1e-3
_CHUNK = 1024  # points per chunk of the arg-max (vectorised inner loop)


def block_size(n: int, variant: str) -> int:
    """The kernel's block size: the largest power of two <= n, capped (1 for n < 2)."""
    cap = spec.FPS_BLOCK_CAP[variant]
    return min(cap, 1 << (max(n, 1).bit_length() - 1))


def farthest_point_sample(xyz: np.ndarray, n_sample: int, variant: str = "isbnet") -> np.ndarray:
    """Farthest point sampling per the op spec.

    xyz `(N, 3)` float32 (finite); n_sample >= 0; variant "isbnet" | "pointnet2".
    Returns int32 indices into xyz: `(n_sample,)` for "isbnet", `(min(n_sample, N),)` for
    "pointnet2" (slot 0 = point 0; exhaustion and empty-input rules of the spec).
    """
    n_sample, variant = spec.check_farthest_point_sample(n_sample, variant)
    xyz = np.asarray(xyz)
    if xyz.dtype != np.float32 or xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"xyz must be (N, 3) float32, got {xyz.shape} {xyz.dtype}")
    n = xyz.shape[0]
    out = np.zeros(spec.fps_output_size(n, n_sample, variant), dtype=np.int32)
    if n == 0 or out.size < 2:
        return out
    bitrev = _bit_reversal(block_size(n, variant))
    _fps(np.ascontiguousarray(xyz), variant == "pointnet2", bitrev, out)
    return out


def _bit_reversal(block: int) -> np.ndarray:
    """`(block,)` int32: thread t -> t with its log2(block) low bits reversed."""
    bits = block.bit_length() - 1
    t = np.arange(block, dtype=np.int64)
    rev = np.zeros_like(t)
    for i in range(bits):
        rev |= ((t >> i) & 1) << (bits - 1 - i)
    return rev.astype(np.int32)


@njit(nogil=True, cache=True, fastmath={"nnan", "ninf", "nsz"})
def _update_chunk(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, tmp: np.ndarray, px: float, py: float, pz: float
) -> int:
    """tmp = fminf(d2(point, p), tmp) over one chunk; returns max(f32_bits(tmp)).
    Arrays are per-chunk slices indexed from 0, so LLVM vectorises the loop (offset indices
    would need negative-index checks)."""
    m = np.int32(-(2**31))
    for k in range(x.size):
        t = min(sqdist(x[k] - px, y[k] - py, z[k] - pz), tmp[k])  # fminf; inputs are finite
        tmp[k] = t
        m = max(m, f32_bits(t))
    return m


@njit(nogil=True, cache=True, fastmath={"nnan", "ninf", "nsz"})
def _fps(xyz: np.ndarray, skip_origin: bool, bitrev: np.ndarray, out: np.ndarray) -> None:
    """Fill out[1:] (out[0] = 0 already).

    Running minima are kept as float32 `tmp`; maxima are taken on their int32 bit patterns
    (`f32_bits`, order-preserving for values >= 0), which vectorises. Invalid points (pointnet2
    origin skip) hold -1, below every distance: they never change and never win while a valid
    point exists.
    """
    n = xyz.shape[0]
    x = np.ascontiguousarray(xyz[:, 0])
    y = np.ascontiguousarray(xyz[:, 1])
    z = np.ascontiguousarray(xyz[:, 2])
    tmp = np.full(n, _INIT, dtype=np.float32)
    n_valid = n
    if skip_origin:
        for k in range(n):
            if np.float64(sqdist(x[k], y[k], z[k])) <= _ORIGIN_EPS:
                tmp[k] = -1.0
                n_valid -= 1
    if n_valid == 0:
        return  # every pick is 0
    mask = bitrev.size - 1
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    chunk_max = np.empty(n_chunks, dtype=np.int32)
    old = 0
    for j in range(1, out.size):
        px, py, pz = x[old], y[old], z[old]
        best = np.int32(-(2**31))
        for c in range(n_chunks):
            lo = c * _CHUNK
            hi = min(lo + _CHUNK, n)
            m = _update_chunk(x[lo:hi], y[lo:hi], z[lo:hi], tmp[lo:hi], px, py, pz)
            chunk_max[c] = m
            best = max(best, m)
        # Winner: the smallest (bitrev(k mod B), k) among the points holding the maximum.
        win = 0
        win_key = np.int32(2**30)
        for c in range(n_chunks):
            if chunk_max[c] == best:
                lo = c * _CHUNK
                for k in range(lo, min(lo + _CHUNK, n)):
                    if f32_bits(tmp[k]) == best and bitrev[k & mask] < win_key:
                        win_key = bitrev[k & mask]
                        win = k
        old = win
        out[j] = win
