// Host launcher of isbnet::FarthestPointSample for C++ hosts (onnxruntime / TensorRT C++ plugins,
// a C++ runtime): raw device pointers and a stream, no framework types. The Python paths launch
// the same kernels through the driver API (isbnet_trt.plugins.launch).
#pragma once

#include <cuda_runtime.h>

// xyz: (n, 3) float32; idx: (n_out,) int32 with n_out = n_sample (variant ISBNET_FPS_VARIANT_ISBNET)
// or min(n_sample, n) (ISBNET_FPS_VARIANT_POINTNET2); tmp: n floats of scratch (may be null when
// n <= ISBNET_FPS_THREADS * ISBNET_FPS_REG_POINTS). One block: see farthest_point_sample_kernel.cuh.
cudaError_t isbnet_launch_farthest_point_sample(const float* xyz, int n, int n_out, int variant, int* idx, float* tmp,
                                                cudaStream_t stream);
