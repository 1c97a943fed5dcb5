"""TensorRT backend: what can be checked without TensorRT or a GPU runs; the rest skips visibly."""

from __future__ import annotations

import pytest
import torch

from isbnet_trt.runtime.backends import BackendError


def test_open_refuses_clearly_without_a_gpu_or_export(tmp_path):
    from isbnet_trt.runtime.backends.tensorrt import open_tensorrt_stages

    if torch.cuda.is_available():
        with pytest.raises(Exception, match="export"):
            open_tensorrt_stages(tmp_path)
    else:
        with pytest.raises(BackendError, match="needs an NVIDIA GPU"):
            open_tensorrt_stages(tmp_path)


def test_dtype_table():
    trt = pytest.importorskip("tensorrt", reason="TensorRT not installed: engine runner not tested")
    from isbnet_trt.runtime.backends.tensorrt import torch_dtype

    assert torch_dtype(trt.float32) == torch.float32 and torch_dtype(trt.int32) == torch.int32
