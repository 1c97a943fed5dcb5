"""Compile the `isbnet::` CUDA kernels (`plugins/cuda/`) to PTX or CUBIN, with an on-disk cache.

The kernels are device code only (`plugins/cuda/isbnet_kernels.cu` includes every kernel), so
they compile at run time with NVRTC (the `cuda-python` bindings + NVIDIA's `nvidia-cuda-nvrtc`
wheel: no toolkit needed), or ahead of time with `nvcc` when it is on the PATH:

* PTX (`kind="ptx"`, virtual arch `compute_XY`): what TensorRT AOT plugins embed in engines;
  the driver JIT-compiles it for the GPU (it must know the PTX ISA version the compiler emits,
  so the compiler must not be newer than the driver's CUDA version).
* CUBIN (`kind="cubin"`, real arch `sm_XY`): what the PyTorch GPU path loads (no driver JIT).

Supported targets: Turing sm_75 to Hopper sm_90 (`SUPPORTED_ARCHS`, Jetson Orin is sm_87).
Results are cached in memory and in `cache_dir()` keyed by the sources, target, compiler and
its version; cache files are written atomically. Compiler errors raise `CudaCompileError` with
the compiler's log. Nothing here needs a GPU.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from isbnet_trt.files import write_atomic

__all__ = [
    "KERNEL_DIR",
    "MAIN_SOURCE",
    "ENTRY_POINTS",
    "SUPPORTED_ARCHS",
    "CudaCompileError",
    "CompiledKernels",
    "launch_constants",
    "compile_kernels",
    "ptx_entry_points",
    "available_compilers",
    "cache_dir",
]

KERNEL_DIR = Path(__file__).resolve().with_name("cuda")
#: The translation unit that includes every kernel.
MAIN_SOURCE = KERNEL_DIR / "isbnet_kernels.cu"
#: `extern "C"` kernels every build must contain (checked after compiling).
ENTRY_POINTS = (
    "isbnet_fps_block",
    "isbnet_fps_grid",
    "isbnet_ball_query",
    "isbnet_sparse_conv_f32",
    "isbnet_sparse_conv_f16",
    "isbnet_sparse_conv_splitk_f32",
    "isbnet_sparse_conv_splitk_f16",
)
#: Compute capabilities (major * 10 + minor) the kernels are built and checked for.
SUPPORTED_ARCHS = (75, 80, 86, 87, 89, 90)

Kind = Literal["ptx", "cubin"]
Compiler = Literal["auto", "nvrtc", "nvcc"]

_DEFINE = re.compile(r"^#define\s+(ISBNET_[A-Z0-9_]+)\s+(-?\d+)\s*$", re.MULTILINE)
_ENTRY = re.compile(r"^\s*\.(?:visible\s+)?\.entry\s+([A-Za-z_][A-Za-z0-9_$]*)\s*\(", re.MULTILINE)


class CudaCompileError(RuntimeError):
    """The kernels did not compile (the message carries the compiler's log), or no compiler."""


@dataclass(frozen=True)
class CompiledKernels:
    """A compiled kernel image.

    arch: compute capability, e.g. 90; kind: "ptx" (text, NUL-free) or "cubin"; image: the
    bytes to hand to `cuModuleLoadData` or to a TensorRT AOT plugin; compiler: e.g.
    "nvrtc 13.5"; log: compiler messages (empty when clean).
    """

    arch: int
    kind: Kind
    image: bytes
    compiler: str
    log: str

    @property
    def ptx(self) -> str:
        if self.kind != "ptx":
            raise ValueError("this image is a CUBIN, not PTX")
        return self.image.decode()


def cache_dir() -> Path:
    """`$ISBNET_TRT_CACHE/kernels`, else `$XDG_CACHE_HOME/isbnet-trt/kernels`, else `~/.cache/...`."""
    if os.environ.get("ISBNET_TRT_CACHE"):
        return Path(os.environ["ISBNET_TRT_CACHE"]) / "kernels"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "isbnet-trt" / "kernels"


@lru_cache(maxsize=1)
def launch_constants() -> dict[str, int]:
    """The `#define ISBNET_* <int>` values of `plugins/cuda/launch_config.h` (one source of truth)."""
    return {m[1]: int(m[2]) for m in _DEFINE.finditer((KERNEL_DIR / "launch_config.h").read_text())}


def ptx_entry_points(ptx: str) -> set[str]:
    """Names of the `.entry` functions (kernels) defined in a PTX text."""
    return set(_ENTRY.findall(ptx))


def _sources() -> list[Path]:
    return sorted(p for p in KERNEL_DIR.iterdir() if p.suffix in (".cu", ".cuh", ".h"))


def _source_digest() -> str:
    h = hashlib.sha256()
    for p in _sources():
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _check_arch(arch: int) -> None:
    if arch not in SUPPORTED_ARCHS:
        raise ValueError(f"compute capability {arch} is not supported (supported: {SUPPORTED_ARCHS})")


# --------------------------------------------------------------------------------------------
# compilers
# --------------------------------------------------------------------------------------------


def _nvrtc_module():
    """cuda-python's NVRTC bindings (new and old module layouts), or None."""
    try:
        from cuda.bindings import nvrtc  # cuda-python >= 12.6
    except ImportError:
        try:
            from cuda import nvrtc  # type: ignore[no-redef]  # older cuda-python
        except ImportError:
            return None
    try:  # the bindings import without the native library; it loads on first call
        err, _, _ = nvrtc.nvrtcVersion()
    except Exception:  # noqa: BLE001 - a missing libnvrtc surfaces as various errors
        return None
    return nvrtc if int(err) == 0 else None


def available_compilers() -> list[str]:
    """Compilers usable here, in preference order: "nvrtc" (cuda-python + libnvrtc), "nvcc"."""
    found = []
    if _nvrtc_module() is not None:
        found.append("nvrtc")
    if shutil.which("nvcc"):
        found.append("nvcc")
    return found


def _nvrtc_version(nvrtc) -> str:
    _, major, minor = nvrtc.nvrtcVersion()
    return f"nvrtc {major}.{minor}"


def _nvcc_version() -> str:
    out = subprocess.run(["nvcc", "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"release (\d+\.\d+)", out)
    return f"nvcc {m[1] if m else 'unknown'}"


def _nvrtc_compile(arch: int, kind: Kind) -> tuple[bytes, str]:
    nvrtc = _nvrtc_module()
    if nvrtc is None:
        raise CudaCompileError(
            "NVRTC is not available: pip install cuda-python nvidia-cuda-nvrtc (CUDA 12.x/13.x)"
        )
    target = f"compute_{arch}" if kind == "ptx" else f"sm_{arch}"
    options = [
        f"--gpu-architecture={target}".encode(),
        f"--include-path={KERNEL_DIR}".encode(),
        b"--std=c++17",
        b"--fmad=true",  # the distance code uses explicit rn intrinsics: --fmad cannot change it
    ]
    err, prog = nvrtc.nvrtcCreateProgram(MAIN_SOURCE.read_bytes(), MAIN_SOURCE.name.encode(), 0, [], [])
    _nvrtc_check(nvrtc, err, "nvrtcCreateProgram")
    try:
        (err,) = nvrtc.nvrtcCompileProgram(prog, len(options), options)
        log = _nvrtc_log(nvrtc, prog)
        if int(err) != 0:
            raise CudaCompileError(f"NVRTC failed to compile {MAIN_SOURCE.name} for {target}:\n{log}")
        if kind == "ptx":
            err, size = nvrtc.nvrtcGetPTXSize(prog)
            _nvrtc_check(nvrtc, err, "nvrtcGetPTXSize")
            buf = b" " * size
            (err,) = nvrtc.nvrtcGetPTX(prog, buf)
            _nvrtc_check(nvrtc, err, "nvrtcGetPTX")
        else:
            err, size = nvrtc.nvrtcGetCUBINSize(prog)
            _nvrtc_check(nvrtc, err, "nvrtcGetCUBINSize")
            buf = b" " * size
            (err,) = nvrtc.nvrtcGetCUBIN(prog, buf)
            _nvrtc_check(nvrtc, err, "nvrtcGetCUBIN")
        return (buf.rstrip(b"\0") if kind == "ptx" else buf), log
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def _nvrtc_check(nvrtc, err, what: str) -> None:
    if int(err) != 0:
        _, msg = nvrtc.nvrtcGetErrorString(err)
        raise CudaCompileError(f"{what} failed: {msg.decode() if isinstance(msg, bytes) else msg}")


def _nvrtc_log(nvrtc, prog) -> str:
    err, size = nvrtc.nvrtcGetProgramLogSize(prog)
    if int(err) != 0 or size <= 1:
        return ""
    buf = b" " * size
    nvrtc.nvrtcGetProgramLog(prog, buf)
    return buf.rstrip(b"\0").decode(errors="replace").strip()


def nvcc_command(arch: int, kind: Kind, output: Path, source: Path = MAIN_SOURCE) -> list[str]:
    """The nvcc command line for one target; warnings are errors (the CI check uses it too)."""
    target = f"compute_{arch}" if kind == "ptx" else f"sm_{arch}"
    return [
        "nvcc",
        f"--gpu-architecture={target}" if kind == "ptx" else f"-arch={target}",
        "-ptx" if kind == "ptx" else "-cubin",
        "-std=c++17",
        "-Werror",
        "all-warnings",
        f"-I{KERNEL_DIR}",
        "-o",
        str(output),
        str(source),
    ]


def _nvcc_compile(arch: int, kind: Kind) -> tuple[bytes, str]:
    if not shutil.which("nvcc"):
        raise CudaCompileError("nvcc is not on the PATH")
    with tempfile.TemporaryDirectory(prefix="isbnet-nvcc-") as tmp:
        out = Path(tmp) / f"isbnet_kernels.{kind}"
        proc = subprocess.run(nvcc_command(arch, kind, out), capture_output=True, text=True)
        log = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0:
            msg = f"nvcc failed to compile {MAIN_SOURCE.name} for sm_{arch} ({kind}):\n{log}"
            raise CudaCompileError(msg)
        return out.read_bytes(), log


# --------------------------------------------------------------------------------------------
# cached entry point
# --------------------------------------------------------------------------------------------

_lock = threading.Lock()
_memory: dict[str, CompiledKernels] = {}


def compile_kernels(
    arch: int, kind: Kind = "ptx", compiler: Compiler = "auto", use_cache: bool = True
) -> CompiledKernels:
    """Compile every kernel for compute capability `arch` (e.g. 90) into one PTX or CUBIN image.

    compiler: "nvrtc", "nvcc" or "auto" (NVRTC if available, else nvcc). Raises
    `CudaCompileError` (with the log) on compile errors or when no compiler is available, and
    when an expected entry point is missing from a PTX image. Thread-safe; cached in memory
    and on disk (`cache_dir()`), keyed by sources, target and compiler version.
    """
    _check_arch(arch)
    if kind not in ("ptx", "cubin"):
        raise ValueError(f"kind must be 'ptx' or 'cubin', got {kind!r}")
    if compiler == "auto":
        found = available_compilers()
        if not found:
            raise CudaCompileError(
                "no CUDA compiler: install cuda-python and nvidia-cuda-nvrtc (pip), or put nvcc on the PATH"
            )
        compiler = found[0]  # type: ignore[assignment]
    if compiler == "nvrtc":
        nvrtc = _nvrtc_module()
        version = _nvrtc_version(nvrtc) if nvrtc else "nvrtc missing"
    elif compiler == "nvcc":
        version = _nvcc_version() if shutil.which("nvcc") else "nvcc missing"
    else:
        raise ValueError(f"compiler must be 'auto', 'nvrtc' or 'nvcc', got {compiler!r}")
    key = hashlib.sha256(f"{_source_digest()}|{arch}|{kind}|{version}".encode()).hexdigest()[:32]
    with _lock:
        if use_cache and key in _memory:
            return _memory[key]
        path = cache_dir() / f"isbnet_kernels-sm{arch}-{key}.{kind}"
        if use_cache and path.is_file():
            result = CompiledKernels(arch, kind, path.read_bytes(), version, "")
        else:
            fn = _nvrtc_compile if compiler == "nvrtc" else _nvcc_compile
            image, log = fn(arch, kind)
            result = CompiledKernels(arch, kind, image, version, log)
            if kind == "ptx":
                missing = set(ENTRY_POINTS) - ptx_entry_points(result.ptx)
                if missing:
                    raise CudaCompileError(f"{version} output lacks kernels {sorted(missing)}")
            if use_cache:
                _write_atomic(path, image)
        if use_cache:
            _memory[key] = result
        return result


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError:
        pass  # an unwritable cache only costs a recompile
