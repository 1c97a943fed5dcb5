"""Synthetic ScanNet-like rooms with ScanNetV2 20-class instance labels, so that nothing is downloaded.

Three generators, written independently of each other, with one signature
(`RoomGenerator`: ``generate_room(n_points=150_000, seed=0, **options) -> SyntheticScene``) and
bit-identical rooms per (n_points, seed, options):

- ``a`` (`room_a`, also `generate_room` here): the default; the tests, benchmarks, demo commands and
  the bundled demo weights' training use it. Its own superpoints mimic ScanNet's mesh segments.
- ``b`` (`room_b`): other room types, shapes and palettes; can be mixed into training.
- ``c`` (`room_c`): a simulated scanner; never trained on, a held-out estimate of generalisation.

b and c have no superpoints of their own; theirs are computed from the points (`runtime.superpoints`).
Pick one by name with `get_generator`. Command line: ``python -m isbnet_trt.training.synthetic --help``.
"""

from isbnet_trt.training.synthetic.registry import GENERATORS, RoomGenerator, get_generator
from isbnet_trt.training.synthetic.room_a import RoomOptions, generate_room
from isbnet_trt.training.synthetic.scene import (
    CLASS_ID,
    CLASS_NAMES,
    IGNORE_INSTANCE,
    SyntheticScene,
    load_scene,
    save_scene,
)

__all__ = [
    "CLASS_ID",
    "CLASS_NAMES",
    "GENERATORS",
    "IGNORE_INSTANCE",
    "RoomGenerator",
    "RoomOptions",
    "SyntheticScene",
    "generate_room",
    "get_generator",
    "load_scene",
    "save_scene",
]
