// isbnet::SparseConv3d kernels (spec: docs/ops/SparseConv3d.md).
//
//   out[o] = sum_{k : kmap[o, k] >= 0} features[kmap[o, k]] @ weight[k]
//
// Output-stationary, one launch, no atomics, no zero-fill pass (TensorRT AOT launches one
// kernel). A warp owns a tile of ISBNET_SPCONV_TILE_ROWS (64) output rows x 32 output channels
// (lane = channel) and accumulates it in shared memory. For each offset k it compacts the tile's
// rows that have a neighbour at k (two ballots), then multiplies them in groups of 8 rows:
// the gathered feature rows are staged in shared memory 32 input channels at a time, and each
// lane does 8 FMAs per weight element it loads. Work is proportional to the active (row, k) pairs
// rounded up to groups of 8 per tile: voxel order carries no spatial locality (shuffled scans),
// so skipping whole tiles per offset would do ~2-11x the necessary work (7x on the finest level),
// the compaction ~1.1-1.7x (1.4x) (measured on the kernel maps of a synthetic room).
//
// Sum order per output element: offsets in increasing k, input channels in increasing order
// within an offset (fp32 FMA chain), so results are deterministic and agree with the reference
// within float32 accumulation tolerance (the spec leaves the order open). float16 I/O is
// accumulated in float32 and rounded once at the end.
//
// isbnet_sparse_conv_splitk_*: the same tiles, one block per tile with its warps splitting the
// offsets (see sparse_conv_splitk_block), for levels with too few tiles to fill the GPU.
//
// kmap values must be -1 or in [0, n_in): not checked here (the Python launcher checks).
#pragma once

#include "common.cuh"

