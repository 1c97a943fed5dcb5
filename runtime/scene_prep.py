"""Adapting users' point clouds to the model: axes, units, colour, size limits, superpoints.

The model expects z-up metres with colours 0..255, like ScanNet. Real scans come y-up, in
millimetres, without colour, with millions of points; these helpers make such a scene fit and
map the results back to every input point.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from isbnet_trt.errors import IsbnetError
from isbnet_trt.isbnet.preprocess import check_points

UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001}
GREY = 127.5  # colour of points without colour: the centre of the model's colour range (0 after scaling)
DEFAULT_MAX_POINTS = 1_000_000
# Peak resident memory added per input point by the CPU pipeline (torch backend, lightweight
# config): 1.8 KB at 150k points, 1.4 KB at 300k, measured on generated rooms (docs/runtime.md);
# used for the estimate in the size-limit message.
BYTES_PER_POINT = 2_000
# Voxel grids are addressed with int64 keys (plugins/kernel_maps/reference.py, limit 2**62 cells with a
# margin): a scene whose bounding box at the model's voxel size exceeds this is refused.
MAX_GRID_CELLS = 2**60
# float32 input coordinates coarser than this (metres between neighbouring values) at the
# scene's largest |coordinate| lose geometry the 2 cm voxels see.
FLOAT32_MAX_SPACING = 0.002


class SceneOptionError(IsbnetError, ValueError):
    """The scene does not fit the chosen options (colour, size limit)."""


@dataclass(frozen=True)
class SceneOptions:
    """How to read a user's point cloud.

    up_axis: "z" (ScanNet) or "y" (rotated to z-up); units: "m", "cm" or "mm";
    no_color: accept `(N, 3)` points and give them a constant grey; max_points: above this many
    points the scene is refused unless `downsample` is True, in which case it is voxel-grid
    downsampled to at most that many points and the results are mapped back to every point.
    """

    up_axis: str = "z"
    units: str = "m"
    no_color: bool = False
    max_points: int = DEFAULT_MAX_POINTS
    downsample: bool = False

    def __post_init__(self) -> None:
        if self.up_axis not in ("z", "y"):
            raise SceneOptionError(f"up axis must be 'z' or 'y', got {self.up_axis!r}")
        if self.units not in UNIT_SCALE:
            raise SceneOptionError(f"units must be one of {', '.join(UNIT_SCALE)}, got {self.units!r}")
        if self.max_points < 1:
            raise SceneOptionError(f"max points must be >= 1, got {self.max_points}")


def to_model_frame(points: np.ndarray, opts: SceneOptions, voxel_scale: float = 50.0) -> np.ndarray:
    """`(N, 3 or 6)` user points → `(N, 6)` float64 z-up metres + rgb; warns on suspicious
    extents and colours, refuses a scene too large for the voxel grid (`voxel_scale` voxels per
    metre, the config's `data_scale`)."""
    points = np.asarray(points)
    given_float32 = points.dtype == np.float32  # (before colour is added in float64)
    if points.ndim == 2 and points.shape[1] == 3:
        if not opts.no_color:
            raise SceneOptionError(
                "points have no colour (N, 3): pass --no-color to use a constant grey "
                "(the model then relies on geometry alone; see docs/runtime.md for the accuracy cost)"
            )
        points = np.concatenate([points, np.full((len(points), 3), GREY)], 1)
    out, _ = check_points(points)  # shape, dtype, NaN/inf, empty: before any arithmetic
    out[:, :3] *= UNIT_SCALE[opts.units]
    if opts.up_axis == "y":  # rotate +90° about x: y (up) becomes z, z becomes -y
        out[:, 1], out[:, 2] = -out[:, 2].copy(), out[:, 1].copy()
    check_extent(out[:, :3], voxel_scale)
    _warn_if_suspicious(out[:, :3])
    if given_float32:
        _warn_if_float32_coarse(points[:, :3], UNIT_SCALE[opts.units])
    if not opts.no_color:
        _warn_if_colour_range_odd(out[:, 3:6])
    return out


def check_extent(xyz: np.ndarray, voxel_scale: float) -> None:
    """Refuse (`SceneOptionError`) a scene whose bounding box, at `voxel_scale` voxels per
    metre and in any rotation the preparation applies (hence the diagonal), has more cells than
    the voxel grid can address: usually millimetres read as metres."""
    diagonal = float(np.linalg.norm(xyz.max(0) - xyz.min(0))) if len(xyz) else 0.0
    if (diagonal * voxel_scale + 3) ** 3 >= MAX_GRID_CELLS:
        limit = (MAX_GRID_CELLS ** (1 / 3) - 3) / voxel_scale
        raise SceneOptionError(
            f"the scene spans {diagonal:,.0f} m (bounding-box diagonal), beyond the {limit / 1000:,.0f} km "
            f"the model's {100 / voxel_scale:g} cm voxel grid can address: if the coordinates are not "
            "metres pass --units cm or mm; otherwise crop the scene (--max-points thins points, it "
            "does not shrink the extent)"
        )


def _warn_if_float32_coarse(xyz: np.ndarray, unit_scale: float) -> None:
    """float32 keeps ~7 digits: far from the origin (georeferenced scans) neighbouring values
    are centimetres apart, and the scene is already damaged when it reaches us."""
    far = float(np.abs(xyz).max()) if len(xyz) else 0.0
    spacing = float(np.spacing(np.float32(far))) * unit_scale
    if spacing > FLOAT32_MAX_SPACING:
        warnings.warn(
            f"float32 coordinates reach {far * unit_scale:,.0f} m from the origin, where float32 "
            f"values are {100 * spacing:.1f} cm apart: the geometry lost that precision; save the "
            "scene as float64, or subtract an offset (e.g. its minimum) in float64 before float32",
            stacklevel=3,
        )


def _warn_if_suspicious(xyz: np.ndarray) -> None:
    if len(xyz) < 2 or not np.isfinite(xyz).all():
        return
    extent = xyz.max(0) - xyz.min(0)
    if extent.max() > 200:
        warnings.warn(
            f"the scene spans {extent.max():.0f} m: are the units right? (use --units cm or mm)", stacklevel=3
        )
    elif 0 < extent.max() < 0.5:
        warnings.warn(f"the scene spans only {extent.max():.2f} m: are the units right?", stacklevel=3)
    if extent[2] > 1.5 * max(min(extent[0], extent[1]), 1e-9) and extent[2] > 4:
        warnings.warn(
            f"the vertical (z) extent {extent[2]:.1f} m exceeds the horizontal ones "
            f"({extent[0]:.1f} x {extent[1]:.1f} m): is the up axis right? (use --up-axis y)",
            stacklevel=3,
        )


def _warn_if_colour_range_odd(rgb: np.ndarray) -> None:
    """The model reads rgb as 0..255 (`rgb / 127.5 - 1`): colours stored as 0..1 floats or
    16-bit values would reach it nearly black or far out of range."""
    if len(rgb) < 100:  # too few points to judge a range
        return
    low = float(rgb.min())
    if low < 0.0:
        warnings.warn(
            f"colours go down to {low:.2f}: the model expects 0..255 (colours in -1..1 are the "
            "official preprocessed form: (rgb + 1) * 127.5 gives them back)",
            stacklevel=3,
        )
        return
    top = float(rgb.max())
    if 0.0 < top <= 1.0 and float(rgb.min()) >= 0.0:  # (all black, top 0, is a valid 0..255 scene)
        warnings.warn(
            "colours are all within 0..1: the model expects 0..255 (multiply them by 255)", stacklevel=3
        )
    elif top > 255.0:
        warnings.warn(
            f"colours reach {top:.0f}: the model expects 0..255 (16-bit colour? divide by 257)", stacklevel=3
        )


def estimated_memory_gib(n_points: int) -> float:
    return n_points * BYTES_PER_POINT / 2**30


def limit_size(points: np.ndarray, opts: SceneOptions) -> tuple[np.ndarray, np.ndarray | None]:
    """Enforce `opts.max_points`. Returns (points to run, back-map or None): `back[i]` is the
    row of the kept point that input point i takes its results from."""
    n = len(points)
    if n <= opts.max_points:
        return points, None
    if not opts.downsample:
        raise SceneOptionError(
            f"the scene has {n:,} points, above the limit of {opts.max_points:,} "
            f"(estimated peak memory {estimated_memory_gib(n):.1f} GiB): pass --max-points N to "
            "downsample it to N points (results are mapped back to every input point)"
        )
    kept, back, _ = voxel_downsample(points, opts.max_points)
    return kept, back


def voxel_downsample(points: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Keep the first point of each grid cell, growing the cell from 2 cm until at most
    `max_points` remain. Returns (kept points, back-map `(N,)` into the kept rows, cell size)."""
    xyz = points[:, :3]
    cell = 0.02
    while True:
        keys = np.floor((xyz - xyz.min(0)) / cell).astype(np.int64)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        if len(first) <= max_points:
            break
        cell *= 1.25
    order = np.argsort(first)  # keep the input order of the representatives
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return points[first[order]], rank[inverse.reshape(-1)], cell
