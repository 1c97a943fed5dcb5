"""From patches to points: area-proportional sampling of the visible surfaces, superpoints (a jittered
Voronoi grid on each part), colours with baked light, noise, and the final `SyntheticScene`."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from isbnet_trt.training.synthetic.room_a.layout import Layout
from isbnet_trt.training.synthetic.room_a.options import GENERATOR_VERSION, RoomOptions
from isbnet_trt.training.synthetic.room_a.patches import ANNULUS, FRUSTUM, RECT, PatchArrays
from isbnet_trt.training.synthetic.scene import IGNORE_INSTANCE, SyntheticScene

_LIGHT = (0.35, 0.25, 0.9)  # direction of the light baked into the colours (normalised where used)


@dataclass(frozen=True)
class _Sample:
    """Surface points before noise: patch (N,) int64, xyz (N, 3), normal (N, 3), metric (u, v) (N, 2)."""

    patch: np.ndarray
    xyz: np.ndarray
    normal: np.ndarray
    uv: np.ndarray


def sample_points(rng: np.random.Generator, pa: PatchArrays, n_points: int, opts: RoomOptions) -> _Sample:
    """Exactly `n_points` points, area-proportional over the visible patch area."""
    prob = pa.area / pa.area.sum()
    counts = rng.multinomial(n_points, prob)
    patch = np.repeat(np.arange(len(prob)), counts)
    st = rng.random((n_points, 2))
    for p, holes in pa.holes.items():  # redraw points that fell into a hole until none is left
        sel = np.flatnonzero(patch == p)
        while len(sel):
            uv = st[sel] * np.array([pa.lu[p], pa.lv[p]])
            bad = _in_holes(uv, holes)
            sel = sel[bad]
            st[sel] = rng.random((len(sel), 2))
    return _surface(pa, patch, st)


def _in_holes(uv: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(M,) bool: which metric (u, v) points (M, 2) fall inside any hole row (H, 6)."""
    inside = np.zeros(len(uv), dtype=bool)
    for cu, cv, au, av, hu, hv in holes:
        du, dv = uv[:, 0] - cu, uv[:, 1] - cv
        along, across = du * au + dv * av, -du * av + dv * au
        inside |= (np.abs(along) < hu) & (np.abs(across) < hv)
    return inside


def _surface(pa: PatchArrays, patch: np.ndarray, st: np.ndarray) -> _Sample:
    """Map unit-square samples st (N, 2) on each point's patch to xyz, normals and metric (u, v)."""
    n = len(patch)
    xyz, normal, uv = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 2))
    kind, q = pa.kind[patch], pa.params[patch]
    s, t = st[:, 0], st[:, 1]

    r = kind == RECT
    qr = q[r]
    xyz[r] = qr[:, 0:3] + s[r, None] * qr[:, 3:6] + t[r, None] * qr[:, 6:9]
    nr = np.cross(qr[:, 3:6], qr[:, 6:9])
    normal[r] = nr / np.maximum(np.linalg.norm(nr, axis=1, keepdims=True), 1e-12)
    uv[r] = st[r] * np.stack([pa.lu[patch[r]], pa.lv[patch[r]]], axis=1)

    f = kind == FRUSTUM
    qf = q[f]
    r0, r1 = qf[:, 4], qf[:, 5]
    mean = 0.5 * (r0 + r1)
    tf = 2.0 * t[f] * mean / (r0 + np.sqrt(r0**2 + 2.0 * (r1 - r0) * t[f] * mean))  # area ∝ radius
    rad = r0 + (r1 - r0) * tf
    th = qf[:, 6] + s[f] * qf[:, 7]
    xyz[f] = np.stack(
        [qf[:, 0] + rad * np.cos(th), qf[:, 1] + rad * np.sin(th), qf[:, 2] + tf * qf[:, 3]], axis=1
    )
    slope = (r0 - r1) / np.maximum(pa.lv[patch[f]], 1e-12)
    nf = np.stack([np.cos(th), np.sin(th), slope], axis=1)
    normal[f] = nf / np.linalg.norm(nf, axis=1, keepdims=True)
    uv[f] = np.stack([s[f] * pa.lu[patch[f]], tf * pa.lv[patch[f]]], axis=1)

    a = kind == ANNULUS
    qa = q[a]
    ri, ro = qa[:, 3], qa[:, 4]
    rad = np.sqrt(ri**2 + t[a] * (ro**2 - ri**2))
    th = qa[:, 5] + s[a] * qa[:, 6]
    xyz[a] = np.stack([qa[:, 0] + rad * np.cos(th), qa[:, 1] + rad * np.sin(th), qa[:, 2]], axis=1)
    normal[a] = (0.0, 0.0, 1.0)
    uv[a] = np.stack([s[a] * pa.lu[patch[a]], rad - ri], axis=1)
    return _Sample(patch, xyz, normal, uv)


