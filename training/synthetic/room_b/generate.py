"""The project's second synthetic indoor-room generator (ScanNetV2 20-class labels).

Written independently of `training.synthetic` (without reading it), as another team would write
one: other room types, object shapes, sizes and palettes. It estimates how the demo weights
generalise to rooms they were not designed on (`benchmarks/demo_robustness.py`) and can be mixed
into training (`isbnet.train --second-generator-prob`). It has no superpoints of its own: users'
scans have none either (`runtime.superpoints` computes them).

make_room(seed, n_points) -> {"points": (N, 6) float32 xyz (m, z up, floor z=0) + rgb 0..255,
                              "semantic_labels": (N,) int64, "instance_labels": (N,) int64}

Design: a room is a rectangle or an L (union of two rectangles), walls without a ceiling.
Objects are built from primitive parts (boxes, elliptic cylinders, clipped ellipsoids, inner
bowls, plates with an elliptic hole, wavy sheets) in an object frame (+y = front, back at
-hy), placed against walls or free-standing with a 3-D zone overlap test (footprint OBB + z
range), then surfaces are sampled at a uniform density.  Hidden points are removed by probing
a little along the outward normal: a probe inside another solid, behind a wall or below the
floor means the point is not visible (contact faces, floor under low furniture, wall behind
cabinets...).  Colours: per-part materials drawn from a palette, a simple Lambert-like shading,
per-room white balance / exposure, per-point noise.  Then Gaussian position noise, a few scan
holes, a random yaw of the whole room, and an exact subsample to n_points.
"""

from __future__ import annotations

import colorsys
import math

import numpy as np

from isbnet_trt.training.synthetic import CLASS_NAMES

WALL, FLOOR, CABINET, BED, CHAIR, SOFA, TABLE, DOOR, WINDOW, BOOKSHELF = range(10)
PICTURE, COUNTER, DESK, CURTAIN, FRIDGE, SHOWER, TOILET, SINK, BATHTUB, OTHER = range(10, 20)


# ----------------------------------------------------------------------------- materials
def _jit(rng, c, a=0.04):
    return np.clip(np.asarray(c, float) + rng.normal(0, a, 3), 0.02, 0.98)


def mat(rng, kind):
    """(rgb 0..1, texture) for a material name."""
    if kind == "wood":
        base = [
            (0.78, 0.62, 0.43),
            (0.62, 0.45, 0.28),
            (0.45, 0.3, 0.18),
            (0.32, 0.21, 0.13),
            (0.55, 0.3, 0.2),
            (0.66, 0.6, 0.52),
            (0.85, 0.75, 0.58),
        ]
        return _jit(rng, base[rng.integers(len(base))]), "grain"
    if kind == "fabric":
        h = rng.random()
        s = rng.uniform(0.1, 0.65)
        v = rng.uniform(0.25, 0.85)
        return np.array(colorsys.hsv_to_rgb(h, s, v)), "plain"
    if kind == "leather":
        base = [(0.35, 0.2, 0.12), (0.1, 0.09, 0.09), (0.6, 0.42, 0.26), (0.8, 0.78, 0.72)]
        return _jit(rng, base[rng.integers(len(base))], 0.03), "plain"
    if kind == "white":
        return _jit(rng, (0.9, 0.9, 0.87), 0.03), "plain"
    if kind == "paint":
        base = [
            (0.9, 0.9, 0.87),
            (0.85, 0.82, 0.75),
            (0.7, 0.72, 0.74),
            (0.25, 0.27, 0.3),
            (0.55, 0.65, 0.6),
            (0.75, 0.6, 0.5),
            (0.5, 0.55, 0.7),
        ]
        return _jit(rng, base[rng.integers(len(base))]), "plain"
    if kind == "metal":
        base = [(0.72, 0.73, 0.75), (0.55, 0.56, 0.58), (0.3, 0.31, 0.33), (0.12, 0.12, 0.13)]
        return _jit(rng, base[rng.integers(len(base))], 0.03), "plain"
    if kind == "plastic":
        h = rng.random()
        return np.array(colorsys.hsv_to_rgb(h, rng.uniform(0, 0.7), rng.uniform(0.15, 0.95))), "plain"
    if kind == "ceramic":
        return _jit(rng, (0.93, 0.93, 0.91), 0.02), "plain"
    if kind == "stone":
        base = [(0.2, 0.2, 0.21), (0.85, 0.84, 0.8), (0.55, 0.5, 0.45), (0.4, 0.4, 0.42)]
        return _jit(rng, base[rng.integers(len(base))], 0.03), "speckle"
    if kind == "glass":
        return _jit(rng, (0.55, 0.65, 0.7), 0.05), "plain"
    if kind == "dark":
        return _jit(rng, (0.12, 0.12, 0.12), 0.03), "plain"
    raise ValueError(kind)


def pick(rng, *kinds):
    return mat(rng, kinds[rng.integers(len(kinds))])


# ----------------------------------------------------------------------------- parts
class Part:
    """A primitive in object coordinates: kind, centre (3,), half sizes (3,), yaw about z."""

    __slots__ = ("kind", "c", "h", "yaw", "col", "tex", "solid", "extra", "dens")

    def __init__(self, kind, c, h, col, yaw=0.0, solid=True, dens=1.0, **extra):
        self.kind, self.c, self.h = kind, np.asarray(c, float), np.asarray(h, float)
        self.yaw, self.col, self.tex = float(yaw), col[0], col[1]
        self.solid, self.extra, self.dens = solid, extra, dens
        assert (self.h >= 0).all(), (kind, self.h)


def box(c, h, col, **kw):
    return Part("box", c, h, col, **kw)


def box_z(x, y, z0, z1, hx, hy, col, **kw):
    """Box from z0 to z1."""
    return Part("box", (x, y, (z0 + z1) / 2), (hx, hy, (z1 - z0) / 2), col, **kw)


def cyl_z(x, y, z0, z1, rx, ry, col, **kw):
    return Part("cyl", (x, y, (z0 + z1) / 2), (rx, ry, (z1 - z0) / 2), col, **kw)


def _unit_sphere(rng, n):
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _ell_weights(u, r):
    rx, ry, rz = r
    return np.sqrt((ry * rz * u[:, 0]) ** 2 + (rx * rz * u[:, 1]) ** 2 + (rx * ry * u[:, 2]) ** 2)


def part_area(p: Part, rng) -> float:
    hx, hy, hz = p.h
    k = p.kind
    if k == "box":
        return 8 * (hx * hy + hy * hz + hx * hz)
    if k == "cyl":
        per = math.pi * (3 * (hx + hy) - math.sqrt((3 * hx + hy) * (hx + 3 * hy)))
        caps = p.extra.get("caps", 2)
        return per * 2 * hz + caps * math.pi * hx * hy
    if k in ("ell", "bowl"):
        u = _unit_sphere(rng, 4000)
        lo, hi = (p.extra.get("zlo", -1.0), p.extra.get("zhi", 1.0)) if k == "ell" else (-1.0, 0.0)
        m = (u[:, 2] >= lo) & (u[:, 2] <= hi)
        return 4 * math.pi * float(np.mean(_ell_weights(u, p.h) * m))
    if k == "rim":
        ax, ay = p.extra["hole"]
        return 4 * hx * hy - math.pi * ax * ay + 4 * hz * (2 * hx + 2 * hy)
    if k == "sheet":
        lam, amp = p.extra["lam"], hy
        s = np.linspace(-hx, hx, 400)
        d = amp * 2 * math.pi / lam * np.cos(2 * math.pi * s / lam + p.extra["phi"])
        return float(np.trapezoid(np.sqrt(1 + d * d), s)) * 2 * hz
    if k == "plane":
        return 4 * hx * hz
    if k == "floor":
        return 4 * hx * hy
    raise ValueError(k)


def _faces_box(rng, n, h):
    hx, hy, hz = h
    areas = np.array([hy * hz, hy * hz, hx * hz, hx * hz, hx * hy, hx * hy])
    f = rng.choice(6, size=n, p=areas / areas.sum())
    u = rng.uniform(-1, 1, (n, 3)) * h
    nrm = np.zeros((n, 3))
    ax = f // 2
    sg = np.where(f % 2 == 0, -1.0, 1.0)
    u[np.arange(n), ax] = sg * h[ax]
    nrm[np.arange(n), ax] = sg
    return u, nrm


