"""The CPU kernels as onnxruntime custom ops, through onnxruntime-extensions' Python ops.

onnxruntime-extensions runs Python functions as custom ops of one fixed domain,
`ai.onnx.contrib` (`PYOP_DOMAIN`). We register our kernels there under prefixed names
(`PYOP_NAMES`, so they cannot clash with the extensions' own ops), and a session that wants
them loads a copy of its model whose `isbnet::` nodes are renamed (`use_fast_kernels`,
in memory only; files on disk keep the `isbnet` domain and its function bodies).

Registration is process-wide in onnxruntime-extensions; `library_path()` does it once
(idempotent) and only sessions whose model was rewritten ever reach our ops.

Speed: the extensions' stock Python-op hook returns outputs as Python lists (0.4 s for a
120k x 32 float tensor). For our ops only, a hook that hands numpy arrays back is installed
(one memcpy); any other Python op keeps the stock path. If the extensions' internals ever
change, the stock hook stays and the ops are merely slower.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

import numpy as np

#: onnxruntime-extensions' domain for Python ops (fixed by the library).
PYOP_DOMAIN = "ai.onnx.contrib"
#: `isbnet` op type -> Python-op name in `PYOP_DOMAIN`.
PYOP_NAMES = {
    "SparseConv3d": "IsbnetSparseConv3d",
    "FarthestPointSample": "IsbnetFarthestPointSample",
    "BallQuery": "IsbnetBallQuery",
}


def available() -> bool:
    """True when numba and onnxruntime-extensions are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("numba", "onnxruntime_extensions"))


@functools.cache
def library_path() -> str:
    """Register the ops (first call only) and return the custom-op library path to pass to
    `onnxruntime.SessionOptions.register_custom_ops_library`."""
    from onnxruntime_extensions import PyCustomOpDef, get_library_path, onnx_op

    from isbnet_trt.plugins.cpu.ball_query import ball_query
    from isbnet_trt.plugins.cpu.fps import farthest_point_sample
    from isbnet_trt.plugins.cpu.sparse_conv import sparse_conv3d

    f32, i32, i64, s = (
        PyCustomOpDef.dt_float,
        PyCustomOpDef.dt_int32,
        PyCustomOpDef.dt_int64,
        PyCustomOpDef.dt_string,
    )

    def conv(features: np.ndarray, kernel_map: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return sparse_conv3d(features, kernel_map, weight)

    def fps(xyz: np.ndarray, n_sample: int, variant: str) -> np.ndarray:
        return farthest_point_sample(xyz, n_sample, variant)

    def bq(xyz: np.ndarray, centres: np.ndarray, radius: float, n_sample: int) -> np.ndarray:
        return ball_query(xyz, centres, radius, n_sample)

    ops = [
        onnx_op(op_type=PYOP_NAMES["SparseConv3d"], inputs=[f32, i32, f32], outputs=[f32])(conv),
        onnx_op(
            op_type=PYOP_NAMES["FarthestPointSample"],
            inputs=[f32],
            outputs=[i32],
            attrs={"n_sample": i64, "variant": s},
        )(fps),
        onnx_op(
            op_type=PYOP_NAMES["BallQuery"],
            inputs=[f32, f32],
            outputs=[i32],
            attrs={"radius": f32, "n_sample": i64},
        )(bq),
    ]
    _install_array_hook({id(op) for op in ops})
    return get_library_path()


def _install_array_hook(our_ids: set[int]) -> None:
    """Return our ops' outputs to onnxruntime as numpy arrays instead of Python lists."""
    try:
        from onnxruntime_extensions import _ocos

        stock = _ocos._on_pyop_invocation
        registry = _ocos.Opdef._odlist
        hooker = _ocos.PyCustomOpDef.install_hooker
    except (ImportError, AttributeError):  # other extensions version: keep the stock hook
        return

    def hook(k_id: int, feed: Any, attributes: Any) -> tuple:
        if k_id not in our_ids:
            return stock(k_id, feed, attributes)
        op = registry[k_id]
        out = np.ascontiguousarray(op.body(*feed, **op.cast_attributes(attributes)))
        return (k_id, out.shape, out.reshape(-1))

    hooker(hook)
