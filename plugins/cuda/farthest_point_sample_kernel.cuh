// isbnet::FarthestPointSample kernels (spec: docs/ops/FarthestPointSample.md).
//
// Exactness: every running minimum is updated with the official arithmetic (common.cuh
// sqdist, fminf, start value 1e10), and the arg-max is the maximum of the packed key of
// common.cuh::fps_key, which encodes the official tie rule (thread t = k mod B of the official
// block of B threads, smallest bit-reversed t, then smallest k). Our own thread layout is
// therefore free: the result does not depend on it.
//
// Two kernels:
// * isbnet_fps_block: one block for the whole set (1024 threads, warp-shuffle reductions,
//   two __syncthreads per sample instead of the official tree's log2(B)). Up to
//   ISBNET_FPS_THREADS * ISBNET_FPS_REG_POINTS points live in registers; larger sets keep the
//   running minimum in `tmp` (global scratch of n floats). Used by TensorRT (one kernel launch,
//   `tmp` is a second plugin output) and for small sets.
// * isbnet_fps_grid: many blocks, one arg-max per sample combined with a 64-bit atomicMax and a
//   grid-wide barrier. MUST be launched with cooperative launch (all blocks co-resident), with
//   `keys` (n_out x u64) and `barrier` (u32) zeroed. Spreads large sets over all SMs.
//
// `variant`: ISBNET_FPS_VARIANT_ISBNET (block cap 1024) or ISBNET_FPS_VARIANT_POINTNET2 (cap 512,
// origin skip). Invalid (skipped) points carry the running minimum -1 and never produce a key.
// `idx` receives n_out int32 indices; n_out = n_sample (isbnet) or min(n_sample, n) (pointnet2).
#pragma once

#include "common.cuh"

namespace isbnet {

struct FpsSetup {
    int block_bits;  // log2 of the official block size B
    bool pointnet2;
};

__device__ __forceinline__ FpsSetup fps_setup(int n, int variant) {
    FpsSetup s;
    s.pointnet2 = variant == ISBNET_FPS_VARIANT_POINTNET2;
    const int b = opt_n_threads(n, s.pointnet2 ? ISBNET_FPS_CAP_POINTNET2 : ISBNET_FPS_CAP_ISBNET);
    s.block_bits = 31 - __clz(b);
    return s;
}

// Initial running minimum of point k: 1e10, or -1 for a point the pointnet2 variant skips.
__device__ __forceinline__ float fps_initial(float x, float y, float z, bool pointnet2) {
    return (!pointnet2 || pn2_valid(x, y, z)) ? 1e10f : -1.0f;
}

// Update the running minimum `t` of point (x, y, z) against the last pick (ox, oy, oz) and
// return its key (0 for a skipped point).
__device__ __forceinline__ unsigned long long fps_update(
    float x, float y, float z, float ox, float oy, float oz, float& t, int k, int block_bits) {
    if (t < 0.0f) return 0ull;
    t = fminf(sqdist(x, y, z, ox, oy, oz), t);
    return fps_key(t, k, block_bits);
}

}  // namespace isbnet

extern "C" __global__ void __launch_bounds__(ISBNET_FPS_THREADS, 1)
isbnet_fps_block(const float* __restrict__ xyz, int n, int n_out, int variant, int* __restrict__ idx,
                 float* __restrict__ tmp) {
    __shared__ unsigned long long scratch[33];
    for (int j = threadIdx.x; j < n_out; j += blockDim.x) idx[j] = 0;  // rules 1, 4, 6: zeros
    if (n <= 0 || n_out <= 1) return;
    const isbnet::FpsSetup s = isbnet::fps_setup(n, variant);
    const int stride = blockDim.x;

    if (n <= stride * ISBNET_FPS_REG_POINTS) {
        // Registers: point k = threadIdx.x + r * stride.
        float px[ISBNET_FPS_REG_POINTS], py[ISBNET_FPS_REG_POINTS], pz[ISBNET_FPS_REG_POINTS];
        float pt[ISBNET_FPS_REG_POINTS];
#pragma unroll
        for (int r = 0; r < ISBNET_FPS_REG_POINTS; ++r) {
            const int k = threadIdx.x + r * stride;
            px[r] = py[r] = pz[r] = 0.0f;
            pt[r] = -1.0f;
            if (k < n) {
                px[r] = xyz[3 * k];
                py[r] = xyz[3 * k + 1];
                pz[r] = xyz[3 * k + 2];
                pt[r] = isbnet::fps_initial(px[r], py[r], pz[r], s.pointnet2);
            }
        }
        int old = 0;  // rule 1: slot 0 is point 0, valid or not
        for (int j = 1; j < n_out; ++j) {
            const float ox = xyz[3 * old], oy = xyz[3 * old + 1], oz = xyz[3 * old + 2];
            unsigned long long best = 0ull;
#pragma unroll
            for (int r = 0; r < ISBNET_FPS_REG_POINTS; ++r) {
                const unsigned long long key = isbnet::fps_update(
                    px[r], py[r], pz[r], ox, oy, oz, pt[r], threadIdx.x + r * stride, s.block_bits);
                best = key > best ? key : best;
            }
            best = isbnet::block_max_u64(best, scratch);
            if (best == 0ull) return;  // no valid point (pointnet2): the rest stays 0
            old = isbnet::fps_key_index(best);
            if (threadIdx.x == 0) idx[j] = old;
        }
        return;
    }

    // Global scratch: the running minimum of point k lives in tmp[k]; each thread only ever
    // touches its own k's, so no synchronisation is needed around `tmp`.
    for (int k = threadIdx.x; k < n; k += stride) {
        tmp[k] = isbnet::fps_initial(xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2], s.pointnet2);
    }
    int old = 0;
    for (int j = 1; j < n_out; ++j) {
        const float ox = xyz[3 * old], oy = xyz[3 * old + 1], oz = xyz[3 * old + 2];
        unsigned long long best = 0ull;
        for (int k = threadIdx.x; k < n; k += stride) {
            float t = tmp[k];
            const unsigned long long key =
                isbnet::fps_update(xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2], ox, oy, oz, t, k, s.block_bits);
            tmp[k] = t;
            best = key > best ? key : best;
        }
        best = isbnet::block_max_u64(best, scratch);
        if (best == 0ull) return;
        old = isbnet::fps_key_index(best);
        if (threadIdx.x == 0) idx[j] = old;
    }
}

