#include "farthest_point_sample_impl.cuh"
#include "farthest_point_sample_kernel.cuh"

cudaError_t isbnet_launch_farthest_point_sample(const float* xyz, int n, int n_out, int variant, int* idx, float* tmp,
                                                cudaStream_t stream) {
    if (n < 0 || n_out < 0 || n > ISBNET_FPS_MAX_POINTS) return cudaErrorInvalidValue;
    if (variant != ISBNET_FPS_VARIANT_ISBNET && variant != ISBNET_FPS_VARIANT_POINTNET2) return cudaErrorInvalidValue;
    if (tmp == nullptr && n > ISBNET_FPS_THREADS * ISBNET_FPS_REG_POINTS) return cudaErrorInvalidValue;
    if (n_out == 0) return cudaSuccess;
    isbnet_fps_block<<<1, ISBNET_FPS_THREADS, 0, stream>>>(xyz, n, n_out, variant, idx, tmp);
    return cudaGetLastError();
}
