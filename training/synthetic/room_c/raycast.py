"""Ray casting against the primitives and the room shell, and surface normals at the hits."""

from __future__ import annotations

import math

import numpy as np


def _local(p, o, D):
    c, s = math.cos(p["yaw"]), math.sin(p["yaw"])
    ox, oy, oz = o - p["c"]
    lo = np.array([c * ox + s * oy, -s * ox + c * oy, oz])
    LD = np.empty_like(D)
    LD[:, 0] = c * D[:, 0] + s * D[:, 1]
    LD[:, 1] = -s * D[:, 0] + c * D[:, 1]
    LD[:, 2] = D[:, 2]
    return lo, LD


def _hit_box(p, o, D):
    lo, LD = _local(p, o, D)
    h = p["h"]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(np.abs(LD) < 1e-12, 1e-12, LD)
        t1 = (-h - lo) * inv
        t2 = (h - lo) * inv
    tmin = np.minimum(t1, t2).max(1)
    tmax = np.maximum(t1, t2).min(1)
    ok = (tmax >= tmin) & (tmin > 1e-4)
    return np.where(ok, tmin, np.inf)


def _hit_cyl(p, o, D):
    ox, oy, oz = o - p["c"]
    r = p["r"]
    a = D[:, 0] ** 2 + D[:, 1] ** 2
    b = 2 * (ox * D[:, 0] + oy * D[:, 1])
    cc = ox * ox + oy * oy - r * r
    disc = b * b - 4 * a * cc
    with np.errstate(invalid="ignore", divide="ignore"):
        ts = (-b - np.sqrt(disc)) / (2 * a)
    z = o[2] + ts * D[:, 2]
    t = np.where((disc > 0) & (ts > 1e-4) & (z >= p["z0"]) & (z <= p["z1"]), ts, np.inf)
    for zc, sgn in ((p["z1"], -1), (p["z0"], 1)):
        with np.errstate(divide="ignore", invalid="ignore"):
            tc = (zc - o[2]) / D[:, 2]
        xx, yy = ox + tc * D[:, 0], oy + tc * D[:, 1]
        okc = (tc > 1e-4) & (sgn * D[:, 2] > 0) & (xx * xx + yy * yy <= r * r)
        t = np.where(okc & (tc < t), tc, t)
    return t


def _hit_ell(p, o, D):
    lo, LD = _local(p, o, D)
    lo = lo / p["h"]
    LD = LD / p["h"]
    a = (LD * LD).sum(1)
    b = 2 * (LD @ lo)
    cc = lo @ lo - 1
    disc = b * b - 4 * a * cc
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(disc)) / (2 * a)
    return np.where((disc > 0) & (t > 1e-4), t, np.inf)


HIT = {"box": _hit_box, "cyl": _hit_cyl, "ell": _hit_ell}


def bounding_sphere(p):
    if p["t"] == "cyl":
        return p["c"], math.hypot(p["r"], (p["z1"] - p["z0"]) / 2)
    return p["c"], float(np.linalg.norm(p["h"]))


def normals_local(p, X):
    """Outward normals and local coordinates (for texture) at world hit points X."""
    c, s = math.cos(p["yaw"]), math.sin(p["yaw"])
    d = X - p["c"]
    L = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], 1)
    if p["t"] == "box":
        q = np.abs(L) / p["h"]
        ax = q.argmax(1)
        nl = np.zeros_like(L)
        nl[np.arange(len(L)), ax] = np.sign(L[np.arange(len(L)), ax])
    elif p["t"] == "ell":
        nl = L / p["h"] ** 2
    else:
        nl = np.stack([L[:, 0], L[:, 1], np.zeros(len(L))], 1)
        top = np.abs(X[:, 2] - p["z1"]) < 1e-5
        bot = np.abs(X[:, 2] - p["z0"]) < 1e-5
        nl[top] = (0, 0, 1)
        nl[bot] = (0, 0, -1)
    nl /= np.linalg.norm(nl, axis=1, keepdims=True) + 1e-12
    n = np.stack([c * nl[:, 0] - s * nl[:, 1], s * nl[:, 0] + c * nl[:, 1], nl[:, 2]], 1)
    return n, L


def room_walls_hit(o, D, lx, ly, hz):
    """Exit point of rays leaving the room box from inside; ids: 0..3 walls, 4 floor, 5 open top."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.where(D[:, 0] > 0, (lx - o[0]) / D[:, 0], -o[0] / D[:, 0])
        ty = np.where(D[:, 1] > 0, (ly - o[1]) / D[:, 1], -o[1] / D[:, 1])
        tz = np.where(D[:, 2] > 0, (hz - o[2]) / D[:, 2], -o[2] / D[:, 2])
    T = np.stack([tx, ty, tz], 1)
    T = np.where(np.isfinite(T) & (T > 0), T, np.inf)
    ax = T.argmin(1)
    t = T[np.arange(len(D)), ax]
    wid = np.where(
        ax == 0,
        np.where(D[:, 0] > 0, 1, 3),
        np.where(ax == 1, np.where(D[:, 1] > 0, 2, 0), np.where(D[:, 2] > 0, 5, 4)),
    )
    return t, wid
