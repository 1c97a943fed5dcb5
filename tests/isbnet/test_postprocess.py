"""`isbnet.postprocess.superpoint_vote`: the superpoint-level refinement equals the official
point-level one (`superpoint_refine` of the devoxelised masks) exactly."""

from __future__ import annotations

import pytest
import torch

from isbnet_trt.isbnet.postprocess import superpoint_refine, superpoint_vote


@pytest.mark.parametrize("seed", range(4))
def test_vote_equals_refining_the_point_masks(seed):
    g = torch.Generator().manual_seed(seed)
    n_points, n_vox_spps, n_pt_spps = 5000, 300, 120
    per_point_spp = torch.randint(0, n_vox_spps, (n_points,), generator=g)
    # point superpoints that mostly follow the voxel superpoints, sometimes cut across them
    point_spps = torch.where(
        torch.rand(n_points, generator=g) < 0.8,
        per_point_spp % n_pt_spps,
        torch.randint(0, n_pt_spps, (n_points,), generator=g),
    )
    point_spps[:3] = n_pt_spps - 1  # the largest id occurs
    masks = torch.rand((7, n_vox_spps), generator=g) < torch.rand((7, 1), generator=g)
    masks[0] = False  # an empty mask
    masks[1] = True  # a full one
    expected = superpoint_refine(masks[:, per_point_spp], point_spps, n_pt_spps)
    got = superpoint_vote(masks, per_point_spp, point_spps, n_pt_spps)[:, point_spps]
    assert torch.equal(got, expected)


def test_exact_half_is_in():
    """Mean exactly 0.5 counts as inside (official `>= 0.5`)."""
    per_point_spp = torch.tensor([0, 1, 0, 1])
    point_spps = torch.tensor([0, 0, 1, 1])
    masks = torch.tensor([[True, False]])
    assert superpoint_vote(masks, per_point_spp, point_spps, 2).tolist() == [[True, True]]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("max_count", [3, 3000])  # totals ~4e4 (float32 GEMM), ~3e7 (float64)
def test_nms_intersections_are_the_exact_integers(seed, max_count):
    """The float product gives the int64 one (the official einsum's integers) exactly."""
    from isbnet_trt.isbnet.postprocess import _intersections

    g = torch.Generator().manual_seed(seed)
    masks = torch.rand((40, 20_000), generator=g) < torch.rand((40, 1), generator=g)
    counts = torch.randint(1, max_count, (20_000,), generator=g)
    m = masks.to(torch.int64)
    inter, sizes = _intersections(masks, counts)
    assert torch.equal(inter, (m * counts) @ m.t()) and torch.equal(sizes, (m * counts).sum(1))


@pytest.mark.parametrize("n_rows", [1, 8, 13, 300])  # packed into 1, 1, 2, 38 bytes per column
def test_merged_columns_give_the_same_sizes_and_intersections(n_rows):
    """Merging equal columns (summing their counts) changes no count-weighted product, of all
    rows or of any subset, and leaves only the distinct columns."""
    from isbnet_trt.isbnet.postprocess import _intersections, mask_sizes, merge_equal_columns

    g = torch.Generator().manual_seed(n_rows)
    # local blobs over 20k columns, as masks over voxels are: many columns share a pattern
    centre = torch.randint(0, 20_000, (n_rows, 1), generator=g)
    cols = torch.arange(20_000)[None]
    masks = (cols - centre).abs() < torch.randint(50, 3000, (n_rows, 1), generator=g)
    counts = torch.randint(1, 9, (20_000,), generator=g)
    distinct, merged = merge_equal_columns(masks, counts)
    assert distinct.shape[1] == len(merged) == len(torch.unique(masks, dim=1).t())
    assert int(merged.sum()) == int(counts.sum())
    rows = torch.rand(n_rows, generator=g) < 0.5
    for sel in (torch.ones(n_rows, dtype=torch.bool), rows):
        assert torch.equal(mask_sizes(distinct[sel], merged), mask_sizes(masks[sel], counts))
        got, expected = _intersections(distinct[sel], merged), _intersections(masks[sel], counts)
        assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))
    assert merge_equal_columns(masks[:, :0], counts[:0])[0].shape == (n_rows, 0)


def test_topk_first_seen_keeps_the_lowest_indices_among_ties():
    """torch's CUDA tie rule (the official GPU run): ties at the k-th value go to the lowest
    indices; unsorted output = values above the k-th, then the ties, each in index order."""
    from isbnet_trt.isbnet.postprocess import topk_first_seen

    zeros = torch.tensor([0.0, 0.0, 0.0, 5.0, 0.0, 0.0])
    assert topk_first_seen(zeros, 3).tolist() == [3, 0, 1]
    assert topk_first_seen(torch.tensor([2.0, 5.0, 2.0, 7.0]), 3, sorted=False).tolist() == [1, 3, 0]
    assert topk_first_seen(torch.tensor([2.0, 5.0]), 0, sorted=False).tolist() == []
    values = torch.rand(1000, generator=torch.Generator().manual_seed(0))  # no ties: torch.topk's
    assert torch.equal(topk_first_seen(values, 300), torch.topk(values, 300).indices)
    top = torch.topk(values, 300).indices  # the k-th value alone is "equal": written last
    expected = torch.cat([torch.sort(top[:-1]).values, top[-1:]])
    assert torch.equal(topk_first_seen(values, 300, sorted=False), expected)
