"""Geometry shared by the generators."""

from __future__ import annotations

import math

import numpy as np


def yaw_rotation(yaw: float, dims: int = 3) -> np.ndarray:
    """Rotation about z by `yaw` radians, `(dims, dims)` for dims 2 (xy) or 3, acting on column vectors."""
    c, s = math.cos(yaw), math.sin(yaw)
    if dims == 2:
        return np.array([[c, -s], [s, c]])
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
