"""NVIDIA's `tensorrt.plugin` Python sources of a TensorRT release, fetched at test time.

The `tensorrt-cu12-bindings` / `tensorrt-cu13-bindings` wheels on PyPI hold the real
`tensorrt.plugin` package (pure Python, under `tensorrt_bindings/plugin/`) beside the compiled
bindings, which cannot load here (no libnvinfer). `plugin_package(release)` downloads the wheel
with pip (`pip download --no-deps`, for a fixed platform and Python so every runner gets the same
file), extracts only `*/plugin/*.py` into a cache and returns that folder; `binding_names(release)`
is the set of identifiers found in the compiled bindings (`tensorrt.so`: the Python names of
classes, methods and enum members the release defines), kept beside it as `names.txt`. Nothing of
it is kept in the repository. `loaded(release)` imports it as `tensorrt.plugin` over the stub core of
`_trt_stub` and restores `sys.modules` afterwards.

Cache: `$ISBNET_TRT_CACHE/tensorrt-plugin-sources/<wheel>/`, else
`~/.cache/isbnet-trt/tensorrt-plugin-sources/...` (one download per release and machine).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import _trt_stub

_IDENT = re.compile(rb"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]{2,63}(?![A-Za-z0-9_])")


@dataclass(frozen=True)
class Release:
    package: str  # PyPI name of the bindings wheel
    version: str

    @property
    def label(self) -> str:
        return f"{self.package}=={self.version}"


#: The releases the contract tests run against: the first with Python AOT plugins in the ONNX
#: parser (10.9), the last 10.x, and the newest release when this was written (11.4, CUDA 13).
RELEASES = (
    Release("tensorrt-cu12-bindings", "10.9.0.34"),
    Release("tensorrt-cu12-bindings", "10.16.1.11"),
    Release("tensorrt-cu13-bindings", "11.4.0.106"),
)


class SourcesUnavailable(RuntimeError):
    """The wheel could not be downloaded or holds no `plugin` package (the test skips)."""


def cache_root() -> Path:
    if os.environ.get("ISBNET_TRT_CACHE"):
        return Path(os.environ["ISBNET_TRT_CACHE"]) / "tensorrt-plugin-sources"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "isbnet-trt" / "tensorrt-plugin-sources"


def plugin_package(release: Release) -> Path:
    """Folder of the release's `tensorrt.plugin` sources (downloaded once, then cached)."""
    dest = cache_root() / f"{release.package}-{release.version}"
    if (dest / "plugin" / "_lib.py").is_file() and (dest / "names.txt").is_file():
        return dest / "plugin"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux_2_28_x86_64",
            "--timeout",
            "30",
            "--disable-pip-version-check",
            "-q",
            "-d",
            tmp,
            release.label,
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SourcesUnavailable(f"pip download {release.label} failed: {e}") from None
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise SourcesUnavailable(f"pip download {release.label} failed: {tail[0]}")
        with zipfile.ZipFile(wheels[0]) as z:
            names = [n for n in z.namelist() if "/plugin/" in n and n.endswith(".py")]
            if not any(n.endswith("/plugin/_lib.py") for n in names):
                raise SourcesUnavailable(f"{wheels[0].name} holds no tensorrt plugin package")
            staging = Path(tempfile.mkdtemp(dir=_mkdir(dest.parent), prefix=dest.name + "."))
            for n in names:
                (staging / "plugin").mkdir(exist_ok=True)
                (staging / "plugin" / Path(n).name).write_bytes(z.read(n))
            binaries = [n for n in z.namelist() if n.endswith(".so") and "/tensorrt" in n]
            binaries += [n for n in z.namelist() if n.count("/") == 1 and n.endswith("/__init__.py")]
            idents = set()
            for n in binaries:
                for m in _IDENT.findall(z.read(n)):
                    ident = m.decode()
                    idents.add(ident)
                    # the linker merges a string literal into the tail of a longer one
                    # ("INPUT" inside "SHAPE_INPUT"): keep the tails after each underscore too
                    parts = ident.split("_")
                    idents.update("_".join(parts[i:]) for i in range(1, len(parts)) if parts[i])
            (staging / "names.txt").write_text("\n".join(sorted(idents)) + "\n")
    import shutil

    shutil.rmtree(dest, ignore_errors=True)  # an older cache entry without names.txt
    try:
        os.replace(staging, dest)  # atomic; a concurrent run may have won the race
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / "plugin"


def binding_names(release: Release) -> set[str]:
    """Identifiers in the release's compiled Python bindings (see the module docstring)."""
    plugin_dir = plugin_package(release)
    return set((plugin_dir.parent / "names.txt").read_text().split())


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


@contextlib.contextmanager
def loaded(release: Release):
    """Import the release's `tensorrt.plugin` over a fresh stub core; yields (trt, trtp).

    sys.modules' `tensorrt*` entries are replaced for the duration and restored afterwards, so a
    real TensorRT (if one is installed) is untouched.
    """
    plugin_dir = plugin_package(release)
    saved = _trt_stub.installed_modules()
    for name in saved:
        del sys.modules[name]
    trt = _trt_stub.make_module(release.version)
    sys.modules["tensorrt"] = trt
    try:
        spec = importlib.util.spec_from_file_location(
            "tensorrt.plugin", plugin_dir / "__init__.py", submodule_search_locations=[str(plugin_dir)]
        )
        trtp = importlib.util.module_from_spec(spec)
        sys.modules["tensorrt.plugin"] = trtp
        trt.plugin = trtp
        with warnings.catch_warnings():  # NVIDIA's docstrings hold invalid escapes ('\s')
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            spec.loader.exec_module(trtp)
        yield trt, trtp
    finally:
        for name in list(_trt_stub.installed_modules()):
            del sys.modules[name]
        sys.modules.update(saved)
        importlib.invalidate_caches()