def sample_part(p: Part, n: int, rng):
    """n points (local part frame, centred) and unit normals, uniform on the visible surface."""
    hx, hy, hz = p.h
    k = p.kind
    if k == "box":
        return _faces_box(rng, n, p.h)
    if k == "cyl":
        caps = p.extra.get("caps", 2)
        per = math.pi * (3 * (hx + hy) - math.sqrt((3 * hx + hy) * (hx + 3 * hy)))
        a_side, a_cap = per * 2 * hz, math.pi * hx * hy
        nc = rng.binomial(n, caps * a_cap / (a_side + caps * a_cap)) if caps else 0
        ns = n - nc
        # side: angle with rejection on the ellipse speed
        t = rng.uniform(0, 2 * math.pi, ns * 2 + 10)
        sp = np.sqrt((hx * np.sin(t)) ** 2 + (hy * np.cos(t)) ** 2)
        t = t[rng.random(len(t)) * max(hx, hy) <= sp][:ns]
        while len(t) < ns:
            t = np.concatenate([t, rng.uniform(0, 2 * math.pi, ns - len(t))])
        side = np.stack([hx * np.cos(t), hy * np.sin(t), rng.uniform(-hz, hz, ns)], 1)
        sn = np.stack([np.cos(t) / hx, np.sin(t) / hy, np.zeros(ns)], 1)
        sn /= np.linalg.norm(sn, axis=1, keepdims=True)
        r = np.sqrt(rng.random(nc))
        a = rng.uniform(0, 2 * math.pi, nc)
        top = rng.random(nc) < (0.5 if caps == 2 else 1.0)
        cz = np.where(top, hz, -hz)
        cap = np.stack([hx * r * np.cos(a), hy * r * np.sin(a), cz], 1)
        cn = np.zeros((nc, 3))
        cn[:, 2] = np.where(top, 1.0, -1.0)
        return np.concatenate([side, cap]), np.concatenate([sn, cn])
    if k in ("ell", "bowl"):
        lo, hi = (p.extra.get("zlo", -1.0), p.extra.get("zhi", 1.0)) if k == "ell" else (-1.0, 0.0)
        out = []
        wmax = max(hy * hz, hx * hz, hx * hy)
        got = 0
        while got < n:
            u = _unit_sphere(rng, 3 * n + 50)
            m = (u[:, 2] >= lo) & (u[:, 2] <= hi) & (rng.random(len(u)) * wmax <= _ell_weights(u, p.h))
            out.append(u[m])
            got += int(m.sum())
        u = np.concatenate(out)[:n]
        pts = u * p.h
        nrm = u / p.h
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
        return pts, (-nrm if k == "bowl" else nrm)
    if k == "rim":
        ax, ay = p.extra["hole"]
        a_top = 4 * hx * hy - math.pi * ax * ay
        a_side = 4 * hz * (2 * hx + 2 * hy)
        nt = rng.binomial(n, a_top / (a_top + a_side))
        q = rng.uniform(-1, 1, (3 * nt + 20, 2)) * [hx, hy]
        q = q[(q[:, 0] / ax) ** 2 + (q[:, 1] / ay) ** 2 > 1][:nt]
        top = np.column_stack([q, np.full(len(q), hz)])
        tn = np.tile([0.0, 0.0, 1.0], (len(q), 1))
        sp, sn = _faces_box(rng, n - nt, p.h)
        keep = sn[:, 2] == 0
        return np.concatenate([top, sp[keep]]), np.concatenate([tn, sn[keep]])
    if k == "sheet":
        lam, phi, amp = p.extra["lam"], p.extra["phi"], hy
        s = rng.uniform(-hx, hx, 3 * n + 20)
        d = amp * 2 * math.pi / lam * np.cos(2 * math.pi * s / lam + phi)
        w = np.sqrt(1 + d * d)
        s = s[rng.random(len(s)) * w.max() <= w][:n]
        m = len(s)
        d = amp * 2 * math.pi / lam * np.cos(2 * math.pi * s / lam + phi)
        pts = np.stack([s, amp * np.sin(2 * math.pi * s / lam + phi), rng.uniform(-hz, hz, m)], 1)
        nrm = np.stack([-d, np.ones(m), np.zeros(m)], 1)
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
        return pts, nrm
    if k == "plane":
        pts = np.stack([rng.uniform(-hx, hx, n), np.zeros(n), rng.uniform(-hz, hz, n)], 1)
        for x0, x1, z0, z1 in p.extra.get("holes", ()):
            pts = pts[~((pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 2] > z0) & (pts[:, 2] < z1))]
        return pts, np.tile([0.0, 1.0, 0.0], (len(pts), 1))
    if k == "floor":
        pts = np.stack([rng.uniform(-hx, hx, n), rng.uniform(-hy, hy, n), np.zeros(n)], 1)
        return pts, np.tile([0.0, 0.0, 1.0], (n, 1))
    raise ValueError(k)


def rot(yaw):
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# ----------------------------------------------------------------------------- room
ROOM_SIZES = {
    "bathroom": (3.0, 4.5),
    "bedroom": (3.0, 5.5),
    "kitchen": (3.0, 6.0),
    "office": (4.0, 8.0),
    "conference": (5.0, 8.0),
    "living": (3.8, 7.5),
    "storage": (3.0, 6.0),
}


class Room:
    def __init__(self, rng, rtype):
        self.rng = rng
        self.rtype = rtype
        W, D = rng.uniform(*ROOM_SIZES[rtype], 2)
        self.H = rng.uniform(2.4, 3.0)
        if rng.random() < 0.35 and min(W, D) > 3.6:
            a = rng.uniform(1.2, W - 2.0)  # notch cut from the (W, D) corner
            b = rng.uniform(1.2, D - 2.0)
            self.rects = [(0, 0, W, D - b), (0, D - b, W - a, D)]
            self.poly = np.array([(0, 0), (W, 0), (W, D - b), (W - a, D - b), (W - a, D), (0, D)], float)
        else:
            self.rects = [(0, 0, W, D)]
            self.poly = np.array([(0, 0), (W, 0), (W, D), (0, D)], float)
        self.walls = []  # (p0, dir, inward normal, length, holes list)
        for i in range(len(self.poly)):
            p0, p1 = self.poly[i], self.poly[(i + 1) % len(self.poly)]
            d = p1 - p0
            L = float(np.linalg.norm(d))
            d = d / L
            self.walls.append(dict(p0=p0, d=d, n=np.array([-d[1], d[0]]), L=L, holes=[]))
        self.zones = []  # (cx, cy, yaw, hx, hy, z0, z1)

    def inside(self, xy, eps=0.0):
        xy = np.atleast_2d(xy)
        m = np.zeros(len(xy), bool)
        for x0, y0, x1, y1 in self.rects:
            m |= (
                (xy[:, 0] >= x0 + eps)
                & (xy[:, 0] <= x1 - eps)
                & (xy[:, 1] >= y0 + eps)
                & (xy[:, 1] <= y1 - eps)
            )
        # union of rects: a point on the shared edge counts as inside through either rect
        return m

    def free(self, cx, cy, yaw, hx, hy, z0, z1, margin=0.03):
        g = np.linspace(-1, 1, 5)
        gx, gy = np.meshgrid(g * hx, g * hy)
        loc = np.stack([gx.ravel(), gy.ravel()], 1)
        c, s = math.cos(yaw), math.sin(yaw)
        w = loc @ np.array([[c, s], [-s, c]]) + [cx, cy]
        if not self.inside(w, 0.002).all():
            return False
        a = np.array([[c, s], [-s, c]])
        for z in self.zones:
            if z1 <= z[5] or z0 >= z[6]:
                continue
            if _obb_overlap((cx, cy), a, (hx + margin, hy + margin), (z[0], z[1]), _ax(z[2]), (z[3], z[4])):
                return False
        return True


def _ax(yaw):
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, s], [-s, c]])  # rows: local x axis, local y axis in world


def _obb_overlap(c1, a1, h1, c2, a2, h2):
    d = np.subtract(c2, c1)
    for axis in (a1[0], a1[1], a2[0], a2[1]):
        r1 = h1[0] * abs(a1[0] @ axis) + h1[1] * abs(a1[1] @ axis)
        r2 = h2[0] * abs(a2[0] @ axis) + h2[1] * abs(a2[1] @ axis)
        if abs(d @ axis) > r1 + r2:
            return False
    return True


def _xy_extent(p):
    hx, hy = p.h[0], p.h[1]
    if p.kind in ("plane",):
        hy = 0.0
    c, s = abs(math.cos(p.yaw)), abs(math.sin(p.yaw))
    return c * hx + s * hy, s * hx + c * hy


class Obj:
    """An object: semantic class, parts, footprint half sizes (recomputed from the parts and the
    parts recentred unless normalize=False), lowest z of its zone (z0)."""

    def __init__(self, sem, parts, hx, hy, z0=0.0, normalize=True):
        self.sem, self.parts, self.hx, self.hy, self.z0 = sem, parts, hx, hy, z0
        self.height = max(p.c[2] + p.h[2] for p in parts)
        if normalize:
            ex = np.array([_xy_extent(p) for p in parts])
            cs = np.array([p.c[:2] for p in parts])
            lo, hi = (cs - ex).min(0), (cs + ex).max(0)
            mid = (lo + hi) / 2
            for p in parts:
                p.c[:2] -= mid
            self.hx, self.hy = (hi - lo) / 2
        self.pose = None


# ----------------------------------------------------------------------------- object builders
# Object frame: footprint centred at origin, x in [-hx, hx], y in [-hy, hy], back at -hy, z up from 0.


def legs4(hx, hy, inset, z0, z1, r, col, round_=False):
    out = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * (hx - inset - r), sy * (hy - inset - r)
            out.append(cyl_z(x, y, z0, z1, r, r, col) if round_ else box_z(x, y, z0, z1, r, r, col))
    return out


