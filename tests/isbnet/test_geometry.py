"""Reference geometry ops vs the official kernels' semantics (`official_semantics.md` §0, §3-§7).

Three kinds of evidence: the golden op cases recorded from the official kernels
(`op_cases.npz`), hand-built cases with answers derived in the comments, and literal
transcriptions of the kernels' control flow (per-thread scan + shared-memory tree, per-query
scan) run on small random inputs full of ties, duplicates and boundary distances.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from _fma_cases import midpoint_cases

from isbnet_trt.isbnet.geometry import (
    ball_query,
    farthest_point_sample,
    fma_f32,
    opt_n_threads,
    scatter_mean,
    segment_sum_sequential,
    squared_distance,
)
from isbnet_trt.plugins import spec

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _f32_bits(*bits: int) -> np.ndarray:
    return np.array(bits, dtype=np.uint32).view(np.float32)


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


def _simulate_fps_kernel(xyz: np.ndarray, n_sample: int, variant: str) -> np.ndarray:
    """Literal transcription of the official FPS kernels' control flow (one block).

    §3 `furthestsampling_cuda_kernel` (segment [0, N), offsets [0, N]) and §5
    `furthest_point_sampling_kernel`: each thread t scans k = t, t+B, ... keeping its first
    strict maximum, then the shared-memory tree `__update(t, t+s)` for s = B/2 ... 1.
    """
    n = xyz.shape[0]
    block = opt_n_threads(n, 1024 if variant == "isbnet" else 512)
    dist = squared_distance(xyz[None, :, :], xyz[:, None, :]).numpy()  # dist[old, k]
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    mag = fma_f32(z, z, fma_f32(x, x, y * y)).numpy()
    skip = (mag.astype(np.float64) <= 1e-3) if variant == "pointnet2" else np.zeros(n, bool)
    tmp = np.full(n, np.float32(1e10), dtype=np.float32)
    idx = np.zeros(n_sample, dtype=np.int64)
    old = 0
    for j in range(1, n_sample):
        best = [np.float32(-1.0)] * block
        besti = [0] * block
        for t in range(block):
            for k in range(t, n, block):
                if skip[k]:
                    continue
                d2 = min(dist[old, k], tmp[k])
                tmp[k] = d2
                if d2 > best[t]:
                    best[t], besti[t] = d2, k
        s = block // 2
        while s >= 1:
            for t in range(s):
                v1, v2 = best[t], best[t + s]
                best[t], besti[t] = max(v1, v2), (besti[t + s] if v2 > v1 else besti[t])
            s //= 2
        old = besti[0]
        idx[j] = old
    return idx


def _simulate_ball_query(xyz: np.ndarray, centres: np.ndarray, radius: float, n_sample: int) -> np.ndarray:
    """Literal transcription of §4/§6: ascending scan, strict test, fill-with-first, zeros."""
    r = np.float32(radius)
    r2 = np.float32(r * r)
    dist = squared_distance(centres[:, None, :], xyz[None, :, :]).numpy()
    out = np.zeros((centres.shape[0], n_sample), dtype=np.int64)
    for q in range(centres.shape[0]):
        cnt = 0
        for k in range(xyz.shape[0]):
            if cnt >= n_sample:
                break
            if dist[q, k] < r2:
                if cnt == 0:
                    out[q, :] = k
                out[q, cnt] = k
                cnt += 1
    return out


# --------------------------------------------------------------------------------------------
# §0 FMA emulation
# --------------------------------------------------------------------------------------------


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


def test_inputs_must_be_float32_and_finite() -> None:
    with pytest.raises(TypeError):
        farthest_point_sample(np.zeros((4, 3)), 2)
    with pytest.raises(ValueError):
        ball_query(np.full((4, 3), np.nan, np.float32), np.zeros((1, 3), np.float32), 0.1, 2)
    with pytest.raises(ValueError):
        farthest_point_sample(np.zeros((4, 3), np.float32), 2, variant="smallest-index")


# --------------------------------------------------------------------------------------------
# §3 / §5 farthest point sampling
# --------------------------------------------------------------------------------------------


def test_opt_n_threads() -> None:
    for w in range(1, 5000):
        expect = 1 << (w.bit_length() - 1)  # largest power of two <= w
        assert opt_n_threads(w, 1024) == min(expect, 1024)
        assert opt_n_threads(w, 512) == min(expect, 512)
    assert opt_n_threads(10**6, 1024) == 1024


def test_fps_isbnet_tie_rule_one_point_per_thread() -> None:
    """8 points -> block 8, thread t holds point t; 3-bit reversal: 1->4, 2->2, 3->6, 4->1, ...

    Slot 1: points 1, 2, 4, 6 are all at d2 = 1 from point 0; bit-reversed ids 4, 2, 1, 3:
    thread 4 wins (not the smallest index 1). Slot 2 (from (0,1,0)): 1, 2, 6 still at 1 ->
    bitrev 4, 2, 3 -> 2. Slot 3: {1, 6} -> 6. Slot 4: 1 alone at 1. Slot 5: 3, 5, 7 at 0.25 ->
    bitrev 6, 5, 7 -> 5. Slot 6: {3, 7} -> 3. Slot 7: 7. Then every minimum is 0: thread 0's
    first point, 0.
    """
    xyz = np.array(
        [[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0.5, 0, 0], [0, 1, 0], [0, 0.5, 0], [0, -1, 0], [0, 0, 0.5]],
        dtype=np.float32,
    )
    got = farthest_point_sample(torch.from_numpy(xyz), 10, "isbnet")
    assert got.dtype == torch.int64
    assert got.tolist() == [0, 4, 2, 6, 1, 5, 3, 7, 0, 0]


def test_fps_isbnet_tie_rule_several_points_per_thread() -> None:
    """12 points -> block 8: thread t holds t and t+8 (t < 4).

    Points 3, 9 and 11 tie at d2 = 1 from point 0: threads 3, 1, 3 with bit-reversed ids 6, 4,
    6. Thread 1 wins and reports its first maximum: 9, although 3 has the smaller index.
    """
    xyz = np.zeros((12, 3), dtype=np.float32)
    xyz[:, 0] = 0.1 * np.arange(12, dtype=np.float32) / 12  # all others within 0.1
    xyz[3] = [0, 1, 0]
    xyz[9] = [0, 0, 1]
    xyz[11] = [-1, 0, 0]
    assert farthest_point_sample(xyz, 2).tolist() == [0, 9]


def test_fps_isbnet_exhaustion_with_duplicates() -> None:
    """3 distinct positions among 6 points: after 3 picks every minimum is 0, then slot = 0."""
    xyz = np.array([[0, 0, 0], [2, 0, 0], [0, 0, 0], [2, 0, 0], [1, 0, 0], [1, 0, 0]], dtype=np.float32)
    # From 0: points 1 and 3 tie at 4 (block 4: threads 1, 3 -> bitrev 2, 3) -> 1. Then the
    # points at x = 1 (4 and 5: threads 0, 1 -> bitrev 0, 2) -> 4. Then all 0 -> 0, 0, ...
    assert farthest_point_sample(xyz, 7).tolist() == [0, 1, 4, 0, 0, 0, 0]


def test_fps_uses_fma_distances() -> None:
    """Plain float32 arithmetic would rank these two points the other way round.

    From the origin, point 2 has d2 = 2.2500002 (FMA) vs 2.25 for point 1, but the plain
    float32 sums are 2.25 and 2.2500005. (Found by a random search on the sphere r = 1.5.)
    """
    xyz = np.zeros((3, 3), dtype=np.float32)
    xyz[1] = _f32_bits(3209441728, 3214636348, 3200169009)
    xyz[2] = _f32_bits(3217024123, 1019547908, 3174329360)
    d = xyz[1:]
    naive = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]
    assert naive[0] > naive[1]
    assert farthest_point_sample(xyz, 2).tolist() == [0, 2]


def test_fps_pointnet2_origin_skip_threshold_in_double() -> None:
    """(double)mag <= 1e-3 with the FMA magnitude (§5).

    Point 1 has mag == fl32(1e-3) = 0.00100000005 > 1e-3 (double): valid. Point 2 has mag
    0.00099999993: skipped, like point 0 (the start, picked anyway). Block 4. Slot 1 (from the
    origin): 3 (d2 0.25). Slot 2: 1 (its minimum is its mag). Slot 3: valid minima all 0;
    valid threads 1 and 3 (bitrev 2, 3) -> 1. A skipped point 2 would otherwise be picked here.
    """
    xyz = np.zeros((4, 3), dtype=np.float32)
    xyz[1, :2] = _f32_bits(1022694150, 1009247725)
    xyz[2, 2] = _f32_bits(1023510242)[0]
    xyz[3, 0] = 0.5
    assert farthest_point_sample(xyz, 4, "pointnet2").tolist() == [0, 3, 1, 1]
    assert farthest_point_sample(xyz, 5, "pointnet2").tolist() == [0, 3, 1, 1]  # min(n_sample, N) slots


def test_fps_pointnet2_all_invalid_gives_zeros() -> None:
    xyz = np.full((10, 3), 0.01, dtype=np.float32)  # mag 3e-4 everywhere
    assert farthest_point_sample(xyz, 5, "pointnet2").tolist() == [0, 0, 0, 0, 0]


def test_fps_small_and_empty_requests() -> None:
    xyz = np.eye(3, dtype=np.float32)
    assert farthest_point_sample(xyz, 0).tolist() == []
    assert farthest_point_sample(xyz, 1).tolist() == [0]
    # rule 6: N = 0 -> "isbnet" n_sample zeros, "pointnet2" empty; n_sample < 0 refused
    assert farthest_point_sample(np.zeros((0, 3), np.float32), 3).tolist() == [0, 0, 0]
    assert farthest_point_sample(np.zeros((0, 3), np.float32), 3, "pointnet2").tolist() == []
    assert farthest_point_sample(xyz, 5, "pointnet2").shape == (3,)  # min(n_sample, N)
    with pytest.raises(ValueError, match=">= 0"):
        farthest_point_sample(xyz, -1)


def _tie_heavy_cloud(rng: np.random.Generator, n: int, variant: str) -> np.ndarray:
    pts = rng.integers(-3, 4, (n, 3)).astype(np.float32)  # integer grid: ties and duplicates
    if variant == "pointnet2":
        pts *= np.float32(0.012)  # many points fall inside the origin-skip ball
    return pts


@pytest.mark.parametrize(
    ("variant", "n", "n_sample", "seed"),
    [
        ("isbnet", 7, 12, 0),
        ("isbnet", 100, 40, 1),
        ("isbnet", 200, 40, 2),
        ("isbnet", 1300, 8, 3),  # block 1024: 10-bit reversal, threads with two points
        ("pointnet2", 9, 12, 4),
        ("pointnet2", 150, 40, 5),
        ("pointnet2", 700, 10, 6),  # block 512 (cap)
    ],
)
def test_fps_matches_literal_kernel_on_ties(variant: str, n: int, n_sample: int, seed: int) -> None:
    xyz = _tie_heavy_cloud(np.random.default_rng(seed), n, variant)
    expected = _simulate_fps_kernel(xyz, n_sample, variant)[: spec.fps_output_size(n, n_sample, variant)]
    assert farthest_point_sample(xyz, n_sample, variant).tolist() == expected.tolist()


@pytest.mark.parametrize("variant", ["isbnet", "pointnet2"])
def test_fps_matches_literal_kernel_on_random_points(variant: str) -> None:
    xyz = np.random.default_rng(7).standard_normal((300, 3)).astype(np.float32) * 0.2
    expected = _simulate_fps_kernel(xyz, 30, variant)
    assert farthest_point_sample(xyz, 30, variant).tolist() == expected.tolist()


# --------------------------------------------------------------------------------------------
# §4 / §6 ball query
# --------------------------------------------------------------------------------------------


def test_ball_query_strict_radius_padding_and_empty() -> None:
    """Unit grid around the origin, radius 1: d2 == r2 == 1 is rejected (strict)."""
    xyz = np.array(
        [[5, 5, 5], [1, 0, 0], [0.5, 0, 0], [0, 0, 0], [0, -1, 0], [0.5, 0, 0], [0, 0.9, 0]], dtype=np.float32
    )
    centres = np.array([[0, 0, 0], [5, 5, 5.5], [-9, -9, -9]], dtype=np.float32)
    got = ball_query(xyz, centres, 1.0, 4).tolist()
    # centre 0: 1 and 4 are exactly on the sphere (rejected); 2, 3, 5, 6 accepted in order.
    # centre 1: only point 0 (d2 0.25): the row repeats it. centre 2: none -> zeros.
    assert got == [[2, 3, 5, 6], [0, 0, 0, 0], [0, 0, 0, 0]]
    # first n_sample in index order, not the nearest; padding with the first neighbour
    assert ball_query(xyz, centres[:1], 1.0, 2).tolist() == [[2, 3]]
    assert ball_query(xyz, centres[:1], 1.0, 6).tolist() == [[2, 3, 5, 6, 2, 2]]
    # radius 1.5: r2 = 2.25, point 1 and 4 (d2 = 1) now inside
    assert ball_query(xyz, centres[:1], 1.5, 8).tolist() == [[1, 2, 3, 4, 5, 6, 1, 1]]


def test_ball_query_radius_is_squared_in_float32() -> None:
    """r2 = fl32(fl32(0.2)^2) = 0.040000003; a point at dx = fl32(0.2) has d2 == r2: rejected."""
    r = np.float32(0.2)
    below = np.nextafter(r, np.float32(0))
    xyz = np.array([[r, 0, 0], [below, 0, 0]], dtype=np.float32)
    assert np.float32(below * below) < np.float32(r * r)
    assert ball_query(xyz, np.zeros((1, 3), np.float32), 0.2, 2).tolist() == [[1, 1]]


def test_ball_query_uses_fma_distances() -> None:
    """Two points near the r = 0.2 sphere where plain float32 and FMA disagree (random search)."""
    centre = np.array([[0.1, -0.3, 0.7]], dtype=np.float32)
    xyz = np.stack(
        [_f32_bits(1043149210, 3186086998, 1060622699), _f32_bits(3167933079, 3190513578, 1061682680)]
    )
    d = xyz - centre
    naive = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]
    r2 = np.float32(np.float32(0.2) * np.float32(0.2))
    assert naive[0] >= r2 and naive[1] < r2  # plain float32 would take point 1 only
    assert squared_distance(xyz, centre).numpy().tolist() == pytest.approx([0.04, 0.040000003])
    assert ball_query(xyz, centre, 0.2, 3).tolist() == [[0, 0, 0]]


def test_ball_query_duplicates_and_degenerate_arguments() -> None:
    xyz = np.array([[0, 0, 0], [0, 0, 0], [0.1, 0, 0], [0, 0, 0]], dtype=np.float32)
    c = np.zeros((1, 3), np.float32)
    assert ball_query(xyz, c, 0.05, 5).tolist() == [[0, 1, 3, 0, 0]]
    assert ball_query(xyz, c, 0.0, 2).tolist() == [[0, 0]]  # r2 = 0: nothing is < 0
    assert ball_query(xyz, c, -0.2, 2).tolist() == [[0, 1]]  # the kernel squares the radius
    assert ball_query(xyz, c, 1.0, 0).shape == (1, 0)
    assert ball_query(xyz, np.zeros((0, 3), np.float32), 1.0, 4).shape == (0, 4)
    assert ball_query(np.zeros((0, 3), np.float32), c, 1.0, 2).tolist() == [[0, 0]]


@pytest.mark.parametrize(
    ("radius", "n_sample", "seed"), [(1.0, 8, 0), (1.5, 16, 1), (0.7, 3, 2), (2.5, 40, 3)]
)
def test_ball_query_matches_literal_kernel(radius: float, n_sample: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    xyz = rng.integers(-3, 4, (300, 3)).astype(np.float32) * np.float32(0.5)  # on-sphere cases
    centres = np.concatenate([xyz[:40], rng.uniform(-4, 4, (40, 3)).astype(np.float32)])
    expected = _simulate_ball_query(xyz, centres, radius, n_sample)
    assert ball_query(torch.from_numpy(xyz), torch.from_numpy(centres), radius, n_sample).tolist() == (
        expected.tolist()
    )


def test_ball_query_chunked_matches_brute_force() -> None:
    """Enough candidate pairs for several chunks; decisions checked against a dense §0 table."""
    rng = np.random.default_rng(4)
    xyz = (rng.random((6000, 3)) * [1.0, 1.0, 0.2]).astype(np.float32)
    centres = xyz[rng.choice(6000, 500, replace=False)]
    got = ball_query(xyz, centres, 0.15, 32).numpy()
    r2 = np.float32(np.float32(0.15) ** 2)
    inside = squared_distance(centres[:, None, :], xyz[None, :, :]).numpy() < r2
    for q in range(0, 500, 7):
        nb = np.flatnonzero(inside[q])[:32]
        expected = np.full(32, nb[0])
        expected[: nb.size] = nb
        assert got[q].tolist() == expected.tolist()


# --------------------------------------------------------------------------------------------
# golden op cases recorded from the official kernels
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def op_cases(golden_dir: Path) -> dict[str, np.ndarray]:
    with np.load(golden_dir / "op_cases.npz") as z:
        return {k: z[k] for k in z.files}


FPS_CASES = [
    ("fps_isb_random", "isbnet"),
    ("fps_isb_ties", "isbnet"),
    ("fps_isb_exhaust", "isbnet"),
    ("fps_pn2_random", "pointnet2"),
    ("fps_pn2_ties_origin", "pointnet2"),
    ("fps_pn2_allinvalid", "pointnet2"),
]

# (case, radius, n_sample) as in the case's `index` description
BQ_CASES = [
    ("bq_isb_random", 0.2, 32),
    ("bq_isb_empty", 0.2, 32),
    ("bq_isb_boundary", 1.0, 8),
    ("bq_isb_boundary_r1.5", 1.5, 8),
    ("bq_pn2_random", 0.4, 64),
    ("bq_pn2_empty", 0.8, 32),
    ("bq_pn2_small_check", 0.8, 16),
]


@pytest.mark.parametrize(("name", "variant"), FPS_CASES)
def test_fps_golden(op_cases: dict[str, np.ndarray], name: str, variant: str) -> None:
    expected = op_cases[f"{name}__idx"]
    got = farthest_point_sample(torch.from_numpy(op_cases[f"{name}__xyz"]), expected.size, variant)
    assert np.array_equal(got.numpy(), expected.astype(np.int64))


def test_fps_golden_ties_case_is_not_smallest_index(op_cases: dict[str, np.ndarray]) -> None:
    # §3: slot 2 of `fps_isb_ties` has 19 equidistant candidates; the kernel picks 864.
    assert int(op_cases["fps_isb_ties__idx"][2]) == 864


@pytest.mark.parametrize(("name", "radius", "n_sample"), BQ_CASES)
def test_ball_query_golden(op_cases: dict[str, np.ndarray], name: str, radius: float, n_sample: int) -> None:
    desc = json.loads(str(op_cases["index"]))[name]
    assert f"({radius}, {n_sample}," in desc  # the parameters the case was recorded with
    expected = op_cases[f"{name}__idx"]
    got = ball_query(op_cases[f"{name}__xyz"], op_cases[f"{name}__centres"], radius, n_sample)
    assert np.array_equal(got.numpy(), expected.astype(np.int64))


def test_fps_golden_room_scene(golden_dir: Path) -> None:
    """Both FPS calls of the official inference on room30k (§9.10, §9.11)."""
    with np.load(golden_dir / "room30k_official.npz") as r:
        fg = r["voxel_coords_float"][r["object_idxs"]]
        assert np.array_equal(farthest_point_sample(fg, 2048, "isbnet").numpy(), r["pa1_fps_inds"])
        for i in range(int(r["n_iterations"])):
            cand = r["pa1_query_locs"][r[f"it{i}_cand_idxs"]]
            m = min(int(r[f"it{i}_n_sample"]), cand.shape[0])
            got = farthest_point_sample(cand, m, "pointnet2").numpy()
            assert np.array_equal(got, r[f"it{i}_pa2_fps_inds"]), f"round {i}"


# --------------------------------------------------------------------------------------------
# §7 scatter_mean
# --------------------------------------------------------------------------------------------


def _torch_scatter_mean(src: torch.Tensor, index: torch.Tensor, dim_size: int) -> torch.Tensor:
    """torch_scatter's CPU scatter_mean, spelled out with torch's scatter_add_ (§7)."""
    src2 = src.reshape(src.shape[0], -1)
    out = torch.zeros(dim_size, src2.shape[1], dtype=src.dtype)
    out.scatter_add_(0, index[:, None].expand_as(src2), src2)
    count = torch.zeros(dim_size, dtype=src.dtype).scatter_add_(
        0, index, torch.ones_like(index, dtype=src.dtype)
    )
    count[count < 1] = 1
    return (out / count[:, None]).reshape((dim_size,) + src.shape[1:])


def test_scatter_mean_empty_segments_and_order() -> None:
    src = torch.tensor([1.0, 1e8, 3.0, -1e8, 5.0], dtype=torch.float32)
    index = torch.tensor([0, 0, 2, 0, 2])
    got = scatter_mean(src, index, dim_size=4)
    # segment 0 sums sequentially: (1 + 1e8) == 1e8 in float32, minus 1e8 -> 0 (another order
    # could give 1/3); segments 1 and 3 are empty -> 0; segment 2 -> 4.
    assert got.tolist() == [0.0, 0.0, 4.0, 0.0]
    assert scatter_mean(src, index).shape == (3,)
    with pytest.raises(ValueError):
        scatter_mean(src, index, dim_size=2)


@pytest.mark.parametrize("shape", [(5000,), (5000, 7)])
def test_scatter_mean_matches_torch_scatter_on_cpu(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(8)
    src = torch.from_numpy(
        (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)).astype(np.float32)
    )
    index = torch.from_numpy(rng.integers(0, 60, shape[0]))
    got = scatter_mean(src, index, dim_size=64)
    assert got.dtype == torch.float32 and got.shape == (64,) + shape[1:]
    assert _same_bits(got.numpy(), _torch_scatter_mean(src, index, 64).numpy())


def test_segment_sum_sequential_is_sequential() -> None:
    rng = np.random.default_rng(9)
    counts = np.concatenate([rng.integers(0, 5, 40), [300, 120, 50]])  # short ones, then a long tail
    offsets = np.concatenate([[0], np.cumsum(counts)])
    values = (rng.standard_normal((offsets[-1], 3)) * 10.0 ** rng.integers(-4, 5, (offsets[-1], 1))).astype(
        np.float32
    )
    got = segment_sum_sequential(values, offsets)
    for s in range(counts.size):
        acc = np.zeros(3, dtype=np.float32)
        for row in values[offsets[s] : offsets[s + 1]]:
            acc = acc + row  # float32 + float32
        assert _same_bits(got[s], acc)


def test_fraction_rounding_helper() -> None:
    # sanity of the test oracle itself: ties to even, subnormals
    assert _round_f32(Fraction(1) + Fraction(2) ** -24) == 1.0
    assert _round_f32(Fraction(1) + Fraction(3, 2**25)) == 1.0 + 2.0**-23
    assert _round_f32(Fraction(2) ** -149 * Fraction(3, 2)) == 2.0**-148
    assert math.isclose(_round_f32(Fraction(1, 3)), float(np.float32(1 / 3)), rel_tol=0)
