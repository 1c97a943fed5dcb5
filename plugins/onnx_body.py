"""Building blocks of the `isbnet::` ops' ONNX function bodies (standard ops, opset 17).

`Builder` collects a body's nodes with unique value names, `fma_f32` / `sqdist` are the kernels'
§0 float arithmetic as standard ops (exact), `make_function` wraps the nodes as the op's function
with the spec's signature. The bodies themselves: `plugins/<op>/onnx_function.py`. Imports onnx:
only the `onnx_function` modules import this one.
"""

from __future__ import annotations

import itertools

import numpy as np
import onnx
from onnx import TensorProto, helper

from isbnet_trt.plugins import spec

__all__ = ["BODY_OPSET", "AT", "Builder", "i64", "fma_f32", "sqdist", "value_info", "make_function"]

#: Opset of the standard ops inside the bodies (the models' default domain is >= this).
BODY_OPSET = 17
AT = onnx.AttributeProto


class Builder:
    """Nodes of one function body (and its subgraphs), with unique generated value names."""

    def __init__(self, prefix: str, parent: Builder | None = None) -> None:
        self.prefix = prefix
        self.parent = parent
        self.counter: itertools.count = parent.counter if parent else itertools.count()
        self.nodes: list[onnx.NodeProto] = []
        self._consts: dict[tuple, str] = {}

    def sub(self) -> Builder:
        """A builder for a subgraph (Loop body, If branch): same name counter, and it sees the
        enclosing graphs' constants (outer-scope values are visible in subgraphs)."""
        return Builder(self.prefix, self)

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
        scope: Builder | None = self
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
        field = {AT.INT: "value_int", AT.FLOAT: "value_float", AT.STRING: "value_string"}[attr_type]
        out = self.name()
        node = helper.make_node("Constant", [], [out])
        node.attribute.append(helper.make_attribute_ref(field, attr_type))
        node.attribute[0].ref_attr_name = attr_name
        self.nodes.append(node)
        return out


def i64(v: int | list[int]) -> np.ndarray:
    """An int64 constant value."""
    return np.asarray(v, dtype=np.int64)


# ------------------------------------------------------------------------- exact fmaf
def fma_f32(b: Builder, x: str, y: str, z: str) -> str:
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


def sqdist(b: Builder, diff: str) -> str:
    """Official squared distance of float32 differences `diff (..., 3)` -> `(...)`:
    `fmaf(dz, dz, fmaf(dx, dx, fl32(dy*dy)))`."""
    dx, dy, dz = (b.op("Gather", diff, b.const(i64(i)), axis=-1) for i in range(3))
    return fma_f32(b, dz, dz, fma_f32(b, dx, dx, b.op("Mul", dy, dy)))


def value_info(name: str, elem_type: int, shape: list[int | None]) -> onnx.ValueInfoProto:
    """A graph input or output of a Loop body or If branch."""
    return helper.make_tensor_value_info(name, elem_type, shape)


def make_function(name: str, b: Builder) -> onnx.FunctionProto:
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