def make_chair(rng):
    v = rng.choice(["wood", "office", "arm", "plastic"], p=[0.4, 0.3, 0.15, 0.15])
    if v == "office":
        w, d = rng.uniform(0.44, 0.56), rng.uniform(0.44, 0.54)
        sh = rng.uniform(0.42, 0.52)
        frame = pick(rng, "metal", "dark")
        fab = pick(rng, "fabric", "leather", "dark")
        rb = rng.uniform(0.28, 0.34)
        parts = [cyl_z(0, 0, 0.0, 0.07, 0.05, 0.05, frame), cyl_z(0, 0, 0.07, sh - 0.1, 0.025, 0.025, frame)]
        for k in range(5):
            a = 2 * math.pi * k / 5 + rng.uniform(0, 0.5)
            parts.append(
                box((math.cos(a) * rb / 2, math.sin(a) * rb / 2, 0.05), (rb / 2, 0.022, 0.02), frame, yaw=a)
            )
            parts.append(
                cyl_z(math.cos(a) * (rb - 0.02), math.sin(a) * (rb - 0.02), 0.0, 0.03, 0.025, 0.025, frame)
            )
        parts.append(box_z(0, 0, sh - 0.1, sh - 0.06, 0.12, 0.12, frame))
        parts.append(box_z(0, 0.02, sh - 0.06, sh, w / 2, d / 2 - 0.02, fab))
        bh = rng.uniform(0.35, 0.6)
        parts.append(box_z(0, -d / 2 + 0.05, sh + 0.06, sh + 0.06 + bh, w / 2 - 0.02, 0.035, fab))
        parts.append(box_z(0, -d / 2 + 0.05, sh, sh + 0.06, 0.03, 0.02, frame))
        if rng.random() < 0.6:
            for sx in (-1, 1):
                parts.append(box_z(sx * (w / 2 + 0.03), 0.0, sh + 0.18, sh + 0.22, 0.03, 0.13, frame))
                parts.append(box_z(sx * (w / 2 + 0.03), -0.02, sh - 0.02, sh + 0.18, 0.015, 0.015, frame))
        hx, hy = max(rb, w / 2 + 0.06), max(rb, d / 2)
        return Obj(CHAIR, parts, hx, hy)
    if v == "arm":  # upholstered armchair
        w, d = rng.uniform(0.7, 0.95), rng.uniform(0.7, 0.9)
        fab = pick(rng, "fabric", "leather")
        sh = rng.uniform(0.38, 0.45)
        aw = rng.uniform(0.1, 0.18)
        parts = [
            box_z(0, 0, 0.08, sh - 0.12, w / 2, d / 2, fab),
            box_z(0, 0.04, sh - 0.12, sh, w / 2 - aw, d / 2 - 0.04, fab),
            box_z(0, -d / 2 + 0.09, sh - 0.12, rng.uniform(0.75, 1.0), w / 2, 0.09, fab),
        ]
        ah = rng.uniform(0.55, 0.68)
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 - aw / 2), 0.09, sh - 0.12, ah, aw / 2, d / 2 - 0.09, fab))
        parts += legs4(w / 2, d / 2, 0.02, 0.0, 0.08, 0.02, mat(rng, "wood"))
        return Obj(CHAIR, parts, w / 2, d / 2)
    w, d = rng.uniform(0.4, 0.5), rng.uniform(0.4, 0.5)
    sh = rng.uniform(0.42, 0.48)
    frame = mat(rng, "wood") if v == "wood" else pick(rng, "metal", "plastic")
    seat = frame if rng.random() < 0.5 else pick(rng, "fabric", "leather", "plastic")
    t = rng.uniform(0.02, 0.05)
    r = rng.uniform(0.012, 0.025)
    parts = legs4(w / 2, d / 2, 0.01, 0.0, sh - t, r, frame, round_=v == "plastic" or rng.random() < 0.3)
    parts.append(box_z(0, 0, sh - t, sh, w / 2, d / 2, seat))
    bh = rng.uniform(0.35, 0.5)
    bt = rng.uniform(0.015, 0.03)
    yb = -d / 2 + bt + 0.005
    for sx in (-1, 1):  # back posts continue the rear legs
        parts.append(box_z(sx * (w / 2 - 0.01 - r), -d / 2 + 0.01 + r, sh, sh + bh, r, r, frame))
    if rng.random() < 0.5:
        parts.append(box_z(0, yb, sh + bh * 0.45, sh + bh, w / 2 - 0.02 - 2 * r, bt, seat))
    else:
        ns = rng.integers(3, 6)
        for k in range(ns):
            x = (k - (ns - 1) / 2) * (w - 0.1) / ns
            parts.append(box_z(x, yb, sh + 0.02, sh + bh - 0.05, 0.015, bt, frame))
        parts.append(box_z(0, yb, sh + bh - 0.05, sh + bh, w / 2 - 0.02 - 2 * r, bt, frame))
    if rng.random() < 0.2:
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 + 0.02), 0.0, sh + 0.2, sh + 0.23, 0.02, d / 2 - 0.02, frame))
            parts.append(box_z(sx * (w / 2 + 0.02), d / 2 - 0.06, sh, sh + 0.2, 0.015, 0.015, frame))
        w += 0.08
    return Obj(CHAIR, parts, w / 2, d / 2)


def make_table(rng, big=False, kind=None):
    kind = kind or rng.choice(["rect", "round", "coffee"], p=[0.6, 0.2, 0.2])
    top = pick(rng, "wood", "wood", "paint", "stone", "glass")
    frame = pick(rng, "wood", "metal", "dark")
    if kind == "round":
        r = rng.uniform(0.35, 0.65)
        h = rng.uniform(0.7, 0.77)
        t = rng.uniform(0.02, 0.04)
        parts = [
            cyl_z(0, 0, h - t, h, r, r, top),
            cyl_z(0, 0, 0.03, h - t, 0.04, 0.04, frame),
            cyl_z(0, 0, 0.0, 0.03, r * 0.55, r * 0.55, frame, caps=1),
        ]
        return Obj(TABLE, parts, r, r)
    if kind == "coffee":
        w, d, h = rng.uniform(0.7, 1.3), rng.uniform(0.4, 0.75), rng.uniform(0.35, 0.5)
    elif big:
        w, d, h = rng.uniform(2.0, 3.6), rng.uniform(0.9, 1.4), rng.uniform(0.72, 0.77)
    else:
        w, d, h = rng.uniform(0.8, 1.9), rng.uniform(0.6, 1.0), rng.uniform(0.7, 0.78)
    t = rng.uniform(0.02, 0.05)
    parts = [box_z(0, 0, h - t, h, w / 2, d / 2, top)]
    if big and rng.random() < 0.5:
        for sx in (-1, 1):
            parts.append(box_z(sx * w / 4, 0, 0.05, h - t, 0.12, 0.08, frame))
            parts.append(box_z(sx * w / 4, 0, 0.0, 0.05, 0.2, d / 2 - 0.1, frame))
    else:
        r = rng.uniform(0.02, 0.04)
        parts += legs4(w / 2, d / 2, rng.uniform(0.0, 0.08), 0.0, h - t, r, frame, round_=rng.random() < 0.4)
        if rng.random() < 0.5:  # apron
            parts.append(box_z(0, d / 2 - 0.06, h - t - 0.08, h - t, w / 2 - 0.08, 0.01, frame))
        if kind == "coffee" and rng.random() < 0.5:  # lower shelf
            parts.append(box_z(0, 0, 0.08, 0.1, w / 2 - 0.05, d / 2 - 0.05, top))
    return Obj(TABLE, parts, w / 2, d / 2)


def make_desk(rng):
    w, d, h = rng.uniform(1.0, 1.8), rng.uniform(0.5, 0.8), rng.uniform(0.72, 0.77)
    top = pick(rng, "wood", "paint", "white")
    frame = pick(rng, "metal", "wood", "dark", "white")
    t = rng.uniform(0.025, 0.04)
    parts = [box_z(0, 0, h - t, h, w / 2, d / 2, top)]
    v = rng.integers(3)
    if v == 0:
        parts += legs4(w / 2, d / 2, 0.02, 0.0, h - t, 0.025, frame)
    elif v == 1:
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 - 0.02), 0, 0.0, h - t, 0.018, d / 2 - 0.01, top))
    else:  # drawer pedestal + two legs
        pw = rng.uniform(0.35, 0.45)
        side = rng.choice([-1, 1])
        parts.append(box_z(side * (w / 2 - pw / 2 - 0.01), -0.01, 0.0, h - t, pw / 2, d / 2 - 0.03, top))
        for k in range(3):
            z = 0.1 + k * (h - 0.15) / 3
            parts.append(
                box_z(
                    side * (w / 2 - pw / 2 - 0.01),
                    d / 2 - 0.035,
                    z + 0.01,
                    z + (h - 0.15) / 3 - 0.01,
                    pw / 2 - 0.015,
                    0.006,
                    top,
                )
            )
        for sy in (-1, 1):
            parts.append(box_z(-side * (w / 2 - 0.04), sy * (d / 2 - 0.04), 0.0, h - t, 0.025, 0.025, frame))
    if rng.random() < 0.5:  # modesty panel
        parts.append(box_z(0, -d / 2 + 0.05, h - t - 0.3, h - t, w / 2 - 0.06, 0.01, frame))
    if rng.random() < 0.3:  # hutch shelf on the back
        parts.append(box_z(0, -d / 2 + 0.12, h + 0.25, h + 0.27, w / 2, 0.1, top))
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 - 0.01), -d / 2 + 0.12, h, h + 0.25, 0.01, 0.1, top))
    return Obj(DESK, parts, w / 2, d / 2)


