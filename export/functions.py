"""ONNX function bodies of the `isbnet::` ops, made of standard ops (opset 17).

Every exported `isbnet::` node carries its body as a model-local function, so plain
onnxruntime (or any ONNX tool) runs the graphs with nothing of ours installed. The bodies
follow the op specs (`docs/ops/*.md`) exactly, index outputs included:

* `SparseConv3d`: gather with a zero row for -1, then one MatMul over all K offsets
  (an im2col: simple and exact, but it reads and multiplies every offset, active or not;
  memory `N_out * K * C_in` floats).
* `FarthestPointSample`: a Loop over the samples carrying the running minima; the arg-max
  is the spec's thread/bit-reversal tie rule as an ArgMin over precomputed keys
  `bitrev(k mod B) * N + k`.
* `BallQuery`: a Loop over the centres; per centre, TopK of the smallest accepted indices.

Distances use `fma_f32`, an exact emulation of `fmaf` with float64 arithmetic (see there).
"""

from __future__ import annotations

import itertools

import numpy as np
import onnx
from onnx import TensorProto, helper

from isbnet_trt.plugins import spec

#: Opset of the standard ops inside the bodies (the models' default domain is >= this).
BODY_OPSET = 17
_AT = onnx.AttributeProto


class _Builder:
    """Nodes of one function body (and its subgraphs), with unique generated value names."""

    def __init__(self, prefix: str, parent: _Builder | None = None) -> None:
        self.prefix = prefix
        self.parent = parent
        self.counter: itertools.count = parent.counter if parent else itertools.count()
        self.nodes: list[onnx.NodeProto] = []
        self._consts: dict[tuple, str] = {}

    def sub(self) -> _Builder:
        """A builder for a subgraph (Loop body, If branch): same name counter, and it sees the
        enclosing graphs' constants (outer-scope values are visible in subgraphs)."""
        return _Builder(self.prefix, self)

    def name(self) -> str:
        return f"{self.prefix}_{next(self.counter)}"

    def op(self, op_type: str, *inputs: str, n_out: int = 1, **attrs: object) -> str | list[str]:
        outs = [self.name() for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, value: np.ndarray | float | int) -> str:
        """A Constant, made once per value (duplicates would be merged by onnxruntime, which
        then warns that it cannot rename them inside subgraphs)."""
        arr = np.asarray(value)
        key = (arr.dtype.str, arr.shape, arr.tobytes() if arr.dtype != object else tuple(arr.ravel()))
        scope: _Builder | None = self
        while scope is not None:
            if key in scope._consts:
                return scope._consts[key]
            scope = scope.parent
        out = self.name()
        self.nodes.append(helper.make_node("Constant", [], [out], value=onnx.numpy_helper.from_array(arr)))
        self._consts[key] = out
        return out

    def attr(self, attr_name: str, attr_type: int) -> str:
        """A scalar Constant holding the function's attribute `attr_name`."""
        field = {_AT.INT: "value_int", _AT.FLOAT: "value_float", _AT.STRING: "value_string"}[attr_type]
        out = self.name()
        node = helper.make_node("Constant", [], [out])
        node.attribute.append(helper.make_attribute_ref(field, attr_type))
        node.attribute[0].ref_attr_name = attr_name
        self.nodes.append(node)
        return out


def _i64(v: int | list[int]) -> np.ndarray:
    return np.asarray(v, dtype=np.int64)


