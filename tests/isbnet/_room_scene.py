"""Room-like voxel scenes for the sparse-conv tests: clustered surfaces, not uniform noise.

Shared by `test_sparse_conv.py` and `tests/plugins/kernel_maps/` (test helper, not part of the package).
"""

from __future__ import annotations

import numpy as np


def _box_faces(
    lo: np.ndarray, hi: np.ndarray, with_bottom: bool
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Faces of an axis-aligned box as (origin, edge u, edge v) parallelograms, metres."""
    dx, dy, dz = hi - lo
    ex, ey, ez = np.array([dx, 0, 0]), np.array([0, dy, 0]), np.array([0, 0, dz])
    faces = [
        (lo + ez, ex, ey),  # top
        (lo, ex, ez),
        (lo + ey, ex, ez),
        (lo, ey, ez),
        (lo + ex, ey, ez),
    ]
    if with_bottom:
        faces.append((lo, ex, ey))
    return faces


def room_points(
    n_points: int, seed: int = 0, size: tuple[float, float, float] = (6.0, 5.0, 2.8)
) -> np.ndarray:
    """Points sampled on a furnished room's surfaces (floor, walls, boxes), with 5 mm noise.

    Returns (n_points, 3) float64 xyz in metres, all >= 0.
    """
    rng = np.random.default_rng(seed)
    room = np.array(size)
    faces = _box_faces(np.zeros(3), room, with_bottom=True)[1:]  # walls + floor, no ceiling
    for _ in range(6):  # furniture: tables, cabinets, beds
        extent = rng.uniform([0.4, 0.4, 0.4], [1.6, 1.0, 1.2])
        lo = rng.uniform(0.1, 1.0, 3) * (room - extent - 0.1)
        lo[2] = 0.0
        faces += _box_faces(lo, lo + extent, with_bottom=False)
    origins, us, vs = (np.array(a) for a in zip(*faces, strict=True))
    areas = np.linalg.norm(np.cross(us, vs), axis=1)
    face = rng.choice(len(faces), size=n_points, p=areas / areas.sum())
    st = rng.random((n_points, 2))
    pts = origins[face] + st[:, :1] * us[face] + st[:, 1:] * vs[face]
    pts += rng.normal(scale=0.005, size=pts.shape)
    return pts - pts.min(0)


def room_voxels(n_points: int, seed: int = 0, scale: float = 50.0) -> np.ndarray:
    """Unique voxel coordinates of `room_points` at `scale` voxels per metre, in shuffled order.

    Returns (M, 3) int32, M < n_points (about 0.85 * n_points at the defaults for 150k points).
    """
    vox = np.unique(np.floor(room_points(n_points, seed) * scale).astype(np.int64), axis=0)
    rng = np.random.default_rng(seed + 1)
    return vox[rng.permutation(len(vox))].astype(np.int32)
