"""Export test fixtures: the golden checkpoint's model and its export (once per session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.config import load_config
from isbnet_trt.isbnet.model import ISBNet


@pytest.fixture(scope="session")
def light_model(golden_ckpt) -> ISBNet:
    ckpt, cfg = golden_ckpt
    return load_model(ckpt, load_config(cfg))


@pytest.fixture(scope="session")
def light_export(golden_ckpt, onnx_export):
    """The golden checkpoint exported (ONNX only) once for the session."""
    return onnx_export(*golden_ckpt)


@pytest.fixture(autouse=True)
def _torch_one_thread() -> Iterator[None]:
    """The torch reference on one thread: on a busy 2-core machine OpenMP barriers make tiny
    ops take milliseconds with 2 threads (results do not depend on the thread count)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
