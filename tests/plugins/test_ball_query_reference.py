"""Reference ball query (`plugins/ball_query/reference.py`) vs the official kernels' semantics
(`official_semantics.md` §4, §6).

Two kinds of evidence (the official op cases run in `tests/plugins/conformance/`): hand-built
cases with answers derived in the comments, and a literal transcription of the kernels'
per-query scan run on small random inputs full of duplicates and boundary distances.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _fma_cases import f32_bits

from isbnet_trt.plugins.ball_query.reference import ball_query
from isbnet_trt.plugins.reference_common import squared_distance


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


def test_inputs_must_be_finite() -> None:
    with pytest.raises(ValueError):
        ball_query(np.full((4, 3), np.nan, np.float32), np.zeros((1, 3), np.float32), 0.1, 2)


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
        [f32_bits(1043149210, 3186086998, 1060622699), f32_bits(3167933079, 3190513578, 1061682680)]
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
