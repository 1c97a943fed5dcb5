"""The `isbnet::` ops on CUDA PyTorch tensors, with our kernels (no TensorRT).

Specs: `docs/ops/{FarthestPointSample,BallQuery,SparseConv3d}.md`. The kernels come from
`plugins/cuda/` (compiled by `cuda_build`, launched by `cuda_driver` on PyTorch's current stream
of the tensors' device). Inputs are checked for shape, dtype, device and layout; values are not
scanned (no NaN check, no device-to-host sync) except where a caller asks for it.

`CudaGeometry` plugs the two geometry ops into the reference model (`ISBNet(cfg,
geometry_ops=CudaGeometry())`, the `GeometryOps` protocol of `isbnet.aggregator`).
"""

from __future__ import annotations

import ctypes
import functools

import torch
from torch import Tensor

from isbnet_trt.plugins import cuda_build, spec
from isbnet_trt.plugins.cuda_driver import DeviceKernels, device_kernels, float32_bits
from isbnet_trt.plugins.sparse_conv.launch import ALGORITHMS as SPARSE_CONV_ALGORITHMS
from isbnet_trt.plugins.sparse_conv.launch import launch_grid, tiles

__all__ = ["farthest_point_sample", "ball_query", "sparse_conv", "CudaGeometry"]


def _const(name: str) -> int:
    return cuda_build.launch_constants()[f"ISBNET_{name}"]


def _ptr(t: Tensor | None) -> ctypes.c_void_p:
    return ctypes.c_void_p(0 if t is None else t.data_ptr())


def _kernels_for(t: Tensor) -> tuple[DeviceKernels, int]:
    """Loaded kernels and the current stream handle of the tensor's device."""
    if t.device.type != "cuda":
        raise ValueError(f"expected a CUDA tensor, got one on {t.device}")
    index = t.device.index if t.device.index is not None else torch.cuda.current_device()
    return device_kernels(index), torch.cuda.current_stream(t.device).cuda_stream


def _points(x: Tensor, name: str) -> Tensor:
    if x.dim() != 2 or x.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {tuple(x.shape)}")
    if x.dtype != torch.float32:
        raise TypeError(f"{name} must be float32 (the kernels' type), got {x.dtype}")
    return x.contiguous()