# ------------------------------------------------------------------------- exact fmaf
def fma_f32(b: _Builder, x: str, y: str, z: str) -> str:
    """`fmaf(x, y, z)` of float32 tensors, rounded once, with standard ops only.

    The float64 product of two float32 is exact; the float64 sum `s` is exact up to its
    TwoSum error `e`. Rounding `s` to float32 is then correct unless `s` is exactly halfway
    between two float32 (a midpoint) while `e != 0`: the true sum lies beyond the midpoint on
    `e`'s side, so the result is the float32 neighbour on that side. Midpoints are detected
    without bit operations: in the normal range, `s` fits 25 significant bits but not 24
    (Veltkamp splits); in float32's subnormal range (|s| < 2^-126), `s * 2^150` is an odd
    integer. Exact for all finite float32 inputs.
    """
    x64, y64, z64 = (b.op("Cast", v, to=TensorProto.DOUBLE) for v in (x, y, z))
    p = b.op("Mul", x64, y64)
    s = b.op("Add", p, z64)
    bb = b.op("Sub", s, p)  # TwoSum: s + e == p + z exactly
    e = b.op("Add", b.op("Sub", p, b.op("Sub", s, bb)), b.op("Sub", z64, bb))
    r = b.op("Cast", b.op("Cast", s, to=TensorProto.FLOAT), to=TensorProto.DOUBLE)
    d = b.op("Sub", s, r)  # exact; +-half an ulp at a midpoint

    def fits(bits: int) -> str:  # Veltkamp: hi = s rounded to `bits` significant bits
        g = b.op("Mul", s, b.const(np.float64(2.0 ** (53 - bits) + 1.0)))
        return b.op("Equal", b.op("Sub", g, b.op("Sub", g, s)), s)

    mid_normal = b.op("And", fits(25), b.op("Not", fits(24)))
    t = b.op("Mul", s, b.const(np.float64(2.0**150)))
    odd = b.op(
        "Equal", b.op("Abs", b.op("Mod", t, b.const(np.float64(2.0)), fmod=1)), b.const(np.float64(1.0))
    )
    mid_sub = b.op("And", b.op("Equal", b.op("Floor", t), t), odd)
    tiny = b.op("Less", b.op("Abs", s), b.const(np.float64(2.0**-126)))
    mid = b.op(
        "Or", b.op("And", tiny, mid_sub), b.op("And", b.op("Not", tiny), mid_normal)
    )  # no bool Where in ORT
    beyond = b.op("And", mid, b.op("Greater", b.op("Mul", e, d), b.const(np.float64(0.0))))
    res = b.op("Where", beyond, b.op("Add", r, b.op("Add", d, d)), r)
    return b.op("Cast", res, to=TensorProto.FLOAT)


def sqdist(b: _Builder, diff: str) -> str:
    """Official squared distance of float32 differences `diff (..., 3)` -> `(...)`:
    `fmaf(dz, dz, fmaf(dx, dx, fl32(dy*dy)))`."""
    dx, dy, dz = (b.op("Gather", diff, b.const(_i64(i)), axis=-1) for i in range(3))
    return fma_f32(b, dz, dz, fma_f32(b, dx, dx, b.op("Mul", dy, dy)))


# ------------------------------------------------------------------------- SparseConv3d
def sparse_conv3d_body() -> onnx.FunctionProto:
    b = _Builder("sc")
    f = b.op("Cast", "features", to=TensorProto.FLOAT)  # float16 accumulates in float32
    w = b.op("Cast", "weight", to=TensorProto.FLOAT)
    f_shape, w_shape, m_shape = b.op("Shape", f), b.op("Shape", w), b.op("Shape", "kernel_map")
    n_in = b.op("Gather", f_shape, b.const(_i64([0])), axis=0)
    c_in = b.op("Gather", f_shape, b.const(_i64([1])), axis=0)
    zero_row = b.op("ConstantOfShape", b.op("Concat", b.const(_i64([1])), c_in, axis=0))
    padded = b.op("Concat", f, zero_row, axis=0)  # row N_in is the zero row
    none = b.op("Less", "kernel_map", b.const(np.int32(0)))
    idx = b.op("Where", none, b.op("Cast", b.op("Squeeze", n_in), to=TensorProto.INT32), "kernel_map")
    gathered = b.op("Gather", padded, idx, axis=0)  # (N_out, K, C_in)
    n_out = b.op("Gather", m_shape, b.const(_i64([0])), axis=0)
    kc = b.op("Mul", b.op("Gather", w_shape, b.const(_i64([0])), axis=0), c_in)
    c_out = b.op("Gather", w_shape, b.const(_i64([2])), axis=0)
    flat = b.op("Reshape", gathered, b.op("Concat", n_out, kc, axis=0))  # explicit: N_out may be 0
    w2 = b.op("Reshape", w, b.op("Concat", kc, c_out, axis=0))
    out = b.op("MatMul", flat, w2)
    b.nodes.append(helper.make_node("CastLike", [out, "features"], ["output"]))
    return _function("SparseConv3d", b)


# ------------------------------------------------------------------------- FarthestPointSample
_CAP = spec.FPS_BLOCK_CAP
_POW2 = _i64([1 << i for i in range(max(_CAP.values()).bit_length())])  # block sizes 1 .. 1024


