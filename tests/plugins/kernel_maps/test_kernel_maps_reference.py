"""`plugins.kernel_maps.reference`: brute-force dict references on small scenes, invariants on
room-sized ones."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from isbnet_trt.plugins.kernel_maps.reference import (
    DOWN_OFFSETS,
    SUBM_CENTER,
    SUBM_OFFSETS,
    build_unet_maps,
    downsample,
    downsampled_spatial_shape,
    official_spatial_shape,
    subm_map,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "isbnet"))
from _room_scene import room_voxels  # noqa: E402


def clustered_voxels(n: int, seed: int, box: int = 24) -> np.ndarray:
    """(<= n, 3) int32 unique voxels in a small box: random blobs, dense enough for many neighbours."""
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, box, size=(6, 3))
    pts = centres[rng.integers(0, 6, n)] + rng.normal(scale=box / 8, size=(n, 3))
    vox = np.unique(np.clip(np.rint(pts), 0, box).astype(np.int32), axis=0)
    return vox[rng.permutation(len(vox))]


def subm_bruteforce(coords: np.ndarray) -> np.ndarray:
    index = {tuple(c): i for i, c in enumerate(coords.tolist())}
    return np.array(
        [
            [index.get((x + a, y + b, z + c), -1) for a, b, c in SUBM_OFFSETS.tolist()]
            for x, y, z in coords.tolist()
        ],
        dtype=np.int32,
    ).reshape(len(coords), 27)


def downsample_bruteforce(coords: np.ndarray, shape: np.ndarray | None):
    """Dict reference: coarse voxels in first-appearance order, then the down / up tables."""
    limit = None if shape is None else (shape - 2) // 2 + 1
    coarse_index: dict[tuple[int, int, int], int] = {}
    parent_of = []
    for x, y, z in coords.tolist():
        p = (x // 2, y // 2, z // 2)
        if limit is not None and not all(v < lim for v, lim in zip(p, limit.tolist(), strict=True)):
            parent_of.append(-1)
            continue
        parent_of.append(coarse_index.setdefault(p, len(coarse_index)))
    coarse = np.array(list(coarse_index), dtype=np.int32).reshape(-1, 3)
    offsets = [tuple(o) for o in DOWN_OFFSETS.tolist()]
    up = np.full((len(coords), 8), -1, np.int32)
    down = np.full((len(coarse), 8), -1, np.int32)
    for i, (c, p) in enumerate(zip(coords.tolist(), parent_of, strict=True)):
        if p >= 0:
            k = offsets.index(tuple(v - 2 * q for v, q in zip(c, coarse[p].tolist(), strict=True)))
            up[i, k] = p
            down[p, k] = i
    return coarse, down, up


@pytest.fixture(scope="module")
def room() -> np.ndarray:
    """~150k-point room: ~132k voxels, int32, shuffled order."""
    return room_voxels(150_000, seed=3)


def test_offset_conventions():
    i, j, h = np.meshgrid(range(3), range(3), range(3), indexing="ij")
    assert np.array_equal(SUBM_OFFSETS, np.stack([i, j, h], -1).reshape(27, 3) - 1)
    assert SUBM_OFFSETS[SUBM_CENTER].tolist() == [0, 0, 0]
    assert np.array_equal(SUBM_OFFSETS[::-1], -SUBM_OFFSETS)  # column 26 - k is the mirror of k
    i, j, h = np.meshgrid(range(2), range(2), range(2), indexing="ij")
    assert np.array_equal(DOWN_OFFSETS, np.stack([i, j, h], -1).reshape(8, 3))
    assert np.array_equal(DOWN_OFFSETS @ [4, 2, 1], np.arange(8))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dense", [True, False])
def test_subm_map_matches_bruteforce(seed, dense):
    coords = clustered_voxels(3000, seed)
    got = subm_map(coords, max_dense_cells=2**26 if dense else 0)
    assert got.dtype == np.int32 and got.shape == (len(coords), 27)
    assert np.array_equal(got, subm_bruteforce(coords))
    assert (got >= 0).sum() > 6 * len(coords)  # the case is not trivially sparse


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape_kind", ["none", "official", "odd"])
def test_downsample_matches_bruteforce(seed, shape_kind):
    coords = clustered_voxels(3000, seed, box=32)  # coordinates 0..32
    shape = {
        "none": None,
        "official": official_spatial_shape(coords, min_size=8),
        "odd": np.array([34, 33, 34]),
    }
    shape = shape[shape_kind]
    coarse, down, up = downsample(coords, shape)
    ref_coarse, ref_down, ref_up = downsample_bruteforce(coords, shape)
    assert coarse.dtype == down.dtype == up.dtype == np.int32
    assert np.array_equal(coarse, ref_coarse)
    assert np.array_equal(down, ref_down)
    assert np.array_equal(up, ref_up)
    if shape_kind == "odd":  # voxels at y == 32 have no parent in spconv's 16-wide coarse grid
        assert np.array_equal((up < 0).all(1), coords[:, 1] == 32) and (coords[:, 1] == 32).any()


def test_downsample_numbering_is_first_appearance():
    coords = np.array([[5, 5, 5], [0, 0, 1], [4, 4, 4], [1, 1, 0], [9, 0, 0]])
    coarse, down, up = downsample(coords)
    assert coarse.tolist() == [[2, 2, 2], [0, 0, 0], [4, 0, 0]]
    assert up[:, [7, 1, 0, 6, 4]].diagonal().tolist() == [0, 1, 0, 1, 2]
    assert down.tolist() == [
        [2, -1, -1, -1, -1, -1, -1, 0],
        [-1, 1, -1, -1, -1, -1, 3, -1],
        [-1] * 4 + [4] + [-1] * 3,
    ]


def test_subm_map_invariants_on_room(room):
    kmap = subm_map(room)
    m = len(room)
    assert np.array_equal(kmap[:, SUBM_CENTER], np.arange(m))
    assert np.array_equal(kmap, subm_map(room, max_dense_cells=0))  # both search paths agree
    rows, ks = np.nonzero(kmap >= 0)
    nb = kmap[rows, ks]
    assert np.array_equal(room[nb], room[rows] + SUBM_OFFSETS[ks])  # neighbour sits at x + offset
    assert np.array_equal(kmap[nb, 26 - ks], rows)  # symmetric
    # Completeness: the number of hits equals the number of (voxel, offset) pairs whose target exists.
    keys = {tuple(c) for c in room[:2000].tolist()}
    sub = subm_map(room[:2000])
    assert (sub >= 0).sum() == sum(
        (x + a, y + b, z + c) in keys for x, y, z in keys for a, b, c in SUBM_OFFSETS
    )
    assert 3 < len(rows) / m < 27


def test_downsample_invariants_on_room(room):
    coords = room + np.array([0, 1, 0], np.int32)  # makes the y extent odd: some voxels dropped
    shape = official_spatial_shape(coords)
    assert shape[1] % 2 == 1
    coarse, down, up = downsample(coords, shape)
    kept = (coords // 2 < downsampled_spatial_shape(shape)).all(1)
    assert 0 < (~kept).sum() < len(coords) // 5  # a whole wall layer can sit at y == S - 1
    assert np.array_equal((up >= 0).sum(1), kept.astype(int))  # one parent per kept voxel
    x, k = np.nonzero(up >= 0)
    parent = up[x, k]
    assert np.array_equal(coords[x] - 2 * coarse[parent], DOWN_OFFSETS[k])
    assert np.array_equal(down[parent, k], x)
    assert (down >= 0).sum() == kept.sum()
    assert np.array_equal(np.unique(coarse, axis=0), np.unique(coords[kept] // 2, axis=0))
    first_child = np.where(down >= 0, down, len(coords)).min(1)
    assert (np.diff(first_child) > 0).all()  # coarse voxels numbered by first appearance


def test_build_speed_on_room(room):
    """No Python loops over voxels: generous bounds (shared 2-core CI machines), ~30 ms each measured."""
    shape = official_spatial_shape(room)
    for fn in (lambda: subm_map(room), lambda: downsample(room, shape)):
        fn()
        t0 = time.perf_counter()
        fn()
        assert time.perf_counter() - t0 < 0.5


def test_build_unet_maps(room):
    levels = build_unet_maps(room, 7)
    assert len(levels) == 7
    assert np.array_equal(levels[0].coords, room)
    assert levels[0].spatial_shape.tolist() == official_spatial_shape(room).tolist()
    for fine, coarse in zip(levels[:-1], levels[1:], strict=True):
        c, d, u = downsample(fine.coords, fine.spatial_shape)
        assert (
            np.array_equal(coarse.coords, c) and np.array_equal(fine.down, d) and np.array_equal(fine.up, u)
        )
        assert np.array_equal(coarse.spatial_shape, (fine.spatial_shape - 2) // 2 + 1)
        assert fine.subm.shape == (fine.num_voxels, 27) and fine.up.shape == (fine.num_voxels, 8)
        assert fine.down.shape == (coarse.num_voxels, 8)
    assert levels[-1].down is None and levels[-1].up is None
    assert np.array_equal(levels[-1].subm, subm_map(levels[-1].coords))
    assert (levels[-1].spatial_shape >= 2).all()


def test_build_unet_maps_small_scene_uses_min_shape():
    coords = clustered_voxels(500, 0, box=20)
    levels = build_unet_maps(coords, 7)
    assert [lv.spatial_shape.tolist() for lv in levels] == [[s] * 3 for s in (128, 64, 32, 16, 8, 4, 2)]
    assert levels[-1].num_voxels == 1


def test_empty_and_single():
    empty = np.zeros((0, 3), np.int32)
    assert subm_map(empty).shape == (0, 27)
    coarse, down, up = downsample(empty)
    assert coarse.shape == (0, 3) and down.shape == (0, 8) and up.shape == (0, 8)
    one = np.array([[3, 0, 7]])
    assert subm_map(one).tolist() == [[-1] * 13 + [0] + [-1] * 13]
    coarse, down, up = downsample(one)
    assert coarse.tolist() == [[1, 0, 3]] and up[0].tolist() == [-1] * 5 + [0] + [-1] * 2


@pytest.mark.parametrize(
    ("coords", "message"),
    [
        (np.array([[0, 1, -1]]), "non-negative"),
        (np.zeros((3, 2), np.int32), r"shape \(M, 3\)"),
        (np.zeros((2, 3), np.float32), "integers"),
        (np.array([[1, 2, 3], [0, 0, 0], [1, 2, 3]]), "duplicate"),
    ],
)
def test_bad_coords_raise(coords, message):
    with pytest.raises(ValueError, match=message):
        subm_map(coords)
    with pytest.raises(ValueError, match=message):
        downsample(coords)
    if message == "duplicate":
        with pytest.raises(ValueError, match=message):
            subm_map(coords, max_dense_cells=0)


def test_coords_outside_spatial_shape_raise():
    with pytest.raises(ValueError, match="outside spatial_shape"):
        downsample(np.array([[0, 0, 5]]), spatial_shape=(8, 8, 5))
    with pytest.raises(ValueError, match="num_levels"):
        build_unet_maps(np.array([[0, 0, 0]]), 0)
