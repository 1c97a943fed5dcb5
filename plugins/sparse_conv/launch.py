"""The CUDA launch grid of the sparse-conv kernels, for the PyTorch binding and the TensorRT plugin.

Tiles of `ISBNET_SPCONV_TILE_ROWS` output rows x `ISBNET_SPCONV_SLICE_COLS` output channels
(`plugins/cuda/launch_config.h`); "tile": one warp per tile, `ISBNET_SPCONV_WARPS` warps per
block; "splitk": one block per tile, its warps splitting the offsets.
"""

from __future__ import annotations

from isbnet_trt.plugins import cuda_build

__all__ = ["ALGORITHMS", "tiles", "launch_grid"]

ALGORITHMS = ("tile", "splitk")


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def tiles(n_out, c_out, cdiv=_cdiv):  # noqa: ANN001, ANN201 - ints or TensorRT shape expressions
    """Number of (row tile, channel slice) work units of an (N_out, C_out) output."""
    c = cuda_build.launch_constants()
    return cdiv(n_out, c["ISBNET_SPCONV_TILE_ROWS"]) * cdiv(c_out, c["ISBNET_SPCONV_SLICE_COLS"])


def launch_grid(n_out, c_out, algorithm: str = "tile", cdiv=_cdiv):  # noqa: ANN001, ANN201
    """(blocks, threads per block) of a launch. n_out, c_out: ints, or symbolic sizes with their
    ceil-division `cdiv` (`trtp.cdiv`). A zero grid (empty output) is the caller's to handle."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    warps = cuda_build.launch_constants()["ISBNET_SPCONV_WARPS"]
    units = tiles(n_out, c_out, cdiv)
    return (units if algorithm == "splitk" else cdiv(units, warps)), 32 * warps
