"""`Part`: a primitive in object coordinates (box, elliptic cylinder, clipped ellipsoid, bowl, plate
with a hole, wavy sheet, wall plane, floor), its area and uniform surface samples with normals."""

from __future__ import annotations

import math

import numpy as np


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
