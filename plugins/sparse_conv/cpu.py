"""`isbnet::SparseConv3d` on the CPU (numba): gather-GEMM-scatter over the active pairs.

Spec: `docs/ops/SparseConv3d.md`:
`out[o] = sum_{k : kernel_map[o, k] >= 0} features[kernel_map[o, k]] @ weight[k]`.

Output rows are processed in blocks of `_BLOCK` (in parallel over blocks). For a block, one
pass over its kernel-map rows lists the active pairs per offset k (a vector compare per row,
`_rowmask`); then, per k, the
pairs are multiplied several at a time (8 with AVX-512's 32 vector registers, else 4) by
`weight[k]` with a register-tiled kernel (`_tile`) into a block accumulator that stays in cache.
Work is proportional to the active pairs (no im2col over
all K offsets) and no pair list over the whole map is built. Summation order: per output row,
offsets in increasing k (the spec leaves it unspecified).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.cpu._rowmask import MAX_K, popcount, row_masks, trailing_zeros
from isbnet_trt.plugins.cpu._tile import WIDTH, madd_tile4, madd_tile8

_BLOCK = 256  # output rows per block: the accumulator (256 x C_out floats) stays in L1/L2
_PAD = 16  # a tile reads up to 16 entries of a pair list (8 pairs + 8 prefetched rows)


def _tile_pairs() -> int:
    """8-pair tiles with AVX-512 (32 vector registers), else 4 (16 registers)."""
    from llvmlite import binding

    return 8 if binding.get_host_cpu_features().get("avx512f", False) else 4


_PAIRS = _tile_pairs()


def sparse_conv3d(features: np.ndarray, kernel_map: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """features `(N_in, C_in)` float32; kernel_map `(N_out, K)` int32 (-1 = none, else a row of
    features); weight `(K, C_in, C_out)` float32 (float16 inputs are computed in float32 and
    returned as float16). Returns `(N_out, C_out)`. Raises ValueError on bad shapes or indices."""
    features, kernel_map, weight = np.asarray(features), np.asarray(kernel_map), np.asarray(weight)
    spec.check_sparse_conv3d(features.shape, kernel_map.shape, weight.shape)
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
    bad = _conv(f32, np.ascontiguousarray(kernel_map), w32, out, _PAIRS)
    if bad:
        raise ValueError(f"kernel_map has {bad} entries outside [-1, {features.shape[0]})")
    return out if out_dtype == np.float32 else out.astype(out_dtype)


@njit(parallel=True, nogil=True, cache=True)
def _conv(features: np.ndarray, kmap: np.ndarray, weight: np.ndarray, out: np.ndarray, pairs: int) -> int:
    """Fill out; returns the number of kernel-map entries >= N_in (they are skipped).
    pairs: 8 or 4, the tile height."""
    n_out, n_k = kmap.shape
    n_in = features.shape[0]
    c_out = weight.shape[2]
    c_tiled = c_out - c_out % WIDTH
    n_blocks = (n_out + _BLOCK - 1) // _BLOCK
    bad = 0
    for b in prange(n_blocks):
        start = b * _BLOCK
        stop = min(start + _BLOCK, n_out)
        acc = np.zeros((stop - start, c_out), dtype=np.float32)
        # Active pairs per offset: input row and block row. Entries past a list's count are
        # never read (the tile reads only its n pairs).
        ins = np.empty((n_k, _BLOCK + _PAD), dtype=np.int32)
        rows = np.empty((n_k, _BLOCK + _PAD), dtype=np.int32)
        count = np.zeros(n_k, dtype=np.int64)
        n_bad = 0
        if n_k <= MAX_K:  # vector compare of the row, then only its active entries
            for o in range(start, stop):
                masks = row_masks(kmap, o, n_in)
                n_bad += popcount((masks >> 32) & 0xFFFFFFFF)  # arithmetic shift: mask the sign
                active = masks & 0xFFFFFFFF
                while active:
                    k = trailing_zeros(active)
                    c = count[k]
                    ins[k, c] = kmap[o, k]
                    rows[k, c] = o - start
                    count[k] = c + 1
                    active &= active - 1
        else:
            for o in range(start, stop):
                for k in range(n_k):  # branch-free: the active entries are unpredictable
                    i = kmap[o, k]
                    c = count[k]
                    ins[k, c] = i
                    rows[k, c] = o - start
                    count[k] = c + ((i >= 0) & (i < n_in))
                    n_bad += i >= n_in
        bad += n_bad
        for k in range(n_k):
            n = count[k]
            ins_k, rows_k = ins[k], rows[k]
            for p in range(0, n, pairs):
                m = min(pairs, n - p)
                for cb in range(0, c_tiled, WIDTH):
                    i_p, r_p = ins_k[p : p + 2 * pairs], rows_k[p : p + pairs]
                    if pairs == 8:
                        madd_tile8(features, weight, acc, i_p, r_p, m, k, cb)
                    else:
                        madd_tile4(features, weight, acc, i_p, r_p, m, k, cb)
            if c_tiled < c_out:  # columns beyond the last full tile
                for p in range(n):
                    i, r = ins_k[p], rows_k[p]
                    for ci in range(features.shape[1]):
                        a = features[i, ci]
                        for co in range(c_tiled, c_out):
                            acc[r, co] += a * weight[k, ci, co]
        out[start:stop] = acc
    return bad
