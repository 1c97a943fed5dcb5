"""The CUDA launch grid of the ball-query kernel, for the PyTorch binding and the TensorRT plugin.

One warp per centre, `ISBNET_BQ_THREADS` threads per block (`plugins/cuda/launch_config.h`).
"""

from __future__ import annotations

from isbnet_trt.plugins import cuda_build

__all__ = ["launch_grid"]


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def launch_grid(m, cdiv=_cdiv):  # noqa: ANN001, ANN201 - ints or TensorRT shape expressions
    """(blocks, threads per block) of a launch over m centres. m: an int, or a symbolic size with
    its ceil-division `cdiv` (`trtp.cdiv`). A zero grid (no centres) is the caller's to handle."""
    threads = cuda_build.launch_constants()["ISBNET_BQ_THREADS"]
    return cdiv(m * 32, threads), threads
