"""Reference FPS (`plugins/farthest_point_sample/reference.py`) vs the official kernels' semantics
(`official_semantics.md` §3, §5).

Three kinds of evidence (the official op cases run in `tests/plugins/conformance/`): the room
scene's FPS calls recorded from the official inference, hand-built cases with answers derived in
the comments, and a literal transcription of the kernels' control flow (per-thread scan +
shared-memory tree) run on small random inputs full of ties, duplicates and boundary distances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _fma_cases import f32_bits

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.farthest_point_sample.reference import farthest_point_sample, opt_n_threads
from isbnet_trt.plugins.reference_common import fma_f32, squared_distance


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


def test_inputs_must_be_float32_and_a_known_variant() -> None:
    with pytest.raises(TypeError):
        farthest_point_sample(np.zeros((4, 3)), 2)
    with pytest.raises(ValueError):
        farthest_point_sample(np.zeros((4, 3), np.float32), 2, variant="smallest-index")


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
    xyz[1] = f32_bits(3209441728, 3214636348, 3200169009)
    xyz[2] = f32_bits(3217024123, 1019547908, 3174329360)
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
    xyz[1, :2] = f32_bits(1022694150, 1009247725)
    xyz[2, 2] = f32_bits(1023510242)[0]
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
