"""Analytic primitives (oriented boxes, vertical cylinders, ellipsoids) as dicts, and `Obj`: an object's
parts, class, footprint and pose."""

from __future__ import annotations

import math

import numpy as np

from isbnet_trt.training.synthetic.geometry import yaw_rotation


def box(cx, cy, z0, w, d, h, col, tex="plain", yaw=0.0, alpha=1.0):
    """Box with centre (cx, cy), bottom z0, size w (x) d (y) h (z)."""
    return {
        "t": "box",
        "c": np.array([cx, cy, z0 + h / 2]),
        "h": np.array([w / 2, d / 2, h / 2]),
        "yaw": yaw,
        "col": col,
        "tex": tex,
        "alpha": alpha,
    }


def cyl(cx, cy, z0, z1, r, col, tex="plain"):
    return {
        "t": "cyl",
        "c": np.array([cx, cy, (z0 + z1) / 2]),
        "r": r,
        "z0": z0,
        "z1": z1,
        "yaw": 0.0,
        "col": col,
        "tex": tex,
        "alpha": 1.0,
    }


def ell(cx, cy, cz, rx, ry, rz, col, tex="fabric", yaw=0.0):
    return {
        "t": "ell",
        "c": np.array([cx, cy, cz]),
        "h": np.array([rx, ry, rz]),
        "yaw": yaw,
        "col": col,
        "tex": tex,
        "alpha": 1.0,
    }


class Obj:
    def __init__(self, sem, parts, w, d, h, wall_item=False):
        self.sem, self.parts, self.w, self.d, self.h = sem, parts, w, d, h
        self.wall_item = wall_item
        self.pos, self.yaw = np.zeros(2), 0.0
        self.inst = -100 if sem in (0, 1) else None

    def world_parts(self):
        R = yaw_rotation(self.yaw, 2)
        out = []
        for p in self.parts:
            q = dict(p)
            c = p["c"].copy()
            c[:2] = R @ c[:2] + self.pos
            q["c"] = c
            q["yaw"] = p["yaw"] + self.yaw
            out.append(q)
        return out


# ---------------------------------------------------------------- object builders
# Local frame: x = width, y = depth, back at y = -d/2, front towards +y, floor z = 0.


def legs4(w, d, h, t, col, inset=0.03, round_=False):
    out = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * (w / 2 - inset - t / 2), sy * (d / 2 - inset - t / 2)
            out.append(cyl(x, y, 0, h, t / 2, col) if round_ else box(x, y, 0, t, t, h, col))
    return out


def basin(w, d, z0, hh, col, wall=0.03):
    return [
        box(0, 0, z0, w, d, 0.03, col),
        box(0, -d / 2 + wall / 2, z0, w, wall, hh, col),
        box(0, d / 2 - wall / 2, z0, w, wall, hh, col),
        box(-w / 2 + wall / 2, 0, z0, wall, d - 2 * wall, hh, col),
        box(w / 2 - wall / 2, 0, z0, wall, d - 2 * wall, hh, col),
    ]


def curtain_parts(width, z0, z1, col, rng, depth=0.08):
    """Zig-zag folds: a row of thin slanted panels; local centre line y = 0."""
    n = max(2, int(width / rng.uniform(0.1, 0.16)))
    seg = width / n
    ang = rng.uniform(0.25, 0.5)
    L = seg / math.cos(ang)
    parts = []
    for k in range(n):
        x = -width / 2 + (k + 0.5) * seg
        a = ang if k % 2 == 0 else -ang
        parts.append(box(x, 0, z0, L + 0.01, 0.012, z1 - z0, col, "fabric", yaw=a))
    amp = seg / 2 * math.tan(ang) + 0.01
    return parts, amp
