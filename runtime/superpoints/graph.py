"""Graph segmentation: symmetric kNN edges and their weights, Felzenszwalb-Huttenlocher with a
bounding-box limit, the merge of atoms into segments and of too small segments (numba kernels)."""

from __future__ import annotations

import numba
import numpy as np

from isbnet_trt.runtime.superpoints.neighbours import smallest_eigvec

# Edge weights are sorted as uint16 (a radix sort, ~10x faster than sorting floats) at this resolution;
# the merge tests themselves use the exact float weights.
_WEIGHT_QUANTUM = 1.0 / 16384.0


@numba.njit(cache=True)
def symmetric_edges(nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
def edge_weights(
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


def weight_order(w: np.ndarray) -> np.ndarray:
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
def felzenszwalb(
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
        axes[a, 0], axes[a, 1], axes[a, 2] = smallest_eigvec(
            tr - t[a, 0], -t[a, 1], -t[a, 2], tr - t[a, 3], -t[a, 4], tr - t[a, 5]
        )
    return axes


def merge_atoms(
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
    w = edge_weights(a, b, axes, mean_colour, colour_weight)
    return _merge_small(a, b, weight_order(w), size, min_size)[atom]


def relabel(label: np.ndarray) -> np.ndarray:
    """(n,) int64 labels renumbered 0..S-1 in increasing order of the input labels."""
    return np.unique(label, return_inverse=True)[1].reshape(-1).astype(np.int64)
