"""The second generator's sampling and entry point (`generate_room`): visible surface points, colours,
noise, scan holes and a random yaw, then superpoints computed from the points."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from isbnet_trt.training.synthetic.geometry import yaw_rotation
from isbnet_trt.training.synthetic.room_b.furnish import TYPE_CYCLE, furnish
from isbnet_trt.training.synthetic.room_b.materials import FLOOR, WALL, pick
from isbnet_trt.training.synthetic.room_b.parts import Part, part_area, sample_part
from isbnet_trt.training.synthetic.room_b.room import Obj, Room
from isbnet_trt.training.synthetic.scene import SyntheticScene, scene_with_computed_superpoints


def _contains(solids, q):
    """(M,) bool: q inside any solid. solids: list of (kind, c, yaw, h, extra, aabb)."""
    hit = np.zeros(len(q), bool)
    order = np.argsort(q[:, 0], kind="stable")
    qs = q[order]
    for kind, c, yaw, h, extra, (lo, hi) in solids:
        i0, i1 = np.searchsorted(qs[:, 0], [lo[0], hi[0]])
        if i1 <= i0:
            continue
        sub = qs[i0:i1]
        m = (sub[:, 1] >= lo[1]) & (sub[:, 1] <= hi[1]) & (sub[:, 2] >= lo[2]) & (sub[:, 2] <= hi[2])
        if not m.any():
            continue
        idx = np.flatnonzero(m)
        d = sub[idx] - c
        cs, sn = math.cos(yaw), math.sin(yaw)
        lx = cs * d[:, 0] + sn * d[:, 1]
        ly = -sn * d[:, 0] + cs * d[:, 1]
        lz = d[:, 2]
        if kind == "box":
            inn = (np.abs(lx) < h[0]) & (np.abs(ly) < h[1]) & (np.abs(lz) < h[2])
        elif kind == "rim":
            ax, ay = extra["hole"]
            inn = (
                (np.abs(lx) < h[0])
                & (np.abs(ly) < h[1])
                & (np.abs(lz) < h[2])
                & ((lx / ax) ** 2 + (ly / ay) ** 2 > 1)
            )
        elif kind == "cyl":
            inn = ((lx / h[0]) ** 2 + (ly / h[1]) ** 2 < 1) & (np.abs(lz) < h[2])
        else:  # ell
            zr = lz / h[2]
            inn = (
                ((lx / h[0]) ** 2 + (ly / h[1]) ** 2 + zr**2 < 1)
                & (zr >= extra.get("zlo", -1) - 0.02)
                & (zr <= extra.get("zhi", 1) + 0.02)
            )
        hit[order[i0 + idx[inn]]] = True
    return hit


def _colour(part_col, tex, loc, nrm_w, light, rng, extra):
    n = len(loc)
    base = np.tile(part_col, (n, 1))
    if tex == "grain":
        g = np.sin(loc[:, 0] * rng.uniform(20, 60) + np.sin(loc[:, 1] * 7 + loc[:, 2] * 5) * 2)
        base = base * (1 + 0.07 * g[:, None])
    elif tex == "speckle":
        base = base * (1 + rng.normal(0, 0.1, (n, 1)))
    elif tex == "picture":
        pat = extra["pat"]
        u, v = loc[:, 0] * 6, loc[:, 2] * 6
        f = []
        for k in range(3):
            a = pat[k]
            f.append(np.sin(a[0] * u + a[1] * v + a[2]) * 0.5 + np.sin(a[3] * u - a[4] * v) * 0.3)
        base = np.clip(0.5 + 0.35 * np.stack(f, 1) + (part_col - 0.5) * 0.5, 0, 1)
    shade = 0.62 + 0.38 * (0.5 + 0.5 * (nrm_w @ light))
    return base * shade[:, None]


def _scan_room(seed: int, n_points: int) -> dict:
    rng = np.random.default_rng([int(seed), int(n_points), 0xA17])
    # room type cycles with the seed so that any 10 consecutive seeds cover all types (balanced classes)
    rtype = TYPE_CYCLE[int(seed) % len(TYPE_CYCLE)]
    room = Room(rng, rtype)
    objs: list[Obj] = []
    furnish(room, rng, objs)

    # world-frame parts: (part, centre, yaw, sem, inst)
    items = []
    wall_col = pick(rng, "white", "white", "paint")
    floor_col = pick(rng, "wood", "stone", "fabric", "paint")
    floor_tex = floor_col[1]
    for W in room.walls:
        c = W["p0"] + W["d"] * W["L"] / 2
        holes = [
            (s0 - W["L"] / 2, s1 - W["L"] / 2, z0 - room.H / 2, z1 - room.H / 2)
            for s0, s1, z0, z1 in W["holes"]
        ]
        p = Part("plane", (0, 0, 0), (W["L"] / 2, 0, room.H / 2), wall_col, solid=False, holes=holes)
        items.append(
            (
                p,
                np.array([c[0], c[1], room.H / 2]),
                math.atan2(W["n"][1], W["n"][0]) - math.pi / 2,
                WALL,
                -100,
            )
        )
    for x0, y0, x1, y1 in room.rects:
        p = Part(
            "floor", (0, 0, 0), ((x1 - x0) / 2, (y1 - y0) / 2, 0), (floor_col[0], floor_tex), solid=False
        )
        items.append((p, np.array([(x0 + x1) / 2, (y0 + y1) / 2, 0.0]), 0.0, FLOOR, -100))
    solids = []
    for inst, o in enumerate(objs):
        if o.pose is None:
            continue
        x, y, yaw = o.pose
        R = yaw_rotation(yaw)
        for p in o.parts:
            c = R @ p.c + [x, y, 0.0]
            items.append((p, c, yaw + p.yaw, o.sem, inst))
            if p.solid and p.kind in ("box", "cyl", "ell", "rim"):
                r = float(np.linalg.norm(p.h[:2]))
                lo = np.array([c[0] - r, c[1] - r, c[2] - p.h[2]])
                hi = np.array([c[0] + r, c[1] + r, c[2] + p.h[2]])
                solids.append((p.kind, c, yaw + p.yaw, p.h, p.extra, (lo, hi)))

    areas = np.array([part_area(p, rng) * p.dens for p, *_ in items])
    light = np.array([rng.normal(0, 0.4), rng.normal(0, 0.4), 1.0])
    light /= np.linalg.norm(light)
    dens = 1.7 * n_points / areas.sum()
    for _attempt in range(6):
        P, Nw, S, Ins, C = [], [], [], [], []
        for (p, c, yaw, sem, inst), a in zip(items, areas, strict=False):
            k = rng.poisson(a * dens)
            if k == 0:
                continue
            loc, nrm = sample_part(p, k, rng)
            R = yaw_rotation(yaw)
            w = loc @ R.T + c
            nw = nrm @ R.T
            P.append(w)
            Nw.append(nw)
            S.append(np.full(len(w), sem))
            Ins.append(np.full(len(w), inst))
            col = _colour(p.col * rng.uniform(0.96, 1.04), p.tex, loc, nw, light, rng, p.extra)
            C.append(col)
        P, Nw, S, Ins, C = map(np.concatenate, (P, Nw, S, Ins, C))
        # visibility: probe along the normal
        hidden = np.zeros(len(P), bool)
        for delta in (0.006, 0.03):
            q = P + Nw * delta
            outside = ~room.inside(q[:, :2], -0.0005) | (q[:, 2] < 0)
            hidden |= outside & (S != WALL) & (S != FLOOR)
            hidden |= _contains(solids, q)
        fl = np.flatnonzero(S == FLOOR)
        for hgt in (0.15, 0.28):
            q = P[fl] + [0, 0, hgt]
            hidden[fl[_contains(solids, q)]] = True
        keep = ~hidden
        # scan holes
        for _ in range(rng.integers(0, 5)):
            cidx = rng.integers(len(P))
            rad = rng.uniform(0.1, 0.45)
            m = np.linalg.norm(P - P[cidx], axis=1) < rad
            keep &= ~(m & (rng.random(len(P)) < 0.9))
        if keep.sum() >= n_points:
            break
        dens *= 1.6 * n_points / max(keep.sum(), 1)
    sel = rng.choice(np.flatnonzero(keep), n_points, replace=False)
    sel.sort()
    P, S, Ins, C = P[sel], S[sel], Ins[sel], C[sel]
    P = P + rng.normal(0, rng.uniform(0.003, 0.006), P.shape)
    # camera-ish colour: exposure, white balance, noise
    C = C * rng.uniform(0.82, 1.12) * (1 + rng.normal(0, 0.04, 3))
    C = C * 255 + rng.normal(0, rng.uniform(3, 8), C.shape)
    C = np.clip(C, 0, 255)
    # whole-room yaw and offset (z stays on the floor plane)
    a = rng.uniform(0, 2 * math.pi)
    P = P @ yaw_rotation(a).T
    P[:, :2] += rng.uniform(-2, 2, 2)
    # contiguous instance ids in order of object creation
    ins = np.full(len(Ins), -100, np.int64)
    obj = Ins >= 0
    uniq, inv = np.unique(Ins[obj], return_inverse=True)
    ins[obj] = inv
    return {
        "points": np.concatenate([P, C], 1).astype(np.float32),
        "semantic_labels": S.astype(np.int64),
        "instance_labels": ins,
        "room_type": rtype,
    }


def generate_room(n_points: int = 150_000, seed: int = 0, **options: Any) -> SyntheticScene:
    """A room of the second generator with exactly `n_points` points, its superpoints computed from them.

    Deterministic in (`n_points`, `seed`); rooms differ with both. This generator takes no options
    (any raise TypeError). `meta` holds "generator" ("synthetic_b"), "seed", "n_points" and "room_type".
    """
    if options:
        raise TypeError(f"the second generator takes no options, got {sorted(options)}")
    if n_points < 0:
        raise ValueError(f"n_points must be >= 0, got {n_points}")
    room = _scan_room(seed, n_points)
    meta = {"generator": "synthetic_b", "seed": seed, "n_points": n_points, "room_type": room["room_type"]}
    return scene_with_computed_superpoints(
        room["points"], room["semantic_labels"], room["instance_labels"], meta
    )