namespace isbnet {

// Grid-wide barrier for a cooperative launch: `counter` starts at 0 and every block adds 1 per
// barrier, so the i-th barrier (1-based) completes when it reaches gridDim.x * i.
__device__ __forceinline__ void grid_barrier(unsigned int* counter, unsigned int target) {
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        atomicAdd(counter, 1u);
        while (*(volatile unsigned int*)counter < target) __nanosleep(32);
        __threadfence();
    }
    __syncthreads();
}

}  // namespace isbnet

extern "C" __global__ void __launch_bounds__(ISBNET_FPS_GRID_THREADS)
isbnet_fps_grid(const float* __restrict__ xyz, int n, int n_out, int variant, int* __restrict__ idx,
                float* __restrict__ tmp, unsigned long long* __restrict__ keys, unsigned int* __restrict__ barrier) {
    __shared__ unsigned long long scratch[33];
    __shared__ int winner;
    if (blockIdx.x == 0) {
        for (int j = threadIdx.x; j < n_out; j += blockDim.x) idx[j] = 0;
    }
    if (n <= 0 || n_out <= 1) return;  // uniform over the grid: nobody waits at a barrier
    const isbnet::FpsSetup s = isbnet::fps_setup(n, variant);
    const int stride = gridDim.x * blockDim.x;
    const int first = blockIdx.x * blockDim.x + threadIdx.x;
    const bool in_registers = n <= stride * ISBNET_FPS_REG_POINTS;

    float px[ISBNET_FPS_REG_POINTS], py[ISBNET_FPS_REG_POINTS], pz[ISBNET_FPS_REG_POINTS];
    float pt[ISBNET_FPS_REG_POINTS];
#pragma unroll
    for (int r = 0; r < ISBNET_FPS_REG_POINTS; ++r) {
        px[r] = py[r] = pz[r] = 0.0f;
        pt[r] = -1.0f;
    }
    if (in_registers) {
#pragma unroll
        for (int r = 0; r < ISBNET_FPS_REG_POINTS; ++r) {
            const int k = first + r * stride;
            if (k < n) {
                px[r] = xyz[3 * k];
                py[r] = xyz[3 * k + 1];
                pz[r] = xyz[3 * k + 2];
                pt[r] = isbnet::fps_initial(px[r], py[r], pz[r], s.pointnet2);
            }
        }
    } else {
        for (int k = first; k < n; k += stride) {
            tmp[k] = isbnet::fps_initial(xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2], s.pointnet2);
        }
    }

    int old = 0;
    for (int j = 1; j < n_out; ++j) {
        const float ox = xyz[3 * old], oy = xyz[3 * old + 1], oz = xyz[3 * old + 2];
        unsigned long long best = 0ull;
        if (in_registers) {
#pragma unroll
            for (int r = 0; r < ISBNET_FPS_REG_POINTS; ++r) {
                const unsigned long long key =
                    isbnet::fps_update(px[r], py[r], pz[r], ox, oy, oz, pt[r], first + r * stride, s.block_bits);
                best = key > best ? key : best;
            }
        } else {
            for (int k = first; k < n; k += stride) {
                float t = tmp[k];
                const unsigned long long key = isbnet::fps_update(
                    xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2], ox, oy, oz, t, k, s.block_bits);
                tmp[k] = t;
                best = key > best ? key : best;
            }
        }
        best = isbnet::block_max_u64(best, scratch);
        if (threadIdx.x == 0 && best != 0ull) atomicMax(&keys[j], best);
        isbnet::grid_barrier(barrier, gridDim.x * (unsigned int)j);
        if (threadIdx.x == 0) {
            // Read through L2 (volatile): the atomics of other blocks are not in our L1.
            const unsigned long long key = *(volatile unsigned long long*)&keys[j];
            winner = key == 0ull ? -1 : isbnet::fps_key_index(key);
        }
        __syncthreads();
        old = winner;
        // Every block read the same keys[j] after the barrier: the exit is uniform over the grid.
        if (old < 0) return;
        if (blockIdx.x == 0 && threadIdx.x == 0) idx[j] = old;
        __syncthreads();  // `winner` is rewritten in the next round
    }
}
