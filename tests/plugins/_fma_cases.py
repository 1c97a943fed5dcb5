"""Float32 test inputs shared by the reference-op and ONNX-body tests: values from bit patterns, and
hard cases for fused multiply-add emulation."""

from __future__ import annotations

import numpy as np


def f32_bits(*bits: int) -> np.ndarray:
    """float32 values from their IEEE bit patterns."""
    return np.array(bits, dtype=np.uint32).view(np.float32)


def midpoint_cases(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Products that are exact float32 midpoints, plus a tiny addend.

    Odd integers a, b of 12-13 bits with a 25-bit product p: p is halfway between two float32
    values, and `p + c` for |c| below half a float64 ulp of p rounds back to p in float64, so a
    naive float64-then-float32 evaluation rounds the tie to even (wrong half the time), while
    `fmaf` must round towards the sign of c. c = 0 checks the exact ties-to-even case.
    """
    a, b = [], []
    while len(a) < n:
        x, y = (int(v) | 1 for v in rng.integers(2**11, 2**13, 2))
        if (x * y).bit_length() == 25:
            a.append(x)
            b.append(y)
    scale = 2.0 ** rng.integers(-60, 40, n)
    a_ = (np.array(a, np.float64) * scale).astype(np.float32)
    b_ = (np.array(b, np.float64) * 2.0 ** rng.integers(-60, 40, n)).astype(np.float32)
    p = a_.astype(np.float64) * b_
    tiny = p * 2.0**-60 * rng.choice([-1.0, 0.0, 1.0], n)
    return a_, b_, tiny.astype(np.float32)
