"""The PyTorch model with FPS and ball query on the numba CPU kernels of the ops
(`plugins/farthest_point_sample/cpu.py`, `plugins/ball_query/cpu.py`).

    model = load_model("model.pth", "config.yaml")
    model.geometry_ops = NumbaGeometry()      # same results (the kernels implement the op specs)

Only the aggregators' sampling and grouping change; the sparse convs stay PyTorch's. numba is
imported lazily, on the first call (`pip install 'isbnet-trt[cpu]'`). A baseline of the
benchmark (backend `torch-numba`), not a way to deploy: it lives with the benchmarks, not in
`runtime/backends/`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.plugins import cpu as cpu_kernels
from isbnet_trt.runtime.backends import BackendError


class NumbaGeometry:
    """`GeometryOps` on the numba kernels: CPU tensors in, int64 CPU tensors out."""

    def __init__(self) -> None:
        if not cpu_kernels.available():
            raise BackendError("the numba geometry kernels need numba (pip install 'isbnet-trt[cpu]')")

    def farthest_point_sample(self, xyz: Tensor, n_sample: int, variant: str) -> Tensor:
        """xyz `(N, 3)` float32 → `(n_sample,)` int64 (pointnet2: `min(n_sample, N)`)."""
        from isbnet_trt.plugins.farthest_point_sample.cpu import farthest_point_sample

        out = farthest_point_sample(_np32(xyz), n_sample, variant)
        return torch.from_numpy(out.astype(np.int64))

    def ball_query(self, xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
        """xyz `(N, 3)`, centres `(M, 3)` float32 → `(M, n_sample)` int64."""
        from isbnet_trt.plugins.ball_query.cpu import ball_query

        out = ball_query(_np32(xyz), _np32(centres), radius, n_sample)
        return torch.from_numpy(out.astype(np.int64))


def _np32(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)
