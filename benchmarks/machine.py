"""What a report says about the machine: CPU, cores, memory, GPU, driver, library versions, git
commit, load; and which benchmark backends can run here. Shared by the latency benchmark and the
GPU / TensorRT checks, so that every report describes its machine the same way.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from isbnet_trt import __version__
from isbnet_trt.runtime.backends import GPU_BACKENDS, REGISTRY

#: Libraries named in the benchmark's machine table (where installed).
BENCHMARK_PACKAGES = (
    "torch",
    "numpy",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-extensions",
    "onnx",
    "numba",
    "llvmlite",
    "spconv",
    "spconv-cu126",
    "cumm",
    "tensorrt",
    "cuda-python",
)
#: Libraries named in the GPU / TensorRT check reports (None where not installed).
CHECK_PACKAGES = (
    "torch",
    "numpy",
    "cuda-python",
    "cuda-bindings",
    "nvidia-cuda-nvrtc",
    "cupy-cuda13x",
    "onnxruntime",
    "spconv-cu126",
    "spconv",
    "tensorrt",
)


# ------------------------------------------------------------------------------ names and versions
def slug(text: str) -> str:
    """Lower-case letters and digits, every other run of characters one hyphen ("" if none)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def package_version(package: str) -> str | None:
    """The installed distribution's version, None when it is not installed."""
    from importlib.metadata import version

    try:
        return version(package)
    except Exception:  # noqa: BLE001 - any failure means "not installed"
        return None


