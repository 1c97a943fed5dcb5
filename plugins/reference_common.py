"""What the reference geometry ops share: the kernels' float arithmetic, emulated exactly, and the
array conversions of their inputs and outputs.

Spec: `official_semantics.md` §0. Used by `farthest_point_sample/reference.py`,
`ball_query/reference.py` and the model's `scatter_mean` (`isbnet.geometry`). numpy computes;
results come back as torch tensors on the input's device.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "ArrayLike",
    "fma_f32",
    "fma_f32_np",
    "squared_distance",
    "sqdist_from_diffs",
    "naive_sqdist",
    "to_numpy",
    "as_f32",
    "as_points",
    "to_torch",
]

ArrayLike = Tensor | np.ndarray


def fma_f32_np(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
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
    arrs = [as_f32(v, name) for v, name in ((a, "a"), (b, "b"), (c, "c"))]
    a_, b_, c_ = np.broadcast_arrays(*arrs)
    return torch.from_numpy(fma_f32_np(a_, b_, c_))  # fresh, contiguous


def sqdist_from_diffs(dx: np.ndarray, dy: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """§0 compiled distance from float32 differences: fmaf(dz, dz, fmaf(dx, dx, fl32(dy*dy)))."""
    return fma_f32_np(dz, dz, fma_f32_np(dx, dx, dy * dy))


def naive_sqdist(dx: np.ndarray, dy: np.ndarray, dz: np.ndarray) -> np.ndarray:
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
    a_, b_ = as_f32(a, "a"), as_f32(b, "b")
    if a_.shape[-1:] != (3,) or b_.shape[-1:] != (3,):
        raise ValueError(f"expected (..., 3) inputs, got {a_.shape} and {b_.shape}")
    d = a_ - b_  # float32 subtraction, broadcast
    out = sqdist_from_diffs(d[..., 0], d[..., 1], d[..., 2])
    return torch.from_numpy(out)  # fresh, contiguous (also 0-d)


# ---- conversions and validation
def to_numpy(x: ArrayLike) -> np.ndarray:
    """A numpy view (or CPU copy) of a tensor or array."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def as_f32(x: ArrayLike, name: str) -> np.ndarray:
    """`x` as a float32 array; any other dtype is refused (a silent cast changes results)."""
    arr = to_numpy(x)
    if arr.dtype != np.float32:
        raise TypeError(f"{name} must be float32 (the kernels' type), got {arr.dtype}")
    return arr


def as_points(x: ArrayLike, name: str) -> np.ndarray:
    """(N, 3) float32, finite, C-contiguous."""
    arr = as_f32(x, name)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {tuple(arr.shape)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr)


def to_torch(arr: np.ndarray, like: ArrayLike) -> Tensor:
    """`arr` as a torch tensor on `like`'s device (CPU for numpy)."""
    out = torch.from_numpy(arr if arr.flags.c_contiguous else arr.copy())  # copy() keeps 0-d
    if isinstance(like, Tensor) and like.device.type != "cpu":
        out = out.to(like.device)
    return out
