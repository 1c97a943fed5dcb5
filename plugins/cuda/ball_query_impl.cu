#include <cstring>

#include "ball_query_impl.cuh"
#include "ball_query_kernel.cuh"

cudaError_t isbnet_launch_ball_query(const float* xyz, const float* centres, int n, int m, int n_sample, float radius,
                                     int* idx, cudaStream_t stream) {
    if (n < 0 || m < 0 || n_sample < 0) return cudaErrorInvalidValue;
    if (m == 0 || n_sample == 0) return cudaSuccess;
    int radius_bits;
    std::memcpy(&radius_bits, &radius, sizeof radius_bits);
    const int warps_per_block = ISBNET_BQ_THREADS / 32;
    const int blocks = (m + warps_per_block - 1) / warps_per_block;
    isbnet_ball_query<<<blocks, ISBNET_BQ_THREADS, 0, stream>>>(xyz, centres, n, m, n_sample, radius_bits, idx);
    return cudaGetLastError();
}
