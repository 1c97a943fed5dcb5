"""The model's `scatter_mean` (`isbnet/geometry.py`) vs torch_scatter's CPU semantics
(`official_semantics.md` §7), and its sequential segment sums.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.geometry import scatter_mean, segment_sum_sequential


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a, np.float32).view(np.int32), np.asarray(b, np.float32).view(np.int32))


def _torch_scatter_mean(src: torch.Tensor, index: torch.Tensor, dim_size: int) -> torch.Tensor:
    """torch_scatter's CPU scatter_mean, spelled out with torch's scatter_add_ (§7)."""
    src2 = src.reshape(src.shape[0], -1)
    out = torch.zeros(dim_size, src2.shape[1], dtype=src.dtype)
    out.scatter_add_(0, index[:, None].expand_as(src2), src2)
    count = torch.zeros(dim_size, dtype=src.dtype).scatter_add_(
        0, index, torch.ones_like(index, dtype=src.dtype)
    )
    count[count < 1] = 1
    return (out / count[:, None]).reshape((dim_size,) + src.shape[1:])


def test_scatter_mean_empty_segments_and_order() -> None:
    src = torch.tensor([1.0, 1e8, 3.0, -1e8, 5.0], dtype=torch.float32)
    index = torch.tensor([0, 0, 2, 0, 2])
    got = scatter_mean(src, index, dim_size=4)
    # segment 0 sums sequentially: (1 + 1e8) == 1e8 in float32, minus 1e8 -> 0 (another order
    # could give 1/3); segments 1 and 3 are empty -> 0; segment 2 -> 4.
    assert got.tolist() == [0.0, 0.0, 4.0, 0.0]
    assert scatter_mean(src, index).shape == (3,)
    with pytest.raises(ValueError):
        scatter_mean(src, index, dim_size=2)


@pytest.mark.parametrize("shape", [(5000,), (5000, 7)])
def test_scatter_mean_matches_torch_scatter_on_cpu(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(8)
    src = torch.from_numpy(
        (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)).astype(np.float32)
    )
    index = torch.from_numpy(rng.integers(0, 60, shape[0]))
    got = scatter_mean(src, index, dim_size=64)
    assert got.dtype == torch.float32 and got.shape == (64,) + shape[1:]
    assert _same_bits(got.numpy(), _torch_scatter_mean(src, index, 64).numpy())


def test_segment_sum_sequential_is_sequential() -> None:
    rng = np.random.default_rng(9)
    counts = np.concatenate([rng.integers(0, 5, 40), [300, 120, 50]])  # short ones, then a long tail
    offsets = np.concatenate([[0], np.cumsum(counts)])
    values = (rng.standard_normal((offsets[-1], 3)) * 10.0 ** rng.integers(-4, 5, (offsets[-1], 1))).astype(
        np.float32
    )
    got = segment_sum_sequential(values, offsets)
    for s in range(counts.size):
        acc = np.zeros(3, dtype=np.float32)
        for row in values[offsets[s] : offsets[s + 1]]:
            acc = acc + row  # float32 + float32
        assert _same_bits(got[s], acc)
