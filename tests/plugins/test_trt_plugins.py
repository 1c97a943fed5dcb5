"""TensorRT plugin registration: runs only where TensorRT is installed (skipped visibly here)."""

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