def make_bed(rng):
    w = rng.choice([rng.uniform(0.9, 1.05), rng.uniform(1.35, 1.85)])
    L = rng.uniform(1.95, 2.15)
    wood = pick(rng, "wood", "paint", "fabric")
    fz0 = rng.choice([0.0, 0.1, 0.2])
    fz1 = fz0 + rng.uniform(0.12, 0.2)
    parts = []
    if fz0 > 0:
        parts += legs4(w / 2, L / 2, 0.03, 0.0, fz0, 0.03, wood)
    parts.append(box_z(0, 0.03, fz0, fz1, w / 2, L / 2 - 0.03, wood))
    mt = rng.uniform(0.16, 0.28)
    matt = pick(rng, "white", "fabric")
    parts.append(box_z(0, 0.04, fz1, fz1 + mt, w / 2 - 0.02, L / 2 - 0.06, matt))
    top = fz1 + mt
    hb = rng.uniform(0.8, 1.3)
    parts.append(box_z(0, -L / 2 + 0.03, 0.0, hb, w / 2 + 0.03, 0.03, wood))
    if rng.random() < 0.35:
        parts.append(box_z(0, L / 2 - 0.025, 0.0, top + 0.1, w / 2 + 0.03, 0.025, wood))
    npil = 1 if w < 1.2 else 2
    pc = pick(rng, "white", "fabric")
    for k in range(npil):
        x = 0 if npil == 1 else (k - 0.5) * w / 2
        pw = min(0.33, w / (2 * npil) - 0.03)
        parts.append(Part("ell", (x, -L / 2 + 0.3, top), (pw, 0.2, 0.09), pc, zlo=0.0))
    if rng.random() < 0.7:
        bc = pick(rng, "fabric", "white")
        y0 = -L / 2 + 0.55
        parts.append(
            box_z(0, (y0 + L / 2 - 0.05) / 2, top, top + 0.03, w / 2 + 0.02, (L / 2 - 0.05 - y0) / 2, bc)
        )
        for sx in (-1, 1):  # drape over the sides
            parts.append(
                box_z(
                    sx * (w / 2 + 0.03),
                    (y0 + L / 2 - 0.05) / 2,
                    top - 0.2,
                    top + 0.03,
                    0.01,
                    (L / 2 - 0.05 - y0) / 2,
                    bc,
                )
            )
    return Obj(BED, parts, w / 2 + 0.04, L / 2)


def make_sofa(rng):
    w, d = rng.uniform(1.4, 2.5), rng.uniform(0.8, 1.0)
    fab = pick(rng, "fabric", "fabric", "leather")
    cush = fab if rng.random() < 0.7 else pick(rng, "fabric")
    z0 = rng.choice([0.0, 0.1])
    base_top = rng.uniform(0.25, 0.32)
    aw = rng.uniform(0.1, 0.25)
    bd = rng.uniform(0.15, 0.25)
    bh = rng.uniform(0.75, 0.95)
    ah = rng.uniform(0.55, 0.7)
    parts = []
    if z0 > 0:
        parts += legs4(w / 2, d / 2, 0.03, 0.0, z0, 0.025, pick(rng, "wood", "metal"))
    parts.append(box_z(0, 0, z0, base_top, w / 2, d / 2, fab))
    parts.append(box_z(0, -d / 2 + bd / 2, base_top, bh, w / 2 - aw, bd / 2, fab))
    for sx in (-1, 1):
        parts.append(box_z(sx * (w / 2 - aw / 2), 0, base_top, ah, aw / 2, d / 2, fab))
    nc = 1 if w < 1.6 else rng.integers(2, 4)
    cw = (w - 2 * aw) / nc
    ct = rng.uniform(0.1, 0.17)
    for k in range(nc):
        x = -w / 2 + aw + cw * (k + 0.5)
        parts.append(box_z(x, bd / 2, base_top, base_top + ct, cw / 2 - 0.008, (d - bd) / 2 - 0.01, cush))
        if rng.random() < 0.5:
            parts.append(box_z(x, -d / 2 + bd + 0.06, base_top + ct, bh - 0.05, cw / 2 - 0.01, 0.06, cush))
    if rng.random() < 0.4:  # throw pillow
        x = rng.uniform(-w / 2 + aw + 0.25, w / 2 - aw - 0.25)
        parts.append(
            Part("ell", (x, -d / 2 + bd + 0.2, base_top + ct + 0.2), (0.2, 0.07, 0.19), pick(rng, "fabric"))
        )
    return Obj(SOFA, parts, w / 2, d / 2)


def make_cabinet(rng, kind=None):
    kind = kind or rng.choice(["low", "tall", "drawers", "wall"], p=[0.4, 0.3, 0.2, 0.1])
    body = pick(rng, "wood", "paint", "white", "metal")
    front = body if rng.random() < 0.6 else pick(rng, "wood", "paint", "white")
    handle = pick(rng, "metal", "dark", "wood")
    if kind == "tall":
        w, d, h = rng.uniform(0.5, 1.5), rng.uniform(0.4, 0.65), rng.uniform(1.5, 2.2)
    elif kind == "wall":
        w, d, h = rng.uniform(0.6, 1.5), rng.uniform(0.3, 0.38), rng.uniform(0.6, 0.9)
    else:
        w, d, h = rng.uniform(0.4, 1.6), rng.uniform(0.35, 0.6), rng.uniform(0.5, 1.1)
    z0 = rng.uniform(1.4, 1.6) if kind == "wall" else 0.0
    plinth = 0.0 if kind == "wall" or rng.random() < 0.5 else rng.uniform(0.05, 0.1)
    parts = []
    if plinth:
        parts.append(box_z(0, -0.03, 0.0, plinth, w / 2 - 0.02, d / 2 - 0.03, pick(rng, "dark", "wood")))
    parts.append(box_z(0, 0, plinth, h, w / 2, d / 2, body))
    if kind == "drawers":
        nd = rng.integers(3, 6)
        dh = (h - plinth) / nd
        for k in range(nd):
            zc = plinth + dh * (k + 0.5)
            parts.append(box((0, d / 2 + 0.006, zc), (w / 2 - 0.015, 0.006, dh / 2 - 0.01), front))
            parts.append(box((0, d / 2 + 0.02, zc + dh * 0.2), (min(0.08, w / 6), 0.008, 0.008), handle))
    else:
        ndoor = 1 if w < 0.6 else 2 if w < 1.2 else 3
        dw = w / ndoor
        for k in range(ndoor):
            xc = -w / 2 + dw * (k + 0.5)
            parts.append(
                box(
                    (xc, d / 2 + 0.006, (plinth + h) / 2),
                    (dw / 2 - 0.008, 0.006, (h - plinth) / 2 - 0.01),
                    front,
                )
            )
            hxp = xc + (dw / 2 - 0.06) * (1 if k % 2 == 0 else -1)
            zc = plinth + (h - plinth) * (0.5 if kind == "tall" else 0.75 if kind != "wall" else 0.2)
            parts.append(box((hxp, d / 2 + 0.02, zc), (0.008, 0.008, 0.06), handle))
    for p in parts:
        p.c[2] += z0
    return Obj(CABINET, parts, w / 2, d / 2 + 0.03, z0=z0)


def make_fridge(rng):
    w, d, h = rng.uniform(0.6, 0.9), rng.uniform(0.62, 0.75), rng.uniform(1.5, 1.9)
    if rng.random() < 0.15:
        h = rng.uniform(0.8, 0.9)  # under-counter fridge
    body = pick(rng, "white", "metal", "metal", "dark")
    handle = pick(rng, "metal", "dark")
    parts = [box_z(0, -0.02, 0.0, h, w / 2, d / 2 - 0.02, body)]
    if w > 0.8 and h > 1.5 and rng.random() < 0.6:  # side by side
        for sx in (-1, 1):
            parts.append(box_z(sx * w / 4, d / 2 - 0.02, 0.02, h - 0.02, w / 4 - 0.005, 0.02, body))
            parts.append(box_z(-sx * 0.04 + sx * 0.0, d / 2 + 0.04, h * 0.35, h * 0.75, 0.012, 0.012, handle))
    else:
        split = h * rng.uniform(0.3, 0.4) if h > 1.2 else h
        parts.append(box_z(0, d / 2 - 0.02, 0.02, split - 0.01, w / 2 - 0.005, 0.02, body))
        if split < h:
            parts.append(box_z(0, d / 2 - 0.02, split + 0.01, h - 0.02, w / 2 - 0.005, 0.02, body))
            parts.append(
                box_z(
                    w / 2 - 0.06, d / 2 + 0.04, split + 0.08, min(h - 0.05, split + 0.6), 0.012, 0.012, handle
                )
            )
        parts.append(
            box_z(w / 2 - 0.06, d / 2 + 0.04, max(0.1, split - 0.4), split - 0.08, 0.012, 0.012, handle)
        )
    return Obj(FRIDGE, parts, w / 2, d / 2 + 0.05)


