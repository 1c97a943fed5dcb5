// isbnet::BallQuery kernel (spec: docs/ops/BallQuery.md; official_semantics.md §4, §6).
//
// One warp per centre scans the points in ascending index order, 32 at a time: each lane tests
// one point with the official arithmetic (strict d2 < r2, r2 = fl32(r * r)), a ballot gives the
// accepted lanes, and their ranks (popc of the lower lanes) place them in the row in ascending
// order. The scan stops at the first chunk that completes n_sample neighbours, so the row is
// exactly the first n_sample accepted indices of the official sequential scan. Unused slots
// repeat the first accepted index; a centre without neighbours gets zeros.
//
// Cost: a centre stops after about n_sample / (neighbours in its ball) of the points; ISBNet's
// calls (2048 centres over <= ~100k voxels) are far below the FPS that precedes them, so no
// spatial grid is used (a grid would need a sort, i.e. more launches, and a k-way merge to keep
// the ascending order).
//
// `radius_bits`: the float radius as its bit pattern (TensorRT passes int32 scalars only).
#pragma once

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(ISBNET_BQ_THREADS)
isbnet_ball_query(const float* __restrict__ xyz, const float* __restrict__ centres, int n, int m, int n_sample,
                  int radius_bits, int* __restrict__ idx) {
    const int lane = threadIdx.x & 31;
    const int q = (int)((blockIdx.x * blockDim.x + threadIdx.x) >> 5);
    if (q >= m || n_sample <= 0) return;  // whole warps leave together
    const float r = __int_as_float(radius_bits);
    const float r2 = __fmul_rn(r, r);
    const float cx = centres[3 * q], cy = centres[3 * q + 1], cz = centres[3 * q + 2];
    int* row = idx + (long long)q * n_sample;
    const unsigned int lower_lanes = (1u << lane) - 1u;
    int count = 0;
    int first = 0;
    for (int base = 0; base < n && count < n_sample; base += 32) {
        const int k = base + lane;
        bool accept = false;
        if (k < n) accept = isbnet::sqdist(cx, cy, cz, xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2]) < r2;
        const unsigned int mask = __ballot_sync(0xffffffffu, accept);
        if (mask == 0u) continue;
        if (count == 0) first = base + __ffs(mask) - 1;
        const int pos = count + __popc(mask & lower_lanes);
        if (accept && pos < n_sample) row[pos] = k;
        count += __popc(mask);
    }
    const int filled = count < n_sample ? count : n_sample;
    for (int s = filled + lane; s < n_sample; s += 32) row[s] = first;
}
