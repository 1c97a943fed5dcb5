"""CPU kernels of the `isbnet::` ops (numba), implementing `docs/ops/*.md` exactly.

| op | module |
| --- | --- |
| `SparseConv3d` | `sparse_conv.sparse_conv3d` |
| `FarthestPointSample` | `fps.farthest_point_sample` |
| `BallQuery` | `ball_query.ball_query` |

numpy in, numpy out; the kernels import numba, so import them only after `available()`.
Compiled code is cached on disk by numba (`cache=True`), so only the first process compiles.
"""

from __future__ import annotations

import importlib.util


def available() -> bool:
    """True when numba is installed (the kernels' only dependency besides numpy)."""
    return importlib.util.find_spec("numba") is not None
