"""`CudaGeometry`: the two geometry ops on our CUDA kernels, plugged into the reference model
(`ISBNet(cfg, geometry_ops=CudaGeometry())`, the `GeometryOps` protocol of `isbnet.aggregator`).
"""

from __future__ import annotations

from torch import Tensor

from isbnet_trt.plugins.ball_query.cuda import ball_query
from isbnet_trt.plugins.farthest_point_sample.cuda import farthest_point_sample

__all__ = ["CudaGeometry"]


class CudaGeometry:
    """`GeometryOps` (isbnet.aggregator) on our CUDA kernels; indices come back as int64 like the
    reference ops. Inputs must be CUDA tensors."""

    def farthest_point_sample(self, xyz: Tensor, n_sample: int, variant: str) -> Tensor:
        return farthest_point_sample(xyz, n_sample, variant).long()

    def ball_query(self, xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
        return ball_query(xyz, centres, radius, n_sample).long()
