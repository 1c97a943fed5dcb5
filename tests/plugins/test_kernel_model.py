"""The CUDA kernels' selection logic, modelled in NumPy (`kernel_model.py`), against the exact
reference and the official kernels' recorded outputs. Runs on the CPU."""

from __future__ import annotations

import json

import _kernel_model as kernel_model
import numpy as np
import pytest

from isbnet_trt.plugins.ball_query import reference as bq_reference
from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference

FPS_CASES = [
    ("fps_isb_random", "isbnet"),
    ("fps_isb_ties", "isbnet"),
    ("fps_isb_exhaust", "isbnet"),
    ("fps_pn2_random", "pointnet2"),
    ("fps_pn2_ties_origin", "pointnet2"),
    ("fps_pn2_allinvalid", "pointnet2"),
]


@pytest.fixture(scope="module")
def op_cases(golden_dir):
    with np.load(golden_dir / "op_cases.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize(("name", "variant"), FPS_CASES)
@pytest.mark.parametrize(("threads", "blocks"), [(1024, 1), (512, 7)])
def test_fps_key_reproduces_the_official_kernel(op_cases, name, variant, threads, blocks):
    expected = op_cases[f"{name}__idx"]
    got = kernel_model.fps(op_cases[f"{name}__xyz"], expected.size, variant, threads, blocks)
    assert np.array_equal(got, expected.astype(np.int32))


def _grid_points(n: int, seed: int) -> np.ndarray:
    """Integer grid points (many exact ties) plus duplicates and a few points at the origin."""
    rng = np.random.default_rng(seed)
    pts = rng.integers(-6, 7, size=(n, 3)).astype(np.float32) * np.float32(0.01)
    pts[rng.integers(0, n, n // 10)] = 0.0
    return pts


@pytest.mark.parametrize("variant", ["isbnet", "pointnet2"])
@pytest.mark.parametrize(
    ("n", "n_sample", "seed"), [(1, 4, 0), (2, 3, 1), (700, 64, 2), (1500, 300, 3), (3000, 40, 4)]
)
def test_fps_key_equals_reference_on_tie_heavy_sets(variant, n, n_sample, seed):
    xyz = _grid_points(n, seed)
    expected = fps_reference.farthest_point_sample(xyz, n_sample, variant).numpy()
    if variant == "pointnet2":
        expected = expected[: min(n_sample, n)]
    for threads, blocks in [(1024, 1), (96, 3)]:
        got = kernel_model.fps(xyz, n_sample, variant, threads, blocks)
        assert np.array_equal(got, expected), (threads, blocks)


def test_fps_key_order_is_value_then_bitreversed_thread_then_index():
    bits = 3  # B = 8: bit-reversed ids 0,4,2,6,1,5,3,7
    k = np.array([1, 2, 4, 10, 12], np.int64)
    keys = kernel_model.fps_key(np.zeros(5, np.float32), k, bits)
    # thread of k: 1, 2, 4, 2, 4 -> bitrev 4, 2, 1, 2, 1: thread 4 wins, smallest k (4) first
    assert int(np.argmax(keys)) == 2
    assert keys[2] > keys[4] > keys[1] > keys[3] > keys[0]
    assert kernel_model.fps_key(np.float32([1.0]), np.array([9]), bits)[0] > keys.max()


@pytest.mark.parametrize(
    "name", ["bq_isb_random", "bq_isb_empty", "bq_isb_boundary", "bq_pn2_random", "bq_pn2_empty"]
)
def test_ball_query_scan_reproduces_the_official_kernel(op_cases, name):
    desc = json.loads(str(op_cases["index"]))[name]
    radius, n_sample = {"bq_isb_random": (0.2, 32), "bq_isb_empty": (0.2, 32), "bq_isb_boundary": (1.0, 8),
                        "bq_pn2_random": (0.4, 64), "bq_pn2_empty": (0.8, 32)}[name]  # fmt: skip
    assert f"({radius}, {n_sample}," in desc
    got = kernel_model.ball_query(op_cases[f"{name}__xyz"], op_cases[f"{name}__centres"], radius, n_sample)
    assert np.array_equal(got, op_cases[f"{name}__idx"].astype(np.int32))


def test_ball_query_scan_equals_reference_across_chunk_boundaries():
    rng = np.random.default_rng(5)
    xyz = rng.uniform(0, 1, (300, 3)).astype(np.float32)
    centres = xyz[rng.integers(0, 300, 40)]
    for radius, n_sample in [(0.15, 5), (0.3, 33), (2.0, 64), (0.0, 4)]:
        expected = bq_reference.ball_query(xyz, centres, radius, n_sample).numpy()
        assert np.array_equal(kernel_model.ball_query(xyz, centres, radius, n_sample), expected)


def test_sparse_conv_tiling_and_compaction_equal_the_reference():
    import torch

    from isbnet_trt.plugins.sparse_conv.reference import sparse_conv

    rng = np.random.default_rng(7)
    n_in, n_out, k_vol, c_in, c_out = 90, 150, 27, 40, 45  # partial tiles, partial channel slices
    kmap = np.where(rng.random((n_out, k_vol)) < 0.3, rng.integers(0, n_in, (n_out, k_vol)), -1).astype(
        np.int32
    )
    kmap[5] = -1  # an output row without neighbours is zero
    feats = rng.standard_normal((n_in, c_in)).astype(np.float32)
    weight = rng.standard_normal((k_vol, c_in, c_out)).astype(np.float32)
    ref = sparse_conv(torch.from_numpy(feats), kmap, torch.from_numpy(weight)).numpy()
    got = kernel_model.sparse_conv(feats, kmap, weight)
    assert np.all(got[5] == 0)
    assert np.abs(got - ref).max() <= 1e-5 * np.abs(ref).max()
    # The split-K kernel: 4 warps per tile (ISBNET_SPCONV_WARPS), and more warps than offsets.
    for k_splits, kmap_k in ((4, kmap), (4, kmap[:, :2]), (8, kmap[:, :5])):
        w_k = weight[: kmap_k.shape[1]]
        split = kernel_model.sparse_conv(feats, kmap_k, w_k, k_splits)
        ref_k = sparse_conv(torch.from_numpy(feats), kmap_k, torch.from_numpy(w_k)).numpy()
        assert np.abs(split - ref_k).max() <= 1e-5 * np.abs(ref_k).max(), k_splits
