"""Shared pieces of the numba CPU kernels of the `isbnet::` ops (docs/ops/*.md): FMA emulation
(`_fma`), register tiles (`_tile`), kernel-map row masks (`_rowmask`). The kernels live with their op:

| op | module |
| --- | --- |
| `SparseConv3d` | `plugins.sparse_conv.cpu.sparse_conv3d` |
| `FarthestPointSample` | `plugins.farthest_point_sample.cpu.farthest_point_sample` |
| `BallQuery` | `plugins.ball_query.cpu.ball_query` |

numpy in, numpy out; the kernels import numba, so import them only after `available()`.
Compiled code is cached on disk by numba (`cache=True`), so only the first process compiles.
"""

from __future__ import annotations

import importlib.util


def available() -> bool:
    """True when numba is installed (the kernels' only dependency besides numpy)."""
    return importlib.util.find_spec("numba") is not None
