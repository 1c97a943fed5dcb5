"""Load and launch the `isbnet::` kernels on an NVIDIA GPU through the CUDA driver API.

Uses NVIDIA's `cuda-python` bindings (`pip install 'isbnet-trt[gpu]'`): the kernels are compiled
for the device's exact compute capability to a CUBIN (`cuda_build`, NVRTC or nvcc), loaded once
per device into the device's *primary* context, the context PyTorch's runtime uses, so kernels
read PyTorch's memory and run on PyTorch's streams. Launch arguments are ctypes scalars
(`ctypes.c_void_p` for device pointers, `ctypes.c_int` / `ctypes.c_uint` for ints), passed to
`cuLaunchKernel` as a `void**` array (the layout the driver API documents for `kernelParams`).

Everything imports lazily: without cuda-python or a GPU, `device_kernels` raises
`CudaUnavailableError` naming what is missing. Nothing here depends on PyTorch.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from isbnet_trt.errors import IsbnetError
from isbnet_trt.plugins import cuda_build

__all__ = [
    "CudaUnavailableError",
    "CudaDriverError",
    "DeviceKernels",
    "device_kernels",
    "compute_capability",
    "pack_args",
    "float32_bits",
]


class CudaUnavailableError(IsbnetError, RuntimeError):
    """No usable CUDA here: cuda-python missing, no driver, no device, or an unsupported GPU."""


class CudaDriverError(RuntimeError):
    """A CUDA driver call failed (the message names the call and the driver's error)."""


def _driver() -> Any:
    try:
        from cuda.bindings import driver  # cuda-python >= 12.6
    except ImportError:
        try:
            from cuda import cuda as driver  # type: ignore[no-redef]  # older cuda-python
        except ImportError:
            raise CudaUnavailableError(
                "cuda-python is not installed: pip install 'isbnet-trt[gpu]' (cuda-python, nvidia-cuda-nvrtc)"
            ) from None
    return driver


def _call(what: str, result: Any) -> Any:
    """Unpack a cuda-python result tuple `(CUresult, *values)`; raise on error."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        drv = _driver()
        name = drv.cuGetErrorName(err)[1]
        raise CudaDriverError(f"{what} failed: {name.decode() if isinstance(name, bytes) else name}")
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


_SCALARS = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_int64, ctypes.c_uint64, ctypes.c_float)


def pack_args(args: Sequence[ctypes._SimpleCData]) -> tuple[ctypes.Array, list[ctypes._SimpleCData]]:
    """`kernelParams` for `cuLaunchKernel`: an array of pointers to each argument's value.

    args: ctypes scalars in the kernel's parameter order. Returns (array, kept) - keep both
    alive until the launch call returns (the driver copies the values at launch).
    """
    kept = []
    for i, a in enumerate(args):
        if not isinstance(a, _SCALARS):
            raise TypeError(
                f"kernel argument {i} must be a ctypes scalar ({_SCALARS}), got {type(a).__name__}"
            )
        kept.append(a)
    array = (ctypes.c_void_p * max(1, len(kept)))(*[ctypes.addressof(a) for a in kept])
    return array, kept


@dataclass
class DeviceKernels:
    """The kernels loaded on one device.

    device: CUDA ordinal; arch: compute capability (e.g. 90); sm_count: multiprocessors;
    cooperative: whether cooperative launches are supported; compiler: what built the CUBIN.
    """

    device: int
    arch: int
    sm_count: int
    cooperative: bool
    compiler: str
    _context: Any = field(repr=False)
    _functions: dict[str, Any] = field(repr=False)
    _occupancy: dict[tuple[str, int, int], int] = field(default_factory=dict, repr=False)

    @contextmanager
    def _current(self) -> Iterator[None]:
        """Make the device's primary context current for the block, restoring the caller's: the
        runtime (PyTorch) derives its current device from it, which we must not change."""
        drv = _driver()
        current = _call("cuCtxGetCurrent", drv.cuCtxGetCurrent())
        if int(current) == int(self._context):
            yield
            return
        _call("cuCtxPushCurrent", drv.cuCtxPushCurrent(self._context))
        try:
            yield
        finally:
            _call("cuCtxPopCurrent", drv.cuCtxPopCurrent())

    def max_active_blocks(self, name: str, block: int, shared_mem: int = 0) -> int:
        """Blocks of kernel `name` that fit on one multiprocessor at once (cached)."""
        key = (name, block, shared_mem)
        if key not in self._occupancy:
            drv = _driver()
            with self._current():
                self._occupancy[key] = int(
                    _call(
                        "cuOccupancyMaxActiveBlocksPerMultiprocessor",
                        drv.cuOccupancyMaxActiveBlocksPerMultiprocessor(
                            self._functions[name], block, shared_mem
                        ),
                    )
                )
        return self._occupancy[key]

    def launch(
        self,
        name: str,
        grid: int,
        block: int,
        args: Sequence[ctypes._SimpleCData],
        stream: int,
        shared_mem: int = 0,
        cooperative: bool = False,
    ) -> None:
        """Launch kernel `name` on `stream` (a `cudaStream_t` handle as int, e.g. PyTorch's).

        cooperative: launch with `cuLaunchCooperativeKernel` (all blocks co-resident; the driver
        refuses a grid that cannot be), as `isbnet_fps_grid` requires.
        """
        if grid < 1 or block < 1:
            raise ValueError(f"empty launch of {name}: grid={grid}, block={block}")
        drv = _driver()
        with self._current():
            params, kept = pack_args(args)
            fn = self._functions[name]
            h_stream = drv.CUstream(stream)
            if cooperative:
                if not self.cooperative:
                    raise CudaUnavailableError(f"device {self.device} does not support cooperative launches")
                result = drv.cuLaunchCooperativeKernel(
                    fn, grid, 1, 1, block, 1, 1, shared_mem, h_stream, ctypes.addressof(params)
                )
            else:
                result = drv.cuLaunchKernel(
                    fn, grid, 1, 1, block, 1, 1, shared_mem, h_stream, ctypes.addressof(params), 0
                )
            del kept
        _call(f"launch of {name} (grid {grid}, block {block})", result)


_lock = threading.Lock()
_loaded: dict[int, DeviceKernels] = {}


def float32_bits(value: float) -> int:
    """The float32 nearest to `value` as the int32 bit pattern (how float attributes reach kernels
    whose launchers pass int32 scalars only, e.g. TensorRT AOT plugins)."""
    return struct.unpack("<i", struct.pack("<f", float(value)))[0]


def _device_info(device: int) -> tuple[Any, int, int, bool]:
    """(CUdevice, compute capability, multiprocessors, cooperative launch) of CUDA device `device`."""
    drv = _driver()
    try:
        _call("cuInit", drv.cuInit(0))
        n = _call("cuDeviceGetCount", drv.cuDeviceGetCount())
    except Exception as e:  # no libcuda raises loader errors, not a CUresult
        raise CudaUnavailableError(f"no usable CUDA driver: {e}") from None
    if not 0 <= device < n:
        raise CudaUnavailableError(f"CUDA device {device} does not exist ({n} device(s))")
    dev = _call("cuDeviceGet", drv.cuDeviceGet(device))
    attr = drv.CUdevice_attribute

    def get(a: Any) -> int:
        return int(_call("cuDeviceGetAttribute", drv.cuDeviceGetAttribute(a, dev)))

    major = get(attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    minor = get(attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    sms = get(attr.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
    coop = get(attr.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH)
    return dev, 10 * major + minor, sms, bool(coop)


def compute_capability(device: int = 0) -> int:
    """Compute capability of CUDA device `device` as major * 10 + minor (e.g. 90 for Hopper)."""
    return _device_info(device)[1]


def device_kernels(device: int = 0) -> DeviceKernels:
    """The kernels of `cuda_build.ENTRY_POINTS` loaded on CUDA device `device` (cached, thread-safe).

    Raises `CudaUnavailableError` when cuda-python, the driver or the device is missing or the
    device's compute capability is not in `cuda_build.SUPPORTED_ARCHS`, and
    `cuda_build.CudaCompileError` when the kernels do not compile.
    """
    with _lock:
        if device in _loaded:
            return _loaded[device]
        drv = _driver()
        dev, arch, sms, coop = _device_info(device)
        if arch not in cuda_build.SUPPORTED_ARCHS:
            raise CudaUnavailableError(
                f"device {device} has compute capability {arch // 10}.{arch % 10}; the kernels are built "
                f"for {', '.join(f'{a // 10}.{a % 10}' for a in cuda_build.SUPPORTED_ARCHS)}"
            )
        compiled = cuda_build.compile_kernels(arch, "cubin")
        ctx = _call("cuDevicePrimaryCtxRetain", drv.cuDevicePrimaryCtxRetain(dev))
        _call("cuCtxPushCurrent", drv.cuCtxPushCurrent(ctx))
        try:
            module = _call("cuModuleLoadData", drv.cuModuleLoadData(compiled.image))
            functions = {
                name: _call(f"cuModuleGetFunction({name})", drv.cuModuleGetFunction(module, name.encode()))
                for name in cuda_build.ENTRY_POINTS
            }
        finally:
            _call("cuCtxPopCurrent", drv.cuCtxPopCurrent())
        loaded = DeviceKernels(device, arch, sms, coop, compiled.compiler, ctx, functions)
        _loaded[device] = loaded
        return loaded