def farthest_point_sample(
    xyz: Tensor, n_sample: int, variant: str = "isbnet", algorithm: str = "auto"
) -> Tensor:
    """`isbnet::FarthestPointSample`: xyz (N, 3) float32 CUDA -> (n_out,) int32 indices.

    n_out = n_sample (variant "isbnet") or min(n_sample, N) ("pointnet2"). Point sets above
    `ISBNET_FPS_GRID_MIN_POINTS` run on many blocks (cooperative launch) when the device allows
    it, smaller ones on one block; both give the same indices (the arg-max key is layout-free).
    algorithm: "auto", or "block" / "grid" to force one kernel (for checks and benchmarks).
    """
    n_sample, variant = spec.check_farthest_point_sample(n_sample, variant)
    xyz = _points(xyz, "xyz")
    n = xyz.shape[0]
    if n > _const("FPS_MAX_POINTS"):
        raise ValueError(f"FPS supports at most {_const('FPS_MAX_POINTS')} points, got {n}")
    n_out = spec.fps_output_size(n, n_sample, variant)
    idx = torch.zeros(n_out, dtype=torch.int32, device=xyz.device)
    if n == 0 or n_out <= 1:
        return idx  # spec rules 1 and 6: slot 0 is 0, an empty set gives zeros
    kern, stream = _kernels_for(xyz)
    code = ctypes.c_int(_const("FPS_VARIANT_ISBNET" if variant == "isbnet" else "FPS_VARIANT_POINTNET2"))
    threads, reg = _const("FPS_GRID_THREADS"), _const("FPS_REG_POINTS")
    if algorithm not in ("auto", "block", "grid"):
        raise ValueError(f"algorithm must be 'auto', 'block' or 'grid', got {algorithm!r}")
    grid = 0
    if algorithm == "grid" or (algorithm == "auto" and n > _const("FPS_GRID_MIN_POINTS")):
        if kern.cooperative:
            resident = kern.max_active_blocks("isbnet_fps_grid", threads) * kern.sm_count
            grid = max(1, min(resident, -(-n // threads)))
        elif algorithm == "grid":
            raise ValueError(
                f"device {kern.device} cannot launch the multi-block FPS (no cooperative launch)"
            )
    if grid >= 1 and (algorithm == "grid" or grid > 1):
        keys = torch.zeros(n_out, dtype=torch.int64, device=xyz.device)
        barrier = torch.zeros(1, dtype=torch.int32, device=xyz.device)
        tmp = torch.empty(n, dtype=torch.float32, device=xyz.device) if n > grid * threads * reg else None
        args = [
            _ptr(xyz),
            ctypes.c_int(n),
            ctypes.c_int(n_out),
            code,
            _ptr(idx),
            _ptr(tmp),
            _ptr(keys),
            _ptr(barrier),
        ]
        kern.launch("isbnet_fps_grid", grid, threads, args, stream, cooperative=True)
    else:
        block = _const("FPS_THREADS")
        tmp = torch.empty(n, dtype=torch.float32, device=xyz.device) if n > block * reg else None
        args = [_ptr(xyz), ctypes.c_int(n), ctypes.c_int(n_out), code, _ptr(idx), _ptr(tmp)]
        kern.launch("isbnet_fps_block", 1, block, args, stream)
    return idx


def ball_query(xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
    """`isbnet::BallQuery`: xyz (N, 3), centres (M, 3) float32 CUDA -> (M, n_sample) int32."""
    radius, n_sample = spec.check_ball_query(radius, n_sample)
    xyz, centres = _points(xyz, "xyz"), _points(centres, "centres")
    if xyz.device != centres.device:
        raise ValueError(f"xyz on {xyz.device}, centres on {centres.device}")
    m = centres.shape[0]
    idx = torch.empty((m, n_sample), dtype=torch.int32, device=xyz.device)
    if m == 0 or n_sample == 0:
        return idx
    kern, stream = _kernels_for(xyz)
    threads = _const("BQ_THREADS")
    grid = -(-m * 32 // threads)
    args = [
        _ptr(xyz),
        _ptr(centres),
        ctypes.c_int(xyz.shape[0]),
        ctypes.c_int(m),
        ctypes.c_int(n_sample),
        ctypes.c_int(float32_bits(radius)),
        _ptr(idx),
    ]
    kern.launch("isbnet_ball_query", grid, threads, args, stream)
    return idx


def check_sparse_conv_algorithm(algorithm: str, name: str = "algorithm") -> str:
    """`algorithm` if `sparse_conv` takes it ("tile", "splitk" or "auto"), else a ValueError
    naming the argument `name`."""
    if algorithm not in (*SPARSE_CONV_ALGORITHMS, "auto"):
        raise ValueError(f"{name} must be one of {(*SPARSE_CONV_ALGORITHMS, 'auto')}, got {algorithm!r}")
    return algorithm


@functools.cache
def _sm_count(device_index: int) -> int:
    return torch.cuda.get_device_properties(device_index).multi_processor_count


def pick_sparse_conv_algorithm(n_out: int, c_out: int, device: torch.device) -> str:
    """ "splitk" where the one-warp kernel would launch fewer warps (64-row x 32-channel tiles)
    than the GPU has SMs, else "tile". The choice of `sparse_conv(algorithm="auto")`."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    return "splitk" if tiles(n_out, c_out) < _sm_count(index) else "tile"


def sparse_conv(
    features: Tensor,
    kernel_map: Tensor,
    weight: Tensor,
    min_inputs: int | None = None,
    algorithm: str = "tile",
) -> Tensor:
    """`isbnet::SparseConv3d`: features (N_in, C_in), kernel_map (N_out, K) int32, weight
    (K, C_in, C_out) -> (N_out, C_out), all on one CUDA device.

    float32 and float16 run natively (float16 accumulates in float32); bfloat16 is computed in
    float32 and cast back. min_inputs: 1 + the largest row the map references, when the caller
    knows it (e.g. computed on the CPU when the map was built); None computes it on the device
    (one host sync) to refuse maps that reach past `features`. algorithm: "tile" (one warp per
    64-row tile: the kernel the TensorRT plugin embeds), "splitk" (a block per tile, its warps
    splitting the offsets: meant for coarse levels with few tiles; not yet run on a GPU) or
    "auto" (`pick_sparse_conv_algorithm`).
    """
    check_sparse_conv_algorithm(algorithm)
    spec.check_sparse_conv3d(features.shape, kernel_map.shape, weight.shape)
    k_vol, c_in, c_out = weight.shape
    if kernel_map.dtype != torch.int32:
        raise TypeError(f"kernel_map must be int32, got {kernel_map.dtype}")
    if features.dtype != weight.dtype:
        raise TypeError(f"features dtype {features.dtype} != weight dtype {weight.dtype}")
    if not (features.device == kernel_map.device == weight.device):
        raise ValueError("features, kernel_map and weight must be on one device")
    if features.dtype == torch.bfloat16:
        return sparse_conv(features.float(), kernel_map, weight.float(), min_inputs, algorithm).to(
            torch.bfloat16
        )
    if features.dtype not in (torch.float32, torch.float16):
        raise TypeError(f"features must be float32, float16 or bfloat16, got {features.dtype}")
    n_out = kernel_map.shape[0]
    if min_inputs is None:
        min_inputs = int(kernel_map.max()) + 1 if kernel_map.numel() else 0
    if min_inputs > features.shape[0]:
        raise ValueError(
            f"kernel map references input row {min_inputs - 1}, features have {features.shape[0]} rows"
        )
    out = torch.empty((n_out, c_out), dtype=features.dtype, device=features.device)
    if n_out == 0 or c_out == 0:
        return out
    if c_in == 0:
        return out.zero_()
    features, kernel_map, weight = features.contiguous(), kernel_map.contiguous(), weight.contiguous()
    kern, stream = _kernels_for(features)
    if algorithm == "auto":
        algorithm = pick_sparse_conv_algorithm(n_out, c_out, features.device)
    grid, threads = launch_grid(n_out, c_out, algorithm)
    dtype = "f32" if features.dtype == torch.float32 else "f16"
    name = f"isbnet_sparse_conv_splitk_{dtype}" if algorithm == "splitk" else f"isbnet_sparse_conv_{dtype}"
    args = [
        _ptr(features),
        _ptr(kernel_map),
        _ptr(weight),
        ctypes.c_int(features.shape[0]),
        ctypes.c_int(n_out),
        ctypes.c_int(k_vol),
        ctypes.c_int(c_in),
        ctypes.c_int(c_out),
        _ptr(out),
    ]
    kern.launch(name, grid, threads, args, stream)
    return out


class CudaGeometry:
    """`GeometryOps` (isbnet.aggregator) on our CUDA kernels; indices come back as int64 like the
    reference ops. Inputs must be CUDA tensors."""

    def farthest_point_sample(self, xyz: Tensor, n_sample: int, variant: str) -> Tensor:
        return farthest_point_sample(xyz, n_sample, variant).long()

    def ball_query(self, xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
        return ball_query(xyz, centres, radius, n_sample).long()
