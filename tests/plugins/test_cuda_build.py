"""CI check of the CUDA kernels without a GPU: they compile to PTX, assemble for Turing and
Hopper with warnings as errors, and contain the expected entry points; the C++ launchers
compile; NVRTC (run-time compilation) produces the same kernels."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from isbnet_trt.plugins import cuda_build
from isbnet_trt.plugins.cuda_build import ENTRY_POINTS, KERNEL_DIR, CudaCompileError

needs_nvcc = pytest.mark.skipif(
    shutil.which("nvcc") is None, reason="nvcc not on the PATH: CUDA compile check skipped"
)
needs_nvrtc = pytest.mark.skipif(
    "nvrtc" not in cuda_build.available_compilers(),
    reason="NVRTC not available (pip install cuda-python nvidia-cuda-nvrtc): run-time compile check skipped",
)


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{out}"
    return out


@needs_nvcc
@pytest.mark.parametrize("arch", [75, 90])
def test_kernels_compile_and_assemble_without_warnings_or_spills(arch, tmp_path):
    ptx = tmp_path / f"k{arch}.ptx"
    _run(cuda_build.nvcc_command(arch, "ptx", ptx))
    assert cuda_build.ptx_entry_points(ptx.read_text()) == set(ENTRY_POINTS)
    # ptxas with warnings as errors: register spills in the FPS/conv kernels would fail here.
    cubin = tmp_path / "k.cubin"
    log = _run(["ptxas", f"-arch=sm_{arch}", "-v", "--warn-on-spills", "-Werror", str(ptx), "-o", str(cubin)])
    for entry in ENTRY_POINTS:
        assert f"Compiling entry function '{entry}'" in log
    assert "bytes spill stores" in log and " 0 bytes spill stores" in log


@needs_nvcc
@pytest.mark.parametrize("launcher", sorted(p.name for p in KERNEL_DIR.glob("*_impl.cu")))
def test_cpp_launchers_compile(launcher, tmp_path):
    _run(
        [
            "nvcc",
            "-arch=sm_75",
            "-std=c++17",
            "-c",
            "-Werror",
            "all-warnings",
            "-Xcompiler",
            "-Wall,-Wextra,-Werror",
            f"-I{KERNEL_DIR}",
            "-o",
            str(tmp_path / "launcher.o"),
            str(KERNEL_DIR / launcher),
        ]
    )


@needs_nvrtc
@pytest.mark.parametrize("arch", [75, 87, 90])
def test_nvrtc_compiles_every_kernel_cleanly(arch):
    ptx = cuda_build.compile_kernels(arch, "ptx", "nvrtc", use_cache=False)
    assert ptx.log == ""
    assert cuda_build.ptx_entry_points(ptx.ptx) == set(ENTRY_POINTS)
    assert f".target sm_{arch}" in ptx.ptx
    cubin = cuda_build.compile_kernels(arch, "cubin", "nvrtc", use_cache=False)
    assert cubin.image[:4] == b"\x7fELF"


@needs_nvrtc
def test_cache_is_reused_and_written_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("ISBNET_TRT_CACHE", str(tmp_path))
    first = cuda_build.compile_kernels(90, "ptx", "nvrtc")
    assert first is cuda_build.compile_kernels(90, "ptx", "nvrtc")  # memory cache
    files = list((tmp_path / "kernels").iterdir())
    assert len(files) == 1 and files[0].suffix == ".ptx" and files[0].read_bytes() == first.image


@needs_nvrtc
def test_compile_errors_carry_the_compiler_log(tmp_path, monkeypatch):
    broken = tmp_path / "broken.cu"
    broken.write_text('extern "C" __global__ void k(int* p) { p[0] = undeclared_name; }\n')
    monkeypatch.setattr(cuda_build, "MAIN_SOURCE", broken)
    with pytest.raises(CudaCompileError, match="undeclared_name"):
        cuda_build.compile_kernels(90, "ptx", "nvrtc", use_cache=False)


def test_unsupported_arch_is_refused():
    with pytest.raises(ValueError, match="not supported"):
        cuda_build.compile_kernels(61)


def test_launch_constants_come_from_the_header():
    c = cuda_build.launch_constants()
    assert c["ISBNET_FPS_CAP_ISBNET"] == 1024 and c["ISBNET_FPS_CAP_POINTNET2"] == 512
    assert c["ISBNET_FPS_MAX_POINTS"] == 2**22 - 1
    assert Path(KERNEL_DIR / "launch_config.h").is_file()
