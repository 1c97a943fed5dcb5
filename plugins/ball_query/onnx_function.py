"""ONNX function body of `isbnet::BallQuery` (standard ops, opset 17; docs/ops/BallQuery.md).

A Loop over the centres; per centre, TopK of the smallest accepted indices, padded with the first
hit (zeros without one). Distances use the exact `fma_f32` of `plugins/onnx_body.py`. Imports
onnx: the op's reference and CPU kernel do not.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from isbnet_trt.plugins.onnx_body import AT, Builder, i64, make_function, sqdist, value_info

__all__ = ["ball_query_body"]


def ball_query_body() -> onnx.FunctionProto:
    b = Builder("bq")
    xyz = b.op("Cast", "xyz", to=TensorProto.FLOAT)
    centres = b.op("Cast", "centres", to=TensorProto.FLOAT)
    r = b.attr("radius", AT.FLOAT)
    r2 = b.op("Mul", r, r)  # fl32(fl32(r) * fl32(r))
    n_sample = b.op("Reshape", b.attr("n_sample", AT.INT), b.const(i64([1])))
    n = b.op("Squeeze", b.op("Gather", b.op("Shape", xyz), b.const(i64([0])), axis=0))
    m = b.op("Gather", b.op("Shape", centres), b.const(i64([0])), axis=0)
    k = b.op("Range", b.const(i64(0)), n, b.const(i64(1)))

    body = b.sub()
    c = body.op("Gather", centres, "bq_iter", axis=0)
    hit = body.op("Less", sqdist(body, body.op("Sub", c, xyz)), r2)
    n_top = b.op("Max", n_sample, b.const(i64([1])))  # >= 1 so that `first` exists; sliced below
    pad = body.op("Expand", n, n_top)  # n_top keys "none" (= N): TopK always has enough
    keys = body.op("Concat", body.op("Where", hit, k, n), pad, axis=0)
    first_k, _ = body.op("TopK", keys, n_top, largest=0, sorted=1, n_out=2)
    first = body.op("Gather", first_k, body.const(i64(0)), axis=0)
    row = body.op("Where", body.op("Less", first_k, n), first_k, first)  # pad with the first hit
    row = body.op("Where", body.op("Less", first, n), row, body.const(i64(0)))  # no hit: zeros
    row = body.op("Slice", row, body.const(i64([0])), n_sample)  # n_sample = 0: empty rows
    cond_out = body.op("Identity", "bq_cond")
    body_g = helper.make_graph(
        body.nodes,
        "bq_step",
        [value_info("bq_iter", TensorProto.INT64, []), value_info("bq_cond", TensorProto.BOOL, [])],
        [value_info(cond_out, TensorProto.BOOL, []), value_info(row, TensorProto.INT64, [None])],
    )
    rows = b.op("Loop", b.op("Squeeze", m), b.const(np.bool_(True)), body=body_g)
    shape = b.op("Concat", m, n_sample, axis=0)
    shaped = b.op("Reshape", rows, shape, allowzero=1)  # (M, n_sample) even for M = 0 or n_sample = 0
    b.nodes.append(helper.make_node("Cast", [shaped], ["indices"], to=TensorProto.INT32))
    return make_function("BallQuery", b)
