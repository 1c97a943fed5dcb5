"""Voxelisation vs the official `voxelization_idx` / `voxelization` (`official_semantics.md` §1, §2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.voxelize import Voxels, voxel_mean, voxelize


def _reference_voxelize(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Literal transcription of `voxelize_inputmap`: one scan, a map per batch, one counter.

    Returns (v2p (N,), p2v_map (M, 1+max) int32) built row by row like the C++ rule book.
    """
    maps: dict[int, dict[tuple[int, ...], int]] = {}
    rows: list[list[int]] = []
    v2p = np.zeros(coords.shape[0], dtype=np.int64)
    for i, row in enumerate(coords.tolist()):
        batch, key = (row[0], tuple(row[1:])) if len(row) == 4 else (0, tuple(row))
        mp = maps.setdefault(batch, {})
        if key not in mp:
            mp[key] = len(rows)
            rows.append([])
        rows[mp[key]].append(i)
        v2p[i] = mp[key]
    width = 1 + max(len(r) for r in rows)
    p2v = np.zeros((len(rows), width), dtype=np.int32)
    for v, r in enumerate(rows):
        p2v[v, : 1 + len(r)] = [len(r), *r]
    return v2p, p2v


def _scalar_voxel_mean(feats: np.ndarray, p2v: np.ndarray) -> np.ndarray:
    """§2 with float32 scalars: sum_i fl32(fl32(1/count) * f_i), sequential from +0."""
    out = np.zeros((p2v.shape[0], feats.shape[1]), dtype=np.float32)
    for v in range(p2v.shape[0]):
        count = int(p2v[v, 0])
        inv = np.float32(1.0) / np.float32(count)
        for p in p2v[v, 1 : 1 + count]:
            out[v] = out[v] + inv * feats[p]  # float32 array ops, one rounding each
    return out


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a, np.float32).view(np.int32), np.asarray(b, np.float32).view(np.int32))


def test_numbering_by_first_appearance_with_batches() -> None:
    coords = np.array(
        [[0, 5, 5, 5], [0, 1, 1, 1], [0, 5, 5, 5], [1, 1, 1, 1], [0, 1, 1, 1], [0, 2, 2, 2]], dtype=np.int64
    )
    vox = voxelize(coords)
    # (5,5,5) first seen at 0 -> voxel 0; (1,1,1) at 1 -> 1; batch 1's (1,1,1) at 3 -> 2
    # (another hash map, same global counter); (2,2,2) at 5 -> 3. Not sorted by coordinate.
    assert vox.v2p.tolist() == [0, 1, 0, 2, 1, 3]
    assert vox.voxel_coords.tolist() == [[0, 5, 5, 5], [0, 1, 1, 1], [1, 1, 1, 1], [0, 2, 2, 2]]
    assert vox.offsets.tolist() == [0, 2, 4, 5, 6]
    assert vox.point_idx.tolist() == [0, 2, 1, 4, 3, 5]
    assert vox.counts.tolist() == [2, 2, 1, 1]
    assert vox.first_point.tolist() == [0, 1, 3, 5]
    p2v = vox.p2v_map()
    assert p2v.dtype == np.int32
    assert p2v.tolist() == [[2, 0, 2], [2, 1, 4], [1, 3, 0], [1, 5, 0]]