namespace isbnet {

struct F32Io {
    typedef float T;
    static __device__ __forceinline__ float load(const float* p) { return *p; }
    static __device__ __forceinline__ void store(float* p, float v) { *p = v; }
};

struct F16Io {
    typedef unsigned short T;  // IEEE binary16 bits
    static __device__ __forceinline__ float load(const unsigned short* p) { return half_to_float(*p); }
    static __device__ __forceinline__ void store(unsigned short* p, float v) { *p = float_to_half(v); }
};

constexpr int kRows = ISBNET_SPCONV_TILE_ROWS;
constexpr int kCols = ISBNET_SPCONV_SLICE_COLS;
constexpr int kGroup = ISBNET_SPCONV_ROW_GROUP;
constexpr int kWarps = ISBNET_SPCONV_WARPS;
static_assert(kRows == 64 && kCols == 32 && kGroup == 8, "the warp code below assumes 64 x 32 tiles, groups of 8");

struct __align__(16) SpconvWarpSmem {
    float acc[kRows][kCols];  // the warp's output tile
    float a[kCols][kGroup];   // a[c][r]: input channel c0 + c of compacted row r
    int src[kRows];           // compacted rows of the current offset: input row ...
    int dst[kRows];           // ... and output row within the tile
};

// The warp's tile summed over offsets k_begin <= k < k_end into sm.acc (zeroed first).
template <class Io>
__device__ __forceinline__ void accumulate_tile(const typename Io::T* __restrict__ features,
                                                const int* __restrict__ kmap, const typename Io::T* __restrict__ weight,
                                                int n_out, int k_vol, int c_in, int c_out, SpconvWarpSmem& sm,
                                                int tile, int slice, int k_begin, int k_end) {
    const unsigned int full = 0xffffffffu;
    const int lane = threadIdx.x & 31;
    const int row0 = tile * kRows;
    const int col = slice * kCols + lane;
    const bool col_ok = col < c_out;
    const unsigned int lower_lanes = (1u << lane) - 1u;

    for (int r = 0; r < kRows; ++r) sm.acc[r][lane] = 0.0f;

    for (int k = k_begin; k < k_end; ++k) {
        const int ra = row0 + lane;
        const int rb = row0 + 32 + lane;
        const int ma = ra < n_out ? kmap[(long long)ra * k_vol + k] : -1;
        const int mb = rb < n_out ? kmap[(long long)rb * k_vol + k] : -1;
        const unsigned int ba = __ballot_sync(full, ma >= 0);
        const unsigned int bb = __ballot_sync(full, mb >= 0);
        const int count_a = __popc(ba);
        const int count = count_a + __popc(bb);
        if (count == 0) continue;  // warp-uniform
        if (ma >= 0) {
            const int p = __popc(ba & lower_lanes);
            sm.src[p] = ma;
            sm.dst[p] = lane;
        }
        if (mb >= 0) {
            const int p = count_a + __popc(bb & lower_lanes);
            sm.src[p] = mb;
            sm.dst[p] = 32 + lane;
        }
        __syncwarp();
        const typename Io::T* w_k = weight + (long long)k * c_in * c_out;
        for (int s0 = 0; s0 < count; s0 += kGroup) {
            const int n_rows = count - s0 < kGroup ? count - s0 : kGroup;
            float part[kGroup];
#pragma unroll
            for (int r = 0; r < kGroup; ++r) part[r] = 0.0f;
            for (int c0 = 0; c0 < c_in; c0 += kCols) {
                // Stage 8 gathered rows x 32 channels; lane = channel, coalesced row reads.
                const int c = c0 + lane;
                float v[kGroup];
#pragma unroll
                for (int r = 0; r < kGroup; ++r) {
                    v[r] = (r < n_rows && c < c_in) ? Io::load(features + (long long)sm.src[s0 + r] * c_in + c) : 0.0f;
                }
                float4* a_lane = reinterpret_cast<float4*>(&sm.a[lane][0]);
                a_lane[0] = make_float4(v[0], v[1], v[2], v[3]);
                a_lane[1] = make_float4(v[4], v[5], v[6], v[7]);
                __syncwarp();
                const int c_n = c_in - c0 < kCols ? c_in - c0 : kCols;
                for (int cc = 0; cc < c_n; ++cc) {
                    const float w = col_ok ? Io::load(w_k + (long long)(c0 + cc) * c_out + col) : 0.0f;
                    const float4 x0 = reinterpret_cast<const float4*>(&sm.a[cc][0])[0];
                    const float4 x1 = reinterpret_cast<const float4*>(&sm.a[cc][0])[1];
                    part[0] = __fmaf_rn(x0.x, w, part[0]);
                    part[1] = __fmaf_rn(x0.y, w, part[1]);
                    part[2] = __fmaf_rn(x0.z, w, part[2]);
                    part[3] = __fmaf_rn(x0.w, w, part[3]);
                    part[4] = __fmaf_rn(x1.x, w, part[4]);
                    part[5] = __fmaf_rn(x1.y, w, part[5]);
                    part[6] = __fmaf_rn(x1.z, w, part[6]);
                    part[7] = __fmaf_rn(x1.w, w, part[7]);
                }
                __syncwarp();  // sm.a is restaged next
            }
#pragma unroll
            for (int r = 0; r < kGroup; ++r) {
                if (r < n_rows) {
                    float* cell = &sm.acc[sm.dst[s0 + r]][lane];
                    *cell = __fadd_rn(*cell, part[r]);
                }
            }
        }
        __syncwarp();  // sm.src / sm.dst are rewritten for the next offset
    }
}

template <class Io>
__device__ __forceinline__ void sparse_conv_block(const typename Io::T* features, const int* kmap,
                                                  const typename Io::T* weight, int n_out, int k_vol, int c_in,
                                                  int c_out, typename Io::T* out) {
    __shared__ SpconvWarpSmem smem[kWarps];
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int n_slices = (c_out + kCols - 1) / kCols;
    const int n_units = ((n_out + kRows - 1) / kRows) * n_slices;
    const int unit = blockIdx.x * kWarps + warp;
    if (unit >= n_units) return;  // warps are independent: no block-level barrier below
    // Consecutive warps share a row tile (different channel slices): the tile's kernel-map rows
    // and gathered features are reused from L1.
    const int tile = unit / n_slices, slice = unit % n_slices;
    SpconvWarpSmem& sm = smem[warp];
    accumulate_tile<Io>(features, kmap, weight, n_out, k_vol, c_in, c_out, sm, tile, slice, 0, k_vol);
    const int col = slice * kCols + lane;
    for (int r = 0; r < kRows; ++r) {
        const int row = tile * kRows + r;
        if (row < n_out && col < c_out) Io::store(out + (long long)row * c_out + col, sm.acc[r][lane]);
    }
}

// Split-K variant for levels with few output rows, where one warp per tile leaves most of the
// GPU idle and each warp runs a long dependent chain: a block per (tile, slice), its warp w
// summing the offsets [w * K / W, (w + 1) * K / W) into its own tile, then the block adding the
// W partial tiles in warp order. Same work, W times the parallelism, deterministic; the sum
// order differs from the one-warp kernel's (within float32 accumulation tolerance).
template <class Io>
__device__ __forceinline__ void sparse_conv_splitk_block(const typename Io::T* features, const int* kmap,
                                                         const typename Io::T* weight, int n_out, int k_vol,
                                                         int c_in, int c_out, typename Io::T* out) {
    __shared__ SpconvWarpSmem smem[kWarps];
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int n_slices = (c_out + kCols - 1) / kCols;
    const int n_units = ((n_out + kRows - 1) / kRows) * n_slices;
    const int unit = blockIdx.x;
    if (unit >= n_units) return;  // block-uniform: the barrier below is reached by all or none
    const int tile = unit / n_slices, slice = unit % n_slices;
    const int k_begin = (k_vol * warp) / kWarps, k_end = (k_vol * (warp + 1)) / kWarps;
    accumulate_tile<Io>(features, kmap, weight, n_out, k_vol, c_in, c_out, smem[warp], tile, slice, k_begin, k_end);
    __syncthreads();
    const int col = slice * kCols + lane;
    for (int r = warp; r < kRows; r += kWarps) {
        const int row = tile * kRows + r;
        if (row < n_out && col < c_out) {
            float v = smem[0].acc[r][lane];
            for (int w = 1; w < kWarps; ++w) v = __fadd_rn(v, smem[w].acc[r][lane]);
            Io::store(out + (long long)row * c_out + col, v);
        }
    }
}

}  // namespace isbnet

