"""TensorRT plugin registration (runs only where TensorRT is installed, skipped visibly here) and
the TensorRT check script's refusal without TensorRT. The plugins are checked against NVIDIA's
Python plugin layer in test_trt_plugin_contract.py."""

from __future__ import annotations

import pytest

from isbnet_trt.plugins import trt_plugins


def test_missing_tensorrt_is_reported_clearly():
    if trt_plugins.tensorrt_available():
        pytest.skip("TensorRT is installed: nothing to refuse")
    with pytest.raises(trt_plugins.TensorRTUnavailableError, match="TensorRT"):
        trt_plugins.register_plugins()


def test_plugins_are_registered_once_under_their_onnx_names():
    trt = pytest.importorskip("tensorrt", reason="TensorRT not installed: plugin registration not tested")
    trt_plugins.register_plugins(arch=90)
    trt_plugins.register_plugins(arch=90)  # idempotent
    registry = trt.get_plugin_registry()
    for op in trt_plugins.OPS:
        assert registry.get_creator(op, trt_plugins.PLUGIN_VERSION, trt_plugins.PLUGIN_NAMESPACE) is not None


def test_trt_check_script_says_what_is_missing(tmp_path):
    """benchmarks/trt_check.py (the one-shot check for a TensorRT machine) runs its argument and
    environment code anywhere and exits 2 with one reason where TensorRT or the GPU is missing."""
    import subprocess
    import sys
    from pathlib import Path

    if trt_plugins.tensorrt_available():
        pytest.skip("TensorRT is installed: run benchmarks/trt_check.py itself")
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "trt_check.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("cannot run the TensorRT check:")
    assert not list(tmp_path.glob("trt_check-*.md"))  # nothing measured: no report
