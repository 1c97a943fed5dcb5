// Launch geometry and limits shared by the kernels, the C++ launchers and the Python launchers.
//
// Python reads the `#define ISBNET_* <int>` lines of this file (isbnet_trt.plugins.cuda_build),
// so every number lives here once. Plain #defines only: NVRTC and nvcc both see this file.
#pragma once

// ---- FarthestPointSample (docs/ops/FarthestPointSample.md) ---------------------------------
// Threads of the single-block kernel (one block per point set, TensorRT and small sets).
#define ISBNET_FPS_THREADS 1024
// Points a thread keeps in registers; larger sets keep their running minimum in global memory.
#define ISBNET_FPS_REG_POINTS 4
// Threads per block of the multi-block (cooperative launch) kernel.
#define ISBNET_FPS_GRID_THREADS 512
// Point sets larger than this use the multi-block kernel where cooperative launch is available.
#define ISBNET_FPS_GRID_MIN_POINTS 4096
// Largest point count: the arg-max key keeps the point index in 22 bits (see common.cuh).
#define ISBNET_FPS_MAX_POINTS 4194303
// Block-size caps of the official kernels (opt_n_threads), which define the tie rule.
#define ISBNET_FPS_CAP_ISBNET 1024
#define ISBNET_FPS_CAP_POINTNET2 512
// `variant` attribute values as kernel arguments.
#define ISBNET_FPS_VARIANT_ISBNET 0
#define ISBNET_FPS_VARIANT_POINTNET2 1

// ---- BallQuery (docs/ops/BallQuery.md) -------------------------------------------------------
// One warp per centre; threads per block.
#define ISBNET_BQ_THREADS 256

// ---- SparseConv3d (docs/ops/SparseConv3d.md) -------------------------------------------------
// One warp computes a tile of ISBNET_SPCONV_TILE_ROWS output rows x 32 output channels.
#define ISBNET_SPCONV_WARPS 4
#define ISBNET_SPCONV_TILE_ROWS 64
#define ISBNET_SPCONV_SLICE_COLS 32
// Compacted rows multiplied together (register block of a lane).
#define ISBNET_SPCONV_ROW_GROUP 8
