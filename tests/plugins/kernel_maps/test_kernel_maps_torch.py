"""`plugins.kernel_maps.torch_maps`: the PyTorch builder gives exactly the NumPy builder's tables
(checked on the CPU; the GPU check repeats the comparison on CUDA)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from isbnet_trt.plugins.kernel_maps import reference, torch_maps

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "isbnet"))
from _room_scene import room_voxels  # noqa: E402


@pytest.mark.parametrize("n_points", [0, 1, 500, 20_000])
def test_unet_maps_equal_the_numpy_builder(n_points):
    vox = room_voxels(n_points) if n_points else np.zeros((0, 3), np.int32)
    if n_points == 1:
        vox = np.array([[3, 0, 7]], np.int32)
    shape = reference.official_spatial_shape(vox) if len(vox) else np.array([128, 128, 128])
    ref = reference.build_unet_maps(vox, 7, shape)
    got = torch_maps.build_unet_maps(torch.from_numpy(vox), 7, shape)
    assert len(got) == len(ref)
    for r, g in zip(ref, got, strict=True):
        assert np.array_equal(g.coords.numpy(), r.coords)
        assert np.array_equal(g.spatial_shape, r.spatial_shape)
        for name in ("subm", "down", "up"):
            a, b = getattr(r, name), getattr(g, name)
            assert (a is None) == (b is None), name
            if a is not None:
                assert b.dtype == torch.int32 and np.array_equal(b.numpy(), a), name


def test_odd_spatial_shape_drops_the_last_plane_like_spconv():
    vox = np.array([[0, 0, 0], [4, 1, 1], [1, 0, 0]], np.int32)
    for shape in ([5, 8, 8], [6, 8, 8]):
        ref = reference.downsample(vox, np.array(shape))
        got = torch_maps.downsample(torch.from_numpy(vox), shape)
        for a, b in zip(ref, got, strict=True):
            assert np.array_equal(b.numpy(), a)


def test_bad_coords_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        torch_maps.subm_map(torch.tensor([[1, 2, 3], [1, 2, 3]]))
    with pytest.raises(ValueError, match="duplicate"):
        torch_maps.downsample(torch.tensor([[1, 2, 3], [1, 2, 3]]))
    with pytest.raises(ValueError, match="non-negative"):
        torch_maps.subm_map(torch.tensor([[-1, 0, 0]]))
    with pytest.raises(ValueError, match="integers"):
        torch_maps.subm_map(torch.zeros(2, 3))
