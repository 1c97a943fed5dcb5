"""The CPU kernels as onnxruntime custom ops, through onnxruntime-extensions' Python ops.

onnxruntime-extensions runs Python functions as custom ops of one fixed domain,
`ai.onnx.contrib` (`PYOP_DOMAIN`). We register our kernels there under prefixed names
(`PYOP_NAMES`, so they cannot clash with the extensions' own ops), and a session that wants
them loads a copy of its model whose `isbnet::` nodes are renamed (`use_fast_kernels`,
in memory only; files on disk keep the `isbnet` domain and its function bodies).

Registration is process-wide in onnxruntime-extensions; `library_path()` does it once
(idempotent) and only sessions whose model was rewritten ever reach our ops.

Errors: an exception escaping a Python op terminates the process (onnxruntime-extensions
rethrows it where nothing catches it). Our ops therefore never raise: a failing kernel
returns zeros of its output shape and leaves its message in a per-thread slot, which the
caller reads with `take_error()` right after `session.run` (sessions must run sequentially,
so the ops run on the calling thread).

Speed: the extensions' stock Python-op hook returns outputs as Python lists (0.4 s for a
120k x 32 float tensor). For our ops only, a hook that hands numpy arrays back is installed
(one memcpy); any other Python op keeps the stock path. If the extensions' internals ever
change, the stock hook stays and the ops are merely slower.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from isbnet_trt.plugins import spec

#: onnxruntime-extensions' domain for Python ops (fixed by the library).
PYOP_DOMAIN = "ai.onnx.contrib"
#: `isbnet` op type -> Python-op name in `PYOP_DOMAIN`.
PYOP_NAMES = {name: f"Isbnet{name}" for name in spec.OPS}
#: numpy dtype of each ONNX element type (the CPU kernels take the first of an input's types).
_NUMPY = {"FLOAT": np.float32, "FLOAT16": np.float16, "INT32": np.int32}


_last_error = threading.local()


def take_error() -> str | None:
    """The first error an op of ours reported on this thread since the last call, or None."""
    message = getattr(_last_error, "message", None)
    _last_error.message = None
    return message


def _guarded(name: str, kernel: Callable[..., np.ndarray], empty: Callable[..., np.ndarray]):
    """`kernel`, made unable to raise: on error, record it and return `empty(...)`."""

    def run(*args: Any, **attrs: Any) -> np.ndarray:
        try:
            return kernel(*args, **attrs)
        except Exception as e:  # noqa: BLE001 - anything escaping would abort the process
            if getattr(_last_error, "message", None) is None:
                _last_error.message = f"isbnet::{name}: {e}"
            try:
                return empty(*args, **attrs)
            except Exception:  # noqa: BLE001 - inputs too broken to size the output
                return np.zeros(0, dtype=np.float32)

    return run


def _zeros(op: spec.OpSpec, *args: np.ndarray, **attrs: Any) -> np.ndarray:
    """The output of a failed kernel: zeros of the spec's output shape (one output per op)."""
    shape = spec.output_shape(op.name, [np.shape(a) for a in args], attrs)[0]
    return np.zeros(shape, _NUMPY[op.outputs[0].types[0]])


def set_threads(n: int) -> None:
    """Threads of the kernels launched from the calling thread (numba's setting is per thread,
    and our ops run on the thread that calls `session.run`)."""
    import numba

    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))


def available() -> bool:
    """True when numba and onnxruntime-extensions are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("numba", "onnxruntime_extensions"))


@functools.cache
def library_path() -> str:
    """Register the ops (first call only) and return the custom-op library path to pass to
    `onnxruntime.SessionOptions.register_custom_ops_library`."""
    from onnxruntime_extensions import PyCustomOpDef, get_library_path, onnx_op

    from isbnet_trt.plugins.ball_query.cpu import ball_query
    from isbnet_trt.plugins.farthest_point_sample.cpu import farthest_point_sample
    from isbnet_trt.plugins.sparse_conv.cpu import sparse_conv3d

    dtypes = {
        "FLOAT": PyCustomOpDef.dt_float,
        "INT32": PyCustomOpDef.dt_int32,
        "int": PyCustomOpDef.dt_int64,
        "float": PyCustomOpDef.dt_float,
        "string": PyCustomOpDef.dt_string,
    }
    kernels = {
        "SparseConv3d": sparse_conv3d,
        "FarthestPointSample": farthest_point_sample,
        "BallQuery": ball_query,
    }
    ops = []
    for name, op in spec.OPS.items():
        body = _guarded(name, kernels[name], functools.partial(_zeros, op))
        ops.append(
            onnx_op(
                op_type=PYOP_NAMES[name],
                inputs=[dtypes[t.types[0]] for t in op.inputs],
                outputs=[dtypes[t.types[0]] for t in op.outputs],
                attrs={a.name: dtypes[a.kind] for a in op.attributes} or None,
            )(body)
        )
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
