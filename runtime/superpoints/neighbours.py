"""Voxel neighbourhoods: an adaptive-radius kNN on a cell grid, PCA normals and bilateral colour
smoothing (numba kernels; sequential loops, so results are deterministic)."""

from __future__ import annotations

import numba
import numpy as np


def adaptive_knn(
    centre: np.ndarray, k: int, radius_factor: float, max_radius: float, radius: float
) -> tuple[np.ndarray, float]:
    """kNN (M, k) int64 (see `knn`) within r = radius_factor * d4, d4 = median distance to the 4th
    nearest voxel (clipped to max_radius), and the median area per voxel pi/4 * d4^2 (inf if unknown).

    `radius` is a first guess; the search is widened until it holds r, then cut to r, so the result does
    not depend on the guess.
    """
    radius = min(radius, max_radius)
    while True:
        nbr = knn(centre, k, radius)
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


def knn(centre: np.ndarray, k: int, radius: float) -> np.ndarray:
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
def smallest_eigvec(
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
def pca_normals(centre: np.ndarray, nbr: np.ndarray) -> np.ndarray:
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
        normals[i, 0], normals[i, 1], normals[i, 2] = smallest_eigvec(sxx, sxy, sxz, syy, syz, szz)
    return normals


@numba.njit(cache=True)
def bilateral_colours(colour: np.ndarray, nbr: np.ndarray, tau: float) -> np.ndarray:
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
