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
    from isbnet_trt.isbnet.kernel_map import build_unet_maps

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

    from isbnet_trt.isbnet.config import load_config
    from isbnet_trt.isbnet.kernel_map import LevelMaps
    from isbnet_trt.isbnet.model import ISBNet
    from isbnet_trt.isbnet.sparse_conv import LevelPairs
    from isbnet_trt.runtime.backends.torch_spconv import SpconvStages

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