def make_counter(rng):
    L, d = rng.uniform(1.2, 3.4), rng.uniform(0.55, 0.66)
    h = rng.uniform(0.86, 0.93)
    body = pick(rng, "wood", "paint", "white")
    top = pick(rng, "stone", "stone", "wood", "paint")
    handle = pick(rng, "metal", "dark")
    t = rng.uniform(0.025, 0.045)
    ov = rng.uniform(0.02, 0.05)
    parts = [
        box_z(0, -0.04, 0.0, 0.1, L / 2 - 0.01, d / 2 - 0.04, pick(rng, "dark", "wood")),
        box_z(0, 0, 0.1, h - t, L / 2, d / 2, body),
        box_z(0, ov / 2, h - t, h, L / 2 + ov, d / 2 + ov / 2, top),
    ]
    nd = max(1, int(round(L / rng.uniform(0.4, 0.6))))
    dw = L / nd
    for k in range(nd):
        xc = -L / 2 + dw * (k + 0.5)
        parts.append(
            box(
                (xc, d / 2 + 0.006, (0.1 + h - t) / 2),
                (dw / 2 - 0.008, 0.006, (h - t - 0.1) / 2 - 0.01),
                body,
            )
        )
        parts.append(box((xc, d / 2 + 0.02, h - t - 0.08), (0.06, 0.008, 0.008), handle))
    if rng.random() < 0.4:  # backsplash
        parts.append(box_z(0, -d / 2 + 0.01, h, h + rng.uniform(0.05, 0.12), L / 2, 0.01, top))
    return Obj(COUNTER, parts, L / 2 + ov, d / 2 + 0.03)


def make_bookshelf(rng):
    w, d, h = rng.uniform(0.6, 1.3), rng.uniform(0.25, 0.4), rng.uniform(0.8, 2.1)
    wood = pick(rng, "wood", "wood", "paint", "white", "metal")
    t = rng.uniform(0.015, 0.025)
    parts = [box_z(sx * (w / 2 - t), 0, 0.0, h, t, d / 2, wood) for sx in (-1, 1)]
    parts.append(box_z(0, 0, h - t * 2, h, w / 2 - 2 * t, d / 2, wood))
    parts.append(box_z(0, 0.01, 0.0, 0.06, w / 2 - 2 * t, d / 2 - 0.01, wood))
    parts.append(box_z(0, -d / 2 + 0.005, 0.06, h - 2 * t, w / 2 - 2 * t, 0.005, wood))
    ns = max(2, int(h / rng.uniform(0.28, 0.4)))
    zs = np.linspace(0.06, h - 2 * t, ns + 1)
    fill = rng.uniform(0.3, 0.9)
    for i in range(ns):
        z0, z1 = zs[i], zs[i + 1]
        if i > 0:
            parts.append(box_z(0, 0.005, z0 - t, z0, w / 2 - 2 * t, d / 2 - 0.005, wood))
        x = -w / 2 + 2 * t + 0.005
        xmax = w / 2 - 2 * t - 0.005
        while x < xmax - 0.02:
            bw = rng.uniform(0.02, 0.07)
            if rng.random() > fill:
                x += rng.uniform(0.05, 0.2)
                continue
            if x + bw > xmax:
                break
            bh = min((z1 - z0 - t) * rng.uniform(0.55, 0.92), 0.35)
            bd = (d - 0.01) * rng.uniform(0.6, 0.9)
            bc = mat(rng, "plastic") if rng.random() < 0.5 else pick(rng, "fabric", "white", "dark")
            parts.append(box_z(x + bw / 2, -d / 2 + 0.01 + bd / 2, z0, z0 + bh, bw / 2 - 0.001, bd / 2, bc))
            x += bw + rng.uniform(0.0, 0.004)
    return Obj(BOOKSHELF, parts, w / 2, d / 2)


def make_toilet(rng):
    white = mat(rng, "ceramic")
    seatc = white if rng.random() < 0.8 else pick(rng, "wood", "dark")
    tw, td = rng.uniform(0.36, 0.46), rng.uniform(0.15, 0.22)
    bx, by = rng.uniform(0.17, 0.21), rng.uniform(0.22, 0.27)
    sz = rng.uniform(0.38, 0.43)
    y_bowl = -0.35 + td + by - 0.05
    parts = [
        box_z(0, -0.35 + td / 2, sz + 0.02, sz + rng.uniform(0.3, 0.42), tw / 2, td / 2, white),
        box_z(0, -0.35 + td / 2, sz - 0.05, sz + 0.02, 0.08, td / 2 - 0.02, white),
        cyl_z(0, y_bowl - 0.03, 0.0, 0.22, bx * 0.6, by * 0.6, white),
        Part("ell", (0, y_bowl, 0.22), (bx, by, sz - 0.25), white, zlo=-0.25, zhi=1.0),
    ]
    parts.append(cyl_z(0, y_bowl, sz - 0.02, sz + 0.01, bx + 0.01, by + 0.01, seatc))
    if rng.random() < 0.5:  # lid up against tank
        parts.append(box_z(0, -0.35 + td + 0.02, sz + 0.02, sz + 0.02 + 2 * by * 0.85, bx, 0.012, seatc))
    hy_total = (y_bowl + by + 0.02 + 0.35) / 2
    # shift so footprint is centred
    off = -0.35 + hy_total
    for p in parts:
        p.c[1] -= off
    return Obj(TOILET, parts, max(tw / 2, bx + 0.01), hy_total)


def make_sink(rng, pedestal=None):
    white = mat(rng, "ceramic")
    metal = mat(rng, "metal")
    w, d = rng.uniform(0.45, 0.65), rng.uniform(0.38, 0.5)
    h = rng.uniform(0.8, 0.9)
    t = rng.uniform(0.03, 0.05)
    ax, ay = w / 2 - 0.05, d / 2 - 0.08
    parts = [
        Part("rim", (0, 0.01, h - t / 2), (w / 2, d / 2, t / 2), white, hole=(ax, ay)),
        Part("bowl", (0, 0.01, h - 0.005), (ax, ay, rng.uniform(0.12, 0.17)), white, solid=False),
        Part("ell", (0, 0.01, h - t), (ax + 0.02, ay + 0.02, 0.17), white, zlo=-1.0, zhi=0.0, solid=False),
    ]
    pedestal = rng.random() < 0.6 if pedestal is None else pedestal
    if pedestal:
        parts.append(cyl_z(0, -0.03, 0.0, h - t - 0.14, 0.09, 0.07, white, caps=0))
    # faucet
    parts.append(cyl_z(0, -d / 2 + 0.04, h, h + 0.15, 0.015, 0.015, metal))
    parts.append(box((0, -d / 2 + 0.1, h + 0.14), (0.012, 0.06, 0.012), metal))
    return Obj(SINK, parts, w / 2, d / 2 + 0.01)


def make_bathtub(rng):
    L, w, h = rng.uniform(1.5, 1.8), rng.uniform(0.7, 0.85), rng.uniform(0.5, 0.6)
    white = mat(rng, "ceramic")
    t = rng.uniform(0.06, 0.1)
    parts = [
        box_z(0, -w / 2 + t / 2, 0.0, h, L / 2, t / 2, white),
        box_z(0, w / 2 - t / 2, 0.0, h, L / 2, t / 2, white),
        box_z(-L / 2 + t / 2, 0, 0.0, h, t / 2, w / 2 - t, white),
        box_z(L / 2 - t / 2, 0, 0.0, h, t / 2, w / 2 - t, white),
        Part(
            "rim",
            (0, 0, h - 0.012),
            (L / 2 - t, w / 2 - t, 0.012),
            white,
            hole=(L / 2 - t - 0.004, w / 2 - t - 0.004),
        ),
        Part("bowl", (0, 0, h - 0.004), (L / 2 - t - 0.004, w / 2 - t - 0.004, h - 0.07), white, solid=False),
        box_z(0, 0, 0.0, 0.05, L / 2 - t, w / 2 - t, white),
    ]
    return Obj(BATHTUB, parts, L / 2, w / 2)


def make_shower_curtain(rng, width=None, bottom=None):
    width = width or rng.uniform(0.8, 1.6)
    bottom = rng.uniform(0.03, 0.1) if bottom is None else bottom
    top = rng.uniform(1.85, 2.05)
    col = pick(rng, "white", "plastic", "fabric")
    amp = rng.uniform(0.015, 0.04)
    parts = [
        Part(
            "sheet",
            (0, 0, (bottom + top) / 2),
            (width / 2, amp, (top - bottom) / 2),
            col,
            solid=False,
            lam=rng.uniform(0.08, 0.2),
            phi=rng.uniform(0, 6.3),
        ),
        cyl_z(0, 0, top + 0.02, top + 0.04, width / 2 + 0.05, 0.01, mat(rng, "metal")),
    ]
    return Obj(SHOWER, parts, width / 2 + 0.05, amp + 0.02)


