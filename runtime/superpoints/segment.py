"""Superpoints computed from a bare point cloud (`--superpoints auto`).

ISBNet pools features per superpoint and builds its final masks from whole superpoints; on ScanNet
these come from `segmentator` run on the mesh. A user's own point cloud has no mesh, so this module
over-segments the points directly, with the same family of algorithm (Felzenszwalb & Huttenlocher
graph segmentation) on a point graph instead of the mesh graph, and with colour as well as normals:

1. **Voxelise** at `voxel_size` (2 cm, the model's voxel): mean position and colour per voxel. This
   caps the work for dense clouds; every later step works on voxels.
2. **Neighbours**: the nearest voxels within r = `radius_factor` * d4, d4 = the median distance from a
   voxel to its 4th nearest voxel (a uniform grid of r-sized cells, scanned 3 x 3 x 3; numba). Tying r
   and the minimum segment size to d4 keeps the result stable from 30k to 300k+ points per room.
3. **Normals**: PCA of each voxel and its `normal_neighbours` nearest (smallest-eigenvalue axis, closed
   form). Unoriented: only |n_i . n_j| is used.
4. **Colour smoothing**: one bilateral pass (mean over the neighbours whose colour is within
   `colour_smoothing` rgb units): scanner colour noise would otherwise dominate the edge weights.
5. **Voxel graph**: the symmetrised `graph_neighbours`-NN graph, edge weight
   `(1 - |n_i . n_j|) + colour_weight * |c_i - c_j| / 255`.
6. **Felzenszwalb-Huttenlocher** on the voxel graph (edges by increasing weight; merge A and B when the
   weight is at most `min(Int(A) + k/|A|, Int(B) + k/|B|)`, `Int` = largest merged edge) with
   `k = voxel_k`, and no merge that would make a segment's bounding box longer than `max_extent` on any
   axis. This gives small, very pure "atoms".
7. **Atom graph**: atoms adjacent in the voxel graph, weighted like voxel edges but with the atoms'
   mean normal axes and mean colours (`segment_colour_weight`), which are far less noisy than single
   voxels. As in `segmentator`'s last step, atoms under `min_area` (converted to voxels with the median
   area per voxel, pi/4 * d4^2) join their neighbours, edges in increasing weight order: a small atom
   goes to the most similar adjacent segment.
8. Map voxels back to points; ids are renumbered 0..S-1.

Defaults were tuned on generated rooms (`training.synthetic`, seeds 0-7, 150k points); quality and
timings on other rooms are in `docs/superpoints.md`. Everything is deterministic: sorts are stable
and the loops are sequential.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["SuperpointParams", "SuperpointQuality", "compute_superpoints", "superpoint_quality"]

# Edge weights are sorted as uint16 (a radix sort, ~10x faster than sorting floats) at this resolution;
# the merge tests themselves use the exact float weights.
_WEIGHT_QUANTUM = 1.0 / 16384.0


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
    """Over-segment a point cloud into superpoints (see the module docstring for the algorithm).

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
    nbr, voxel_area = _adaptive_knn(centre, k_max, p.radius_factor, p.max_radius, 5.0 * voxel_size)
    min_size = max(1, round(p.min_area / max(voxel_area, 0.25 * voxel_size**2)))
    normals = _pca_normals(centre, nbr[:, : p.normal_neighbours])
    if p.colour_smoothing > 0:
        colour = _bilateral_colours(colour, nbr[:, : p.smoothing_neighbours], p.colour_smoothing)
    eu, ev = _symmetric_edges(nbr[:, : p.graph_neighbours])
    w = _edge_weights(eu, ev, normals, colour, p.colour_weight)
    atoms = _felzenszwalb(eu, ev, w, _weight_order(w), centre, p.voxel_k, p.max_extent)
    segments = _merge_atoms(_relabel(atoms), colour, normals, eu, ev, p.segment_colour_weight, min_size)
    return _relabel(segments)[inverse]


@dataclass(frozen=True)
class SuperpointQuality:
    """How well superpoints fit ground-truth labels (see `superpoint_quality`)."""

    purity: float
    boundary_recall: float
    iou_upper_bound: float
    n_superpoints: int