def farthest_point_sample_body() -> onnx.FunctionProto:
    b = _Builder("fps")
    xyz = b.op("Cast", "xyz", to=TensorProto.FLOAT)
    n_sample = b.attr("n_sample", _AT.INT)
    # variant == "pointnet2" <=> Unique([variant, "pointnet2"]) has one element (opset 17 has
    # no string Equal).
    variant = b.op("Reshape", b.attr("variant", _AT.STRING), b.const(_i64([1])))
    pn2_name = b.const(np.array(["pointnet2"], dtype=object))
    uniq = b.op("Unique", b.op("Concat", variant, pn2_name, axis=0))
    is_pn2 = b.op("Equal", b.op("Size", uniq), b.const(_i64(1)))
    n = b.op("Squeeze", b.op("Gather", b.op("Shape", xyz), b.const(_i64([0])), axis=0))
    n_out = b.op("Where", is_pn2, b.op("Min", n_sample, n), n_sample)

    # Empty input: "isbnet" -> n_sample zeros, "pointnet2" -> empty (n_out = 0 then).
    empty = b.sub()
    zeros = empty.op("ConstantOfShape", empty.op("Reshape", n_out, empty.const(_i64([1]))),
                     value=onnx.numpy_helper.from_array(np.zeros(1, np.int32)))  # fmt: skip
    run = b.sub()
    _fps_loop(run, xyz, n, n_out, is_pn2)
    then_g = helper.make_graph(empty.nodes, "fps_empty", [], [_vi(zeros, TensorProto.INT32, [None])])
    else_g = helper.make_graph(
        run.nodes, "fps_loop", [], [_vi(run.nodes[-1].output[0], TensorProto.INT32, [None])]
    )
    b.nodes.append(
        helper.make_node(
            "If", [b.op("Equal", n, b.const(_i64(0)))], ["indices"], then_branch=then_g, else_branch=else_g
        )
    )
    return _function("FarthestPointSample", b)


def _fps_loop(b: _Builder, xyz: str, n: str, n_out: str, is_pn2: str) -> None:
    """Nodes computing the samples of a non-empty xyz; the last node's output is the result."""
    cap = b.op("Where", is_pn2, b.const(_i64(_CAP["pointnet2"])), b.const(_i64(_CAP["isbnet"])))
    pows = b.const(_POW2)
    fits = b.op("LessOrEqual", pows, n)
    block = b.op("Min", b.op("ReduceMax", b.op("Where", fits, pows, b.const(_i64(1))), keepdims=0), cap)
    larger = b.op("LessOrEqual", b.const(_POW2[1:]), block)
    n_bits = b.op("ReduceSum", b.op("Cast", larger, to=TensorProto.INT64), keepdims=0)  # log2(B)
    # key[k] = bitrev(k mod B) * N + k: the tie rule is "smallest key among the maxima".
    k = b.op("Range", b.const(_i64(0)), n, b.const(_i64(1)))
    t = b.op("Unsqueeze", b.op("Mod", k, block), b.const(_i64([1])))  # (N, 1)
    i = b.const(_i64(list(range(_POW2.size))))
    bit = b.op("Mod", b.op("Div", t, pows), b.const(_i64(2)))  # (N, 11): bit i of t
    shift = b.op("Max", b.op("Sub", b.op("Sub", n_bits, b.const(_i64(1))), i), b.const(_i64(0)))
    place = b.op("Where", b.op("Less", i, n_bits), b.op("Gather", pows, shift), b.const(_i64(0)))  # 2^(L-1-i)
    rev = b.op("ReduceSum", b.op("Mul", bit, place), b.const(_i64([1])), keepdims=0)
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
    masked = body.op("Where", is_max, key, body.const(_i64(np.iinfo(np.int64).max)))
    win = body.op("ArgMin", masked, axis=0, keepdims=0)
    cond_out = body.op("Identity", "fps_cond")
    win_scan = body.op("Identity", win)
    body_g = helper.make_graph(
        body.nodes,
        "fps_step",
        [_vi("fps_iter", TensorProto.INT64, []), _vi("fps_cond", TensorProto.BOOL, []),
         _vi("fps_tmp", TensorProto.FLOAT, [None]), _vi("fps_old", TensorProto.INT64, [])],
        [_vi(cond_out, TensorProto.BOOL, []), _vi(tmp_new, TensorProto.FLOAT, [None]),
         _vi(win, TensorProto.INT64, []), _vi(win_scan, TensorProto.INT64, [])],
    )  # fmt: skip
    trips = b.op("Max", b.op("Sub", n_out, b.const(_i64(1))), b.const(_i64(0)))
    _, _, picks = b.op("Loop", trips, b.const(np.bool_(True)), tmp0, b.const(_i64(0)), n_out=3, body=body_g)
    picks = b.op("Reshape", picks, b.const(_i64([-1])))  # (n_out - 1,) even for zero trips
    picks = b.op("Concat", b.const(_i64([0])), picks, axis=0)  # slot 0 is point 0, if n_out > 0
    picks = b.op("Slice", picks, b.const(_i64([0])), b.op("Reshape", n_out, b.const(_i64([1]))))
    b.op("Cast", picks, to=TensorProto.INT32)