def make_other(rng):
    v = rng.choice(
        [
            "nightstand",
            "trash",
            "stool",
            "lamp",
            "ottoman",
            "dresser",
            "plant",
            "boxes",
            "sidetable",
            "radiator",
            "piano",
        ]
    )
    if v == "nightstand":
        w, d, h = rng.uniform(0.35, 0.55), rng.uniform(0.3, 0.45), rng.uniform(0.45, 0.65)
        c = pick(rng, "wood", "paint", "white")
        parts = [
            box_z(0, 0, 0.0, h, w / 2, d / 2, c),
            box((0, d / 2 + 0.005, h * 0.75), (w / 2 - 0.02, 0.005, h * 0.18), c),
            box((0, d / 2 + 0.018, h * 0.8), (0.04, 0.008, 0.008), mat(rng, "metal")),
        ]
        return Obj(OTHER, parts, w / 2, d / 2 + 0.03)
    if v == "trash":
        r, h = rng.uniform(0.12, 0.2), rng.uniform(0.3, 0.5)
        c = pick(rng, "plastic", "metal")
        return Obj(
            OTHER,
            [
                cyl_z(0, 0, 0.0, h, r, r, c, caps=1),
                cyl_z(0, 0, h * 0.85, h - 0.003, r - 0.01, r - 0.01, pick(rng, "dark", "white"), caps=1),
            ],
            r,
            r,
        )
    if v == "stool":
        r, h = rng.uniform(0.15, 0.2), rng.uniform(0.45, 0.75)
        c = pick(rng, "wood", "metal", "plastic")
        parts = [cyl_z(0, 0, h - 0.04, h, r, r, pick(rng, "wood", "fabric", "leather"))]
        for k in range(4):
            a = k * math.pi / 2 + 0.6
            parts.append(
                cyl_z(math.cos(a) * (r - 0.04), math.sin(a) * (r - 0.04), 0.0, h - 0.04, 0.015, 0.015, c)
            )
        return Obj(OTHER, parts, r, r)
    if v == "lamp":
        h = rng.uniform(1.2, 1.75)
        c = pick(rng, "metal", "dark")
        rs = rng.uniform(0.15, 0.25)
        return Obj(
            OTHER,
            [
                cyl_z(0, 0, 0.0, 0.03, 0.14, 0.14, c),
                cyl_z(0, 0, 0.03, h - 0.2, 0.012, 0.012, c),
                cyl_z(0, 0, h - 0.25, h, rs, rs, pick(rng, "white", "fabric"), caps=0),
            ],
            max(rs, 0.14),
            max(rs, 0.14),
        )
    if v == "ottoman":
        w, d, h = rng.uniform(0.4, 0.9), rng.uniform(0.4, 0.7), rng.uniform(0.35, 0.45)
        return Obj(OTHER, [box_z(0, 0, 0.0, h, w / 2, d / 2, pick(rng, "fabric", "leather"))], w / 2, d / 2)
    if v == "dresser":
        o = make_cabinet(rng, "drawers")
        o.sem = OTHER
        return o
    if v == "plant":
        r = rng.uniform(0.12, 0.22)
        ph = rng.uniform(0.2, 0.4)
        pot = pick(rng, "ceramic", "plastic", "stone")
        leaf = (
            np.array(
                colorsys.hsv_to_rgb(rng.uniform(0.22, 0.38), rng.uniform(0.4, 0.8), rng.uniform(0.25, 0.55))
            ),
            "speckle",
        )
        fr = r * rng.uniform(1.3, 2.2)
        fh = rng.uniform(0.25, 0.7)
        return Obj(
            OTHER,
            [
                cyl_z(0, 0, 0.0, ph, r, r, pot, caps=1),
                Part("ell", (0, 0, ph + fh * 0.8), (fr, fr * rng.uniform(0.8, 1.0), fh), leaf),
            ],
            fr,
            fr,
        )
    if v == "boxes":
        parts = []
        hx = hy = 0.0
        z = 0.0
        for k in range(rng.integers(1, 4)):
            bw, bd, bh = rng.uniform(0.25, 0.6, 3)
            if k:
                bw, bd = min(bw, 2 * hx), min(bd, 2 * hy)
            parts.append(box_z(0, 0, z, z + bh, bw / 2, bd / 2, pick(rng, "wood", "plastic", "white")))
            z += bh
            hx, hy = max(hx, bw / 2), max(hy, bd / 2)
        return Obj(OTHER, parts, hx, hy)
    if v == "sidetable":
        s, h = rng.uniform(0.4, 0.6), rng.uniform(0.45, 0.65)
        c = pick(rng, "wood", "metal", "paint")
        parts = [box_z(0, 0, h - 0.03, h, s / 2, s / 2, c)] + legs4(
            s / 2, s / 2, 0.01, 0.0, h - 0.03, 0.018, c
        )
        return Obj(OTHER, parts, s / 2, s / 2)
    if v == "radiator":
        w, h = rng.uniform(0.6, 1.4), rng.uniform(0.4, 0.7)
        c = pick(rng, "white", "metal")
        nf = int(w / 0.06)
        parts = [
            box_z(-w / 2 + (k + 0.5) * w / nf, 0, 0.12, 0.12 + h, w / nf / 2 - 0.008, 0.04, c)
            for k in range(nf)
        ]
        parts.append(box_z(0, 0, 0.12 + h * 0.1, 0.12 + h * 0.2, w / 2, 0.03, c))
        return Obj(OTHER, parts, w / 2, 0.05)
    # piano
    w, d = rng.uniform(1.3, 1.55), rng.uniform(0.5, 0.65)
    c = pick(rng, "dark", "wood")
    parts = [
        box_z(0, -0.1, 0.0, rng.uniform(1.1, 1.3), w / 2, d / 2 - 0.1, c),
        box_z(0, d / 2 - 0.15, 0.65, 0.75, w / 2 - 0.05, 0.15, c),
        box_z(0, d / 2 - 0.12, 0.75, 0.77, w / 2 - 0.1, 0.1, mat(rng, "white")),
    ]
    for sx in (-1, 1):
        parts.append(box_z(sx * (w / 2 - 0.05), d / 2 - 0.05, 0.0, 0.65, 0.03, 0.03, c))
    return Obj(OTHER, parts, w / 2, d / 2)


# ----------------------------------------------------------------------------- wall items
def wall_item(
    room: Room, rng, kind, widths, z0, z1, depth, zone_depth, zone_z=None, wall=None, s=None, tries=30
):
    """Place a wall item; returns (wall index, along-wall centre s, width) or None."""
    for _ in range(tries):
        wi = rng.integers(len(room.walls)) if wall is None else wall
        W = room.walls[wi]
        wd = rng.uniform(*widths)
        if W["L"] < wd + 0.3:
            continue
        sc = rng.uniform(wd / 2 + 0.12, W["L"] - wd / 2 - 0.12) if s is None else s
        c = W["p0"] + W["d"] * sc + W["n"] * zone_depth / 2
        yaw = math.atan2(W["n"][1], W["n"][0]) - math.pi / 2
        zz = zone_z or (z0, z1)
        if room.free(c[0], c[1], yaw, wd / 2, zone_depth / 2 - 0.004, zz[0], zz[1], margin=0.02):
            room.zones.append((c[0], c[1], yaw, wd / 2, zone_depth / 2, zz[0], zz[1]))
            return wi, sc, wd
    return None


def wall_pose(room, wi, sc, off=0.0):
    W = room.walls[wi]
    c = W["p0"] + W["d"] * sc + W["n"] * off
    return c[0], c[1], math.atan2(W["n"][1], W["n"][0]) - math.pi / 2


def add_door(room, rng, objs):
    h = rng.uniform(1.98, 2.15)
    r = wall_item(room, rng, "door", (0.75, 1.0), 0.0, h, 0.05, 0.9)
    if r is None:
        return
    wi, sc, wd = r
    room.walls[wi]["holes"].append((sc - wd / 2, sc + wd / 2, 0.0, h))
    fc = pick(rng, "white", "wood", "paint")
    pc = fc if rng.random() < 0.5 else pick(rng, "wood", "white", "paint", "metal")
    fw, ft = rng.uniform(0.04, 0.08), rng.uniform(0.012, 0.025)
    parts = [
        box_z(-wd / 2 - fw / 2, ft / 2, 0.0, h + fw, fw / 2, ft / 2, fc),
        box_z(wd / 2 + fw / 2, ft / 2, 0.0, h + fw, fw / 2, ft / 2, fc),
        box_z(0, ft / 2, h, h + fw, wd / 2, ft / 2, fc),
    ]
    knob = mat(rng, "metal")
    if rng.random() < 0.65:  # closed, slightly recessed panel
        parts.append(box_z(0, 0.002 - 0.02, 0.01, h - 0.005, wd / 2 - 0.005, 0.02, pc))
        parts.append(cyl_z(wd / 2 - 0.08, 0.035, 0.95, 1.0, 0.025, 0.025, knob))
    else:  # open into the room
        a = rng.uniform(1.1, 1.7)
        hx = wd / 2 - 0.01
        cx, cy = -wd / 2 + 0.02 + math.cos(a) * hx, 0.03 + math.sin(a) * hx
        parts.append(box((cx, cy, h / 2 + 0.005), (hx, 0.02, h / 2 - 0.005), pc, yaw=a))
    x, y, yaw = wall_pose(room, wi, sc)
    o = Obj(DOOR, parts, wd / 2 + fw, 0.9, normalize=False)
    o.pose = (x, y, yaw)
    objs.append(o)


