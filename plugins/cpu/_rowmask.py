"""Branch-free listing of a kernel-map row's active entries (numba intrinsics in LLVM IR).

`row_masks(kmap, o, n_in)` loads row `o` of an int32 `(N_out, K)` kernel map (K <= 32) as one
masked vector load and returns `active | bad << 32`: bit k of `active` is set when
`0 <= kmap[o, k] < n_in`, bit k of `bad` when `kmap[o, k] >= n_in`. The caller then visits the
set bits with `trailing_zeros` (about 5 of 27 per row in a submanifold map). This replaces a
scalar pass over all K entries, which cost as much as the multiply-adds for 16-channel layers.
`llvm.masked.load` never reads past the row, whatever the CPU (AVX-512 mask registers, AVX2
`vpmaskmovd`, or scalar code).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

MAX_K = 32

_I1, _I32, _I64 = ir.IntType(1), ir.IntType(32), ir.IntType(64)
_VEC = ir.VectorType(_I32, MAX_K)
_MASK = ir.VectorType(_I1, MAX_K)


def _splat(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    vec = builder.insert_element(ir.Constant(_VEC, ir.Undefined), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(vec, ir.Constant(_VEC, ir.Undefined), ir.Constant(_VEC, [0] * MAX_K))


def _bits(builder: ir.IRBuilder, mask: ir.Value) -> ir.Value:
    return builder.zext(builder.bitcast(mask, _I32), _I64)


@intrinsic
def row_masks(typingctx, kmap, o, n_in):  # noqa: ARG001 (numba's intrinsic signature)
    """`active | bad << 32` bit masks of row o (module docstring); kmap C-contiguous int32."""

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        n_k = builder.extract_value(arr.shape, 1)
        ptr = builder.bitcast(builder.gep(arr.data, [builder.mul(args[1], n_k)]), _VEC.as_pointer())
        in_row = builder.icmp_unsigned(
            "<", ir.Constant(_VEC, list(range(MAX_K))), _splat(builder, builder.trunc(n_k, _I32))
        )
        load = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(_VEC, [_VEC.as_pointer(), _I32, _MASK, _VEC]),
            "llvm.masked.load.v32i32.p0",
        )
        values = builder.call(load, [ptr, ir.Constant(_I32, 4), in_row, ir.Constant(_VEC, [-1] * MAX_K)])
        limit = _splat(builder, builder.trunc(args[2], _I32))
        active = builder.and_(
            builder.icmp_signed(">=", values, ir.Constant(_VEC, [0] * MAX_K)),
            builder.icmp_signed("<", values, limit),
        )
        bad = builder.icmp_signed(">=", values, limit)
        return builder.or_(_bits(builder, active), builder.shl(_bits(builder, bad), ir.Constant(_I64, 32)))

    return types.int64(kmap, o, n_in), codegen


@intrinsic
def trailing_zeros(typingctx, x):  # noqa: ARG001
    """Index of the lowest set bit of a non-zero int64."""

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_I64, [_I64, _I1]), "llvm.cttz.i64"
        )
        return builder.call(fn, [args[0], ir.Constant(_I1, 1)])

    return types.int64(x), codegen


@intrinsic
def popcount(typingctx, x):  # noqa: ARG001
    """Number of set bits of an int64."""

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I64, [_I64]), "llvm.ctpop.i64")
        return builder.call(fn, [args[0]])

    return types.int64(x), codegen
