#include "sparse_conv_impl.cuh"
#include "sparse_conv_kernel.cuh"

namespace {

bool spconv_grid(int n_in, int n_out, int k_vol, int c_in, int c_out, int* blocks) {
    if (n_in < 0 || n_out < 0 || k_vol < 1 || c_in < 1 || c_out < 1) return false;
    const long long tiles = (n_out + ISBNET_SPCONV_TILE_ROWS - 1) / ISBNET_SPCONV_TILE_ROWS;
    const long long slices = (c_out + ISBNET_SPCONV_SLICE_COLS - 1) / ISBNET_SPCONV_SLICE_COLS;
    const long long units = tiles * slices;
    *blocks = (int)((units + ISBNET_SPCONV_WARPS - 1) / ISBNET_SPCONV_WARPS);
    return true;
}

}  // namespace

cudaError_t isbnet_launch_sparse_conv_f32(const float* features, const int* kmap, const float* weight, int n_in,
                                          int n_out, int k_vol, int c_in, int c_out, float* out, cudaStream_t stream) {
    int blocks = 0;
    if (!spconv_grid(n_in, n_out, k_vol, c_in, c_out, &blocks)) return cudaErrorInvalidValue;
    if (blocks == 0) return cudaSuccess;
    isbnet_sparse_conv_f32<<<blocks, 32 * ISBNET_SPCONV_WARPS, 0, stream>>>(features, kmap, weight, n_in, n_out, k_vol,
                                                                           c_in, c_out, out);
    return cudaGetLastError();
}

cudaError_t isbnet_launch_sparse_conv_f16(const unsigned short* features, const int* kmap, const unsigned short* weight,
                                          int n_in, int n_out, int k_vol, int c_in, int c_out, unsigned short* out,
                                          cudaStream_t stream) {
    int blocks = 0;
    if (!spconv_grid(n_in, n_out, k_vol, c_in, c_out, &blocks)) return cudaErrorInvalidValue;
    if (blocks == 0) return cudaSuccess;
    isbnet_sparse_conv_f16<<<blocks, 32 * ISBNET_SPCONV_WARPS, 0, stream>>>(features, kmap, weight, n_in, n_out, k_vol,
                                                                           c_in, c_out, out);
    return cudaGetLastError();
}
