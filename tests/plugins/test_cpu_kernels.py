"""The numba CPU kernels of the isbnet:: ops == the reference exactly (indices), and the official
kernels on their recorded op cases; sparse conv within float32 accumulation tolerance."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("numba", reason="numba not installed: CPU kernels not tested")

from isbnet_trt.plugins.ball_query import cpu as bq_mod  # noqa: E402
from isbnet_trt.plugins.ball_query import reference as bq_reference  # noqa: E402
from isbnet_trt.plugins.ball_query.cpu import ball_query  # noqa: E402
from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference  # noqa: E402
from isbnet_trt.plugins.farthest_point_sample.cpu import farthest_point_sample  # noqa: E402
from isbnet_trt.plugins.kernel_maps.reference import build_unet_maps  # noqa: E402
from isbnet_trt.plugins.sparse_conv.cpu import sparse_conv3d  # noqa: E402
from isbnet_trt.plugins.sparse_conv.reference import sparse_conv_reference  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "isbnet"))
from _room_scene import room_points, room_voxels  # noqa: E402


def _ref_fps(xyz: np.ndarray, n_sample: int, variant: str) -> np.ndarray:
    return fps_reference.farthest_point_sample(xyz, n_sample, variant=variant).numpy().astype(np.int32)


def _tie_heavy_points(rng: np.random.Generator) -> np.ndarray:
    """An integer grid (many equidistant candidates) with duplicated points and points near 0."""
    g = np.stack(np.meshgrid(*[np.arange(9)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(np.float32) * 0.25
    g = g - np.float32(1.0)
    dup = g[rng.integers(0, len(g), 200)]
    near0 = (rng.standard_normal((20, 3)) * 0.01).astype(np.float32)
    pts = np.concatenate([g, dup, near0])
    return pts[rng.permutation(len(pts))]


# ------------------------------------------------------------------------------- FPS


@pytest.mark.parametrize("variant", ["isbnet", "pointnet2"])
@pytest.mark.parametrize("seed", [0, 1])
def test_fps_equals_reference_on_random_and_tie_heavy_points(variant, seed):
    rng = np.random.default_rng(seed)
    rooms = room_points(6000, seed=seed).astype(np.float32) - np.float32(2.5)
    for xyz, n_sample in ((rooms, 700), (_tie_heavy_points(rng), 900), (rooms[:300], 512)):
        assert np.array_equal(farthest_point_sample(xyz, n_sample, variant), _ref_fps(xyz, n_sample, variant))


def test_fps_refuses_bad_input():
    with pytest.raises(ValueError, match="float32"):
        farthest_point_sample(np.zeros((4, 3)), 2)
    with pytest.raises(ValueError, match="variant"):
        farthest_point_sample(np.zeros((4, 3), np.float32), 2, "other")
    with pytest.raises(ValueError, match=">= 0"):
        farthest_point_sample(np.zeros((4, 3), np.float32), -1)


# ------------------------------------------------------------------------------- ball query


@pytest.mark.parametrize("grid", [False, True], ids=["scan", "grid"])
def test_ball_query_equals_reference(monkeypatch, grid):
    """Both search paths (plain scan, cell grid) on a room, on points exactly on the radius, and
    on duplicated points."""
    monkeypatch.setattr(bq_mod, "BRUTE_FORCE_PAIRS", 0 if grid else 1 << 40)
    rng = np.random.default_rng(3)
    room = room_points(8000, seed=3).astype(np.float32)
    lattice = (
        np.stack(np.meshgrid(*[np.arange(12)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(np.float32) * 0.1
    )
    cases = [
        (room, room[rng.choice(len(room), 500, replace=False)], 0.2, 32),
        (room, room[:300], 0.4, 64),
        (lattice, lattice[::5], 0.1, 8),  # neighbours at exactly r: kept or not by the FMA test
        (lattice, lattice[::3], 0.3, 16),
        (np.repeat(room[:50], 3, axis=0), room[:20], 0.05, 4),
        (room[:100], room[:40] + np.float32(50.0), 0.2, 4),  # centres far away: rows of zeros
    ]
    for xyz, centres, radius, n_sample in cases:
        ref = bq_reference.ball_query(xyz, centres, radius, n_sample).numpy()
        assert np.array_equal(ball_query(xyz, centres, radius, n_sample), ref), (radius, n_sample)


# ------------------------------------------------------------------------------- sparse conv
def _maps():
    coords = room_voxels(6000, seed=4)
    lm = build_unet_maps(coords, 2)[0]
    return {"subm": lm.subm, "down": lm.down, "up": lm.up}, len(coords), len(lm.down)


@pytest.mark.parametrize("c_in, c_out", [(6, 16), (16, 16), (32, 48), (7, 5), (64, 40)])
def test_sparse_conv_equals_reference(c_in, c_out):
    maps, n0, n1 = _maps()
    rng = np.random.default_rng(c_in * 100 + c_out)
    for kind, kmap in maps.items():
        n_in = n1 if kind == "up" else n0
        f = rng.standard_normal((n_in, c_in)).astype(np.float32)
        w = (rng.standard_normal((kmap.shape[1], c_in, c_out)) / np.sqrt(c_in)).astype(np.float32)
        out = sparse_conv3d(f, kmap, w)
        ref = sparse_conv_reference(torch.from_numpy(f).double(), kmap, torch.from_numpy(w).double()).numpy()
        assert out.shape == (kmap.shape[0], c_out) and out.dtype == np.float32
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_sparse_conv_edge_cases():
    rng = np.random.default_rng(0)
    f, w = (
        rng.standard_normal((10, 4)).astype(np.float32),
        rng.standard_normal((27, 4, 16)).astype(np.float32),
    )
    assert sparse_conv3d(f, np.zeros((0, 27), np.int32), w).shape == (0, 16)
    assert not sparse_conv3d(f, np.full((3, 27), -1, np.int32), w).any()  # no neighbour: zeros
    half = sparse_conv3d(f.astype(np.float16), np.zeros((2, 27), np.int32), w.astype(np.float16))
    assert half.dtype == np.float16
    with pytest.raises(ValueError, match="outside"):
        sparse_conv3d(f, np.full((2, 27), 10, np.int32), w)
    with pytest.raises(ValueError, match="int32"):
        sparse_conv3d(f, np.zeros((2, 27), np.int64), w)
    with pytest.raises(ValueError, match="shape mismatch"):
        sparse_conv3d(f, np.zeros((2, 8), np.int32), w)


@pytest.mark.parametrize("k_vol", [1, 8, 27, 32, 33, 64])
def test_sparse_conv_any_kernel_volume(k_vol):
    """Row listing by vector compare (K <= 32) and the scalar fallback (K > 32) agree with the
    reference, and count out-of-range entries exactly (also in the last lane)."""
    rng = np.random.default_rng(k_vol)
    f = rng.standard_normal((200, 16)).astype(np.float32)
    km = rng.integers(-1, 200, (150, k_vol)).astype(np.int32)
    w = rng.standard_normal((k_vol, 16, 16)).astype(np.float32)
    ref = sparse_conv_reference(torch.from_numpy(f).double(), km, torch.from_numpy(w).double()).numpy()
    np.testing.assert_allclose(sparse_conv3d(f, km, w), ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    km[5, k_vol - 1], km[149, 0] = 200, 7_000
    with pytest.raises(ValueError, match="has 2 entries outside"):
        sparse_conv3d(f, km, w)
