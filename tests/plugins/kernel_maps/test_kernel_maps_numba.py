"""`plugins.kernel_maps.numba_maps`: the numba builder gives exactly the NumPy builder's tables
(`reference`, itself checked against brute force and spconv) and raises its errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from isbnet_trt.plugins.kernel_maps import numba_maps as fast
from isbnet_trt.plugins.kernel_maps import reference

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "isbnet"))
from _room_scene import room_voxels  # noqa: E402

#: U-Net levels of ISBNet (`ModelConfig().num_blocks`).
NUM_LEVELS = 7


def _random_voxels(n: int, seed: int, box: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vox = np.unique(rng.integers(0, box, size=(n, 3)), axis=0)
    return vox[rng.permutation(len(vox))]


def _same_levels(got, ref) -> bool:
    return len(got) == len(ref) and all(
        np.array_equal(g.coords, r.coords)
        and np.array_equal(g.spatial_shape, r.spatial_shape)
        and np.array_equal(g.subm, r.subm)
        and all(
            (getattr(g, k) is None and getattr(r, k) is None) or np.array_equal(getattr(g, k), getattr(r, k))
            for k in ("down", "up")
        )
        for g, r in zip(got, ref, strict=True)
    )


def test_room_maps_equal_the_numpy_builder():
    coords = room_voxels(40_000, seed=4)
    args = (coords, NUM_LEVELS, reference.official_spatial_shape(coords))
    assert _same_levels(fast.build_unet_maps(*args), reference.build_unet_maps(*args))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", ["none", "odd", "tight"])
def test_random_voxels_equal_the_numpy_builder(seed, shape):
    coords = _random_voxels(3000, seed, box=23)
    spatial = {"none": None, "odd": np.array([23, 25, 23]), "tight": coords.max(0) + 1}[shape]
    assert np.array_equal(fast.subm_map(coords), reference.subm_map(coords))
    for got, ref in zip(fast.downsample(coords, spatial), reference.downsample(coords, spatial), strict=True):
        assert got.dtype == ref.dtype and np.array_equal(got, ref)
    assert _same_levels(
        fast.build_unet_maps(coords, 4, spatial), reference.build_unet_maps(coords, 4, spatial)
    )


def test_huge_box_falls_back_to_the_numpy_builder():
    coords = np.array([[0, 0, 0], [1, 0, 0], [5000, 5000, 5000], [5001, 5000, 5001]])
    assert np.array_equal(fast.subm_map(coords), reference.subm_map(coords))
    for got, ref in zip(fast.downsample(coords), reference.downsample(coords), strict=True):
        assert np.array_equal(got, ref)


def test_empty_and_errors():
    empty = np.zeros((0, 3), np.int32)
    assert fast.subm_map(empty).shape == (0, 27)
    assert [a.shape for a in fast.downsample(empty)] == [(0, 3), (0, 8), (0, 8)]
    dup = np.array([[1, 2, 3], [0, 0, 0], [1, 2, 3]])
    for fn in (fast.subm_map, fast.downsample):
        with pytest.raises(ValueError, match="duplicate"):
            fn(dup)
    with pytest.raises(ValueError, match="non-negative"):
        fast.subm_map(np.array([[0, -1, 0]]))
    with pytest.raises(ValueError, match="num_levels"):
        fast.build_unet_maps(np.array([[0, 0, 0]]), 0)