def git_commit(dirty: bool = False) -> str | None:
    """Short commit of the checkout this code runs from (with `dirty`: `+dirty` when it has
    uncommitted changes); None outside a git checkout."""
    here = str(Path(__file__).resolve().parent)
    try:
        out = subprocess.run(
            ["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        commit = out.stdout.strip() if out.returncode == 0 else ""
        if commit and dirty:
            status = subprocess.run(
                ["git", "-C", here, "status", "--porcelain"], capture_output=True, text=True
            )
            commit += "+dirty" if status.stdout.strip() else ""
    except OSError:
        return None
    return commit or None


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------ CPU and load
def usable_cores() -> int:
    """CPU cores this process may run on (affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_slug(info: dict[str, Any]) -> str:
    """A file-name-safe machine name: CPU model and core count, e.g. `amd-epyc-2c`."""
    model = re.sub(r"\((r|tm)\)|cpu|processor|@.*$", "", info["cpu"], flags=re.I)
    return f"{slug(model) or 'cpu'}-{info['cores']}c"


def meminfo_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_clock() -> tuple[float, float, float] | None:
    """(wall s, CPU s busy on the whole machine, CPU s of this process and its waited-for
    children), for `other_cpu_share`; None where /proc/stat is missing."""
    try:
        import resource  # Unix only

        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (ImportError, OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # user..steal; guest is inside user
    own = sum(
        r.ru_utime + r.ru_stime
        for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    return time.monotonic(), busy, own


def other_cpu_share(start: tuple[float, float, float] | None, cores: int) -> float | None:
    """Share of the machine's CPU time (0..1) used by other processes since `start`."""
    end = cpu_clock()
    if start is None or end is None or end[0] <= start[0]:
        return None
    wall, busy, own = (e - s for e, s in zip(end, start, strict=True))
    return round(max(0.0, busy - own) / (wall * cores), 3)


def _parallel_backend(info: str) -> str:
    """`ATen parallel backend: OpenMP` -> "OpenMP" (torch's `parallel_info()` text)."""
    found = re.search(r"ATen parallel backend:\s*(.+)", info)
    return found.group(1).strip() if found else "unknown"


# ------------------------------------------------------------------------------ the two descriptions
def machine_info(threads: int) -> dict[str, Any]:
    """The benchmark's machine: CPU model, cores, memory, GPU, OS, library versions, thread
    count, load average at the start."""
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "logical_cpus": os.cpu_count(),
        "threads": threads,
        "memory_gib": meminfo_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "isbnet_trt": __version__,
        "git_commit": git_commit(),
        "date_utc": utc_now(),
        "torch_parallel": _parallel_backend(torch.__config__.parallel_info()),
        "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other (no MKL)",
        "packages": {p: v for p in BENCHMARK_PACKAGES if (v := package_version(p))},
        "loadavg_start": loadavg(),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = f"{props.name} ({props.total_memory / 2**30:.0f} GiB, sm {props.major}.{props.minor})"
        info["torch_cuda"] = torch.version.cuda
    return info


def check_environment(device: str | None) -> dict[str, Any]:
    """The GPU / TensorRT checks' machine: Python and library versions; GPU, driver and compiler
    when `device` is usable."""
    env: dict[str, Any] = {
        "date_utc": utc_now(),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "git_commit": git_commit(dirty=True),
        "packages": {name: package_version(name) for name in CHECK_PACKAGES},
    }
    try:
        import torch

        env["torch_cuda"] = torch.version.cuda
        if device and torch.cuda.is_available():
            props = torch.cuda.get_device_properties(torch.device(device))
            env["gpu"] = {
                "name": props.name,
                "compute_capability": f"{props.major}.{props.minor}",
                "memory_gib": round(props.total_memory / 2**30, 1),
                "multiprocessors": props.multi_processor_count,
            }
    except ImportError:
        env["torch_cuda"] = None
    env["driver"] = driver_version()
    return env


def driver_version() -> str | None:
    """The NVIDIA driver's version (nvidia-smi), None without one."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
        )
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except OSError:
        return None


# ------------------------------------------------------------------------------ backends that can run
#: Backends run when none are named: everything available except the slow ONNX-function-body path.
OPT_IN_BACKENDS = ("onnxruntime-bodies",)


def backend_availability(names: Sequence[str]) -> dict[str, str | None]:
    """None for each backend that can run here, else why not (a short sentence)."""
    found = {
        m: importlib.util.find_spec(m) is not None for m in ("numba", "spconv", "onnxruntime", "tensorrt")
    }
    cuda = _torch_cuda()
    reasons: dict[str, str | None] = {}
    for name in names:
        if name not in REGISTRY:
            reasons[name] = f"unknown backend (choose from {', '.join(REGISTRY)})"
        elif name == "torch-numba" and not found["numba"]:
            reasons[name] = "numba is not installed"
        elif name in ("torch-spconv", "torch-cuda-spconv") and not found["spconv"]:
            reasons[name] = "spconv is not installed"
        elif name.startswith("onnxruntime") and not found["onnxruntime"]:
            reasons[name] = "onnxruntime is not installed"
        elif name == "onnxruntime" and not _ort_fast_kernels():
            reasons[name] = "numba / onnxruntime-extensions not installed (see onnxruntime-bodies)"
        elif name in GPU_BACKENDS and not cuda:
            reasons[name] = "no CUDA GPU visible to torch"
        elif name == "onnxruntime-cuda" and "CUDAExecutionProvider" not in _ort_providers():
            reasons[name] = "onnxruntime has no CUDAExecutionProvider (onnxruntime-gpu)"
        elif name == "torch-cuda" and importlib.util.find_spec("cuda") is None:
            reasons[name] = "cuda-python is not installed (the isbnet CUDA kernels need it)"
        elif name == "tensorrt" and not found["tensorrt"]:
            reasons[name] = "tensorrt is not installed"
        else:
            reasons[name] = None
    return reasons


def default_backends() -> list[str]:
    """Every available backend except the opt-in ones, the reference first."""
    names = [b for b in REGISTRY if b not in OPT_IN_BACKENDS]
    return [b for b, why in backend_availability(names).items() if why is None]


def _torch_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _ort_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def _ort_fast_kernels() -> bool:
    from isbnet_trt.plugins import onnxruntime_ops

    return bool(onnxruntime_ops.available())
