"""The first generator's entry point, `generate_room` (how its rooms are made: see the `room_a` package)."""

from __future__ import annotations

from typing import Any

import numpy as np

from isbnet_trt.training.synthetic.room_a.layout import furnish_room
from isbnet_trt.training.synthetic.room_a.options import RoomOptions
from isbnet_trt.training.synthetic.room_a.sampling import assemble, sample_points
from isbnet_trt.training.synthetic.scene import SyntheticScene


def generate_room(n_points: int = 150_000, seed: int = 0, **options: Any) -> SyntheticScene:
    """Generate a furnished room with exactly `n_points` surface points; see the `room_a` docstring.

    `options` are the fields of `RoomOptions` (unknown names raise TypeError). Deterministic in
    (`n_points`, `seed`, options); the room and its furniture depend on `seed` and options only, so one
    seed gives the same room at every point count. `meta` holds "generator", "seed", "n_points",
    "room" [L, W, H] m, "n_objects", "n_superpoints", "options" and "objects": one dict per instance id
    (objects that received no point are left out) with "instance", "class", "class_id", "centre" [x, y, z],
    "size" [w, d, h] m, "yaw" rad, "wall" (index 0..3 of the wall it stands against, -1 free) and
    "n_points".
    """
    if n_points < 0:
        raise ValueError(f"n_points must be >= 0, got {n_points}")
    opts = RoomOptions(**options)
    rng = np.random.Generator(np.random.PCG64(seed))
    layout = furnish_room(rng, opts)
    patches = layout.patches.finish()
    sample = sample_points(rng, patches, n_points, opts)
    return assemble(rng, layout, patches, sample, n_points, seed, opts)
