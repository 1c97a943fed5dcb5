"""Model-side geometry of the reference model: `scatter_mean` with a deterministic summation
order (`official_semantics.md` §7) and its sequential segment sums.

The `isbnet::` geometry ops live with their op: `plugins/farthest_point_sample/reference.py`,
`plugins/ball_query/reference.py` (§0 arithmetic in `plugins/reference_common.py`).
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from isbnet_trt.plugins.reference_common import ArrayLike, to_numpy, to_torch

__all__ = ["segment_sum_sequential", "scatter_mean"]


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
    s = to_numpy(src)
    idx = to_numpy(index)
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
    return to_torch(out, src)
