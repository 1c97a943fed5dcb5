"""`isbnet::SparseConv3d` on the CPU (numba): gather-GEMM-scatter over the active pairs.

Spec: `docs/ops/SparseConv3d.md`:
`out[o] = sum_{k : kernel_map[o, k] >= 0} features[kernel_map[o, k]] @ weight[k]`.

Output rows are processed in blocks of `_BLOCK` (in parallel over blocks): for each offset k,
the block's active pairs are collected (no pair list over the whole map is ever built) and
multiplied four at a time by `weight[k]` into a block accumulator that stays in cache. Work is
proportional to the active pairs, not to N_out * K (no im2col). Summation order: per output
row, offsets in increasing k (the spec leaves the order unspecified).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_BLOCK = 256  # output rows per block: the accumulator (256 x C_out floats) stays in L1/L2
# Reassociation and contraction are allowed: the op's summation order is unspecified.
_FAST = {"contract", "reassoc", "nnan", "ninf", "nsz"}


def sparse_conv3d(features: np.ndarray, kernel_map: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """features `(N_in, C_in)` float32; kernel_map `(N_out, K)` int32 (-1 = none, else a row of
    features); weight `(K, C_in, C_out)` float32 (float16 inputs are computed in float32 and
    returned as float16). Returns `(N_out, C_out)`. Raises ValueError on bad shapes or indices."""
    features, kernel_map, weight = np.asarray(features), np.asarray(kernel_map), np.asarray(weight)
    if features.ndim != 2 or weight.ndim != 3 or kernel_map.ndim != 2:
        raise ValueError(
            f"expected features (N_in, C_in), kernel_map (N_out, K), weight (K, C_in, C_out); "
            f"got {features.shape}, {kernel_map.shape}, {weight.shape}"
        )
    if weight.shape[0] != kernel_map.shape[1] or weight.shape[1] != features.shape[1]:
        raise ValueError(
            f"weight {weight.shape} does not fit kernel_map {kernel_map.shape} / features {features.shape}"
        )
    if kernel_map.dtype != np.int32:
        raise ValueError(f"kernel_map must be int32, got {kernel_map.dtype}")
    out_dtype = features.dtype
    if out_dtype not in (np.float32, np.float16) or weight.dtype != out_dtype:
        raise ValueError(
            f"features and weight must both be float32 or float16, got {out_dtype} and {weight.dtype}"
        )
    f32 = np.ascontiguousarray(features, dtype=np.float32)
    w32 = np.ascontiguousarray(weight, dtype=np.float32)
    out = np.empty((kernel_map.shape[0], weight.shape[2]), dtype=np.float32)
    bad = _conv(f32, np.ascontiguousarray(kernel_map), w32, out)
    if bad:
        raise ValueError(f"kernel_map has {bad} entries outside [-1, {features.shape[0]})")
    return out if out_dtype == np.float32 else out.astype(out_dtype)


@njit(fastmath=_FAST, inline="always", nogil=True, cache=True)
def _madd4(f, w, acc, r0, r1, r2, r3, i0, i1, i2, i3):  # noqa: ANN001 (numba scalars/arrays)
    """acc[r_j] += f[i_j] @ w for four pairs: each weight row is loaded once for four rows."""
    for ci in range(w.shape[0]):
        a0, a1, a2, a3 = f[i0, ci], f[i1, ci], f[i2, ci], f[i3, ci]
        wr = w[ci]
        o0, o1, o2, o3 = acc[r0], acc[r1], acc[r2], acc[r3]
        for co in range(wr.shape[0]):
            wv = wr[co]
            o0[co] += a0 * wv
            o1[co] += a1 * wv
            o2[co] += a2 * wv
            o3[co] += a3 * wv


@njit(parallel=True, fastmath=_FAST, nogil=True, cache=True)
def _conv(features: np.ndarray, kmap: np.ndarray, weight: np.ndarray, out: np.ndarray) -> int:
    """Fill out; returns the number of out-of-range kernel-map entries (those are skipped)."""
    n_out, n_k = kmap.shape
    n_in = features.shape[0]
    c_out = weight.shape[2]
    n_blocks = (n_out + _BLOCK - 1) // _BLOCK
    bad = 0
    for b in prange(n_blocks):
        start = b * _BLOCK
        stop = min(start + _BLOCK, n_out)
        acc = np.zeros((stop - start, c_out), dtype=np.float32)
        rows = np.empty(_BLOCK, dtype=np.int64)
        ins = np.empty(_BLOCK, dtype=np.int64)
        for k in range(n_k):
            n = 0
            for o in range(start, stop):
                i = kmap[o, k]
                if i >= 0:
                    if i >= n_in:
                        bad += 1
                        continue
                    rows[n] = o - start
                    ins[n] = i
                    n += 1
            w = weight[k]
            p = 0
            while p + 4 <= n:
                _madd4(features, w, acc, rows[p], rows[p + 1], rows[p + 2], rows[p + 3],
                       ins[p], ins[p + 1], ins[p + 2], ins[p + 3])  # fmt: skip
                p += 4
            while p < n:
                r, i = rows[p], ins[p]
                for ci in range(w.shape[0]):
                    a = features[i, ci]
                    for co in range(c_out):
                        acc[r, co] += a * w[ci, co]
                p += 1
        out[start:stop] = acc
    return bad
