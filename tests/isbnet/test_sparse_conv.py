"""Pure-PyTorch sparse conv vs spconv 2.x (1 thread), vs dense conv3d, and vs its plain reference.

Tolerance: features and weights are unit-scale (|x| ~ 1, weights ~ U(+-1/sqrt(fan_in))), outputs
~ 1; fp32 sums of at most 27 * C_in terms in a different order than spconv's: `atol = rtol = 1e-5`.
Measured on 29k-225k-voxel rooms: submanifold max |diff| 1e-7..4e-7; the strided and inverse convs
are bit-identical to spconv (same per-offset order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _room_scene import room_voxels

from isbnet_trt.isbnet.sparse_conv import (
    Conv1x1,
    SparseConv3d,
    SparseInverseConv3d,
    SubMConv3d,
    kcc_to_spconv_weight,
    spconv_weight_to_kcc,
)
from isbnet_trt.plugins.kernel_maps.reference import (
    build_unet_maps,
    downsample,
    official_spatial_shape,
    subm_map,
)
from isbnet_trt.plugins.sparse_conv.reference import (
    KernelPairs,
    LevelPairs,
    sparse_conv,
    sparse_conv_reference,
)

ATOL = RTOL = 1e-5


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """spconv 2.3.8 CPU is only correct with one torch thread (spconv#679)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def spconv_tensor(features: torch.Tensor, coords: np.ndarray, shape: np.ndarray):
    spconv = pytest.importorskip("spconv.pytorch")
    idx = np.concatenate([np.zeros((len(coords), 1), np.int32), coords.astype(np.int32)], 1)
    return spconv.SparseConvTensor(features, torch.from_numpy(idx), shape.tolist(), 1)


def match_rows(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """perm with ours[perm] == theirs (row sets must be equal)."""
    assert len(ours) == len(theirs)
    o, t = np.lexsort(ours.T[::-1]), np.lexsort(theirs.T[::-1])
    assert np.array_equal(ours[o], theirs[t])
    perm = np.empty(len(ours), np.int64)
    perm[t] = o
    return perm


def assert_close(ours: torch.Tensor, ref: torch.Tensor) -> None:
    torch.testing.assert_close(ours, ref, atol=ATOL, rtol=RTOL)


@pytest.fixture(scope="module", params=[30_000, 150_000], ids=["room29k", "room130k"])
def room(request) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled room voxels and an official spatial shape with an odd y extent (drops a wall layer)."""
    coords = room_voxels(request.param, seed=7)
    coords[:, 1] += coords[:, 1].max() % 2  # y extent max + 1 odd
    shape = official_spatial_shape(coords)
    assert shape[1] % 2 == 1
    return coords, shape


def test_weight_layout_round_trip():
    w = torch.randn(16, 3, 3, 3, 6)
    kcc = spconv_weight_to_kcc(w)
    assert kcc.shape == (27, 6, 16)
    assert torch.equal(kcc[1 * 9 + 2 * 3 + 0], w[:, 1, 2, 0, :].T)
    assert torch.equal(kcc_to_spconv_weight(kcc, 3), w)
    with pytest.raises(ValueError, match="kernel_size"):
        kcc_to_spconv_weight(kcc, 2)


def test_modules_have_official_parameters():
    cases = [(SubMConv3d(6, 16), (16, 3, 3, 3, 6)), (SparseConv3d(16, 32), (32, 2, 2, 2, 16))]
    cases += [(SparseInverseConv3d(32, 16), (16, 2, 2, 2, 32)), (Conv1x1(64, 32), (32, 1, 1, 1, 64))]
    for module, shape in cases:
        assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == {"weight": shape}


def test_conv1x1_is_matmul():
    m = Conv1x1(5, 3)
    x = torch.randn(11, 5)
    assert_close(m(x), x @ m.weight[:, 0, 0, 0, :].T)


# --- dense conv3d: an independent second reference on a tiny grid ----------------------------


def dense_grid(features: torch.Tensor, coords: np.ndarray, size: int) -> torch.Tensor:
    grid = torch.zeros(1, features.shape[1], size, size, size, dtype=features.dtype)
    x, y, z = torch.from_numpy(coords.astype(np.int64)).T
    grid[0, :, x, y, z] = features.T
    return grid


def torch_weight(w: torch.Tensor) -> torch.Tensor:
    """spconv [C_out, kx, ky, kz, C_in] -> conv3d [C_out, C_in, kx, ky, kz]."""
    return w.permute(0, 4, 1, 2, 3)


def test_against_dense_conv3d():
    rng = np.random.default_rng(0)
    size = 12
    coords = np.unique(rng.integers(0, size, (500, 3)), axis=0).astype(np.int32)
    x = torch.randn(len(coords), 4, dtype=torch.float64)
    cx, cy, cz = torch.from_numpy(coords.astype(np.int64)).T
    subm = SubMConv3d(4, 5).double()
    dense = F.conv3d(dense_grid(x, coords, size), torch_weight(subm.weight), padding=1)
    assert_close(subm(x, subm_map(coords)), dense[0, :, cx, cy, cz].T)

    coarse, down, up = downsample(coords)
    conv = SparseConv3d(4, 6).double()
    dense = F.conv3d(dense_grid(x, coords, size), torch_weight(conv.weight), stride=2)
    px, py, pz = torch.from_numpy(coarse.astype(np.int64)).T
    y = conv(x, down)
    assert_close(y, dense[0, :, px, py, pz].T)

    inv = SparseInverseConv3d(6, 4).double()
    # Inverse conv == transposed conv (weight [C_in, C_out, k, k, k]) read at the fine voxels.
    dense = F.conv_transpose3d(dense_grid(y, coarse, size // 2), inv.weight.permute(4, 0, 1, 2, 3), stride=2)
    assert_close(inv(y, up), dense[0, :, cx, cy, cz].T)


# --- spconv, one conv type at a time, on rooms of ~29k and ~130k voxels -----------------------


def test_subm_vs_spconv(room):
    spconv = pytest.importorskip("spconv.pytorch")
    coords, shape = room
    torch.manual_seed(0)
    x = torch.randn(len(coords), 32)
    ref_conv = spconv.SubMConv3d(32, 32, 3, padding=1, bias=False)
    ours = SubMConv3d(32, 32)
    ours.weight.data.copy_(ref_conv.weight.data)
    with torch.no_grad(), single_thread():
        ref = ref_conv(spconv_tensor(x, coords, shape)).features
    with torch.no_grad():
        assert_close(ours(x, subm_map(coords)), ref)


def test_down_and_inverse_vs_spconv(room):
    spconv = pytest.importorskip("spconv.pytorch")
    coords, shape = room
    torch.manual_seed(1)
    x = torch.randn(len(coords), 16)
    down_ref = spconv.SparseConv3d(16, 32, 2, stride=2, bias=False, indice_key="sp1")
    inv_ref = spconv.SparseInverseConv3d(32, 16, 2, bias=False, indice_key="sp1")
    with torch.no_grad(), single_thread():
        y_ref = down_ref(spconv_tensor(x, coords, shape))
        z_ref = inv_ref(y_ref)
    coarse, down, up = downsample(coords, shape)
    down_ours, inv_ours = SparseConv3d(16, 32), SparseInverseConv3d(32, 16)
    down_ours.weight.data.copy_(down_ref.weight.data)
    inv_ours.weight.data.copy_(inv_ref.weight.data)
    perm = match_rows(coarse, y_ref.indices[:, 1:].numpy())  # spconv numbers coarse voxels its own way
    assert np.array_equal(z_ref.indices[:, 1:].numpy(), coords)  # inverse conv returns the fine order
    with torch.no_grad():
        y = down_ours(x, down)
        assert_close(y[perm], y_ref.features)
        z = inv_ours(y, up)
    assert_close(z, z_ref.features)
    dropped = torch.from_numpy((up < 0).all(1))
    assert dropped.any() and torch.equal(z_ref.features[dropped], torch.zeros_like(z[dropped]))


def test_unet_chain_vs_spconv():
    """down -> subm -> down -> subm -> up -> up with indice keys, ReLU in between, vs spconv."""
    spconv = pytest.importorskip("spconv.pytorch")
    coords = room_voxels(60_000, seed=11)
    coords[:, 0] += coords[:, 0].max() % 2
    levels = build_unet_maps(coords, 3)
    assert levels[0].spatial_shape[0] % 2 == 1
    torch.manual_seed(2)
    ch = (8, 16, 24)
    ref = {
        "d0": spconv.SparseConv3d(ch[0], ch[1], 2, stride=2, bias=False, indice_key="sp0"),
        "s1": spconv.SubMConv3d(ch[1], ch[1], 3, padding=1, bias=False, indice_key="subm1"),
        "d1": spconv.SparseConv3d(ch[1], ch[2], 2, stride=2, bias=False, indice_key="sp1"),
        "s2": spconv.SubMConv3d(ch[2], ch[2], 3, padding=1, bias=False, indice_key="subm2"),
        "u1": spconv.SparseInverseConv3d(ch[2], ch[1], 2, bias=False, indice_key="sp1"),
        "u0": spconv.SparseInverseConv3d(ch[1], ch[0], 2, bias=False, indice_key="sp0"),
    }
    ours = {
        "d0": SparseConv3d(ch[0], ch[1]),
        "s1": SubMConv3d(ch[1], ch[1]),
        "d1": SparseConv3d(ch[1], ch[2]),
        "s2": SubMConv3d(ch[2], ch[2]),
        "u1": SparseInverseConv3d(ch[2], ch[1]),
        "u0": SparseInverseConv3d(ch[1], ch[0]),
    }
    for name, module in ours.items():
        module.weight.data.copy_(ref[name].weight.data)
    x = torch.randn(len(coords), ch[0])
    with torch.no_grad(), single_thread():
        t = spconv_tensor(x, coords, levels[0].spatial_shape)
        for name in ("d0", "s1", "d1", "s2", "u1", "u0"):
            t = ref[name](t)
            t = t.replace_feature(torch.relu(t.features))
    pairs = LevelPairs.from_level_maps(levels)
    with torch.no_grad():
        y = x
        for name, maps in (("d0", pairs[0].down), ("s1", pairs[1].subm), ("d1", pairs[1].down)):
            y = torch.relu(ours[name](y, maps))
        for name, maps in (("s2", pairs[2].subm), ("u1", pairs[1].up), ("u0", pairs[0].up)):
            y = torch.relu(ours[name](y, maps))
    assert np.array_equal(t.indices[:, 1:].numpy(), coords)
    assert_close(y, t.features)
    assert (y != 0).float().mean() > 0.2


# --- the op itself: pair cache, edge cases, determinism, autograd -----------------------------


def random_table(n_out: int, n_in: int, k: int, density: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    table = torch.randint(0, n_in, (n_out, k), generator=g, dtype=torch.int32)
    return torch.where(torch.rand(n_out, k, generator=g) < density, table, -1)


@pytest.mark.parametrize("block_rows", [1, 7, 64, 4096])
def test_pairs_match_plain_reference(block_rows):
    coords = room_voxels(3_000, seed=5)
    kmap = subm_map(coords)
    x = torch.randn(len(coords), 12)
    w = torch.randn(27, 12, 10)
    pairs = KernelPairs.build(kmap, block_rows=block_rows)
    assert pairs.identity == 13
    assert_close(sparse_conv(x, pairs, w), sparse_conv_reference(x, kmap, w))
    table = random_table(300, 40, 8, 0.3, seed=block_rows)  # strided-like: no identity column
    assert KernelPairs.build(table, block_rows=block_rows).identity is None
    w8 = torch.randn(8, 12, 10)
    assert_close(sparse_conv(x[:40], table, w8), sparse_conv_reference(x[:40], table, w8))


def test_edge_cases():
    w = torch.randn(8, 3, 5)
    empty_rows = torch.full((6, 8), -1, dtype=torch.int32)
    assert torch.equal(sparse_conv(torch.randn(4, 3), empty_rows, w), torch.zeros(6, 5))
    assert sparse_conv(torch.randn(4, 3), torch.zeros(0, 8, dtype=torch.int32), w).shape == (0, 5)
    assert sparse_conv(torch.zeros(0, 3), empty_rows, w).shape == (6, 5)
    with pytest.raises(ValueError, match="offsets"):
        sparse_conv(torch.randn(4, 3), empty_rows, torch.randn(27, 3, 5))
    with pytest.raises(ValueError, match="channels"):
        sparse_conv(torch.randn(4, 2), empty_rows, w)
    with pytest.raises(ValueError, match="input row 9"):
        sparse_conv(torch.randn(4, 3), torch.full((2, 8), 9, dtype=torch.int32), w)
    with pytest.raises(ValueError, match=">= -1"):
        sparse_conv(torch.randn(4, 3), torch.full((2, 8), -2, dtype=torch.int32), w)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_dtypes(dtype):
    coords = room_voxels(2_000, seed=6)
    kmap = subm_map(coords)
    x, w = torch.randn(len(coords), 8), torch.randn(27, 8, 4)
    y = sparse_conv(x.to(dtype), kmap, w.to(dtype))
    assert y.dtype == dtype
    ref = sparse_conv_reference(x.to(dtype).double(), kmap, w.to(dtype).double())
    torch.testing.assert_close(y, ref.to(dtype))  # the dtype's default tolerance: about 1 ulp


def test_deterministic_and_thread_independent():
    coords = room_voxels(30_000, seed=9)
    pairs = KernelPairs.build(subm_map(coords))
    x, w = torch.randn(len(coords), 32), torch.randn(27, 32, 32)
    with single_thread():
        one = sparse_conv(x, pairs, w)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = [sparse_conv(x, pairs, w) for _ in range(2)]
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(two[0], two[1])
    assert_close(one, two[0])


def test_autograd():
    coords = room_voxels(2_000, seed=4)
    kmap = subm_map(coords)
    pairs = KernelPairs.build(kmap, block_rows=300)
    x = torch.randn(len(coords), 6, requires_grad=True)
    w = torch.randn(27, 6, 4, requires_grad=True)
    grad_out = torch.randn(len(coords), 4)
    ours = torch.autograd.grad(sparse_conv(x, pairs, w), (x, w), grad_out)
    ref = torch.autograd.grad(sparse_conv_reference(x, kmap, w), (x, w), grad_out)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-5)
    small = KernelPairs.build(subm_map(coords[:30]), block_rows=8)
    xd = torch.randn(30, 2, dtype=torch.float64, requires_grad=True)
    wd = torch.randn(27, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: sparse_conv(a, small, b), (xd, wd))


@pytest.mark.gpu
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    coords = room_voxels(30_000, seed=12)
    levels = build_unet_maps(coords, 2)
    x, w = torch.randn(len(coords), 32), torch.randn(27, 32, 32)
    cpu = sparse_conv(x, levels[0].subm, w)
    pairs = LevelPairs.from_level_maps(levels, device="cuda")
    torch.testing.assert_close(
        sparse_conv(x.cuda(), pairs[0].subm, w.cuda()).cpu(), cpu, atol=1e-4, rtol=1e-4
    )
    with pytest.raises(ValueError, match="KernelPairs on"):
        sparse_conv(x, pairs[0].subm, w)
