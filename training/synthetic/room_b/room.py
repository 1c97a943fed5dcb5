"""Room shapes (a rectangle or an L, by room type) with free-space tests, and `Obj`: an object's parts,
class and pose with its oriented footprint."""

from __future__ import annotations

import math

import numpy as np

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
            if _obb_overlap(
                (cx, cy), a, (hx + margin, hy + margin), (z[0], z[1]), yaw_axes(z[2]), (z[3], z[4])
            ):
                return False
        return True


def yaw_axes(yaw):
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