def add_window(room, rng, objs):
    sill = rng.uniform(0.75, 1.1)
    top = min(room.H - 0.15, sill + rng.uniform(0.8, 1.5))
    r = wall_item(room, rng, "window", (0.6, 2.2), sill - 0.05, top + 0.05, 0.1, 0.14)
    if r is None:
        return None
    wi, sc, wd = r
    win_zone = len(room.zones) - 1
    room.walls[wi]["holes"].append((sc - wd / 2, sc + wd / 2, sill, top))
    fc = pick(rng, "white", "wood", "metal")
    glass = mat(rng, "glass")
    fw = rng.uniform(0.04, 0.08)
    parts = [
        box_z(-wd / 2 + fw / 2, 0.015, sill, top, fw / 2, 0.015, fc),
        box_z(wd / 2 - fw / 2, 0.015, sill, top, fw / 2, 0.015, fc),
        box_z(0, 0.015, top - fw, top, wd / 2 - fw, 0.015, fc),
        box_z(0, 0.015, sill, sill + fw, wd / 2 - fw, 0.015, fc),
        box_z(0, rng.uniform(0.03, 0.08), sill - 0.03, sill, wd / 2 + 0.04, rng.uniform(0.03, 0.08), fc),
    ]
    if wd > 1.0:
        parts.append(box_z(0, 0.015, sill + fw, top - fw, fw / 3, 0.015, fc))
    parts.append(
        Part(
            "plane",
            (0, 0.004, (sill + top) / 2),
            (wd / 2 - fw, 0, (top - sill) / 2),
            glass,
            solid=False,
            dens=rng.uniform(0.15, 0.5),
        )
    )
    x, y, yaw = wall_pose(room, wi, sc)
    o = Obj(WINDOW, parts, wd / 2, 0.1, normalize=False)
    o.pose = (x, y, yaw)
    objs.append(o)
    return wi, sc, wd, sill, top, win_zone


def add_curtains(room, rng, objs, win):
    wi, sc, wd, sill, top, win_zone = win
    ctop = min(room.H - 0.03, top + rng.uniform(0.05, 0.3))
    cbot = rng.uniform(0.02, 0.08) if rng.random() < 0.6 else sill - rng.uniform(0.05, 0.2)
    col = pick(rng, "fabric", "fabric", "white")
    off = rng.uniform(0.07, 0.14)
    n = 1 if rng.random() < 0.3 else 2
    for k in range(n):
        cw = rng.uniform(0.3, 0.5) * wd + 0.15 if n == 2 else wd + 0.3
        s = sc - wd / 2 - 0.15 + cw / 2 if k == 0 else sc + wd / 2 + 0.15 - cw / 2
        amp = rng.uniform(0.02, 0.05)
        W = room.walls[wi]
        if s - cw / 2 < 0.02 or s + cw / 2 > W["L"] - 0.02:
            continue
        zd = (off + amp + 0.04) / 2
        c = W["p0"] + W["d"] * s + W["n"] * (zd + 0.004)
        yaw = math.atan2(W["n"][1], W["n"][0]) - math.pi / 2
        saved = room.zones
        room.zones = [z for i, z in enumerate(saved) if i != win_zone]
        ok = room.free(c[0], c[1], yaw, cw / 2, zd, cbot, ctop, margin=0.0)
        room.zones = saved
        if not ok:
            continue
        room.zones.append((c[0], c[1], yaw, cw / 2, zd, cbot, ctop))
        parts = [
            Part(
                "sheet",
                (0, off, (cbot + ctop) / 2),
                (cw / 2, amp, (ctop - cbot) / 2),
                col,
                solid=False,
                lam=rng.uniform(0.1, 0.25),
                phi=rng.uniform(0, 6.3),
            )
        ]
        x, y, yaw = wall_pose(room, wi, s)
        o = Obj(CURTAIN, parts, cw / 2, off, normalize=False)
        o.pose = (x, y, yaw)
        objs.append(o)


def add_picture(room, rng, objs):
    w, hgt = rng.uniform(0.25, 1.3), rng.uniform(0.25, 0.9)
    zc = rng.uniform(1.2, min(1.85, room.H - hgt / 2 - 0.15))
    r = wall_item(room, rng, "picture", (w, w + 1e-6), zc - hgt / 2, zc + hgt / 2, 0.03, 0.06)
    if r is None:
        return
    wi, sc, w = r
    t = rng.uniform(0.01, 0.04)
    fc = pick(rng, "wood", "dark", "white", "metal")
    fw = rng.uniform(0.015, 0.05)
    z0, z1 = zc - hgt / 2, zc + hgt / 2
    canvas = Part(
        "box", (0, t / 2, zc), (w / 2 - fw, t / 2, hgt / 2 - fw), (mat(rng, "plastic")[0], "picture")
    )
    canvas.extra["pat"] = rng.normal(0, 1, (4, 5))
    parts = [
        canvas,
        box_z(-w / 2 + fw / 2, t / 2 + 0.004, z0, z1, fw / 2, t / 2 + 0.004, fc),
        box_z(w / 2 - fw / 2, t / 2 + 0.004, z0, z1, fw / 2, t / 2 + 0.004, fc),
        box_z(0, t / 2 + 0.004, z0, z0 + fw, w / 2 - fw, t / 2 + 0.004, fc),
        box_z(0, t / 2 + 0.004, z1 - fw, z1, w / 2 - fw, t / 2 + 0.004, fc),
    ]
    if rng.random() < 0.3:  # whiteboard-like / poster without frame
        parts = [canvas]
        canvas.h[0] += fw
        canvas.h[2] += fw
    x, y, yaw = wall_pose(room, wi, sc)
    o = Obj(PICTURE, parts, w / 2, t, normalize=False)
    o.pose = (x, y, yaw)
    objs.append(o)


# ----------------------------------------------------------------------------- placement
def place_on_wall(room, rng, o, tries=40, wall=None, gap=None):
    for _ in range(tries):
        wi = rng.integers(len(room.walls)) if wall is None else wall
        W = room.walls[wi]
        if W["L"] < 2 * o.hx + 0.04:
            continue
        sc = rng.uniform(o.hx + 0.01, W["L"] - o.hx - 0.01)
        if rng.random() < 0.3:  # snap into a corner
            sc = o.hx + 0.015 if rng.random() < 0.5 else W["L"] - o.hx - 0.015
        g = rng.uniform(0.005, 0.03) if gap is None else gap
        x, y, yaw = wall_pose(room, wi, sc, o.hy + g)
        if room.free(x, y, yaw, o.hx, o.hy, o.z0, o.height):
            return _commit(room, o, x, y, yaw)
    return False


def place_free(room, rng, o, tries=40, center=None, yaw=None):
    xs, ys = room.poly[:, 0], room.poly[:, 1]
    for _ in range(tries):
        if center is None:
            x, y = rng.uniform(xs.min(), xs.max()), rng.uniform(ys.min(), ys.max())
        else:
            x, y = center
        a = yaw
        if a is None:
            a = rng.integers(4) * math.pi / 2 + (
                rng.normal(0, 0.06) if rng.random() < 0.7 else rng.uniform(0, 6.3)
            )
        if room.free(x, y, a, o.hx, o.hy, o.z0, o.height, margin=0.06):
            return _commit(room, o, x, y, a)
        if center is not None:
            return False
    return False


def _commit(room, o, x, y, yaw):
    o.pose = (x, y, yaw)
    room.zones.append((x, y, yaw, o.hx, o.hy, o.z0, o.height))
    return True


def chairs_around(room, rng, table, objs, nmax):
    x, y, yaw = table.pose
    R = _ax(yaw)
    slots = []
    for side in (-1, 1):
        n_along = max(1, int((2 * table.hx) / 0.65))
        for k in range(n_along):
            u = -table.hx + (k + 0.5) * 2 * table.hx / n_along
            slots.append((u, side * table.hy, side))
        if table.hy > 0.35:
            slots.append((side * table.hx, 0.0, 2 * side))
    rng.shuffle(slots)
    placed = 0
    for u, v, side in slots:
        if placed >= nmax:
            break
        ch = make_chair(rng)
        pull = rng.uniform(0.07, 0.35)
        if abs(side) == 1:
            loc = np.array([u, v + side * (ch.hy + pull)])
            face = yaw + (math.pi if side == 1 else 0.0)  # chair +y towards table
        else:
            loc = np.array([u + np.sign(side) * (ch.hy + pull), v])
            face = yaw + (math.pi / 2 if side > 0 else -math.pi / 2)
        wpos = loc @ R + [x, y]
        if place_free(room, rng, ch, center=wpos, yaw=face + rng.normal(0, 0.15)):
            objs.append(ch)
            placed += 1


