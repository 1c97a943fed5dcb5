"""Preprocessing steps of `isbnet.preprocess` not covered by the golden case."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from isbnet_trt.isbnet.preprocess import ROTATION_CHUNK_ROWS, TEST_ROTATION, rotate_for_test


@pytest.mark.parametrize(
    "n", [1, ROTATION_CHUNK_ROWS - 1, ROTATION_CHUNK_ROWS + 1, 3 * ROTATION_CHUNK_ROWS + 5]
)
def test_test_rotation_in_chunks_is_one_matmul(n):
    """`rotate_for_test` calls `np.matmul` per block of rows (to keep BLAS single-threaded):
    the result must be the one-call `np.matmul`, bit for bit."""
    coords = np.random.default_rng(n).standard_normal((n, 3)) * 4
    c, s = math.cos(TEST_ROTATION), math.sin(TEST_ROTATION)
    m = np.matmul(np.eye(3), [[c, s, 0], [-s, c, 0], [0, 0, 1]])
    assert np.array_equal(rotate_for_test(coords), np.matmul(coords, m))


def _s3dis_room_on_odd_grid(cfg):
    """Raw S3DIS-frame points (the official `.pth` content: `centred=True`) whose per-part grid
    is odd along x, with voxels of parts 0-2 on its last x coordinate."""
    from isbnet_trt.isbnet.preprocess import prepare_scene

    rng = np.random.default_rng(0)
    for length in np.linspace(3.0, 4.0, 41):
        xyz = rng.uniform([0, 0, 0], [length, 3.0, 2.5], (40_000, 3))
        points = np.concatenate([xyz, rng.uniform(0, 255, (40_000, 3))], 1)
        scene = prepare_scene(points, None, cfg, centred=True)
        part, local = scene.voxels.voxel_coords[:, 0], scene.voxels.voxel_coords[:, 1:]
        shape = np.maximum(local.max(0) + 1, cfg.min_spatial_shape)
        if shape[0] % 2 and all((local[part == p, 0] == shape[0] - 1).any() for p in range(3)):
            return scene, part, local, shape
    raise AssertionError("no room with an odd per-part grid")


def test_x4_split_parts_are_convolved_on_their_own_grid(fixtures_dir):
    """S3DIS `x4_split`: the official `forward_4_parts` runs each part as its own sparse tensor
    on the shared grid S, so spconv's stride-2 conv drops the voxels on the last x of an odd S in
    every part. The merged maps are each part's own maps (rows and entries offset), and parts
    0-2 lose those voxels too (side by side in one wider grid they would keep a parent)."""
    from isbnet_trt.isbnet.config import load_config
    from isbnet_trt.plugins.kernel_maps.reference import build_unet_maps

    cfg = load_config(fixtures_dir / "official_configs" / "isbnet_s3dis_area5.yaml")
    scene, part, local, shape = _s3dis_room_on_odd_grid(cfg)
    own = [build_unet_maps(local[part == p], cfg.num_blocks, shape) for p in range(4)]
    step = (scene.spatial_shape[0] - shape[0]) // 3  # x distance of the parts at level 0
    for level, merged in enumerate(scene.maps):
        rows = np.cumsum([0] + [maps[level].num_voxels for maps in own])
        rows_next = np.cumsum([0] + [maps[min(level + 1, cfg.num_blocks - 1)].num_voxels for maps in own])
        for p, maps in enumerate(own):
            lm, sl = maps[level], slice(rows[p], rows[p + 1])
            assert np.array_equal(merged.coords[sl] - [(p * step) >> level, 0, 0], lm.coords)
            assert np.array_equal(merged.subm[sl], np.where(lm.subm >= 0, lm.subm + rows[p], -1))
            if lm.down is not None:
                nxt = slice(rows_next[p], rows_next[p + 1])
                assert np.array_equal(merged.down[nxt], np.where(lm.down >= 0, lm.down + rows[p], -1))
                assert np.array_equal(merged.up[sl], np.where(lm.up >= 0, lm.up + rows_next[p], -1))
    orphans = (local[:, 0] == shape[0] - 1) & (part <= 2)
    assert orphans.any() and (scene.maps[0].up[orphans] == -1).all()


def test_x4_split_unet_equals_spconv_per_part(fixtures_dir):
    """The U-Net of the S3DIS model (random weights) on the merged x4 scene equals spconv run on
    each part alone on the official grid S (`forward_4_parts`), within fp32 tolerance."""
    pytest.importorskip("spconv.pytorch")
    import torch

    from isbnet_trt.benchmarks.torch_spconv import SpconvStages
    from isbnet_trt.isbnet.config import load_config
    from isbnet_trt.isbnet.model import ISBNet
    from isbnet_trt.plugins.kernel_maps import LevelMaps
    from isbnet_trt.plugins.sparse_conv.reference import LevelPairs

    cfg = load_config(fixtures_dir / "official_configs" / "isbnet_s3dis_area5.yaml")
    scene, part, local, shape = _s3dis_room_on_odd_grid(cfg)
    torch.manual_seed(0)
    # The U-Net does not depend on x4_split; SpconvStages refuses x4 configs (it runs one grid).
    model = ISBNet(dataclasses.replace(cfg, test=dataclasses.replace(cfg.test, x4_split=False))).eval()
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)):
            bn.running_mean.uniform_(-0.1, 0.1), bn.running_var.uniform_(0.5, 1.5)
        levels = LevelPairs.from_level_maps(scene.maps)
        ours = model.unet(model.input_conv[0](scene.voxel_feats, levels[0].subm), levels)
        reference = SpconvStages(model, threads=1)
        for p in range(4):
            sel = part == p
            alone = LevelMaps(local[sel].astype(np.int32), shape, None, None, None)
            theirs = reference.unet(scene.voxel_feats[torch.from_numpy(sel)], alone)
            torch.testing.assert_close(ours[torch.from_numpy(sel)], theirs, rtol=1e-4, atol=1e-4)


#: What each official preparation script stores in its `*_inst_nostuff.pth` for raw xyz (metres)
#: and rgb (0..255), written from the scripts: the reference for `official_preparation`.
OFFICIAL_STORED = {
    "scannetv2": lambda xyz, rgb: (xyz - xyz.mean(0), rgb / 127.5 - 1),
    "scannet200": lambda xyz, rgb: (xyz, rgb / 127.5 - 1),
    "s3dis": lambda xyz, rgb: (xyz.astype(np.float32), rgb.astype(np.float32)),
    "stpls3d": lambda xyz, rgb: (np.float32(xyz - xyz.mean(0)), np.float32(rgb / 127.5 - 1)),
}


@pytest.mark.parametrize(
    ("config", "dataset"),
    [
        ("isbnet_scannetv2.yaml", "scannetv2"),
        ("isbnet_scannet200.yaml", "scannet200"),
        ("isbnet_s3dis_area5.yaml", "s3dis"),
        ("isbnet_stpls3d.yaml", "stpls3d"),
    ],
)
def test_raw_points_are_prepared_as_the_dataset_script_stores_them(fixtures_dir, config, dataset):
    """Raw points give the scene that the official file of the config's dataset gives
    (`centred=True`): not centred for ScanNet200 and S3DIS, raw colours for S3DIS, float32
    storage for S3DIS and STPLS3D."""
    from isbnet_trt.isbnet.config import load_config
    from isbnet_trt.isbnet.preprocess import prepare_scene
    from isbnet_trt.runtime.torch_preprocess import scene_differences
    from isbnet_trt.training.synthetic import generate_room

    cfg = load_config(fixtures_dir / "official_configs" / config)
    assert cfg.dataset_name == dataset
    room = generate_room(6000, seed=3)
    xyz = room.points[:, :3].astype(np.float64) + [12.3, -4.56, 0.789]  # a frame far from centred
    rgb = room.points[:, 3:6].astype(np.float64)
    stored = np.concatenate([np.asarray(a, np.float64) for a in OFFICIAL_STORED[dataset](xyz, rgb)], 1)
    raw = prepare_scene(np.concatenate([xyz, rgb], 1), room.superpoints, cfg)
    assert scene_differences(prepare_scene(stored, room.superpoints, cfg, centred=True), raw) == []
    centred = dataset in ("scannetv2", "stpls3d")
    assert (abs(float(raw.coords_float.mean())) < 1.0) == centred
    assert (float(raw.feats.max()) > 1.0) == (dataset == "s3dis")
