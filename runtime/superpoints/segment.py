"""`compute_superpoints`: the pipeline of the package docstring (voxels, neighbourhoods, graph
segmentation, merges) and its knobs, `SuperpointParams`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isbnet_trt.runtime.superpoints.graph import (
    edge_weights,
    felzenszwalb,
    merge_atoms,
    relabel,
    symmetric_edges,
    weight_order,
)
from isbnet_trt.runtime.superpoints.neighbours import adaptive_knn, bilateral_colours, pca_normals


@dataclass(frozen=True)
class SuperpointParams:
    """Knobs of `compute_superpoints`; lengths in metres, colours in rgb 0..255 units.

    normal_neighbours: voxels (besides itself) in each voxel's PCA normal fit.
    graph_neighbours: nearest voxels each voxel is linked to (the graph is the symmetrised kNN graph).
    smoothing_neighbours: nearest voxels averaged by the colour smoothing.
    radius_factor: neighbours farther than radius_factor * (median distance from a voxel to its 4th
        nearest voxel) are ignored, so neighbourhoods stay local in sparse clouds and the search stays
        cheap; voxels with no neighbour stay singletons.
    max_radius: upper bound of that radius.
    colour_smoothing: bilateral threshold of the colour smoothing; 0 disables it.
    colour_weight: weight of the colour distance (/255) against 1 - |cos| of the normals, voxel graph.
    voxel_k: Felzenszwalb-Huttenlocher constant k on the voxel graph (larger = bigger atoms).
    segment_colour_weight: the same colour weight on the graph of atoms (mean colours).
    min_area: segments smaller than this (m^2; counted in voxels, each worth the median area per voxel
        pi/4 * d4^2) join a neighbour at the end.
    max_extent: no merge makes a segment's bounding box longer than this on any axis (min_area merges
        excepted), so large planes are tiled into patches like ScanNet's superpoints.
    """

    normal_neighbours: int = 16
    graph_neighbours: int = 12
    radius_factor: float = 2.0
    max_radius: float = 0.3
    smoothing_neighbours: int = 8
    colour_smoothing: float = 15.0
    colour_weight: float = 2.0
    voxel_k: float = 0.1
    segment_colour_weight: float = 6.0
    min_area: float = 0.024
    max_extent: float = 0.6

    def __post_init__(self) -> None:
        if self.normal_neighbours < 2 or min(self.graph_neighbours, self.smoothing_neighbours) < 1:
            raise ValueError("normal_neighbours must be >= 2, graph/smoothing_neighbours >= 1")
        if min(self.radius_factor, self.max_radius, self.max_extent) <= 0:
            raise ValueError("radius_factor, max_radius and max_extent must be > 0")
        if min(self.colour_smoothing, self.colour_weight, self.voxel_k) < 0:
            raise ValueError("colour_smoothing, colour_weight and voxel_k must be >= 0")
        if min(self.segment_colour_weight, self.min_area) < 0:
            raise ValueError("segment_colour_weight and min_area must be >= 0")


def compute_superpoints(
    points: np.ndarray, voxel_size: float = 0.02, params: SuperpointParams | None = None
) -> np.ndarray:
    """Over-segment a point cloud into superpoints (the `runtime.superpoints` docstring says how).

    points: (N, 6) float, xyz in metres + rgb 0..255 (or (N, 3): no colour, normals only).
    voxel_size: voxel edge in metres.
    Returns (N,) int64 superpoint ids 0..S-1, contiguous; all points of a voxel share one id.
    """
    p = SuperpointParams() if params is None else params
    xyz, rgb = _check_points(points)
    if not voxel_size > 0:
        raise ValueError(f"voxel_size must be > 0, got {voxel_size}")
    if len(xyz) == 0:
        return np.zeros(0, dtype=np.int64)
    inverse, centre, colour = _voxelise(xyz, rgb, voxel_size)
    k_max = max(p.normal_neighbours, p.graph_neighbours, p.smoothing_neighbours)
    nbr, voxel_area = adaptive_knn(centre, k_max, p.radius_factor, p.max_radius, 5.0 * voxel_size)
    min_size = max(1, round(p.min_area / max(voxel_area, 0.25 * voxel_size**2)))
    normals = pca_normals(centre, nbr[:, : p.normal_neighbours])
    if p.colour_smoothing > 0:
        colour = bilateral_colours(colour, nbr[:, : p.smoothing_neighbours], p.colour_smoothing)
    eu, ev = symmetric_edges(nbr[:, : p.graph_neighbours])
    w = edge_weights(eu, ev, normals, colour, p.colour_weight)
    atoms = felzenszwalb(eu, ev, w, weight_order(w), centre, p.voxel_k, p.max_extent)
    segments = merge_atoms(relabel(atoms), colour, normals, eu, ev, p.segment_colour_weight, min_size)
    return relabel(segments)[inverse]


# --------------------------------------------------------------------------------------------------
# input, voxels, neighbours


def _check_points(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate `points`; return xyz (N, 3) and rgb (N, 3) float64 (zeros without colour)."""
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] not in (3, 6):
        raise ValueError(f"points must have shape (N, 6) or (N, 3), got {pts.shape}")
    pts = pts.astype(np.float64, copy=False)
    if not np.isfinite(pts).all():
        raise ValueError("points contain NaN or inf")
    rgb = pts[:, 3:6] if pts.shape[1] == 6 else np.zeros((len(pts), 3))
    return pts[:, :3], rgb


def _voxelise(xyz: np.ndarray, rgb: np.ndarray, voxel_size: float) -> tuple[np.ndarray, ...]:
    """Voxel of each point (N,) int64 (voxels in grid-key order), voxel mean xyz and rgb (M, 3) float64."""
    grid = np.floor((xyz - xyz.min(0)) / voxel_size).astype(np.int64)
    dims = grid.max(0) + 1
    key = (grid[:, 0] * dims[1] + grid[:, 1]) * dims[2] + grid[:, 2]
    _, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    m = len(count)
    centre = np.stack([np.bincount(inverse, xyz[:, d], m) for d in range(3)], axis=1) / count[:, None]
    colour = np.stack([np.bincount(inverse, rgb[:, d], m) for d in range(3)], axis=1) / count[:, None]
    return inverse, centre, colour
