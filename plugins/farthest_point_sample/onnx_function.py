"""ONNX function body of `isbnet::FarthestPointSample` (standard ops, opset 17;
docs/ops/FarthestPointSample.md).

A Loop over the samples carrying the running minima; the arg-max is the spec's thread /
bit-reversal tie rule as an ArgMin over precomputed keys `bitrev(k mod B) * N + k`. Distances use
the exact `fma_f32` of `plugins/onnx_body.py`. Imports onnx: the op's reference and CPU kernel
do not.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.onnx_body import AT, Builder, i64, make_function, sqdist, value_info

__all__ = ["farthest_point_sample_body"]

_CAP = spec.FPS_BLOCK_CAP
_POW2 = i64([1 << i for i in range(max(_CAP.values()).bit_length())])  # block sizes 1 .. 1024


def farthest_point_sample_body() -> onnx.FunctionProto:
    b = Builder("fps")
    xyz = b.op("Cast", "xyz", to=TensorProto.FLOAT)
    n_sample = b.attr("n_sample", AT.INT)
    # variant == "pointnet2" <=> Unique([variant, "pointnet2"]) has one element (opset 17 has
    # no string Equal).
    variant = b.op("Reshape", b.attr("variant", AT.STRING), b.const(i64([1])))
    pn2_name = b.const(np.array(["pointnet2"], dtype=object))
    uniq = b.op("Unique", b.op("Concat", variant, pn2_name, axis=0))
    is_pn2 = b.op("Equal", b.op("Size", uniq), b.const(i64(1)))
    n = b.op("Squeeze", b.op("Gather", b.op("Shape", xyz), b.const(i64([0])), axis=0))
    n_out = b.op("Where", is_pn2, b.op("Min", n_sample, n), n_sample)

    # Empty input: "isbnet" -> n_sample zeros, "pointnet2" -> empty (n_out = 0 then).
    empty = b.sub()
    zeros = empty.op("ConstantOfShape", empty.op("Reshape", n_out, empty.const(i64([1]))),
                     value=onnx.numpy_helper.from_array(np.zeros(1, np.int32)))  # fmt: skip
    run = b.sub()
    _fps_loop(run, xyz, n, n_out, is_pn2)
    then_g = helper.make_graph(empty.nodes, "fps_empty", [], [value_info(zeros, TensorProto.INT32, [None])])
    else_g = helper.make_graph(
        run.nodes, "fps_loop", [], [value_info(run.nodes[-1].output[0], TensorProto.INT32, [None])]
    )
    b.nodes.append(
        helper.make_node(
            "If", [b.op("Equal", n, b.const(i64(0)))], ["indices"], then_branch=then_g, else_branch=else_g
        )
    )
    return make_function("FarthestPointSample", b)


def _fps_loop(b: Builder, xyz: str, n: str, n_out: str, is_pn2: str) -> None:
    """Nodes computing the samples of a non-empty xyz; the last node's output is the result."""
    cap = b.op("Where", is_pn2, b.const(i64(_CAP["pointnet2"])), b.const(i64(_CAP["isbnet"])))
    pows = b.const(_POW2)
    fits = b.op("LessOrEqual", pows, n)
    block = b.op("Min", b.op("ReduceMax", b.op("Where", fits, pows, b.const(i64(1))), keepdims=0), cap)
    larger = b.op("LessOrEqual", b.const(_POW2[1:]), block)
    n_bits = b.op("ReduceSum", b.op("Cast", larger, to=TensorProto.INT64), keepdims=0)  # log2(B)
    # key[k] = bitrev(k mod B) * N + k: the tie rule is "smallest key among the maxima".
    k = b.op("Range", b.const(i64(0)), n, b.const(i64(1)))
    t = b.op("Unsqueeze", b.op("Mod", k, block), b.const(i64([1])))  # (N, 1)
    i = b.const(i64(list(range(_POW2.size))))
    bit = b.op("Mod", b.op("Div", t, pows), b.const(i64(2)))  # (N, 11): bit i of t
    shift = b.op("Max", b.op("Sub", b.op("Sub", n_bits, b.const(i64(1))), i), b.const(i64(0)))
    place = b.op("Where", b.op("Less", i, n_bits), b.op("Gather", pows, shift), b.const(i64(0)))  # 2^(L-1-i)
    rev = b.op("ReduceSum", b.op("Mul", bit, place), b.const(i64([1])), keepdims=0)
    key = b.op("Add", b.op("Mul", rev, n), k)
    # Running minima: 1e10 for valid points, -1 for points pointnet2 skips (|p|^2 <= 1e-3).
    mag = b.op("Cast", sqdist(b, xyz), to=TensorProto.DOUBLE)
    skip = b.op("And", is_pn2, b.op("LessOrEqual", mag, b.const(np.float64(spec.FPS_PN2_ORIGIN_EPS))))
    tmp0 = b.op("Where", skip, b.const(np.float32(-1.0)), b.const(np.float32(spec.FPS_INIT)))

    body = b.sub()
    tmp_new = body.op(
        "Min", sqdist(body, body.op("Sub", xyz, body.op("Gather", xyz, "fps_old", axis=0))), "fps_tmp"
    )
    is_max = body.op("Equal", tmp_new, body.op("ReduceMax", tmp_new, keepdims=0))
    masked = body.op("Where", is_max, key, body.const(i64(np.iinfo(np.int64).max)))
    win = body.op("ArgMin", masked, axis=0, keepdims=0)
    cond_out = body.op("Identity", "fps_cond")
    win_scan = body.op("Identity", win)
    body_g = helper.make_graph(
        body.nodes,
        "fps_step",
        [value_info("fps_iter", TensorProto.INT64, []), value_info("fps_cond", TensorProto.BOOL, []),
         value_info("fps_tmp", TensorProto.FLOAT, [None]), value_info("fps_old", TensorProto.INT64, [])],
        [value_info(cond_out, TensorProto.BOOL, []), value_info(tmp_new, TensorProto.FLOAT, [None]),
         value_info(win, TensorProto.INT64, []), value_info(win_scan, TensorProto.INT64, [])],
    )  # fmt: skip
    trips = b.op("Max", b.op("Sub", n_out, b.const(i64(1))), b.const(i64(0)))
    _, _, picks = b.op("Loop", trips, b.const(np.bool_(True)), tmp0, b.const(i64(0)), n_out=3, body=body_g)
    picks = b.op("Reshape", picks, b.const(i64([-1])))  # (n_out - 1,) even for zero trips
    picks = b.op("Concat", b.const(i64([0])), picks, axis=0)  # slot 0 is point 0, if n_out > 0
    picks = b.op("Slice", picks, b.const(i64([0])), b.op("Reshape", n_out, b.const(i64([1]))))
    b.op("Cast", picks, to=TensorProto.INT32)
