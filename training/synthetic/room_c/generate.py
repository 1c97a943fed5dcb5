"""The third generator's simulated scanner and entry point (`generate_room`): rays from a few cameras,
first hits, fused-mesh-like thinning, colours and noise, then superpoints computed from the points."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from isbnet_trt.training.synthetic.room_c.furnish import ROOM_TYPES, furnish
from isbnet_trt.training.synthetic.room_c.furniture import mk_chair, mk_other
from isbnet_trt.training.synthetic.room_c.palette import FLOORS, WALLS, C, choose, jitter
from isbnet_trt.training.synthetic.room_c.primitives import Obj, box
from isbnet_trt.training.synthetic.room_c.raycast import HIT, bounding_sphere, normals_local, room_walls_hit
from isbnet_trt.training.synthetic.room_c.room import GRID, Room
from isbnet_trt.training.synthetic.room_c.texture import texture
from isbnet_trt.training.synthetic.scene import SyntheticScene, scene_with_computed_superpoints


def _scan_room(seed: int, n_points: int) -> dict:
    rng = np.random.default_rng([int(seed), 0xC0FFEE])
    rtype = ROOM_TYPES[seed % len(ROOM_TYPES)]  # balanced: every 6 consecutive seeds cover all types
    if rtype == "bathroom":
        lx, ly = rng.uniform(3.0, 4.2), rng.uniform(3.0, 4.0)
    elif rtype in ("bedroom", "kitchen"):
        lx, ly = rng.uniform(3.2, 6.0), rng.uniform(3.0, 5.5)
    else:
        lx, ly = rng.uniform(4.0, 9.0), rng.uniform(3.5, 8.0)
    hz = rng.uniform(2.4, 3.2)
    room = Room(rng, lx, ly, hz)
    if rng.random() < 0.2:  # a pillar or short partition wall, labelled wall
        pw, pd = rng.uniform(0.3, 0.6), rng.uniform(0.3, 1.2)
        pil = Obj(C["wall"], [box(0, 0, 0, pw, pd, hz, (0, 0, 0), "wall")], pw, pd, hz)
        k = int(rng.integers(4))
        room.against_wall(pil, k=k, gap=0.0, tries=5)
    furnish(rng, room, rtype)
    # objects must keep 4..25 instances
    objs = [o for o in room.objs if o.sem not in (0, 1)]
    while len(objs) > 25:
        drop = objs.pop(int(rng.integers(len(objs))))
        room.objs.remove(drop)
    extra = 0
    while len(objs) < 4 and extra < 30:
        extra += 1
        o = mk_other(rng) if rng.random() < 0.5 else mk_chair(rng)
        if room.against_wall(o, tries=5) is not None or room.free_spot(o, 0.3, tries=5):
            objs.append(o)
    for i, o in enumerate(o for o in room.objs if o.sem not in (0, 1)):
        o.inst = i

    # flatten parts
    parts, psem, pinst = [], [], []
    for o in room.objs:
        for p in o.world_parts():
            parts.append(p)
            psem.append(o.sem)
            pinst.append(o.inst)
    wall_col = jitter(rng, choose(rng, WALLS), 6)
    ftex, fcol = choose(rng, FLOORS)
    fcol = jitter(rng, fcol, 8)
    ftex = {"wood": "floorwood"}.get(ftex, ftex)
    for p in parts:
        if p["tex"] == "wall":
            p["col"] = wall_col

    # cameras: free floor cells, away from walls, 1.1..1.7 m high
    free = ~room.occ
    inner = room.footprint(np.array([lx / 2, ly / 2]), 0.0, max(lx - 1.0, 0.2), max(ly - 1.0, 0.2))
    occ_d = room.occ.copy()
    for sh in ((1, 0), (-1, 0), (0, 1), (0, -1)):  # grow obstacles a little
        occ_d |= np.roll(room.occ, sh, (0, 1))
    cand = np.argwhere(free & inner & ~occ_d)
    if len(cand) == 0:
        cand = np.argwhere(inner)
    n_cam = int(rng.integers(3, 7))
    cams = []
    for _ in range(n_cam):
        i, j = cand[int(rng.integers(len(cand)))]
        cams.append(np.array([(i + rng.random()) * GRID, (j + rng.random()) * GRID, rng.uniform(1.1, 1.7)]))
    gains = rng.uniform(0.85, 1.12, n_cam)

    sphere = [bounding_sphere(p) for p in parts]
    sig = rng.uniform(0.002, 0.008)
    light = np.array([rng.normal(), rng.normal(), 2.0])
    light /= np.linalg.norm(light)
    W0 = rng.uniform(1.6, 2.2)  # sqrt-distance scale: a head-on surface this far keeps all hits

    acc_parts = []
    n_acc, rounds = 0, 0
    raw = int(n_points * 2.3) + 3000
    while n_acc < n_points and rounds < 10:
        rounds += 1
        per = raw // n_cam + 1
        Xs, pids, ts, cs, Ds = [], [], [], [], []
        for ci, o in enumerate(cams):
            dz = rng.uniform(-0.97, 0.35, per)
            az = rng.uniform(0, 2 * math.pi, per)
            rr = np.sqrt(1 - dz * dz)
            D = np.stack([rr * np.cos(az), rr * np.sin(az), dz], 1)
            t, wid = room_walls_hit(o, D, lx, ly, hz)
            pid = np.where(wid == 5, -1, -2 - wid)  # -2..-6: walls/floor, -1: escapes (no ceiling)
            for k, p in enumerate(parts):
                c, rad = sphere[k]
                v = c - o
                dist = float(np.linalg.norm(v))
                if dist > rad:
                    cosl = math.sqrt(max(0.0, 1 - (rad / dist) ** 2))
                    sel = np.nonzero(D @ (v / dist) >= cosl)[0]
                    if len(sel) == 0:
                        continue
                    sel = sel[t[sel] > dist - rad]
                    if len(sel) == 0:
                        continue
                else:
                    sel = np.arange(len(D))
                th = HIT[p["t"]](p, o, D[sel])
                better = th < t[sel]
                if better.any():
                    idx = sel[better]
                    t[idx] = th[better]
                    pid[idx] = k
            keep = pid != -1
            Xs.append(o + t[keep, None] * D[keep])
            pids.append(pid[keep])
            ts.append(t[keep])
            cs.append(np.full(int(keep.sum()), ci))
            Ds.append(D[keep])
        X, pid, tt = np.concatenate(Xs), np.concatenate(pids), np.concatenate(ts)
        cam, Dk = np.concatenate(cs), np.concatenate(Ds)
        nP = len(X)
        normals = np.zeros((nP, 3))
        rgb = np.zeros((nP, 3), np.float32)
        sem = np.zeros(nP, np.int64)
        ins = np.full(nP, -100, np.int64)
        alpha = np.ones(nP)
        for wid in range(5):  # room shell
            m = pid == -2 - wid
            if not m.any():
                continue
            Xm = X[m]
            if wid == 4:
                normals[m] = (0, 0, 1)
                sem[m] = 1
                fake = {"tex": ftex, "col": fcol, "h": np.array([1, 1, 1])}
                rgb[m] = texture(fake, Xm, normals[m], 7 + seed % 5)
            else:
                normals[m] = {0: (0, 1, 0), 1: (-1, 0, 0), 2: (0, -1, 0), 3: (1, 0, 0)}[wid]
                sem[m] = 0
                fake = {"tex": "wall", "col": wall_col, "h": np.array([1, 1, 1])}
                L = np.stack([Xm[:, 0] + Xm[:, 1], Xm[:, 2], np.zeros(len(Xm))], 1)
                col = texture(fake, L, normals[m], 11)
                rgb[m] = np.where((Xm[:, 2] < 0.08)[:, None], col * 0.8, col)  # baseboard
        order = np.argsort(pid, kind="stable")
        bounds = np.searchsorted(pid[order], np.arange(len(parts) + 1))
        for k, p in enumerate(parts):
            idx = order[bounds[k] : bounds[k + 1]]
            if len(idx) == 0:
                continue
            n_, L = normals_local(p, X[idx])
            normals[idx] = n_
            rgb[idx] = texture(p, L, n_, (seed * 131 + k) % 100003)
            sem[idx] = psem[k]
            ins[idx] = pinst[k]
            alpha[idx] = p["alpha"]
        shade = 0.6 + 0.45 * np.abs(normals @ light)
        shade *= 1.0 - 0.05 * np.clip(tt - 2.0, 0, 6)  # far surfaces a bit darker
        rgb = rgb * (shade * gains[cam])[:, None] + rng.normal(0, 3.0, rgb.shape)
        rgb = np.clip(rgb, 0, 255)
        # fused-mesh-like thinning: density ~ r^-1.5 instead of r^-2, less grazing loss, sparse glass
        inc = np.abs((Dk * normals).sum(1))
        w = np.clip(tt / W0, 0.15, None) ** 0.25 / np.clip(inc, 0.25, 1.0) ** 0.6 * alpha * 0.5
        # the operator dwells on furniture: walls (upper walls most) are scanned less
        w *= np.where(sem == 0, np.where(X[:, 2] > 1.8, 0.3, 0.6), np.where(sem == 1, 0.7, 1.0))
        a = rng.random(nP) < w
        acc_parts.append((X[a], normals[a], rgb[a], sem[a], ins[a]))
        n_acc += int(a.sum())
        frac = max(a.mean(), 0.05)
        raw = int((n_points - n_acc) / frac * 1.1) + 3000
    X, normals, rgb, sem, ins = (np.concatenate(z) for z in zip(*acc_parts, strict=False))
    pick = np.sort(rng.choice(len(X), n_points, replace=len(X) < n_points))
    X, normals, rgb, sem, ins = X[pick], normals[pick], rgb[pick], sem[pick], ins[pick]
    # scanner noise: along normal plus a little tangential
    X = X + normals * rng.normal(0, sig, (n_points, 1)) + rng.normal(0, sig * 0.4, X.shape)
    # contiguous instance ids
    u = np.unique(ins[ins >= 0])
    remap = np.full(u.max() + 1 if len(u) else 1, -100, np.int64)
    remap[u] = np.arange(len(u))
    ins = np.where(ins >= 0, remap[np.clip(ins, 0, None)], -100)
    perm = rng.permutation(n_points)
    pts = np.concatenate([X, rgb], 1).astype(np.float32)[perm]
    return {
        "points": pts,
        "semantic_labels": sem[perm].astype(np.int64),
        "instance_labels": ins[perm].astype(np.int64),
        "room_type": rtype,
        "size": (lx, ly, hz),
    }


def generate_room(n_points: int = 150_000, seed: int = 0, **options: Any) -> SyntheticScene:
    """A room of the third generator with exactly `n_points` points, its superpoints computed from them.

    Deterministic in (`n_points`, `seed`); the room itself depends on `seed` only. This generator takes
    no options (any raise TypeError). `meta` holds "generator" ("synthetic_c"), "seed", "n_points",
    "room_type" and "room" [L, W, H] m.
    """
    if options:
        raise TypeError(f"the third generator takes no options, got {sorted(options)}")
    if n_points < 0:
        raise ValueError(f"n_points must be >= 0, got {n_points}")
    room = _scan_room(seed, n_points)
    meta = {
        "generator": "synthetic_c",
        "seed": seed,
        "n_points": n_points,
        "room_type": room["room_type"],
        "room": [float(v) for v in room["size"]],
    }
    return scene_with_computed_superpoints(
        room["points"], room["semantic_labels"], room["instance_labels"], meta
    )