def superpoint_quality(
    xyz: np.ndarray,
    superpoints: np.ndarray,
    instance_labels: np.ndarray,
    semantic_labels: np.ndarray,
    neighbours: int = 8,
    radius: float = 0.1,
) -> SuperpointQuality:
    """Score superpoints (N,) int against labels (N,) int: instance id >= 0 for objects, otherwise the
    point is background of its semantic class (< 0 for both = unlabelled, left out).

    purity: fraction of labelled points whose label is the majority label of their superpoint.
    boundary_recall: over the edges of the `neighbours`-nearest-neighbour graph of the points (within
        `radius` m) whose ends have different labels, the fraction whose ends are in different superpoints.
    iou_upper_bound: mean over instances of the IoU of the best union of superpoints, the superpoints with
        more than half of their points inside the instance (what superpoint-level masks can reach).
    xyz: (N, 3) float positions in metres.
    """
    sp = _relabel(np.asarray(superpoints))
    inst = np.asarray(instance_labels, dtype=np.int64)
    sem = np.asarray(semantic_labels, dtype=np.int64)
    label = np.where(inst >= 0, inst, np.where(sem >= 0, -1 - sem, np.iinfo(np.int64).min))
    valid = label != np.iinfo(np.int64).min
    n_sp = int(sp.max(initial=-1)) + 1
    purity = 1.0
    if valid.any():
        _, lab = np.unique(label[valid], return_inverse=True)
        n_lab = int(lab.max()) + 1
        pair, count = np.unique(sp[valid] * n_lab + lab.reshape(-1), return_counts=True)
        by_sp = np.lexsort((-count, pair // n_lab))  # per superpoint, its most frequent label first
        first = np.r_[True, np.diff(pair[by_sp] // n_lab) != 0]
        purity = float(count[by_sp][first].sum()) / int(valid.sum())

    pts = np.asarray(xyz, dtype=np.float64)
    nbr = _knn(pts, neighbours, radius) if len(pts) else np.zeros((0, neighbours), dtype=np.int64)
    i, j = np.nonzero(nbr >= 0)
    j = nbr[i, j]
    cut = valid[i] & valid[j] & (label[i] != label[j])
    recall = float(np.mean(sp[i[cut]] != sp[j[cut]])) if cut.any() else 1.0

    sp_size = np.bincount(sp, minlength=n_sp)
    ious = []
    for k in np.unique(inst[inst >= 0]):
        inside = np.bincount(sp[inst == k], minlength=n_sp)
        chosen = 2 * inside > sp_size
        inter = inside[chosen].sum()
        ious.append(inter / (int((inst == k).sum()) + sp_size[chosen].sum() - inter))
    iou = float(np.mean(ious)) if ious else 1.0
    return SuperpointQuality(purity, recall, iou, n_sp)


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


def _adaptive_knn(
    centre: np.ndarray, k: int, radius_factor: float, max_radius: float, radius: float
) -> tuple[np.ndarray, float]:
    """kNN (M, k) int64 (see `_knn`) within r = radius_factor * d4, d4 = median distance to the 4th
    nearest voxel (clipped to max_radius), and the median area per voxel pi/4 * d4^2 (inf if unknown).

    `radius` is a first guess; the search is widened until it holds r, then cut to r, so the result does
    not depend on the guess.
    """
    radius = min(radius, max_radius)
    while True:
        nbr = _knn(centre, k, radius)
        d4 = _median_distance(centre, nbr[:, min(3, k - 1)])
        target = min(radius_factor * d4, max_radius)
        if target <= radius:
            break
        radius = target if np.isfinite(d4) else min(4.0 * radius, max_radius)
    _cut_neighbours(centre, nbr, target)
    return nbr, np.pi / 4.0 * d4 * d4


@numba.njit(cache=True)
def _cut_neighbours(centre: np.ndarray, nbr: np.ndarray, radius: float) -> None:
    """Set to -1, in place, the neighbours (M, k) farther than radius (rows are sorted by distance)."""
    r2 = radius * radius
    for i in range(nbr.shape[0]):
        for s in range(nbr.shape[1]):
            j = nbr[i, s]
            if j < 0:
                break
            d2 = (centre[j, 0] - centre[i, 0]) ** 2 + (centre[j, 1] - centre[i, 1]) ** 2
            if d2 + (centre[j, 2] - centre[i, 2]) ** 2 > r2:
                nbr[i, s:] = -1
                break


def _median_distance(centre: np.ndarray, other: np.ndarray) -> float:
    """Median over voxels of |centre - centre[other]| (inf where other is -1)."""
    d = np.full(len(centre), np.inf)
    has = other >= 0
    d[has] = np.sqrt(((centre[other[has]] - centre[has]) ** 2).sum(1))
    return float(np.median(d)) if len(d) else float("inf")


def _knn(centre: np.ndarray, k: int, radius: float) -> np.ndarray:
    """(M, k) int64: the k nearest other voxels within `radius`, nearest first, -1 padded.

    Voxels are bucketed in cells of size `radius` (sorted cell keys), so the 27 cells around a voxel's
    own hold every candidate.
    """
    cell = np.floor((centre - centre.min(0)) / radius).astype(np.int64) + 1  # margin of one empty cell
    dims = cell.max(0) + 2
    key = (cell[:, 0] * dims[1] + cell[:, 1]) * dims[2] + cell[:, 2]
    order = np.argsort(key, kind="stable")
    keys, start, count = np.unique(key[order], return_index=True, return_counts=True)
    return _knn_cells(centre, order, keys, start, start + count, int(dims[1]), int(dims[2]), k, radius)


@numba.njit(cache=True)
def _knn_cells(
    centre: np.ndarray,
    order: np.ndarray,
    keys: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    dim1: int,
    dim2: int,
    k: int,
    radius: float,
) -> np.ndarray:
    """kNN by cells: cell u holds voxels order[start[u]:end[u]]; candidates gathered once per cell."""
    m = centre.shape[0]
    nbr = np.full((m, k), -1, dtype=np.int64)
    cand = np.empty(1024, dtype=np.int64)
    cand_xyz = np.empty((1024, 3))  # contiguous copy of the candidates' positions
    best_d = np.empty(k)
    best_j = np.empty(k, dtype=np.int64)
    r2 = radius * radius
    for u in range(keys.shape[0]):
        nc = 0
        for dx in range(-1, 2):
            for dy in range(-1, 2):
                column = keys[u] + (dx * dim1 + dy) * dim2  # z-neighbours are consecutive keys
                a = np.searchsorted(keys, column - 1)
                while a < keys.shape[0] and keys[a] <= column + 1:
                    for t in range(start[a], end[a]):
                        if nc == cand.shape[0]:
                            grown = np.empty(2 * nc, dtype=np.int64)
                            grown[:nc] = cand
                            cand = grown
                            grown_xyz = np.empty((2 * nc, 3))
                            grown_xyz[:nc] = cand_xyz
                            cand_xyz = grown_xyz
                        j = order[t]
                        cand[nc] = j
                        cand_xyz[nc, 0], cand_xyz[nc, 1], cand_xyz[nc, 2] = (
                            centre[j, 0],
                            centre[j, 1],
                            centre[j, 2],
                        )
                        nc += 1
                    a += 1
        for t in range(start[u], end[u]):
            i = order[t]
            xi, yi, zi = centre[i, 0], centre[i, 1], centre[i, 2]
            nb = 0
            worst = r2
            for c in range(nc):
                d2 = (cand_xyz[c, 0] - xi) ** 2 + (cand_xyz[c, 1] - yi) ** 2 + (cand_xyz[c, 2] - zi) ** 2
                if d2 > worst:
                    continue
                j = cand[c]
                if j == i or (nb == k and d2 == worst and j > best_j[k - 1]):
                    continue
                s = min(nb, k - 1)  # insertion into the sorted list; ties broken by voxel id
                while s > 0 and (best_d[s - 1] > d2 or (best_d[s - 1] == d2 and best_j[s - 1] > j)):
                    best_d[s] = best_d[s - 1]
                    best_j[s] = best_j[s - 1]
                    s -= 1
                best_d[s] = d2
                best_j[s] = j
                nb = min(nb + 1, k)
                if nb == k:
                    worst = best_d[k - 1]
            nbr[i, :nb] = best_j[:nb]
    return nbr


# --------------------------------------------------------------------------------------------------
# per-voxel features and the voxel graph


@numba.njit(cache=True)
def _smallest_eigvec(
    a00: float, a01: float, a02: float, a11: float, a12: float, a22: float
) -> tuple[float, float, float]:
    """Unit eigenvector of the smallest eigenvalue of a symmetric 3x3 matrix (closed form).

    Eigenvalue by the trigonometric formula; vector = the longest cross product of two rows of
    (A - lambda I). Degenerate (isotropic or zero) matrices give (0, 0, 1).
    """
    q = (a00 + a11 + a22) / 3.0
    p1 = a01 * a01 + a02 * a02 + a12 * a12
    p2 = (a00 - q) ** 2 + (a11 - q) ** 2 + (a22 - q) ** 2 + 2.0 * p1
    if p2 <= 1e-30 * max(q * q, 1e-300):
        return 0.0, 0.0, 1.0
    p = np.sqrt(p2 / 6.0)
    b00, b11, b22 = (a00 - q) / p, (a11 - q) / p, (a22 - q) / p
    b01, b02, b12 = a01 / p, a02 / p, a12 / p
    r = 0.5 * (b00 * (b11 * b22 - b12 * b12) - b01 * (b01 * b22 - b12 * b02) + b02 * (b01 * b12 - b11 * b02))
    phi = np.arccos(min(max(r, -1.0), 1.0)) / 3.0
    lam = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
    r0x, r0y, r0z = a00 - lam, a01, a02
    r1x, r1y, r1z = a01, a11 - lam, a12
    r2x, r2y, r2z = a02, a12, a22 - lam
    best_x, best_y, best_z, best = 0.0, 0.0, 1.0, 0.0
    for ux, uy, uz, vx, vy, vz in (
        (r0x, r0y, r0z, r1x, r1y, r1z),
        (r0x, r0y, r0z, r2x, r2y, r2z),
        (r1x, r1y, r1z, r2x, r2y, r2z),
    ):
        cx, cy, cz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        n2 = cx * cx + cy * cy + cz * cz
        if n2 > best:
            best_x, best_y, best_z, best = cx, cy, cz, n2
    if best <= 0.0:
        return 0.0, 0.0, 1.0
    s = 1.0 / np.sqrt(best)
    return best_x * s, best_y * s, best_z * s


@numba.njit(cache=True)
def _pca_normals(centre: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """(M, 3) unit normals: PCA of each voxel with its neighbours (-1 = none); (0, 0, 1) if < 3 voxels."""
    m, k = nbr.shape
    normals = np.zeros((m, 3))
    for i in range(m):
        n = 1
        mx, my, mz = centre[i, 0], centre[i, 1], centre[i, 2]
        for s in range(k):
            j = nbr[i, s]
            if j < 0:
                break
            n += 1
            mx += centre[j, 0]
            my += centre[j, 1]
            mz += centre[j, 2]
        if n < 3:
            normals[i, 2] = 1.0
            continue
        mx, my, mz = mx / n, my / n, mz / n
        sxx = sxy = sxz = syy = syz = szz = 0.0
        for s in range(-1, n - 1):
            j = i if s < 0 else nbr[i, s]
            ex, ey, ez = centre[j, 0] - mx, centre[j, 1] - my, centre[j, 2] - mz
            sxx += ex * ex
            sxy += ex * ey
            sxz += ex * ez
            syy += ey * ey
            syz += ey * ez
            szz += ez * ez
        normals[i, 0], normals[i, 1], normals[i, 2] = _smallest_eigvec(sxx, sxy, sxz, syy, syz, szz)
    return normals


@numba.njit(cache=True)
def _bilateral_colours(colour: np.ndarray, nbr: np.ndarray, tau: float) -> np.ndarray:
    """(M, 3): mean colour of each voxel and those neighbours whose colour is within `tau` of its own."""
    m, k = nbr.shape
    out = np.empty_like(colour)
    t2 = tau * tau
    for i in range(m):
        r, g, b, n = colour[i, 0], colour[i, 1], colour[i, 2], 1.0
        for s in range(k):
            j = nbr[i, s]
            if j < 0:
                break
            d2 = (colour[j, 0] - colour[i, 0]) ** 2 + (colour[j, 1] - colour[i, 1]) ** 2
            d2 += (colour[j, 2] - colour[i, 2]) ** 2
            if d2 <= t2:
                r += colour[j, 0]
                g += colour[j, 1]
                b += colour[j, 2]
                n += 1.0
        out[i, 0], out[i, 1], out[i, 2] = r / n, g / n, b / n
    return out


@numba.njit(cache=True)
def _symmetric_edges(nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges (E,) int64 u < v of the symmetrised kNN graph, each once."""
    m, k = nbr.shape
    eu = np.empty(m * k, dtype=np.int64)
    ev = np.empty(m * k, dtype=np.int64)
    e = 0
    for i in range(m):
        for s in range(k):
            j = nbr[i, s]
            if j < 0:
                break
            if j < i:
                mutual = False  # then the pair was already emitted from j's row
                for r in range(k):
                    if nbr[j, r] == i:
                        mutual = True
                        break
                if mutual:
                    continue
                eu[e], ev[e] = j, i
            else:
                eu[e], ev[e] = i, j
            e += 1
    return eu[:e], ev[:e]


@numba.njit(cache=True)
def _edge_weights(
    eu: np.ndarray, ev: np.ndarray, normals: np.ndarray, colour: np.ndarray, colour_weight: float
) -> np.ndarray:
    """(E,) float64: 1 - |n_u . n_v| + colour_weight * |c_u - c_v| / 255."""
    w = np.empty(eu.shape[0])
    for e in range(eu.shape[0]):
        u, v = eu[e], ev[e]
        dot = normals[u, 0] * normals[v, 0] + normals[u, 1] * normals[v, 1] + normals[u, 2] * normals[v, 2]
        dc = (colour[u, 0] - colour[v, 0]) ** 2 + (colour[u, 1] - colour[v, 1]) ** 2
        dc += (colour[u, 2] - colour[v, 2]) ** 2
        w[e] = 1.0 - abs(dot) + colour_weight * np.sqrt(dc) / 255.0
    return w


def _weight_order(w: np.ndarray) -> np.ndarray:
    """(E,) int64 edge order by increasing weight: stable radix sort of the weights quantised to uint16."""
    q = np.minimum(np.rint(w / _WEIGHT_QUANTUM), np.iinfo(np.uint16).max).astype(np.uint16)
    return np.argsort(q, kind="stable")


# --------------------------------------------------------------------------------------------------
# Felzenszwalb-Huttenlocher merging


@numba.njit(cache=True)
def _find(parent: np.ndarray, a: int) -> int:
    """Union-find root of `a`, with path halving."""
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@numba.njit(cache=True)
def _felzenszwalb(
    eu: np.ndarray,
    ev: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    lo0: np.ndarray,
    k: float,
    max_extent: float,
) -> np.ndarray:
    """Felzenszwalb-Huttenlocher segmentation of a graph of n single-voxel nodes.

    eu/ev/w (E,) edges, visited in `order` (increasing weight); lo0 (n, 3) node positions. Segments A, B
    merge when w <= Int + k/|.| on both sides (Int = largest merged edge, |.| = voxels) and the merged
    bounding box is at most max_extent long on every axis. Returns (n,) int64 root per node.
    """
    n = lo0.shape[0]
    parent = np.arange(n)
    size = np.ones(n, dtype=np.int64)
    thresh = np.full(n, k)
    lo = lo0.copy()
    hi = lo0.copy()
    for t in range(order.shape[0]):
        e = order[t]
        a, b = _find(parent, eu[e]), _find(parent, ev[e])
        if a == b or w[e] > thresh[a] or w[e] > thresh[b]:
            continue
        extent = 0.0
        for d in range(3):
            extent = max(extent, max(hi[a, d], hi[b, d]) - min(lo[a, d], lo[b, d]))
        if extent > max_extent:
            continue
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        for d in range(3):
            lo[a, d] = min(lo[a, d], lo[b, d])
            hi[a, d] = max(hi[a, d], hi[b, d])
        thresh[a] = w[e] + k / size[a]  # edges come in increasing order: w[e] is the new Int(a)
    return _roots(parent)


@numba.njit(cache=True)
def _merge_small(
    eu: np.ndarray, ev: np.ndarray, order: np.ndarray, size0: np.ndarray, min_size: int
) -> np.ndarray:
    """`segmentator`'s last step on a graph of n segments of size0 (n,) int64 voxels: visiting the edges
    in `order`, merge the two ends of every edge that touches a segment of fewer than min_size voxels.
    Returns (n,) int64 root per node."""
    parent = np.arange(size0.shape[0])
    size = size0.copy()
    for t in range(order.shape[0]):
        e = order[t]
        a, b = _find(parent, eu[e]), _find(parent, ev[e])
        if a == b or (size[a] >= min_size and size[b] >= min_size):
            continue
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
    return _roots(parent)


@numba.njit(cache=True)
def _roots(parent: np.ndarray) -> np.ndarray:
    """(n,) int64 union-find root of every node."""
    root = np.empty(parent.shape[0], dtype=np.int64)
    for i in range(parent.shape[0]):
        root[i] = _find(parent, i)
    return root


# --------------------------------------------------------------------------------------------------
# second level: the graph of atoms


@numba.njit(cache=True)
def _mean_axes(atom: np.ndarray, n_atoms: int, normals: np.ndarray) -> np.ndarray:
    """(A, 3) mean normal axis per atom: principal eigenvector of sum n n^T (sign-free mean)."""
    t = np.zeros((n_atoms, 6))
    for i in range(atom.shape[0]):
        a = atom[i]
        x, y, z = normals[i, 0], normals[i, 1], normals[i, 2]
        t[a, 0] += x * x
        t[a, 1] += x * y
        t[a, 2] += x * z
        t[a, 3] += y * y
        t[a, 4] += y * z
        t[a, 5] += z * z
    axes = np.zeros((n_atoms, 3))
    for a in range(n_atoms):
        tr = t[a, 0] + t[a, 3] + t[a, 5]  # largest eigenvector of T = smallest of (tr I - T)
        axes[a, 0], axes[a, 1], axes[a, 2] = _smallest_eigvec(
            tr - t[a, 0], -t[a, 1], -t[a, 2], tr - t[a, 3], -t[a, 4], tr - t[a, 5]
        )
    return axes


def _merge_atoms(
    atom: np.ndarray,
    colour: np.ndarray,
    normals: np.ndarray,
    eu: np.ndarray,
    ev: np.ndarray,
    colour_weight: float,
    min_size: int,
) -> np.ndarray:
    """(M,) int64 segment (a root atom id) of each voxel, from its atom (M,) int64 0..A-1.

    Atoms adjacent in the voxel graph are linked once, weighted like voxel edges but with the atoms'
    mean normal axes and mean colours; atoms under min_size voxels then join their most similar
    neighbours. (A Felzenszwalb-Huttenlocher pass on this graph before the min-size step changed nothing
    or lowered purity for any k, so there is none.)
    """
    n_atoms = int(atom.max()) + 1
    size = np.bincount(atom, minlength=n_atoms)
    mean_colour = np.stack([np.bincount(atom, colour[:, d], n_atoms) for d in range(3)], axis=1)
    mean_colour /= size[:, None]
    axes = _mean_axes(atom, n_atoms, normals)
    a, b = atom[eu], atom[ev]
    cross = a != b
    pair = np.unique(np.minimum(a[cross], b[cross]) * n_atoms + np.maximum(a[cross], b[cross]))
    a, b = pair // n_atoms, pair % n_atoms
    w = _edge_weights(a, b, axes, mean_colour, colour_weight)
    return _merge_small(a, b, _weight_order(w), size, min_size)[atom]


def _relabel(label: np.ndarray) -> np.ndarray:
    """(n,) int64 labels renumbered 0..S-1 in increasing order of the input labels."""
    return np.unique(label, return_inverse=True)[1].reshape(-1).astype(np.int64)