def _superpoint_keys(rng: np.random.Generator, pa: PatchArrays, sample: _Sample) -> np.ndarray:
    """(N,) int64 superpoint key per point: the nearest jittered grid seed on the point's own patch.

    Each ungrouped patch gets an nu x nv grid of cells of about its `cell` size, one seed per cell jittered
    by up to 0.3 cell (so the nearest seed is always among the 3 x 3 cells around the point's own: an exact
    Voronoi partition of the patch). Grouped patches share one key per group.
    """
    nu = np.maximum(1, np.rint(pa.lu / pa.cell)).astype(np.int64)
    nv = np.maximum(1, np.rint(pa.lv / pa.cell)).astype(np.int64)
    grouped = pa.group >= 0
    nu[grouped] = nv[grouped] = 1
    ncell = nu * nv
    base = np.concatenate([[0], np.cumsum(ncell)[:-1]])
    n_grid = int(ncell.sum())
    # all patches of a group share the key of the group's first patch
    if grouped.any():
        gid = pa.group[grouped]
        _, first = np.unique(gid, return_index=True)
        lookup = np.full(gid.max() + 1, -1, dtype=np.int64)
        lookup[gid[first]] = base[np.flatnonzero(grouped)[first]]
        base[grouped] = lookup[gid]
    cu = pa.lu / nu  # cell size along u, v per patch
    cv = pa.lv / nv
    jitter = rng.uniform(-0.3, 0.3, (n_grid, 2))

    p = sample.patch
    pnu, pnv, pbase = nu[p], nv[p], base[p]
    fu, fv = sample.uv[:, 0] / cu[p], sample.uv[:, 1] / cv[p]  # position in cell units
    i0 = np.clip(np.floor(fu).astype(np.int64), 0, pnu - 1)
    j0 = np.clip(np.floor(fv).astype(np.int64), 0, pnv - 1)
    best = np.full(len(p), np.inf)
    key = pbase.copy()
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            i, j = i0 + di, j0 + dj
            ok = (i >= 0) & (i < pnu) & (j >= 0) & (j < pnv)
            cell = np.where(ok, i * pnv + j, 0)
            seed = pbase + cell
            ju, jv = jitter[seed, 0], jitter[seed, 1]
            d2 = ((fu - (i + 0.5 + ju)) * cu[p]) ** 2 + ((fv - (j + 0.5 + jv)) * cv[p]) ** 2
            d2 = np.where(ok, d2, np.inf)
            better = d2 < best
            best = np.where(better, d2, best)
            key = np.where(better, seed, key)
    return key


def _colours(rng: np.random.Generator, pa: PatchArrays, sample: _Sample, opts: RoomOptions) -> np.ndarray:
    """(N, 3) float64 rgb 0..255 integers: patch colour, Lambert-like shading, noise."""
    light = np.array(_LIGHT) / np.linalg.norm(_LIGHT)
    shade = 0.72 + 0.28 * np.abs(sample.normal @ light)
    rgb = pa.colour[sample.patch] * shade[:, None] + rng.normal(
        0.0, opts.colour_noise, (len(sample.patch), 3)
    )
    return np.clip(np.rint(rgb), 0.0, 255.0)


def _reflect(x: np.ndarray, hi: float) -> np.ndarray:
    """Fold noisy coordinates back into [0, hi] (keeps surface points on the room side of walls/floor)."""
    x = np.abs(x)
    return hi - np.abs(hi - x)


def assemble(
    rng: np.random.Generator,
    layout: Layout,
    pa: PatchArrays,
    sample: _Sample,
    n_points: int,
    seed: int,
    opts: RoomOptions,
) -> SyntheticScene:
    """Noise, colours, labels and contiguous ids; shuffle; build the scene and its meta."""
    keys = _superpoint_keys(rng, pa, sample)
    rgb = _colours(rng, pa, sample, opts)
    xyz = sample.xyz + rng.normal(0.0, opts.noise, sample.xyz.shape)
    for k in range(3):
        xyz[:, k] = _reflect(xyz[:, k], layout.size[k])
    inst = pa.instance[sample.patch]
    sem = pa.semantic[sample.patch]
    order = rng.permutation(n_points) if opts.shuffle else np.arange(n_points)
    xyz, rgb, keys, inst, sem = xyz[order], rgb[order], keys[order], inst[order], sem[order]

    _, spp = np.unique(keys, return_inverse=True)
    present, counts = np.unique(inst[inst >= 0], return_counts=True)
    remap = np.full(len(layout.objects) + 1, IGNORE_INSTANCE, dtype=np.int64)
    remap[present] = np.arange(len(present))
    inst = np.where(inst >= 0, remap[np.maximum(inst, 0)], IGNORE_INSTANCE)  # objects with no point vanish

    objects = []
    for old, cnt in zip(present.tolist(), counts.tolist(), strict=True):
        obj = dict(layout.objects[old], instance=int(remap[old]), n_points=int(cnt))
        objects.append(obj)
    points = np.concatenate([xyz, rgb], axis=1).astype(np.float32)
    meta = {
        "generator": GENERATOR_VERSION,
        "seed": int(seed),
        "n_points": int(n_points),
        "room": list(layout.size),
        "n_objects": len(objects),
        "n_superpoints": int(spp.max(initial=-1)) + 1,
        "objects": objects,
        "options": {f.name: getattr(opts, f.name) for f in fields(opts)},
    }
    return SyntheticScene(
        points=points,
        superpoints=spp.astype(np.int64).reshape(-1),
        semantic_labels=sem.astype(np.int64),
        instance_labels=inst.astype(np.int64),
        meta=meta,
    )