# ------------------------------------------------------------------------- BallQuery
def ball_query_body() -> onnx.FunctionProto:
    b = _Builder("bq")
    xyz = b.op("Cast", "xyz", to=TensorProto.FLOAT)
    centres = b.op("Cast", "centres", to=TensorProto.FLOAT)
    r = b.attr("radius", _AT.FLOAT)
    r2 = b.op("Mul", r, r)  # fl32(fl32(r) * fl32(r))
    n_sample = b.op("Reshape", b.attr("n_sample", _AT.INT), b.const(_i64([1])))
    n = b.op("Squeeze", b.op("Gather", b.op("Shape", xyz), b.const(_i64([0])), axis=0))
    m = b.op("Gather", b.op("Shape", centres), b.const(_i64([0])), axis=0)
    k = b.op("Range", b.const(_i64(0)), n, b.const(_i64(1)))

    body = b.sub()
    c = body.op("Gather", centres, "bq_iter", axis=0)
    hit = body.op("Less", sqdist(body, body.op("Sub", c, xyz)), r2)
    n_top = b.op("Max", n_sample, b.const(_i64([1])))  # >= 1 so that `first` exists; sliced below
    pad = body.op("Expand", n, n_top)  # n_top keys "none" (= N): TopK always has enough
    keys = body.op("Concat", body.op("Where", hit, k, n), pad, axis=0)
    first_k, _ = body.op("TopK", keys, n_top, largest=0, sorted=1, n_out=2)
    first = body.op("Gather", first_k, body.const(_i64(0)), axis=0)
    row = body.op("Where", body.op("Less", first_k, n), first_k, first)  # pad with the first hit
    row = body.op("Where", body.op("Less", first, n), row, body.const(_i64(0)))  # no hit: zeros
    row = body.op("Slice", row, body.const(_i64([0])), n_sample)  # n_sample = 0: empty rows
    cond_out = body.op("Identity", "bq_cond")
    body_g = helper.make_graph(
        body.nodes,
        "bq_step",
        [_vi("bq_iter", TensorProto.INT64, []), _vi("bq_cond", TensorProto.BOOL, [])],
        [_vi(cond_out, TensorProto.BOOL, []), _vi(row, TensorProto.INT64, [None])],
    )
    rows = b.op("Loop", b.op("Squeeze", m), b.const(np.bool_(True)), body=body_g)
    shape = b.op("Concat", m, n_sample, axis=0)
    shaped = b.op("Reshape", rows, shape, allowzero=1)  # (M, n_sample) even for M = 0 or n_sample = 0
    b.nodes.append(helper.make_node("Cast", [shaped], ["indices"], to=TensorProto.INT32))
    return _function("BallQuery", b)


# ------------------------------------------------------------------------- assembly
def _vi(name: str, elem_type: int, shape: list[int | None]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, shape)


def _function(name: str, b: _Builder) -> onnx.FunctionProto:
    """The function `isbnet::<name>` with the spec's inputs, outputs and attributes."""
    op = spec.OPS[name]
    return helper.make_function(
        spec.DOMAIN,
        name,
        [t.name for t in op.inputs],
        [t.name for t in op.outputs],
        b.nodes,
        opset_imports=[helper.make_opsetid("", BODY_OPSET)],
        attributes=list(op.attribute_names),
    )


def all_bodies() -> dict[str, onnx.FunctionProto]:
    """Op type -> its function body."""
    return {
        "SparseConv3d": sparse_conv3d_body(),
        "FarthestPointSample": farthest_point_sample_body(),
        "BallQuery": ball_query_body(),
    }