// Grid: ceil(ceil(n_out / 64) * ceil(c_out / 32) / ISBNET_SPCONV_WARPS) blocks of
// 32 * ISBNET_SPCONV_WARPS threads. `n_in` is unused by the kernel (kept for the launchers'
// argument checks and TensorRT's fixed argument order).
extern "C" __global__ void __launch_bounds__(32 * ISBNET_SPCONV_WARPS)
isbnet_sparse_conv_f32(const float* __restrict__ features, const int* __restrict__ kmap,
                       const float* __restrict__ weight, int n_in, int n_out, int k_vol, int c_in, int c_out,
                       float* __restrict__ out) {
    (void)n_in;
    isbnet::sparse_conv_block<isbnet::F32Io>(features, kmap, weight, n_out, k_vol, c_in, c_out, out);
}

// Grid: ceil(n_out / 64) * ceil(c_out / 32) blocks of 32 * ISBNET_SPCONV_WARPS threads.
extern "C" __global__ void __launch_bounds__(32 * ISBNET_SPCONV_WARPS)
isbnet_sparse_conv_splitk_f32(const float* __restrict__ features, const int* __restrict__ kmap,
                              const float* __restrict__ weight, int n_in, int n_out, int k_vol, int c_in, int c_out,
                              float* __restrict__ out) {
    (void)n_in;
    isbnet::sparse_conv_splitk_block<isbnet::F32Io>(features, kmap, weight, n_out, k_vol, c_in, c_out, out);
}

extern "C" __global__ void __launch_bounds__(32 * ISBNET_SPCONV_WARPS)
isbnet_sparse_conv_f16(const unsigned short* __restrict__ features, const int* __restrict__ kmap,
                       const unsigned short* __restrict__ weight, int n_in, int n_out, int k_vol, int c_in,
                       int c_out, unsigned short* __restrict__ out) {
    (void)n_in;
    isbnet::sparse_conv_block<isbnet::F16Io>(features, kmap, weight, n_out, k_vol, c_in, c_out, out);
}

extern "C" __global__ void __launch_bounds__(32 * ISBNET_SPCONV_WARPS)
isbnet_sparse_conv_splitk_f16(const unsigned short* __restrict__ features, const int* __restrict__ kmap,
                              const unsigned short* __restrict__ weight, int n_in, int n_out, int k_vol, int c_in,
                              int c_out, unsigned short* __restrict__ out) {
    (void)n_in;
    isbnet::sparse_conv_splitk_block<isbnet::F16Io>(features, kmap, weight, n_out, k_vol, c_in, c_out, out);
}
