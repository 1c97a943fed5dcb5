"""ISBNet's point aggregator (official `LocalAggregator`): instance-aware sampling + grouping.

One implementation serves both aggregators; they differ only in the sampler
(`furthestsampling_batchflat` for aggregator 1, pointnet2's FPS with its origin skip for
aggregator 2), the radii and the widths. Layouts follow the official code (features
channel-first `(1, C, m)`) so that the arithmetic is the official one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from isbnet_trt.isbnet.blocks import ConvBNAct, SharedMLP
from isbnet_trt.plugins.ball_query import reference as bq_reference
from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference


class GeometryOps(Protocol):
    """The sampling and grouping ops the aggregators call (reference or a fast twin)."""

    def farthest_point_sample(self, xyz: Tensor, n_sample: int, variant: str) -> Tensor: ...

    def ball_query(self, xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor: ...


class ReferenceGeometry:
    """The exact reference ops: `plugins/{farthest_point_sample,ball_query}/reference.py`."""

    def farthest_point_sample(self, xyz: Tensor, n_sample: int, variant: str) -> Tensor:
        return fps_reference.farthest_point_sample(xyz, n_sample, variant=variant)

    def ball_query(self, xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
        return bq_reference.ball_query(xyz, centres, radius, n_sample)


@dataclass
class Queries:
    """Sampled queries of an aggregator.

    locs `(1, m, 3)` float32, feats `(1, C, m)` float32, boxes `(1, m, 6)` float32 (min xyz,
    max xyz), inds `(m,)` int64 indices of the sampled points into the aggregator's input.
    """

    locs: Tensor
    feats: Tensor
    boxes: Tensor
    inds: Tensor


def group(
    points: Tensor,
    dims: Tensor,
    feats: Tensor,
    centres: Tensor,
    centre_dims: Tensor,
    nb: Tensor,
    radius: float,
) -> Tensor:
    """The official grouping: for each centre, its neighbours `nb` `(m, k)` as
    `[(xyz - centre) / radius, |box dims - centre box dims|, features]` → `(m, k, 6 + C)`.

    points `(N, 3)`, dims `(N, 3)` box sizes, feats `(N, C)`; centres, centre_dims `(m, 3)`.
    """
    return torch.cat(
        [
            (points[nb] - centres[:, None, :]) / radius,
            torch.abs(dims[nb] - centre_dims[:, None, :]),
            feats[nb],
        ],
        dim=-1,
    )


def _channel_first(grouped: Tensor) -> Tensor:
    """`(m, k, C)` → `(1, C, m, k)`, contiguous: the official Conv2d layout."""
    return grouped[None].permute(0, 3, 1, 2).contiguous()


class LocalAggregator(nn.Module):
    def __init__(
        self,
        mlp_dim: int,
        n_sample: int,
        radius: float,
        n_neighbor: int,
        n_neighbor_post: int,
        fps_variant: str,
    ) -> None:
        super().__init__()
        self.n_sample = n_sample
        self.radius = radius
        self.radius_post = 2 * radius
        self.n_neighbor = n_neighbor
        self.n_neighbor_post = n_neighbor_post
        self.fps_variant = fps_variant
        self.mlp_module1 = SharedMLP([mlp_dim + 6, mlp_dim, mlp_dim * 2])
        self.mlp_module2 = SharedMLP([mlp_dim * 2 + 6, mlp_dim * 2], activation=False)
        self.mlp_module3 = nn.Sequential(
            ConvBNAct(mlp_dim * 2, mlp_dim * 2 * 4, dims=1),
            ConvBNAct(mlp_dim * 2 * 4, mlp_dim * 2, dims=1, activation=False),
        )
        self.skip_act = nn.ReLU()

    def forward(
        self, locs: Tensor, feats: Tensor, boxes: Tensor, geo: GeometryOps, n_sample: int | None = None
    ) -> Queries:
        """Sample `n_sample` queries among the points and aggregate their neighbourhoods.

        locs `(N, 3)` float32, feats `(N, C)` float32 (channel-last), boxes `(N, 6)` float32.
        """
        n_sample = self.n_sample if n_sample is None else n_sample
        dim_boxes = boxes[:, 3:] - boxes[:, :3]
        fps_inds = geo.farthest_point_sample(locs, n_sample, self.fps_variant)
        fps_locs, fps_dims, fps_boxes = locs[fps_inds], dim_boxes[fps_inds], boxes[fps_inds]

        # First grouping: neighbours among all points.
        nb = geo.ball_query(locs, fps_locs, self.radius, self.n_neighbor)  # (m, k)
        grouped = group(locs, dim_boxes, feats, fps_locs, fps_dims, nb, self.radius)  # (m, k, C + 6)
        new_feats = self.mlp_module1(_channel_first(grouped))
        new_feats = F.max_pool2d(new_feats, kernel_size=[1, new_feats.size(3)]).squeeze(-1)  # (1, 2C, m)

        # Second grouping: neighbours among the sampled points themselves.
        nb2 = geo.ball_query(fps_locs, fps_locs, self.radius_post, self.n_neighbor_post)  # (m, k2)
        grouped2 = group(fps_locs, fps_dims, new_feats[0].t(), fps_locs, fps_dims, nb2, self.radius_post)
        new_feats2 = self.mlp_module2(_channel_first(grouped2))
        new_feats2 = F.max_pool2d(new_feats2, kernel_size=[1, new_feats2.size(3)]).squeeze(-1)
        out = self.skip_act(self.mlp_module3(new_feats2) + new_feats)
        return Queries(fps_locs[None], out, fps_boxes[None], fps_inds)
