// Device helpers shared by the isbnet:: kernels: the exact float arithmetic of the official
// kernels, the FPS arg-max key and warp/block reductions. Device code only (NVRTC and nvcc).
#pragma once

#include "launch_config.h"

namespace isbnet {

// Squared distance exactly as the official kernels compile it (official_semantics.md §0):
//   fmaf(dz, dz, fmaf(dx, dx, fl32(dy * dy))),  dx = fl32(a.x - b.x), ...
// Written with round-to-nearest intrinsics so that --fmad=true/false cannot change it.
__device__ __forceinline__ float sqdist(float ax, float ay, float az, float bx, float by, float bz) {
    const float dx = __fsub_rn(ax, bx);
    const float dy = __fsub_rn(ay, by);
    const float dz = __fsub_rn(az, bz);
    return __fmaf_rn(dz, dz, __fmaf_rn(dx, dx, __fmul_rn(dy, dy)));
}

// pointnet2 FPS origin test (§5): a point is skipped iff (double)fmaf-magnitude <= 1e-3.
__device__ __forceinline__ bool pn2_valid(float x, float y, float z) {
    const float mag = __fmaf_rn(z, z, __fmaf_rn(x, x, __fmul_rn(y, y)));
    return (double)mag > 1e-3;
}

// Largest power of two <= n, capped: the official opt_n_threads(n) (n >= 1).
__device__ __forceinline__ int opt_n_threads(int n, int cap) {
    const int pow2 = 1 << (31 - __clz(n));
    return pow2 < cap ? pow2 : cap;
}

// FPS arg-max key (§3 tie rule, docs/ops/FarthestPointSample.md rule 3).
//
// The official kernel lets thread t = k mod B keep its first k with its largest running
// minimum, then a shared-memory tree picks, among threads holding the global maximum, the one
// with the smallest bit-reversed id. That is the maximum of the total order
//   (value descending, bitrev(k mod B) ascending, k ascending),
// which does not depend on how *our* threads are laid out. We pack it into one integer:
//   bits 63..32  float bits of the running minimum (non-negative floats order like integers)
//   bits 31..22  (B - 1) - bitrev(k mod B)            (B <= 1024: 10 bits)
//   bits 21..0   0x3FFFFF - k                          (k <= ISBNET_FPS_MAX_POINTS - 1)
// so that a plain unsigned max over any partition of the points (warp shuffles, block
// reduction, atomicMax across blocks) returns the official winner. A valid point's key is
// never 0 (its low 22 bits are >= 1), so 0 means "no valid point".
__device__ __forceinline__ unsigned long long fps_key(float value, int k, int block_bits) {
    const unsigned int t = (unsigned int)k & ((1u << block_bits) - 1u);
    const unsigned int rev = block_bits ? (__brev(t) >> (32 - block_bits)) : 0u;
    const unsigned int tie = ((1u << block_bits) - 1u) - rev;
    const unsigned int lo = (tie << 22) | (0x3FFFFFu - (unsigned int)k);
    return ((unsigned long long)__float_as_uint(value) << 32) | lo;
}

__device__ __forceinline__ int fps_key_index(unsigned long long key) {
    return (int)(0x3FFFFFu - ((unsigned int)key & 0x3FFFFFu));
}

__device__ __forceinline__ unsigned long long warp_max_u64(unsigned long long v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const unsigned long long other = __shfl_xor_sync(0xffffffffu, v, offset);
        v = other > v ? other : v;
    }
    return v;
}

// Maximum over the block, returned to every thread. `scratch` holds 33 values in shared
// memory. Two __syncthreads; safe to call again right away (see the slot use below).
__device__ __forceinline__ unsigned long long block_max_u64(unsigned long long v, unsigned long long* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = warp_max_u64(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        const int n_warps = (blockDim.x + 31) >> 5;
        v = lane < n_warps ? scratch[lane] : 0ull;
        v = warp_max_u64(v);
        if (lane == 0) scratch[32] = v;  // slot 32 is only written between the two barriers
    }
    __syncthreads();
    return scratch[32];
}

// float16 <-> float32 without cuda_fp16.h (keeps NVRTC free of include paths).
__device__ __forceinline__ float half_to_float(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ unsigned short float_to_half(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

}  // namespace isbnet
