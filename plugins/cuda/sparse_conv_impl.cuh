// Host launchers of isbnet::SparseConv3d for C++ hosts: raw device pointers and a stream.
#pragma once

#include <cuda_runtime.h>

// features: (n_in, c_in); kmap: (n_out, k_vol) int32, -1 or [0, n_in); weight: (k_vol, c_in, c_out);
// out: (n_out, c_out), fully written. float16 tensors are passed as their 16-bit patterns.
cudaError_t isbnet_launch_sparse_conv_f32(const float* features, const int* kmap, const float* weight, int n_in,
                                          int n_out, int k_vol, int c_in, int c_out, float* out, cudaStream_t stream);
cudaError_t isbnet_launch_sparse_conv_f16(const unsigned short* features, const int* kmap, const unsigned short* weight,
                                          int n_in, int n_out, int k_vol, int c_in, int c_out, unsigned short* out,
                                          cudaStream_t stream);
