"""The PyTorch preprocessing (`runtime.torch_preprocess`) prepares exactly the NumPy reference's
scene, bit for bit (checked on the CPU; benchmarks/gpu_check.py repeats it on CUDA)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet import voxelize as np_voxelize
from isbnet_trt.isbnet.config import load_config
from isbnet_trt.isbnet.demo import demo_config_path
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.runtime import torch_preprocess


def assert_same_scene(ref, got):
    assert torch_preprocess.scene_differences(ref, got) == []
    assert all(isinstance(level, LevelMaps) and isinstance(level.subm, torch.Tensor) for level in got.maps)


@pytest.mark.parametrize(
    "config",
    [
        "demo.yaml",  # bundled: runs without ../shared
        "isbnet_lightweight_scannetv2.yaml",
        "isbnet_scannet200.yaml",
        "isbnet_s3dis_area5.yaml",
        "isbnet_stpls3d.yaml",
    ],
)
@pytest.mark.parametrize("with_superpoints", [True, False])
def test_same_scene_as_numpy(request, room, config, with_superpoints):
    if config == "demo.yaml":
        cfg = load_config(demo_config_path())
    else:
        cfg = load_config(request.getfixturevalue("fixtures_dir") / "official_configs" / config)
    spp = room.superpoints if with_superpoints else None
    ref = prepare_scene(room.points, spp, cfg)
    assert_same_scene(ref, torch_preprocess.TorchPreprocessor("cpu")(room.points, spp, cfg))


def test_centred_input(golden_ckpt, room):
    cfg = load_config(golden_ckpt[1])  # the official lightweight config, or the demo's without ../shared
    pts = room.points.copy()
    pts[:, :3] -= pts[:, :3].mean(0)
    pts[:, 3:] = pts[:, 3:] / 127.5 - 1
    ref = prepare_scene(pts, room.superpoints, cfg, centred=True)
    assert_same_scene(ref, torch_preprocess.TorchPreprocessor("cpu")(pts, room.superpoints, cfg, True))


@pytest.mark.parametrize("n", [1, 7, 3000])
def test_voxelize_equals_numpy_with_crowded_voxels(n):
    rng = np.random.default_rng(n)
    coords = rng.integers(0, 6, size=(n, 3))  # few cells: many points per voxel, many slots
    ref = np_voxelize.voxelize(coords)
    got = torch_preprocess.voxelize(torch.from_numpy(coords)).numpy()
    for name in ("voxel_coords", "v2p", "offsets", "point_idx"):
        assert np.array_equal(getattr(ref, name), getattr(got, name)), name
    feats = rng.standard_normal((n, 5)).astype(np.float32) * 10
    vox_t = torch_preprocess.voxelize(torch.from_numpy(coords))
    means = torch_preprocess.voxel_mean(torch.from_numpy(feats), vox_t)
    assert np.array_equal(means.numpy(), np_voxelize.voxel_mean(feats, ref))  # bit for bit


def test_voxelize_edge_cases():
    empty = torch_preprocess.voxelize(torch.zeros((0, 3), dtype=torch.int64))
    assert empty.v2p.numel() == 0 and empty.offsets.tolist() == [0]
    assert torch_preprocess.voxel_mean(torch.zeros((0, 2)), empty).shape == (0, 2)
    with pytest.raises(ValueError, match="int32"):
        torch_preprocess.voxelize(torch.tensor([[0, 0, 2**31]]))
    with pytest.raises(TypeError, match="integers"):
        torch_preprocess.voxelize(torch.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        torch_preprocess.voxelize(torch.zeros((2, 4), dtype=torch.int64))
    vox = torch_preprocess.voxelize(torch.zeros((3, 3), dtype=torch.int64))
    with pytest.raises(TypeError, match="float32"):
        torch_preprocess.voxel_mean(torch.zeros((3, 2), dtype=torch.float64), vox)
    with pytest.raises(ValueError, match=r"\(3, C\)"):
        torch_preprocess.voxel_mean(torch.zeros((2, 2)), vox)


def test_scene_differences_names_what_differs(golden_ckpt, room):
    cfg = load_config(golden_ckpt[1])
    ref = prepare_scene(room.points, room.superpoints, cfg)
    assert torch_preprocess.scene_differences(ref, ref) == []
    feats = ref.voxel_feats.clone()
    feats[3, 1] = torch.nextafter(feats[3, 1], torch.tensor(2.0))  # one ulp
    subm = ref.maps[1].subm.copy()
    subm[0, 0] = -2
    maps = [ref.maps[0], replace(ref.maps[1], subm=subm), *ref.maps[2:]]
    got = replace(ref, voxel_feats=feats, point_spps=None, maps=maps)
    assert torch_preprocess.scene_differences(ref, got) == ["voxel_feats", "point_spps", "maps[1].subm"]
    assert torch_preprocess.scene_differences(ref, replace(ref, v2p=ref.v2p.int())) == ["v2p"]  # dtype
