"""The shipped demo model: a small ISBNet trained on synthetic rooms (see `data/MODEL_CARD.md`).

Not trained on ScanNet: it segments rooms like those of `training.synthetic`, and is meant for
demos, tests and runtime checks where the official weights cannot be downloaded.
"""

from __future__ import annotations

from pathlib import Path

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.model import ISBNet

_DATA = Path(__file__).resolve().parent / "data"


def demo_config_path() -> Path:
    """The demo model's official-format YAML config (package data)."""
    return _DATA / "demo.yaml"


def demo_weights_path() -> Path:
    """The demo weights, an official `{"net": state_dict}` checkpoint (package data)."""
    return _DATA / "demo_weights.pth"


def model_card_path() -> Path:
    return _DATA / "MODEL_CARD.md"


def load_demo_model() -> ISBNet:
    """The demo model in eval mode, loaded strictly (raises `CheckpointError` if absent)."""
    return load_model(demo_weights_path(), demo_config_path())
