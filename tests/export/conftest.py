"""Export test fixtures: the golden checkpoint's model and its export (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from isbnet_trt.isbnet.checkpoint import build_model, load_model, save_checkpoint
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


@pytest.fixture(scope="session")
def narrow_ckpt(tmp_path_factory) -> tuple[Path, Path]:
    """(checkpoint, config) of an architecture that no bundled or official config has: the demo
    config with 8 U-Net channels instead of 16, random weights (seed 0), official format."""
    from isbnet_trt.isbnet.demo import demo_config_path

    folder = tmp_path_factory.mktemp("narrow")
    doc = yaml.safe_load(demo_config_path().read_text())
    doc["model"]["channels"] = 8
    cfg_path = folder / "narrow.yaml"
    cfg_path.write_text(yaml.safe_dump(doc))
    with torch.random.fork_rng():  # the other tests' random state is left alone
        torch.manual_seed(0)
        model = build_model(load_config(cfg_path))
    save_checkpoint(model.state_dict(), folder / "narrow.pth", epoch=0)
    return folder / "narrow.pth", cfg_path


@pytest.fixture(autouse=True)
def _torch_one_thread(one_torch_thread: None) -> None:
    """Every export test with torch on one thread (`one_torch_thread`)."""
