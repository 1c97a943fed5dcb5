"""Register-tiled multiply-adds for the sparse conv, written as LLVM IR (numba intrinsics).

`madd_tile{P}(f, w, acc, i, r, n, k, cb)`: for the `n <= P` pairs `(i[j], r[j])`,
`acc[r[j], cb:cb+16] += f[i[j], :] @ w[k, :, cb:cb+16]`, keeping the P 16-wide accumulators
in vector registers across the C_in loop and loading each weight row once for all pairs.
LLVM does not find this tiling in plain numba loops (it vectorises the 16-wide inner loop but
spills the accumulators and re-checks aliasing on every row), which was several times slower.
`<16 x float>` is legalised to whatever the CPU has (one AVX-512 register, two AVX2, four
SSE), so the code is portable; `llvm.fma` rounds once on every target.

The feature rows of the next group's pairs, `i[P:2P]`, are prefetched: consecutive pairs read
rows scattered over the whole feature array (voxel ids follow the input point order), so the
tiles would otherwise wait on cache misses (~25 % faster at 32 channels).

Arrays must be C-contiguous float32: f `(N_in, C_in)`, w `(K, C_in, C_out)`, acc `(R, C_out)`;
i int32 or int64 with 2P readable entries (entries past the list only feed prefetches), r with
P; `cb + 16 <= C_out`. No bounds checks: the caller guarantees the indices.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

WIDTH = 16  # output channels per tile

_F32 = ir.FloatType()
_VEC = ir.VectorType(_F32, WIDTH)
_I64 = ir.IntType(64)


def _splat(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    vec = builder.insert_element(ir.Constant(_VEC, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
    mask = ir.Constant(ir.VectorType(ir.IntType(32), WIDTH), [0] * WIDTH)
    return builder.shuffle_vector(vec, ir.Constant(_VEC, ir.Undefined), mask)


def _vec_ptr(builder: ir.IRBuilder, data: ir.Value, offset: ir.Value) -> ir.Value:
    return builder.bitcast(builder.gep(data, [offset]), _VEC.as_pointer())


def _as_i64(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    return value if value.type.width == 64 else builder.sext(value, _I64)


def _tile_codegen(n_max: int, prefetch: int = 0):
    def codegen(context, builder, signature, args):
        f_arr, w_arr, acc_arr, i_arr, r_arr = (
            context.make_array(ty)(context, builder, a)
            for ty, a in zip(signature.args[:5], args[:5], strict=True)
        )
        n_pairs, k_idx, col = args[5], args[6], args[7]
        c_in = builder.extract_value(f_arr.shape, 1)
        c_out = builder.extract_value(w_arr.shape, 2)
        w_base = builder.add(builder.mul(builder.mul(k_idx, c_in), c_out), col)
        f_rows, acc_ptrs, slots, live = [], [], [], []
        for j in range(n_max):
            # Pairs beyond n repeat pair 0 (loads stay in bounds); their sums are not stored.
            is_pair = builder.icmp_signed("<", ir.Constant(_I64, j), n_pairs)
            jj = builder.select(is_pair, ir.Constant(_I64, j), ir.Constant(_I64, 0))
            i_j = _as_i64(builder, builder.load(builder.gep(i_arr.data, [jj])))
            r_j = _as_i64(builder, builder.load(builder.gep(r_arr.data, [jj])))
            f_rows.append(builder.mul(i_j, c_in))
            ptr = _vec_ptr(builder, acc_arr.data, builder.add(builder.mul(r_j, c_out), col))
            acc_ptrs.append(ptr)
            slot = cgutils.alloca_once(builder, _VEC)  # promoted to a register by LLVM
            builder.store(builder.load(ptr, align=4), slot)
            slots.append(slot)
            live.append(is_pair)
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VEC, [_VEC, _VEC, _VEC]), f"llvm.fma.v{WIDTH}f32"
        )
        if prefetch:
            # The next group's feature rows (entries n_max..2*n_max-1 of i; garbage past the
            # list's end is harmless: prefetches never fault). Rows are scattered over the
            # whole feature array: without this the tile waits on cache misses.
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            pf = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0"
            )
            for j in range(prefetch, prefetch + n_max):
                i_j = _as_i64(builder, builder.load(builder.gep(i_arr.data, [ir.Constant(_I64, j)])))
                addr = builder.bitcast(builder.gep(f_arr.data, [builder.mul(i_j, c_in)]), i8p)
                builder.call(pf, [addr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        with cgutils.for_range(builder, c_in) as loop:
            ci = loop.index
            wv = builder.load(
                _vec_ptr(builder, w_arr.data, builder.add(w_base, builder.mul(ci, c_out))), align=4
            )
            for j in range(n_max):
                a = builder.load(builder.gep(f_arr.data, [builder.add(f_rows[j], ci)]))
                builder.store(builder.call(fma, [_splat(builder, a), wv, builder.load(slots[j])]), slots[j])
        for j in range(n_max):
            with builder.if_then(live[j]):
                builder.store(builder.load(slots[j]), acc_ptrs[j], align=4)
        return context.get_dummy_value()

    return codegen


@intrinsic
def madd_tile4(typingctx, f, w, acc, i, r, n, k, cb):  # noqa: ARG001 (numba's intrinsic signature)
    """Up to 4 pairs (see the module docstring); prefetches the rows of i[4:8]."""
    return types.void(f, w, acc, i, r, n, k, cb), _tile_codegen(4, prefetch=4)


@intrinsic
def madd_tile8(typingctx, f, w, acc, i, r, n, k, cb):  # noqa: ARG001
    """Up to 8 pairs (fewer weight loads per FMA); prefetches the rows of i[8:16]."""
    return types.void(f, w, acc, i, r, n, k, cb), _tile_codegen(8, prefetch=8)
