"""ONNX function body of `isbnet::SparseConv3d` (standard ops, opset 17; docs/ops/SparseConv3d.md).

Gather with a zero row for -1, then one MatMul over all K offsets (an im2col: simple and exact,
but it reads and multiplies every offset, active or not; memory `N_out * K * C_in` floats).
float16 accumulates in float32. Imports onnx: the op's reference and CPU kernel do not.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from isbnet_trt.plugins.onnx_body import Builder, i64, make_function

__all__ = ["sparse_conv3d_body"]


def sparse_conv3d_body() -> onnx.FunctionProto:
    b = Builder("sc")
    f = b.op("Cast", "features", to=TensorProto.FLOAT)  # float16 accumulates in float32
    w = b.op("Cast", "weight", to=TensorProto.FLOAT)
    f_shape, w_shape, m_shape = b.op("Shape", f), b.op("Shape", w), b.op("Shape", "kernel_map")
    n_in = b.op("Gather", f_shape, b.const(i64([0])), axis=0)
    c_in = b.op("Gather", f_shape, b.const(i64([1])), axis=0)
    zero_row = b.op("ConstantOfShape", b.op("Concat", b.const(i64([1])), c_in, axis=0))
    padded = b.op("Concat", f, zero_row, axis=0)  # row N_in is the zero row
    none = b.op("Less", "kernel_map", b.const(np.int32(0)))
    idx = b.op("Where", none, b.op("Cast", b.op("Squeeze", n_in), to=TensorProto.INT32), "kernel_map")
    gathered = b.op("Gather", padded, idx, axis=0)  # (N_out, K, C_in)
    n_out = b.op("Gather", m_shape, b.const(i64([0])), axis=0)
    kc = b.op("Mul", b.op("Gather", w_shape, b.const(i64([0])), axis=0), c_in)
    c_out = b.op("Gather", w_shape, b.const(i64([2])), axis=0)
    flat = b.op("Reshape", gathered, b.op("Concat", n_out, kc, axis=0))  # explicit: N_out may be 0
    w2 = b.op("Reshape", w, b.op("Concat", kc, c_out, axis=0))
    out = b.op("MatMul", flat, w2)
    b.nodes.append(helper.make_node("CastLike", [out, "features"], ["output"]))
    return make_function("SparseConv3d", b)
