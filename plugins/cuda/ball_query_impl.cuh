// Host launcher of isbnet::BallQuery for C++ hosts: raw device pointers and a stream.
#pragma once

#include <cuda_runtime.h>

// xyz: (n, 3) float32; centres: (m, 3) float32; idx: (m, n_sample) int32 (fully written).
cudaError_t isbnet_launch_ball_query(const float* xyz, const float* centres, int n, int m, int n_sample, float radius,
                                     int* idx, cudaStream_t stream);
