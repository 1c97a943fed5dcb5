"""Exact float32 arithmetic of the official CUDA kernels, for numba kernels.

`fmaf(a, b, c)` is LLVM's `llvm.fma.f32` intrinsic: one rounding by definition, compiled to
the FMA instruction where the CPU has one and to libm's `fmaf` otherwise, so it is exact on
every CPU (unlike `a * b + c`, which rounds twice).
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic


@intrinsic
def fmaf(typingctx, a, b, c):  # noqa: ARG001 (numba's intrinsic signature)
    """`fmaf(a, b, c)` on float32 scalars: fl32(a*b + c) rounded once."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@njit(inline="always", nogil=True, cache=True)
def sqdist(dx: float, dy: float, dz: float) -> float:
    """The official squared distance of float32 differences (§0):
    `fmaf(dz, dz, fmaf(dx, dx, fl32(dy*dy)))`."""
    return fmaf(dz, dz, fmaf(dx, dx, dy * dy))


@intrinsic
def f32_bits(typingctx, a):  # noqa: ARG001
    """The int32 bit pattern of a float32. For values >= -0 the integer order is the float
    order and every negative float maps below them: integer max-reductions vectorise where
    float ones (NaN rules) do not."""
    sig = types.int32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen
