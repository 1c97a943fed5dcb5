"""A NumPy model of the CUDA kernels' selection logic (`plugins/cuda/*.cuh`), line for line.

It cannot prove the CUDA code right, but it checks the *algorithms* the kernels implement
against the reference and the official outputs on the CPU: the packed FPS arg-max key of
`common.cuh::fps_key` (the official tie rule) under any thread/block layout, and the
warp-chunked ballot scan of `ball_query_kernel.cuh`. Test helper, not part of the package.
"""

from __future__ import annotations

import numpy as np

from isbnet_trt.isbnet.geometry import squared_distance

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
