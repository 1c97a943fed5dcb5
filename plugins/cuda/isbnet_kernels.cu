// Translation unit with every isbnet:: kernel: what NVRTC (isbnet_trt.plugins.cuda_build)
// compiles to PTX / CUBIN, and what the CI test assembles with nvcc + ptxas.
// Entry points (extern "C", so NVRTC, cuda-python and TensorRT AOT plugins name them as is):
//   isbnet_fps_block, isbnet_fps_grid, isbnet_ball_query,
//   isbnet_sparse_conv_f32, isbnet_sparse_conv_f16.
#include "farthest_point_sample_kernel.cuh"
#include "ball_query_kernel.cuh"
#include "sparse_conv_kernel.cuh"
