"""The §0 float arithmetic of the reference ops (`plugins/reference_common.py`) vs exact rational
arithmetic (`official_semantics.md` §0): fmaf emulation, squared distance, the test oracle itself.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch
from _fma_cases import midpoint_cases

from isbnet_trt.plugins.reference_common import fma_f32, squared_distance


def _round_f32(q: Fraction) -> float:
    """Exact round-to-nearest-even of a rational to float32 (normal and subnormal range)."""
    if q == 0:
        return 0.0
    sign, q = (-1.0 if q < 0 else 1.0), abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** e > q:
        e -= 1  # now 2^e <= q < 2^(e+1)
    ulp = Fraction(2) ** (max(e, -126) - 23)
    return sign * float(round(q / ulp) * ulp)  # round() on a Fraction is half-even


def _exact_fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    fr = [[Fraction(float(v)) for v in arr] for arr in (a, b, c)]
    return np.array([_round_f32(x * y + z) for x, y, z in zip(*fr, strict=True)], dtype=np.float32)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a, np.float32).view(np.int32), np.asarray(b, np.float32).view(np.int32))


def test_fma_emulation_matches_exact_rational_arithmetic() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    a = (rng.standard_normal(n) * 2.0 ** rng.integers(-40, 40, n)).astype(np.float32)
    b = (rng.standard_normal(n) * 2.0 ** rng.integers(-40, 40, n)).astype(np.float32)
    c = (rng.standard_normal(n) * 2.0 ** rng.integers(-80, 80, n)).astype(np.float32)
    # subnormal results and exact cancellations
    a[:50], b[:50], c[:50] = np.float32(2.0**-70), np.float32(2.0**-70), np.float32(0.0)
    c[50:100] = -(a[50:100].astype(np.float64) * b[50:100]).astype(np.float32)
    ma, mb, mc = midpoint_cases(rng, 600)
    a, b, c = np.concatenate([a, ma]), np.concatenate([b, mb]), np.concatenate([c, mc])
    assert _same_bits(fma_f32(a, b, c).numpy(), _exact_fma(a, b, c))
    # The midpoint cases do exercise the double-rounding correction.
    naive = (ma.astype(np.float64) * mb + mc).astype(np.float32)
    assert (naive != _exact_fma(ma, mb, mc)).sum() > 100


def test_fma_double_rounding_example() -> None:
    # 32776^2 = 1074266176 = 64 * 4097^2 is a float32 midpoint (spacing 128 there); the exact
    # sum 32776^2 + 2^-30 lies just above it, so fmaf rounds up to 1074266240, while the
    # float64 sum rounds back to the midpoint and then ties to even, 1074266112.
    a = np.array([[32776.0, 2.0**-15, 0.0]], dtype=np.float32)
    b = np.zeros((1, 3), dtype=np.float32)
    assert squared_distance(a, b).item() == 1074266240.0
    assert np.float32(np.float64(32776.0) ** 2 + 2.0**-30) == np.float32(1074266112.0)


def test_squared_distance_matches_exact_formula() -> None:
    """d2 = fmaf(dz, dz, fmaf(dx, dx, fl32(dy*dy))) (§0), checked with rational arithmetic."""
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((2000, 3)) * 3).astype(np.float32)
    b = (a + rng.standard_normal((2000, 3)).astype(np.float32) * 1e-3).astype(np.float32)
    d = a - b
    dy2 = d[:, 1] * d[:, 1]
    inner = _exact_fma(d[:, 0], d[:, 0], dy2)
    expected = _exact_fma(d[:, 2], d[:, 2], inner)
    got = squared_distance(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert _same_bits(got, expected)
    naive = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]
    assert (naive != expected).mean() > 0.1  # ~22 % of plain float32 distances differ by 1 ulp


def test_squared_distance_broadcasts() -> None:
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 1, 3)).astype(np.float32)
    b = rng.standard_normal((1, 5, 3)).astype(np.float32)
    full = squared_distance(a, b)
    assert full.shape == (4, 5) and full.dtype == torch.float32
    assert _same_bits(full[2, 3].numpy(), squared_distance(a[2, 0], b[0, 3]).numpy())


def test_fraction_rounding_helper() -> None:
    # sanity of the test oracle itself: ties to even, subnormals
    assert _round_f32(Fraction(1) + Fraction(2) ** -24) == 1.0
    assert _round_f32(Fraction(1) + Fraction(3, 2**25)) == 1.0 + 2.0**-23
    assert _round_f32(Fraction(2) ** -149 * Fraction(3, 2)) == 2.0**-148
    assert math.isclose(_round_f32(Fraction(1, 3)), float(np.float32(1 / 3)), rel_tol=0)