ROOM_TYPES = {
    # name: (weights of builders, n objects range)
    "bedroom": (
        {
            "bed": 3,
            "cabinet": 2,
            "other": 3,
            "desk": 1,
            "chair": 1,
            "bookshelf": 1,
            "table": 0.5,
            "sofa": 0.3,
        },
        (5, 14),
    ),
    "living": ({"sofa": 3, "table": 2, "chair": 2, "bookshelf": 1.5, "cabinet": 1.5, "other": 3}, (6, 18)),
    "office": (
        {
            "desk": 4,
            "chair": 3,
            "cabinet": 2,
            "bookshelf": 2,
            "table": 1,
            "other": 1.5,
            "fridge": 0.3,
            "sofa": 0.3,
        },
        (8, 25),
    ),
    "kitchen": (
        {"counter": 3, "cabinet": 2, "fridge": 1.5, "table": 1.5, "chair": 1, "other": 1, "wallcab": 1.5},
        (6, 18),
    ),
    "bathroom": ({"toilet": 2, "sink": 2, "bathtub": 1.5, "cabinet": 1, "other": 1}, (5, 10)),
    "conference": ({"bigtable": 1, "cabinet": 1, "other": 1, "bookshelf": 0.5}, (8, 25)),
    "storage": ({"cabinet": 3, "bookshelf": 3, "other": 3, "fridge": 1, "counter": 1, "table": 1}, (6, 16)),
}


TYPE_CYCLE = (
    "bedroom",
    "living",
    "office",
    "bathroom",
    "kitchen",
    "bedroom",
    "conference",
    "bathroom",
    "storage",
    "living",
)


CAPS = {"bed": 2, "sofa": 3, "fridge": 2, "bathtub": 1, "toilet": 2, "bigtable": 1, "counter": 3}


def furnish(room: Room, rng, objs):
    rtype = room.rtype
    weights, (nlo, nhi) = ROOM_TYPES[rtype]
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in room.rects)
    target = int(np.clip(round(area * rng.uniform(0.35, 0.9)), nlo, nhi))
    for _ in range(1 if rng.random() < 0.7 else 2):
        add_door(room, rng, objs)
    wins = []
    for _ in range(rng.integers(0, 4) if rtype != "bathroom" else rng.integers(0, 2)):
        w = add_window(room, rng, objs)
        if w:
            wins.append(w)
    for w in wins:
        if rng.random() < (0.65 if rtype != "bathroom" else 0.2):
            add_curtains(room, rng, objs, w)
    names = list(weights)
    pw = np.array([weights[k] for k in names], float)
    pw /= pw.sum()
    if rtype == "bathroom":
        seq = ["toilet", "sink"] + (["bathtub"] if rng.random() < 0.6 else [])
    elif rtype == "conference":
        seq = ["bigtable"]
    elif rtype == "bedroom":
        seq = ["bed"]
    elif rtype == "living":
        seq = ["sofa"]
    elif rtype == "office":
        seq = ["desk", "desk"]
    elif rtype == "kitchen":
        seq = ["counter", "fridge", "counter"]
    else:
        seq = []
    shower_done = False
    used = {}
    guard = 0
    while len(objs) < target and guard < 80:
        guard += 1
        name = seq.pop(0) if seq else rng.choice(names, p=pw)
        used[name] = used.get(name, 0) + 1
        if used[name] > CAPS.get(name, 99):
            continue
        if name == "bed":
            o = make_bed(rng)
            ok = place_on_wall(room, rng, o, gap=0.005)
        elif name == "sofa":
            o = make_sofa(rng)
            ok = place_on_wall(room, rng, o) if rng.random() < 0.6 else place_free(room, rng, o)
        elif name == "table":
            o = make_table(rng)
            ok = place_free(room, rng, o) if rng.random() < 0.8 else place_on_wall(room, rng, o)
            if ok:
                objs.append(o)
                if o.height > 0.6 and rng.random() < 0.8:
                    chairs_around(room, rng, o, objs, rng.integers(1, 7))
                continue
        elif name == "bigtable":
            o = make_table(rng, big=True, kind="rect")
            ok = place_free(room, rng, o)
            if ok:
                objs.append(o)
                chairs_around(room, rng, o, objs, rng.integers(4, 14))
                continue
        elif name == "desk":
            o = make_desk(rng)
            ok = place_on_wall(room, rng, o) if rng.random() < 0.8 else place_free(room, rng, o)
            if ok:
                objs.append(o)
                if rng.random() < 0.8:
                    ch = make_chair(rng)
                    x, y, yaw = o.pose
                    loc = np.array([rng.uniform(-0.2, 0.2), o.hy + ch.hy + rng.uniform(0.07, 0.4)])
                    if place_free(
                        room, rng, ch, center=loc @ _ax(yaw) + [x, y], yaw=yaw + math.pi + rng.normal(0, 0.3)
                    ):
                        objs.append(ch)
                continue
        elif name == "chair":
            o = make_chair(rng)
            ok = (
                place_free(room, rng, o)
                if rng.random() < 0.7
                else place_on_wall(room, rng, o, gap=rng.uniform(0.02, 0.2))
            )
        elif name == "cabinet":
            o = make_cabinet(rng)
            ok = place_on_wall(room, rng, o)
        elif name == "wallcab":
            o = make_cabinet(rng, "wall")
            ok = place_on_wall(room, rng, o)
        elif name == "fridge":
            o = make_fridge(rng)
            ok = place_on_wall(room, rng, o, gap=rng.uniform(0.02, 0.06))
        elif name == "counter":
            o = make_counter(rng)
            ok = place_on_wall(room, rng, o)
        elif name == "bookshelf":
            o = make_bookshelf(rng)
            ok = place_on_wall(room, rng, o)
        elif name == "toilet":
            o = make_toilet(rng)
            ok = place_on_wall(room, rng, o, gap=0.01)
        elif name == "sink":
            if rng.random() < 0.35:  # vanity: cabinet + vessel sink on top (two instances)
                cab = make_cabinet(rng, "low")
                h = rng.uniform(0.62, 0.75)
                sc0 = h / cab.height
                for p in cab.parts:
                    p.c[2] *= sc0
                    p.h[2] *= sc0
                cab.height = h
                sk = make_sink(rng, pedestal=False)
                if cab.hx < sk.hx + 0.02 or cab.hy < sk.hy + 0.02:
                    o = make_sink(rng)
                    ok = place_on_wall(room, rng, o)
                elif place_on_wall(room, rng, cab):
                    objs.append(cab)
                    lift = h - min(p.c[2] - p.h[2] for p in sk.parts)
                    for p in sk.parts:
                        p.c[2] += lift
                    sk.height = max(p.c[2] + p.h[2] for p in sk.parts)
                    sk.z0 = h
                    x, y, yaw = cab.pose
                    shift = np.array([0.0, -(cab.hy - sk.hy) + 0.02]) @ _ax(yaw)
                    sk.pose = (x + shift[0], y + shift[1], yaw)
                    room.zones.append((sk.pose[0], sk.pose[1], yaw, sk.hx, sk.hy, h, sk.height))
                    objs.append(sk)
                    continue
                else:
                    ok = False
            else:
                o = make_sink(rng)
                ok = place_on_wall(room, rng, o)
        elif name == "bathtub":
            o = make_bathtub(rng)
            ok = place_on_wall(room, rng, o, gap=0.005)
            if ok:
                objs.append(o)
                if rng.random() < 0.75:
                    x, y, yaw = o.pose
                    sc_ = make_shower_curtain(rng, width=2 * o.hx - 0.05, bottom=o.height + 0.015)
                    loc = np.array([0.0, o.hy - 0.04 - sc_.hy]) @ _ax(yaw) + [x, y]
                    sc_.pose = (loc[0], loc[1], yaw)
                    room.zones.append((loc[0], loc[1], yaw, sc_.hx, sc_.hy, o.height + 0.01, sc_.height))
                    objs.append(sc_)
                    shower_done = True
                continue
        else:
            o = make_other(rng)
            ok = place_on_wall(room, rng, o) if rng.random() < 0.6 else place_free(room, rng, o)
        if ok:
            if o.height > room.H - 0.04:
                room.zones.pop()
                continue
            objs.append(o)
    if rtype == "bathroom" and not shower_done and rng.random() < 0.6:
        o = make_shower_curtain(rng)
        if place_free(room, rng, o):
            objs.append(o)
    # a few pictures
    for _ in range(rng.integers(0, 4)):
        if len(objs) < 25:
            add_picture(room, rng, objs)
    return rtype


# ----------------------------------------------------------------------------- sampling
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


def make_room(seed: int, n_points: int) -> dict:
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
        R = rot(yaw)
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
            R = rot(yaw)
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
    P = P @ rot(a).T
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
    }


def save_png(room: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    P = room["points"]
    ins = room["instance_labels"]
    sem = room["semantic_labels"]
    fig, axs = plt.subplots(1, 2, figsize=(16, 8))
    order = np.argsort(P[:, 2])
    rs = np.random.default_rng(0)
    pal = rs.uniform(0.1, 0.95, (max(int(ins.max()) + 1, 1), 3))
    col = np.where((ins >= 0)[:, None], pal[np.maximum(ins, 0)], np.where((sem == WALL)[:, None], 0.35, 0.85))
    axs[0].scatter(P[order, 0], P[order, 1], c=col[order], s=1.2, marker=".", linewidths=0)
    for k in range(int(ins.max()) + 1):
        m = ins == k
        c = P[m, :2].mean(0)
        axs[0].text(c[0], c[1], CLASS_NAMES[int(sem[m][0])], fontsize=6)
    axs[1].scatter(P[order, 0], P[order, 1], c=P[order, 3:6] / 255, s=1.2, marker=".", linewidths=0)
    for a in axs:
        a.set_aspect("equal")
    axs[0].set_title("instances (top-down)")
    axs[1].set_title("rgb (top-down)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
