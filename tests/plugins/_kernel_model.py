"""A NumPy model of the CUDA kernels' selection logic (`plugins/cuda/*.cuh`), line for line.

It cannot prove the CUDA code right, but it checks the *algorithms* the kernels implement
against the reference and the official outputs on the CPU: the packed FPS arg-max key of
`common.cuh::fps_key` (the official tie rule) under any thread/block layout, and the
warp-chunked ballot scan of `ball_query_kernel.cuh`, and the tiling + per-offset compaction of
`sparse_conv_kernel.cuh`. Test helper, not part of the package.
"""

from __future__ import annotations

import numpy as np

from isbnet_trt.plugins.reference_common import squared_distance

CAP = {"isbnet": 1024, "pointnet2": 512}


def fps_key(value: np.ndarray, k: np.ndarray, block_bits: int) -> np.ndarray:
    """common.cuh::fps_key for float32 values >= 0 and int64 indices -> uint64 keys."""
    t = k & ((1 << block_bits) - 1)
    rev = np.zeros_like(t)
    for i in range(block_bits):  # __brev(t) >> (32 - block_bits)
        rev |= ((t >> i) & 1) << (block_bits - 1 - i)
    tie = ((1 << block_bits) - 1) - rev
    lo = (tie << 22) | (0x3FFFFF - k)
    hi = value.astype(np.float32).view(np.uint32).astype(np.uint64)
    return (hi << np.uint64(32)) | lo.astype(np.uint64)


def fps(xyz: np.ndarray, n_sample: int, variant: str, threads: int = 1024, blocks: int = 1) -> np.ndarray:
    """isbnet_fps_block / isbnet_fps_grid: int32 indices, n_out as the op spec says.

    `threads` x `blocks` is *our* layout (point k belongs to our thread k mod (threads*blocks));
    every partial maximum is taken per our thread, then over all threads, as the kernels do.
    """
    n = len(xyz)
    n_out = n_sample if variant == "isbnet" else min(n_sample, n)
    idx = np.zeros(n_out, np.int32)
    if n == 0 or n_out <= 1:
        return idx
    b = min(1 << (n.bit_length() - 1), CAP[variant])
    bits = b.bit_length() - 1
    tmp = np.full(n, np.float32(1e10), np.float32)
    if variant == "pointnet2":
        zeros = np.zeros((n, 3), np.float32)
        mag = squared_distance(xyz, zeros).numpy()  # fmaf(z,z,fmaf(x,x,y*y)) = sqdist to the origin
        tmp[mag.astype(np.float64) <= 1e-3] = -1.0
    k = np.arange(n, dtype=np.int64)
    ours = k % (threads * blocks)
    old = 0
    for j in range(1, n_out):
        d = squared_distance(xyz, xyz[old][None]).numpy()
        valid = tmp >= 0
        tmp[valid] = np.minimum(d[valid], tmp[valid])
        keys = np.where(valid, fps_key(np.maximum(tmp, 0), k, bits), np.uint64(0))
        per_thread = np.zeros(threads * blocks, np.uint64)
        np.maximum.at(per_thread, ours, keys)
        best = int(per_thread.max())
        if best == 0:
            break
        old = 0x3FFFFF - (best & 0x3FFFFF)
        idx[j] = old
    return idx


def ball_query(xyz: np.ndarray, centres: np.ndarray, radius: float, n_sample: int) -> np.ndarray:
    """isbnet_ball_query: one 32-lane chunk at a time, ballot + popc ranks, first-accepted padding."""
    r = np.float32(radius)
    r2 = np.float32(r * r)
    out = np.zeros((len(centres), n_sample), np.int32)
    for q, c in enumerate(centres):
        d2 = squared_distance(c[None], xyz).numpy()
        count, first = 0, 0
        for base in range(0, len(xyz), 32):
            if count >= n_sample:
                break
            accept = d2[base : base + 32] < r2
            lanes = np.flatnonzero(accept)
            if lanes.size == 0:
                continue
            if count == 0:
                first = base + int(lanes[0])
            for rank, lane in enumerate(lanes):
                if count + rank < n_sample:
                    out[q, count + rank] = base + lane
            count += lanes.size
        out[q, min(count, n_sample) :] = first
    return out


def sparse_conv(features: np.ndarray, kmap: np.ndarray, weight: np.ndarray, k_splits: int = 1) -> np.ndarray:
    """isbnet_sparse_conv_f32, warp by warp: 64-row x 32-channel tiles, per-offset compaction by
    ballots (rows 0..31 then 32..63, ascending lanes), groups of 8 compacted rows, input channels
    staged 32 at a time, fp32 FMA chains per (row, channel), shared-memory accumulation in
    increasing k. float32 throughout; returns (N_out, C_out).

    k_splits > 1 models isbnet_sparse_conv_splitk_f32 with that many warps per block: warp w
    accumulates offsets [w * K // W, (w + 1) * K // W) into its own tile, then the partial tiles
    are added in warp order."""
    n_out, k_vol = kmap.shape
    c_in, c_out = weight.shape[1], weight.shape[2]
    out = np.zeros((n_out, c_out), np.float32)
    for tile in range(-(-n_out // 64)):
        row0 = tile * 64
        rows = np.arange(row0, row0 + 64)
        for s in range(-(-c_out // 32)):
            cols = np.arange(s * 32, min(c_out, s * 32 + 32))
            partials = []
            for w in range(k_splits):
                acc = np.zeros((64, len(cols)), np.float32)
                for k in range(k_vol * w // k_splits, k_vol * (w + 1) // k_splits):
                    m = np.where(rows < n_out, kmap[np.minimum(rows, n_out - 1), k], -1)
                    src_a, src_b = m[:32], m[32:]
                    lanes_a, lanes_b = np.flatnonzero(src_a >= 0), np.flatnonzero(src_b >= 0)
                    src = np.concatenate([src_a[lanes_a], src_b[lanes_b]])
                    dst = np.concatenate([lanes_a, 32 + lanes_b])
                    for s0 in range(0, len(src), 8):
                        g_src, g_dst = src[s0 : s0 + 8], dst[s0 : s0 + 8]
                        part = np.zeros((len(g_src), len(cols)), np.float32)
                        for c0 in range(0, c_in, 32):
                            for cc in range(min(32, c_in - c0)):
                                a = features[g_src, c0 + cc][:, None]
                                wk = weight[k, c0 + cc, cols][None, :]
                                part = (a.astype(np.float64) * wk + part).astype(np.float32)  # fmaf
                        acc[g_dst] += part
                partials.append(acc)
            total = partials[0]
            for p in partials[1:]:
                total = total + p  # float32, warp order
            valid = min(64, n_out - row0)
            out[row0 : row0 + valid, cols] = total[:valid]
    return out
