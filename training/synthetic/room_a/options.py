"""The knobs of the first generator (`RoomOptions`) and the version tag written into each room's meta."""

from __future__ import annotations

from dataclasses import dataclass

GENERATOR_VERSION = "isbnet-trt-synthetic-room/1"


@dataclass(frozen=True)
class RoomOptions:
    """Knobs of `generate_room` (pass them as keyword arguments)."""

    room_size: tuple[float, float, float] | None = None  # (x length, y width, height) m; None = random
    ceiling: bool = False  # ScanNet scans see little ceiling; labelled "wall" (the 20 classes have none)
    noise: float = 0.005  # std of the isotropic position noise, m
    colour_noise: float = 4.0  # std of the per-point rgb noise, 0..255 units
    # superpoint patch sizes (m) on objects and on walls/floor/ceiling, for the reference 6 x 5 x 2.8 m room;
    # scaled by sqrt(room surface / reference) so that S stays about 1000 whatever the room size
    superpoint_size: float = 0.35
    structure_superpoint_size: float = 0.6
    object_density: float = 1.0  # multiplies the expected number of objects of every class
    clearance: float = 0.08  # minimum horizontal gap between objects, m
    shuffle: bool = True  # shuffle point order (scan order carries no meaning)