def test_three_columns_is_one_grid() -> None:
    coords = torch.tensor([[3, 0, 0], [0, 0, 0], [3, 0, 0]])
    vox = voxelize(coords)
    assert vox.v2p.tolist() == [0, 1, 0]
    assert vox.voxel_coords.tolist() == [[3, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize("wide", [False, True])
def test_matches_literal_hash_map_scan(wide: bool) -> None:
    rng = np.random.default_rng(0)
    coords = np.concatenate([rng.integers(0, 2, (3000, 1)), rng.integers(0, 6, (3000, 3))], axis=1)
    if wide:  # coordinates spanning the int32 range: the packed key would overflow int64
        coords[:, 1:] = coords[:, 1:] * 400_000_000 - 1_000_000_000
    vox = voxelize(coords)
    v2p, p2v = _reference_voxelize(coords)
    assert np.array_equal(vox.v2p, v2p)
    assert np.array_equal(vox.p2v_map(), p2v)
    assert np.array_equal(vox.voxel_coords, coords[p2v[:, 1]])


def test_voxel_mean_known_value() -> None:
    """Three points of value 7 in one voxel: fl32(1/3) * 7 = 2.3333335, summed thrice in float32
    gives 7.0000005, not 7 (the official kernel's arithmetic, §2); a lone point keeps its value."""
    vox = voxelize(np.array([[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]]))
    feats = np.array([[7.0], [7.0], [-0.0], [7.0]], dtype=np.float32)
    out = voxel_mean(feats, vox)
    assert out.dtype == np.float32
    assert out[0, 0] == np.float32(7.0000005) and out[0, 0] != np.float32(7.0)
    assert out[1, 0] == 0.0 and not np.signbit(out[1, 0])  # +0 buffer + (-0) = +0 (atomicAdd)


def test_voxel_mean_matches_scalar_transcription() -> None:
    rng = np.random.default_rng(1)
    coords = rng.integers(0, 5, (800, 3))
    feats = (rng.standard_normal((800, 4)) * 10.0 ** rng.integers(-3, 4, (800, 1))).astype(np.float32)
    vox = voxelize(coords)
    assert _same_bits(voxel_mean(feats, vox), _scalar_voxel_mean(feats, vox.p2v_map()))
    got_t = voxel_mean(torch.from_numpy(feats), vox)
    assert isinstance(got_t, torch.Tensor) and _same_bits(got_t.numpy(), voxel_mean(feats, vox))


def test_bad_inputs() -> None:
    with pytest.raises(TypeError):
        voxelize(np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError):
        voxelize(np.zeros((3, 5), np.int64))
    with pytest.raises(ValueError):
        voxelize(np.array([[0, 2**31, 0]]))
    vox = voxelize(np.zeros((2, 3), np.int64))
    with pytest.raises(TypeError):
        voxel_mean(np.zeros((2, 1)), vox)
    with pytest.raises(ValueError):
        voxel_mean(np.zeros((3, 1), np.float32), vox)


def test_empty_input() -> None:
    vox = voxelize(np.zeros((0, 4), np.int64))
    assert isinstance(vox, Voxels) and vox.num_voxels == 0
    assert vox.p2v_map().shape == (0, 1)
    assert voxel_mean(np.zeros((0, 3), np.float32), vox).shape == (0, 3)


# --------------------------------------------------------------------------------------------
# golden data recorded from the official ops
# --------------------------------------------------------------------------------------------


def test_golden_op_case(golden_dir: Path) -> None:
    with np.load(golden_dir / "op_cases.npz") as z:
        vox = voxelize(torch.from_numpy(z["vox__coords"]))
        assert np.array_equal(vox.voxel_coords, z["vox__voxel_coords"])
        assert np.array_equal(vox.v2p, z["vox__v2p_map"])
        assert np.array_equal(vox.p2v_map(), z["vox__p2v_map"])
        assert _same_bits(voxel_mean(z["vox__feats"], vox), z["vox__voxel_feats"])  # bit-exact


def test_golden_room_scene(golden_dir: Path) -> None:
    """The official preprocessing of room30k: maps and the backbone input features (§9.5, §9.7)."""
    with np.load(golden_dir / "room30k_official.npz") as r:
        # Each point's integer coordinates are those of its voxel (all points of a voxel agree).
        coords = r["in_voxel_coords"][r["in_v2p_map"]]
        vox = voxelize(coords)
        assert np.array_equal(vox.voxel_coords, r["in_voxel_coords"])
        assert np.array_equal(vox.v2p, r["in_v2p_map"])
        assert np.array_equal(vox.p2v_map(), r["in_p2v_map"])
        assert _same_bits(voxel_mean(r["in_coords_float"], vox), r["voxel_coords_float"])
        feats = np.concatenate([r["in_feats"], r["in_coords_float"]], axis=1)
        assert _same_bits(voxel_mean(feats, vox), r["voxel_input_feats"])


@pytest.mark.parametrize(
    "ids",
    [
        np.array([5, 3, 5, 0, 9, 3]),
        np.array([-4, 7, -4, 2]),  # negative ids: the sort path
        np.array([10**12, 3, 10**12]),  # sparse huge ids: the sort path
        np.array([], dtype=np.int64),
    ],
)
def test_dense_ranks_equal_unique_inverse(ids):
    from isbnet_trt.isbnet.preprocess import dense_ranks

    got = dense_ranks(ids)
    assert got.dtype == np.int64 and np.array_equal(got, np.unique(ids, return_inverse=True)[1].reshape(-1))
